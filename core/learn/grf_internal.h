/*
 * grf_internal.h - the generalised random forest's inside (grf.c, grf_tree.c
 * and the unit test only).
 *
 * Every kind is one linear local moment with an intercept: with the row
 * vectors u_i (instruments) and v_i (regressors), both starting with 1,
 *   REGRESSION    u = v = (1)
 *   CAUSAL        u = v = (1, W~_1..W~_k)
 *   INSTRUMENTAL  u = (1, Z~), v = (1, W~)
 * the local solution beta = (c, theta) solves  sum alpha_i w_i u_i (y_i - v_i'beta) = 0,
 * i.e. S_uv beta = S_uy with S_uv = sum alpha_i w_i u_i v_i', S_uy = sum alpha_i w_i u_i y_i.
 * (The intercept c is the local mean grf also removes.) A leaf therefore
 * stores D = 1 + q^2 + q numbers (q = k + 1): the number of filling rows,
 * then S_uv (row-major) and S_uy averaged over those rows. The forest's
 * S is the mean over trees of the leaf averages: exactly the forest-weights
 * sum with alpha_i(x) = mean_b 1{i in leaf_b(x)} / |leaf_b(x)|.
 */
#ifndef TT_LEARN_GRF_INTERNAL_H
#define TT_LEARN_GRF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "learn/grf.h"
#include "learn/tree.h"

#define TT_GRF_MAX_K 8 /* treatment columns (multi-arm: K - 1) */
#define TT_GRF_MAX_Q (TT_GRF_MAX_K + 1)

struct tt_grf {
    tt_grf_kind kind;
    size_t p, k, q, d, D; /* d: outputs (1 or k); D: values per leaf */
    size_t n_trees, group; /* group = ci_group_size */
    tt_tree *trees;        /* value: n_nodes x D; only leaves are meaningful */
    size_t threads;
    size_t n_train;        /* 0 after load */
    double *oob_est, *oob_var; /* n_train x d column-major, NULL after load */
};

/* Read-only data shared by all tree growers of one fit. */
typedef struct tt_grf_grow_ctx {
    tt_grf_kind kind;
    size_t n, p, k, q, d, D;
    const uint32_t *order; /* p x n: each feature's rows by increasing x (ties by row) */
    const double *x;     /* column-major n x p */
    const double *u, *v; /* n x q row-major (u_i0 = v_i0 = 1) */
    const double *y;
    const double *wt;    /* NULL = all 1 */
    size_t mtry, min_node_size;
    double alpha, imbalance_penalty;
    int prune;
} tt_grf_grow_ctx;

typedef struct tt_grf_work tt_grf_work;
tt_grf_work *tt_grf_work_new(const tt_grf_grow_ctx *c);
void tt_grf_work_free(tt_grf_work *wk);

/* The presorted orders of ctx->order (p x n). TT_ERR_NOMEM only. */
tt_status tt_grf_presort(size_t n, size_t p, const double *x, uint32_t **order);

/* Grows one tree on rows idx[0..m_grow) with a relabel at every
 * node, then fills its leaves from fill[0..m_fill) (the honest half; the
 * grow rows themselves without honesty), pruning leaves left empty when
 * c->prune. TT_ERR_NOMEM only. */
tt_status tt_grf_grow_tree(const tt_grf_grow_ctx *c, tt_grf_work *wk, size_t *idx,
                           size_t m_grow, const size_t *fill, size_t m_fill, tt_rng *rng,
                           tt_tree *out);

/* Inverts the m x m matrix a (row-major) into inv; 0 when (near) singular. */
int tt_grf_invert(size_t m, const double *a, double *inv);

/* Test hook: when non-NULL at tt_grf_fit_traced, records per tree the rows
 * that chose the splits and the rows that filled the leaves (copies, owned
 * by the trace; free with tt_grf_trace_free). */
typedef struct tt_grf_trace {
    size_t n_trees;
    size_t *n_split, *n_fill;
    size_t **split_rows, **fill_rows;
} tt_grf_trace;

tt_status tt_grf_fit_traced(tt_grf_kind kind, const tt_grf_data *d, const tt_grf_options *opt,
                            volatile const int *stop, tt_grf_trace *trace, tt_grf **out,
                            char *err, size_t errlen);
void tt_grf_trace_free(tt_grf_trace *t);

#endif
