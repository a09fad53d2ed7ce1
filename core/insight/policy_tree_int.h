/*
 * policy_tree_int.h - what the policy tree's files share inside the core:
 * the tree itself, input checks and the finishing step every search (fast
 * or brute force) ends with. No search code is shared.
 */
#ifndef TT_INSIGHT_POLICY_TREE_INT_H
#define TT_INSIGHT_POLICY_TREE_INT_H

#include "insight/policy_tree.h"

struct tt_policy_tree {
    size_t p, k;             /* features and actions it was fitted on */
    size_t n_rows;           /* fitted rows */
    int depth_asked;
    size_t min_node_size, split_step;
    double value;            /* mean reward of the fitted rows */
    size_t n_nodes, cap;
    tt_policy_tree_node *nodes; /* preorder */
};

/* Checks the arguments of a fit (see tt_policy_tree_fit for the errors) and
 * copies opt (or the defaults) into *o with 0 sizes turned into 1. */
tt_status tt_pt_check(size_t n, size_t p, const double *x, size_t k, const double *reward,
                      const tt_policy_tree_options *opt, tt_policy_tree_options *o, char *err,
                      size_t errlen);

/* An empty tree with room for a full tree of depth o->depth. NULL without
 * memory. */
tt_policy_tree *tt_pt_new(size_t p, size_t k, const tt_policy_tree_options *o);

/* Appends a node in preorder and returns its index (room is reserved by
 * tt_pt_new: a search pushes at most 2^(depth+1) - 1 nodes). A split's left
 * child is the next node pushed; tt_pt_set_right records the right one. */
int tt_pt_push_leaf(tt_policy_tree *t, int action);
int tt_pt_push_split(tt_policy_tree *t, int feature, double threshold);
void tt_pt_set_right(tt_policy_tree *t, int node, int right);

/* Ends a fit: merges splits whose two children are leaves of one action
 * (repeatedly), then routes the n fitted rows to fill each node's rows and
 * value and the tree's value, summing rewards in row order. TT_ERR_NOMEM. */
tt_status tt_pt_finish(tt_policy_tree *t, size_t n, const double *x, const double *reward);

#endif
