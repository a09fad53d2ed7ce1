/*
 * gbm_impl.h - one boosting tree on gradients and hessians (gbm.c), used by
 * the "gbm" learner (gbm_learner.c). Internal to learn/.
 */
#ifndef TT_LEARN_GBM_IMPL_H
#define TT_LEARN_GBM_IMPL_H

#include "learn/learner_impl.h"
#include "learn/tree.h"

struct level_node;

typedef struct tt_gbm_work {
    size_t n, p, max_level;
    struct level_node *nodes; /* two levels */
    double *hist[2];          /* per level: max_level slots of the features' bins */
    double *fbest_gain, *fbest_gl, *fbest_hl; /* per (node, feature) best split */
    size_t *fbest_bin;
    size_t *tmp;              /* n row indices: partition buffer */
    size_t *task_node;        /* histogram tasks: the built nodes, largest first */
    size_t *chunk_lo, *chunk_hi, *chunk_node, *chunk_nl; /* partition chunks */
    size_t *hoff;             /* p + 1 offsets of the features in a histogram slot */
    size_t *flist;            /* the features in use */
    size_t *split_node;       /* the row-split nodes of a level */
    double *scratch;          /* partial histograms of row chunks (n >= ROWSPLIT_MIN) */
    size_t *hchunk_lo, *hchunk_hi;
    double *rootsum;          /* per row chunk: the root's (G, H) partial sums */
} tt_gbm_work;

/* tt_bins_build(n, p, x, max_bins, out) built one feature per task on pool
 * (identical bins), and colcode (n x p bytes) = the codes column-major. */
tt_status tt_gbm_bins(size_t n, size_t p, const double *x, size_t max_bins,
                      tt_learn_pool *pool, tt_bins *out, uint8_t *colcode);

tt_gbm_work *tt_gbm_work_new(size_t n, size_t p, size_t max_depth);
void tt_gbm_work_free(tt_gbm_work *wk);

/* Grows one tree on rows idx (m; reordered, each node's rows kept in their
 * given order) with per-row (g, h) pairs gh; leaf values already scaled by lr.
 * row_delta[i] receives the value of row i's leaf for every i in idx.
 * use_feat: p flags (column subsample). colcode: the bins' codes transposed
 * to p x n (bins->code is the row-major copy). */
tt_status tt_gbm_grow(tt_gbm_work *wk, const tt_bins *bins, const uint8_t *colcode,
                      const double *gh, size_t *idx, size_t m,
                      const uint8_t *use_feat, size_t max_depth, double lambda,
                      double min_child, double min_gain, double lr, tt_learn_pool *pool,
                      tt_tree *t, double *row_delta);

#endif
