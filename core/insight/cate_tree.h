/*
 * cate_tree.h - a shallow regression tree on the effect estimates, for a
 * description a person can read ("income > 32,400 and age <= 41: effect
 * 3.1, 95% interval 2.4 to 3.8").
 *
 * The tree is fitted by least squares to tau_hat on x: every split is the
 * one of all features and all thresholds that most reduces the sum of
 * squared deviations of tau_hat, exactly (sorted values, no histograms).
 * Each leaf then reports its rows, their mean tau_hat, and the mean of the
 * doubly robust scores Gamma with a normal interval
 *   mean(Gamma) +- z * sd(Gamma) / sqrt(n_leaf)        (sd with n - 1),
 * an estimate of the group's average effect that does not lean on tau_hat
 * (the groups are chosen by tau_hat; Gamma takes no part in choosing them).
 * With out-of-fold tau_hat and cross-fitted Gamma this is close to honest,
 * but not exactly: the intervals are pointwise and nothing adjusts for
 * having chosen the groups on the same rows.
 *
 * Rule at a split: x_j <= threshold goes left, everything else (including
 * NaN when assigning new rows, which is refused) goes right. The threshold
 * is the largest value of x_j in the left child, an observed value, so the
 * printed rule uses the data's own numbers.
 *
 * Determinism: no randomness; ties in gain go to the lower feature index,
 * then the lower threshold. The same input gives the same tree bit for bit.
 *
 * Memory: the tree is a fixed-size value (no allocation to free).
 * Thread-safety: reentrant; no global state.
 */
#ifndef TT_INSIGHT_CATE_TREE_H
#define TT_INSIGHT_CATE_TREE_H

#include <stddef.h>

#include "tautune/tautune.h"

#define TT_CATE_TREE_MAX_DEPTH 3
#define TT_CATE_TREE_MAX_NODES 15 /* 2^(max depth + 1) - 1 */
#define TT_CATE_TREE_MAX_LEAVES 8

typedef struct tt_cate_tree_params {
    int max_depth;          /* 0..TT_CATE_TREE_MAX_DEPTH; 0 is one leaf */
    double min_leaf_share;  /* each leaf keeps >= ceil(share * n) rows (at least 1); (0, 0.5] */
    double z;               /* interval half-width in standard errors, > 0 */
} tt_cate_tree_params;

/* max_depth 2 (at most four groups: a description that fits in a
 * sentence), min_leaf_share 0.05, z 1.959964 (95%). */
void tt_cate_tree_params_default(tt_cate_tree_params *params);

typedef struct tt_cate_node {
    int feature;        /* split feature (column of x); -1 for a leaf */
    double threshold;   /* x[feature] <= threshold goes left */
    int left, right;    /* child node indices; -1 for a leaf */
    int parent;         /* -1 for the root */
    int depth;          /* root 0 */
    int leaf;           /* 0..n_leaves-1, left to right; -1 for a split */
    size_t n;           /* rows in the node */
    double tau_mean;    /* mean tau_hat */
    double gamma_mean;  /* mean Gamma (NaN without Gamma) */
    double gamma_sd;    /* sd of Gamma, n - 1 denominator (NaN with n < 2) */
    double gamma_lo, gamma_hi; /* gamma_mean -+ z sd / sqrt(n) */
} tt_cate_node;

typedef struct tt_cate_tree {
    size_t p;            /* features the tree was fitted on */
    size_t n_nodes;      /* nodes[0] is the root; stored in preorder */
    size_t n_leaves;
    tt_cate_node nodes[TT_CATE_TREE_MAX_NODES];
    int leaf_node[TT_CATE_TREE_MAX_LEAVES]; /* node index of each leaf */
    size_t min_leaf;     /* rows, as used */
    double z;
} tt_cate_tree;

/* Fit on n rows: x (n x p, column-major), tau_hat (n), gamma (n, or NULL:
 * the Gamma fields are NaN). params NULL: the defaults.
 * TT_ERR_INVALID: NULL arrays, parameters out of range. TT_ERR_DATA: n == 0,
 * a non-finite value (naming row and column). TT_ERR_NOMEM. */
tt_status tt_cate_tree_fit(size_t n, size_t p, const double *x, const double *tau_hat,
                           const double *gamma, const tt_cate_tree_params *params,
                           tt_cate_tree *out, char *err, size_t errlen);

/* The leaf (0..n_leaves-1) of each of n rows of x (n x p, p == tree->p).
 * TT_ERR_INVALID on a p mismatch; TT_ERR_DATA when a feature the tree uses
 * is not finite at some row (named). */
tt_status tt_cate_tree_assign(const tt_cate_tree *tree, size_t n, size_t p, const double *x,
                              size_t *leaf, char *err, size_t errlen);

/* The leaf's path as text, conditions joined by " and " in order from the
 * root, two conditions on one feature merged ("30 < age <= 41"); "all rows"
 * for a tree of one leaf. names: p feature names, or NULL for x1, x2, ...
 * (1-based, the way tautune's generator names them). Thresholds print with at
 * most four significant digits (fewer when that is the exact value; the tree
 * itself routes rows by the exact threshold), integers of 1,000 or more with
 * thousands separators ("income > 32,400"). Writes at most buflen bytes
 * (terminated when buflen > 0); returns the length needed, as snprintf. */
size_t tt_cate_tree_describe_leaf(const tt_cate_tree *tree, size_t leaf,
                                  const char *const *names, char *buf, size_t buflen);

#endif
