/*
 * tree.h - the histogram tree engine shared by the forest learner and, later,
 * the generalised random forests (issue 9).
 *
 * Features are binned once per fit (<= 256 quantile bins per feature, row-major
 * uint8 codes so one row's codes share a cache line). A tree is grown on a
 * list of row indices (duplicates allowed: bootstrap) to maximise the
 * weighted sum-of-squares reduction of d-dimensional pseudo-outcomes g (the
 * CART criterion; with g one-hot it is the Gini criterion, with GRF's
 * relabelled gradients it is the GRF criterion). Each candidate split must
 * leave min_leaf rows and at least min_share of the node's rows per child.
 * Leaves carry the weighted mean of g over their rows; tt_tree_refill
 * recomputes them from another index list (honesty).
 */
#ifndef TT_LEARN_TREE_H
#define TT_LEARN_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "tautune/tautune.h"
#include "util/rng.h"

#define TT_TREE_MAX_BINS 256
#define TT_TREE_EXACT_MAX 4096 /* largest node that may be split exactly */

typedef struct tt_bins {
    size_t n, p;
    uint8_t *code;     /* n x p row-major */
    double *edge;      /* p x (TT_TREE_MAX_BINS - 1): code(x) <= b  <=>  x <= edge[b] */
    uint16_t *n_bins;  /* per feature, >= 1 */
    const double *x;   /* the raw x given to build (borrowed): exact splits */
} tt_bins;

/* x column-major n x p, finite; kept by pointer for exact splits, so it must
 * outlive the bins. TT_ERR_NOMEM only. */
tt_status tt_bins_build(size_t n, size_t p, const double *x, size_t max_bins, tt_bins *out);
void tt_bins_free(tt_bins *b);

/* 16 bytes, so a walk costs one cache line per level. The right child is
 * always left + 1 (children are created in pairs). */
typedef struct tt_tree_node {
    double threshold; /* x <= threshold goes left */
    int32_t feature;  /* -1 for a leaf */
    int32_t left;     /* -1 for a leaf */
} tt_tree_node;

typedef struct tt_tree {
    size_t n_nodes, cap, d;
    tt_tree_node *node;
    uint8_t *bin;     /* the same split on binned codes: code <= bin goes left */
    double *value;    /* n_nodes x d */
    int exact;        /* some split is exact: route training rows by raw x */
} tt_tree;

typedef struct tt_tree_params {
    size_t mtry, min_leaf, max_depth;
    double min_share;   /* grf's alpha; 0 = off */
    size_t exact_below; /* nodes of at most this many rows split on raw x
                         * (capped at TT_TREE_EXACT_MAX); 0 = bins only */
} tt_tree_params;

/* Per-thread scratch, reused across trees. */
typedef struct tt_tree_work tt_tree_work;
tt_tree_work *tt_tree_work_new(size_t p, size_t d, size_t max_bins);
void tt_tree_work_free(tt_tree_work *wk);

/* g: n x d row-major; w: NULL or n weights. idx (m entries) is reordered. */
tt_status tt_tree_grow(const tt_bins *b, const double *g, size_t d, const double *w,
                       size_t *idx, size_t m, const tt_tree_params *prm, tt_rng *rng,
                       tt_tree_work *wk, tt_tree *out);
/* Leaf values from the rows idx (m) instead (routed by raw x); leaves they
 * miss keep theirs. TT_ERR_NOMEM only. */
tt_status tt_tree_refill(tt_tree *t, const tt_bins *b, const double *g, const double *w,
                    const size_t *idx, size_t m);
/* Leaf of training row i (by its codes; only for trees with exact == 0) /
 * of raw row i of column-major x. */
size_t tt_tree_leaf_binned(const tt_tree *t, const tt_bins *b, size_t i);
size_t tt_tree_leaf(const tt_tree *t, const double *x, size_t n, size_t i);
/* Leaf of training row i by whichever of the two is valid for the tree. */
size_t tt_tree_leaf_train(const tt_tree *t, const tt_bins *b, size_t i);
/* Leaf of one row stored contiguously (p values): prediction transposes
 * blocks of rows first, so a walk touches one cache line, not p columns. */
size_t tt_tree_leaf_row(const tt_tree *t, const double *row);
void tt_tree_free(tt_tree *t);

/* Text form of one tree (learner_io.c lines); load validates the structure
 * against p features and d values per node. */
struct tt_learn_writer;
struct tt_learn_reader;
tt_status tt_tree_save(const tt_tree *t, struct tt_learn_writer *w);
tt_status tt_tree_load(struct tt_learn_reader *r, size_t p, size_t d, tt_tree *t);
/* Appends a node; returns its index or -1 without memory. */
int32_t tt_tree_add(tt_tree *t);

#endif
