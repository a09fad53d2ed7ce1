/*
 * policy_tree.h - exact optimal policy trees over doubly robust rewards
 * (the policy learner of the `policytree` R package; Zhou, Athey and Wager
 * 2018, "Offline multi-action policy learning"; Sverdrup et al. 2020).
 *
 * Input: n rows of p features x and, for each row i and action (arm)
 * a = 0..k-1, a reward G[i, a] (typically the AIPW score of the mean outcome
 * under arm a minus its cost). A policy tree of depth d splits rows on
 * "x[j] <= threshold" (left) up to d times on every path and assigns each
 * leaf one action; its value is the mean over rows of G[i, action(leaf(i))].
 * tt_policy_tree_fit returns a tree of depth <= d of maximal value among all
 * such trees: exhaustive, not greedy.
 *
 * Files: policy_tree.c owns the tree (validation of inputs, prediction,
 * rules text, JSON); policy_tree_search.c the exact search;
 * policy_tree_brute.c an independent brute force used only to check it.
 *
 * Splits. A split of a node on feature j is "x[j] <= t" with t the largest
 * x[j] among the rows it sends left (a data value, as policytree reports);
 * rows with equal x[j] never go to different sides. With split_step = s > 1
 * only the partitions at every s-th distinct value of x[j] over all fitted
 * rows are tried (values v_1 < v_2 < ...: left = {x[j] <= v_s}, {x[j] <=
 * v_2s}, ...), the same grid in every node. This differs from policytree,
 * which counts rows inside each node; a global grid keeps the candidate set
 * of a node independent of how it was reached. s = 1 is exact.
 * Every leaf holds at least min_node_size fitted rows.
 *
 * Ties. Among trees of equal value the one with fewer leaves wins (so a
 * single action beats any split: a split must strictly improve on the best
 * single action of its node, and no split is made that does not pay); a leaf
 * takes the lowest action index among its best; then splits are ordered by
 * feature index and then by threshold, ascending, and the first wins; its
 * subtrees are chosen by the same rule. In exact arithmetic (e.g. rewards
 * that are small multiples of a power of two) the result is therefore unique;
 * in floating point two trees whose values differ only by rounding may come
 * out either way. Finally a split whose two children are leaves of the same
 * action is merged into one leaf (repeatedly), so no returned split is idle.
 *
 * Cost (n rows, p features, k actions). Depth 0: O(nk); depth 1:
 * O(p n log n + p n k). Depth 2: O(p^2 n k^2 log n): for each root feature
 * and each child feature, one sweep moves rows from the right child to the
 * left one while two segment trees over the child feature's sorted values
 * keep, for every pair of actions (a, b), the best prefix of sum(G[a] - G[b]),
 * so each root split's best depth-1 children cost O(k^2) (min_node_size > 1:
 * O(k^2 log n)). Measured on one core with p = 10, k = 3: about 0.6 s at
 * n = 10,000 and 9 s at n = 100,000 (policytree's depth 2 is
 * O(p^2 n^2 (log n + k))). Depth 3: every root split runs the depth-2 search
 * on both children, O(p^3 n^2 k^2 log n): 5 s at n = 200, 22 s at n = 400,
 * minutes beyond 1,000 rows. should_stop is polled every 1,024 rows moved,
 * so a deadline ends any depth promptly. Memory is O(n p depth + n k^2).
 *
 * No global state: fits on different trees may run in parallel.
 */
#ifndef TT_INSIGHT_POLICY_TREE_H
#define TT_INSIGHT_POLICY_TREE_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "tautune/tautune.h"

#define TT_POLICY_TREE_MAX_DEPTH 3

typedef struct tt_policy_tree tt_policy_tree;

typedef struct tt_policy_tree_options {
    int depth;             /* 0..3; 0 = the best single action */
    size_t min_node_size;  /* fewest fitted rows in a leaf; 0 counts as 1 */
    size_t split_step;     /* try every split_step-th distinct value; 0 counts as 1 (exact) */
    int (*should_stop)(void *ctx); /* polled in long loops; NULL = never */
    void *stop_ctx;
} tt_policy_tree_options;

/* depth 2, min_node_size 1, split_step 1, no stop callback. */
void tt_policy_tree_options_init(tt_policy_tree_options *opt);

/* Fits the optimal tree. x: n x p column-major (may be NULL when p == 0);
 * reward: n x k column-major. opt NULL = defaults. Errors (message in err):
 * TT_ERR_INVALID for n == 0, k == 0, depth outside 0..3, min_node_size > n,
 * n >= 2^32 or NULL arrays; TT_ERR_DATA for a non-finite x or reward (the
 * message names the row and column, both 0-based); TT_ERR_STOPPED when
 * should_stop returned nonzero; TT_ERR_NOMEM. *out is set only on TT_OK. */
tt_status tt_policy_tree_fit(size_t n, size_t p, const double *x, size_t k,
                             const double *reward, const tt_policy_tree_options *opt,
                             tt_policy_tree **out, char *err, size_t errlen);

/* The reference: every tree of depth <= 2 enumerated naively with every sum
 * recomputed from the rows, O(p^2 n^3 k) at depth 2; shares no search code
 * with tt_policy_tree_fit, follows the same candidate grid and tie rules, and
 * returns the same kind of tree. Meant for tests and the benchmark at small n.
 * Depth 3 gives TT_ERR_UNSUPPORTED. */
tt_status tt_policy_tree_fit_brute(size_t n, size_t p, const double *x, size_t k,
                                   const double *reward, const tt_policy_tree_options *opt,
                                   tt_policy_tree **out, char *err, size_t errlen);

/* Action (0..k-1) for each of n rows of x (n x p column-major, the p the tree
 * was fitted on). A NaN feature value goes right (NaN <= t is false). */
void tt_policy_tree_predict(const tt_policy_tree *t, size_t n, size_t p, const double *x,
                            int *action);

/* Mean reward of the fitted rows under the tree (as fitted or as read from
 * JSON). */
double tt_policy_tree_value(const tt_policy_tree *t);

/* Walking the tree. Nodes are in preorder: node 0 is the root and a split's
 * left child is the next node. */
typedef struct tt_policy_tree_node {
    int feature;      /* split feature (0-based), -1 at a leaf */
    double threshold; /* x[feature] <= threshold goes left; 0 at a leaf */
    int left, right;  /* child node indices, -1 at a leaf */
    int action;       /* the leaf's action, -1 at a split */
    size_t rows;      /* fitted rows reaching the node */
    double value;     /* their mean reward under the node's subtree */
} tt_policy_tree_node;

size_t tt_policy_tree_n_nodes(const tt_policy_tree *t);
const tt_policy_tree_node *tt_policy_tree_node_at(const tt_policy_tree *t, size_t i);
size_t tt_policy_tree_n_features(const tt_policy_tree *t);
size_t tt_policy_tree_n_actions(const tt_policy_tree *t);
size_t tt_policy_tree_n_rows(const tt_policy_tree *t);
/* Depth actually used (0 for a single leaf), <= the depth asked for. */
int tt_policy_tree_depth(const tt_policy_tree *t);

void tt_policy_tree_free(tt_policy_tree *t);

/* Human-readable rules, one line per node, indented by depth:
 *     if income <= 32400:
 *       if age <= 41.5:
 *         action "e401=1"  # 1203 rows, mean reward 0.412
 *       else:
 *         ...
 * Names may be NULL (features then read x1..xp, 1-based; actions print as
 * their index). Thresholds print for people: whole numbers whole, others with
 * at most four significant digits (the JSON form keeps every digit, and is
 * what predicts). tt_policy_tree_rules writes at most len bytes including the
 * terminating NUL into buf (buf may be NULL when len is 0) and returns the
 * length of the whole text, like snprintf. tt_policy_tree_write_rules prints
 * it to f; TT_ERR_IO or TT_ERR_NOMEM. */
size_t tt_policy_tree_rules(const tt_policy_tree *t, const char *const *feature_names,
                            const char *const *action_names, char *buf, size_t len);
tt_status tt_policy_tree_write_rules(const tt_policy_tree *t, const char *const *feature_names,
                                     const char *const *action_names, FILE *f, char *err,
                                     size_t errlen);

/* JSON form (caller deletes; NULL on out of memory):
 *   {"format": "tautune-policy-tree", "version": 1, "depth": 2,
 *    "n_features": p, "n_actions": k, "rows": n, "value": v,
 *    "min_node_size": 1, "split_step": 1,
 *    "feature_names": [...], "action_names": [...],      (when given)
 *    "nodes": [{"feature": 0, "threshold": 32400, "left": 1, "right": 2,
 *               "rows": n0, "value": v0}, {"action": 1, "rows": ..., "value": ...}, ...]}
 * Split nodes also carry "feature_name" and leaves "action_name" when names
 * are given (for people; the reader ignores them). Thresholds and values are
 * raw cJSON items (cJSON_IsRaw in memory, plain numbers once printed) with
 * the fewest digits that read back exactly: cJSON's own printing keeps 15
 * digits whenever they are within an epsilon, which can move a threshold by
 * one ulp and a row across it. The reader takes either form. */
cJSON *tt_policy_tree_to_json(const tt_policy_tree *t, const char *const *feature_names,
                              const char *const *action_names);
/* Reads what tt_policy_tree_to_json wrote, checking the structure (node
 * indices in preorder, features < n_features, actions < n_actions, finite
 * thresholds). TT_ERR_PARSE or TT_ERR_NOMEM. */
tt_status tt_policy_tree_from_json(const cJSON *json, tt_policy_tree **out, char *err,
                                   size_t errlen);

#endif
