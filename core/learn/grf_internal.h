/*
 * grf_internal.h - the generalised random forest's inside (grf.c, grf_tree.c,
 * the forest learner's adapter forest.c and the unit test only).
 *
 * Every kind is one linear local moment with an intercept: with the row
 * vectors u_i (instruments) and v_i (regressors), both starting with 1,
 *   REGRESSION    u = v = (1)
 *   CAUSAL        u = v = (1, W~_1..W~_k)
 *   INSTRUMENTAL  u = (1, Z~), v = (1, W~)
 * the local solution beta = (c, theta) solves  sum alpha_i w_i u_i (y_i - v_i'beta) = 0,
 * i.e. S_uv beta = S_uy with S_uv = sum alpha_i w_i u_i v_i', S_uy = sum alpha_i w_i u_i y_i.
 * (The intercept c is the local mean grf also removes.) A regression with
 * ny columns of y solves the same system for each column: S_uy is q x ny.
 * A leaf therefore stores D = 1 + q^2 + q ny numbers (q = k + 1): the number
 * of filling rows (bootstrap: with multiplicity), then S_uv (row-major) and
 * S_uy (row-major, q x ny) averaged over those rows. The forest's S is the
 * mean over trees of the leaf averages: exactly the forest-weights sum with
 * alpha_i(x) = mean_b 1{i in leaf_b(x)} / |leaf_b(x)|. (With unit weights
 * a regression leaf has S_uv = 1, so the forest's estimate is the mean of
 * its trees' leaf means, a classical random forest's.)
 */
#ifndef TT_LEARN_GRF_INTERNAL_H
#define TT_LEARN_GRF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "learn/grf.h"
#include "learn/tree.h"
#include "util/rng.h"

#define TT_GRF_MAX_K 8 /* treatment columns (multi-arm: K - 1) */
#define TT_GRF_MAX_Q (TT_GRF_MAX_K + 1)
/* Pseudo-outcome dimensions: k (causal) or ny (regression). */
#define TT_GRF_MAX_D (TT_GRF_MAX_Y > TT_GRF_MAX_K ? TT_GRF_MAX_Y : TT_GRF_MAX_K)
/* Statistics per leaf but the count, q^2 + q ny: causal q <= 9 with ny = 1,
 * or regression q = 1 with ny <= TT_GRF_MAX_Y. */
#define TT_GRF_MAX_E (TT_GRF_MAX_Q * TT_GRF_MAX_Q + TT_GRF_MAX_Q > 1 + TT_GRF_MAX_Y \
                          ? TT_GRF_MAX_Q * TT_GRF_MAX_Q + TT_GRF_MAX_Q                \
                          : 1 + TT_GRF_MAX_Y)

struct tt_grf {
    tt_grf_kind kind;
    size_t p, k, q, ny, d, D; /* ny: columns of y; d: outputs (ny or k); D: values per leaf */
    size_t n_trees, group; /* group = ci_group_size */
    tt_tree *trees;        /* value: n_nodes x D; only leaves are meaningful */
    size_t threads;
    size_t n_train;        /* 0 after load */
    double *oob_est, *oob_var; /* n_train x d column-major, NULL after load */
};

/* A row in a feature's sorted order, with the rank of its value among the
 * feature's distinct values: equal ranks <=> equal values, so a split
 * search over a sorted list never reads x. */
typedef struct tt_grf_entry {
    uint32_t row, rank;
} tt_grf_entry;

/* Read-only data shared by all tree growers of one fit. */
typedef struct tt_grf_grow_ctx {
    tt_grf_kind kind;
    size_t n, p, k, q, ny, d, D;
    const tt_grf_entry *order; /* p x n: each feature's rows by increasing x (ties by row) */
    const double *x;     /* column-major n x p */
    const double *u, *v; /* n x q row-major (u_i0 = v_i0 = 1) */
    const double *y;     /* n x ny column-major */
    const double *wt;    /* NULL = all 1 */
    size_t mtry, min_node_size;
    double alpha, imbalance_penalty;
    int prune;
    int bootstrap;       /* trees come with multiplicities */
    size_t max_depth;    /* 0 = unlimited */
    size_t min_leaf;     /* rows per child, at least (with alpha's share) */
    int mtry_fixed;      /* 0: Poisson(mtry) features per node; 1: exactly mtry */
    size_t max_grow;     /* most rows a tree grows on (sizes the work lists) */
} tt_grf_grow_ctx;

typedef struct tt_grf_work tt_grf_work;
tt_grf_work *tt_grf_work_new(const tt_grf_grow_ctx *c);
void tt_grf_work_free(tt_grf_work *wk);

/* The presorted orders of ctx->order (p x n), features sorted on up to
 * `threads` threads. TT_ERR_NOMEM only. */
tt_status tt_grf_presort(size_t n, size_t p, const double *x, size_t threads,
                         tt_grf_entry **order);

/* Grows one tree on the distinct rows idx[0..m_grow) with a relabel at
 * every node, then fills its leaves from fill[0..m_fill) (the honest half;
 * the grow rows themselves without honesty), pruning leaves left empty when
 * c->prune. mult (c->bootstrap only, else NULL): n multiplicities, read for
 * the tree's rows; they multiply the weights and count in the leaf sizes.
 * TT_ERR_NOMEM only. */
tt_status tt_grf_grow_tree(const tt_grf_grow_ctx *c, tt_grf_work *wk, const size_t *idx,
                           size_t m_grow, const size_t *fill, size_t m_fill,
                           const uint32_t *mult, tt_rng *rng, tt_tree *out);

/* Inverts the m x m matrix a (row-major) into inv; 0 when (near) singular. */
int tt_grf_invert(size_t m, const double *a, double *inv);

/* Test hook: when non-NULL at tt_grf_fit_traced, records per tree the rows
 * that chose the splits and the rows that filled the leaves (copies, owned
 * by the trace; free with tt_grf_trace_free). */
typedef struct tt_grf_trace {
    size_t n_trees;
    size_t *n_split, *n_fill;
    size_t **split_rows, **fill_rows;
    uint32_t **split_mult, **fill_mult; /* each listed row's multiplicity (1 unless
                                           bootstrap) */
} tt_grf_trace;

tt_status tt_grf_fit_traced(tt_grf_kind kind, const tt_grf_data *d, const tt_grf_options *opt,
                            volatile const int *stop, tt_grf_trace *trace, tt_grf **out,
                            char *err, size_t errlen);
/* The same for tt_grf_fit_multi (REGRESSION, ny columns of y). */
tt_status tt_grf_fit_multi_traced(const tt_grf_data *d, size_t ny, const tt_grf_options *opt,
                                  volatile const int *stop, tt_grf_trace *trace, tt_grf **out,
                                  char *err, size_t errlen);
void tt_grf_trace_free(tt_grf_trace *t);

/* The saved text (grf.h's save/load) through the learner's line writer and
 * reader, so a forest can sit inside a saved learner (forest.c). */
struct tt_learn_writer;
struct tt_learn_reader;
tt_status tt_grf_write(const tt_grf *f, struct tt_learn_writer *w);
tt_status tt_grf_read(struct tt_learn_reader *r, tt_grf **out);

#endif
