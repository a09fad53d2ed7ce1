/*
 * tree.h - binary trees of axis-aligned splits (storage, routing, text) and
 * the feature histograms gradient boosting grows them on (gbm.c). The random
 * forests (grf.h, and the forest learner over it) store their trees here too
 * but grow them with exact splits on presorted features (grf_tree.c).
 *
 * Features are binned once per fit (<= 256 quantile bins per feature, row-major
 * uint8 codes so one row's codes share a cache line). A split keeps both its
 * raw threshold and, for trees grown on bins, the bin code it cuts at.
 */
#ifndef TT_LEARN_TREE_H
#define TT_LEARN_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "tautune/tautune.h"

#define TT_TREE_MAX_BINS 256

typedef struct tt_bins {
    size_t n, p;
    uint8_t *code;     /* n x p row-major */
    double *edge;      /* p x (TT_TREE_MAX_BINS - 1): code(x) <= b  <=>  x <= edge[b] */
    uint16_t *n_bins;  /* per feature, >= 1 */
} tt_bins;

/* x column-major n x p, finite. TT_ERR_NOMEM only. */
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
} tt_tree;

/* Leaf of training row i by its codes (trees grown on these bins) / of raw
 * row i of column-major x. */
size_t tt_tree_leaf_binned(const tt_tree *t, const tt_bins *b, size_t i);
size_t tt_tree_leaf(const tt_tree *t, const double *x, size_t n, size_t i);
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
/* A tree's header line "tree <node count>", count in [1, INT32_MAX]; shared
 * by tt_tree_load and the grf engine's reader (its nodes differ). */
tt_status tt_tree_read_count(struct tt_learn_reader *r, uint64_t *n_nodes);
/* Appends a node; returns its index or -1 without memory. */
int32_t tt_tree_add(tt_tree *t);

#endif
