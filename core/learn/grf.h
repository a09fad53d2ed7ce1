/*
 * grf.h - generalised random forests (Athey, Tibshirani & Wager 2019): one
 * engine for the regression forest, the causal forest (binary or K-arm) and
 * the instrumental forest, the DR/DML forest final stages and the forest
 * learner (learn/forest.c: regression and one-hot classification).
 *
 * The local moment of each kind, with Y~ = Y - m(x), W~ = W - e(x) (the
 * caller centres with its nuisances; the forest never fits them). As in grf,
 * each moment carries a local intercept c(x), so the forest also removes the
 * local mean the centring missed:
 *   REGRESSION   E[Y - mu(x) | x] = 0                              -> mu(x) (ny values:
 *                the moment per column of Y, one shared tree)
 *   CAUSAL       E[(Y~ - c - W~' theta(x)) (1, W~) | x] = 0        -> theta(x) (k values)
 *   INSTRUMENTAL E[(Y~ - c - W~ theta(x)) (1, Z~) | x] = 0         -> theta(x) (1 treatment)
 * Growing (per tree): draw a subsample without replacement of
 * sample_fraction * n rows (in groups of ci_group_size trees sharing a
 * half-sample, for the little-bags variance), or with bootstrap = 1 as many
 * draws with replacement, a drawn row counting as many times as it was drawn
 * (its multiplicity multiplies its weight in every sum and counts in its
 * leaf's size; the child-size rules count distinct rows, as scikit-learn's
 * min_samples_leaf); with honesty, split the (distinct) rows into a part
 * that chooses the splits and a part (honesty_fraction) that fills the
 * leaves. Splits maximise the CART criterion on gradient-based pseudo-
 * outcomes (relabelling) of the node's local moment, recomputed at every
 * node as grf does, summed over the pseudo-outcome's dimensions (for
 * one-hot Y, the Gini criterion); nodes of at most min_node_size rows or
 * at depth max_depth stay leaves; regression candidates must keep
 * max(min_leaf, alpha share of the node, 1) rows per child; with one
 * treatment column or instrument z (grf's instrumental rule), each child
 * keeps min_node_size rows on each side of the node's mean z and an alpha
 * share of the node's z variation sum w (z - zbar)^2, and the imbalance
 * penalty divides by that variation; with K - 1 > 1 treatment columns, the
 * alpha share of rows and of each side of the first column's mean. Each node
 * tries Poisson(mtry) features, at least 1 (mtry_fixed: exactly mtry; 0 =
 * min(ceil(sqrt(p) + 20), p), grf's default).
 * Prediction: forest weights alpha_i(x) = mean over trees of 1{i in leaf(x)} /
 * |leaf(x)| over the filling rows, and theta(x) solves the weighted moment
 * (not an average of leaf estimates). Variance by little bags (the
 * between-group variance of group estimates minus the within-group part,
 * as in grf), for every kind. Out-of-bag predictions use only trees whose
 * draw left the row out.
 * Determinism: the same seed and data give the same forest for any thread
 * count (each tree's randomness comes from (seed, tree index)).
 *
 * Ownership: tt_grf_fit returns a forest the caller frees with tt_grf_free.
 * A fitted forest is immutable: predict may run from several threads.
 */
#ifndef TT_LEARN_GRF_H
#define TT_LEARN_GRF_H

#include <stddef.h>
#include <stdint.h>

#include "tautune/plugin.h" /* tt_plugin_sink / tt_plugin_source */

typedef enum tt_grf_kind {
    TT_GRF_REGRESSION = 0,
    TT_GRF_CAUSAL,
    TT_GRF_INSTRUMENTAL
} tt_grf_kind;

typedef struct tt_grf_options {
    size_t n_trees;            /* default 2000 */
    double sample_fraction;    /* default 0.5; rows per tree / n, without replacement;
                                  <= 0.5 when ci_group_size > 1 (a group's trees draw
                                  from one half-sample, as in grf) */
    int honesty;               /* default 1 */
    double honesty_fraction;   /* default 0.5 */
    int honesty_prune_leaves;  /* default 1: drop leaves the filling half leaves empty */
    size_t mtry;               /* default 0 = min(ceil(sqrt(p) + 20), p) */
    size_t min_node_size;      /* default 5 */
    double alpha;              /* default 0.05: minimum child share, in [0, 0.5] */
    double imbalance_penalty;  /* default 0 */
    size_t ci_group_size;      /* default 2; 1 = no variance estimates */
    int threads;               /* default 0 = all online CPUs */
    uint64_t seed;
    /* Later additions: zero (as tt_grf_options_init sets them) keeps grf's
     * behaviour. */
    int bootstrap;             /* default 0; 1 = draws with replacement (above) */
    size_t max_depth;          /* default 0 = unlimited; the root has depth 0 */
    size_t min_leaf;           /* default 0: distinct rows per child, at least */
    int skip_oob;              /* default 0; 1 = no out-of-bag estimates at fit
                                  (they cost a prediction pass over the n rows) */
    int mtry_fixed;            /* default 0: each node tries Poisson(mtry) features
                                  (at least 1, at most p), as grf does; 1 = exactly
                                  mtry (a classical random forest) */
} tt_grf_options;

void tt_grf_options_init(tt_grf_options *opt); /* the defaults above (grf's) */

/* Training data, borrowed for the fit only. Column-major x (n x p). */
typedef struct tt_grf_data {
    size_t n, p;
    const double *x;
    const double *y;           /* n outcomes (centred by the caller for CAUSAL/IV);
                                  tt_grf_fit_multi: n x ny column-major */
    const double *w;           /* CAUSAL: n x k column-major treatment columns (centred,
                                  k <= 8); IV: n x 1 */
    size_t k;                  /* CAUSAL: number of treatment columns (K - 1); else 0/1 */
    const double *z;           /* INSTRUMENTAL: n instrument values (centred); else NULL */
    const double *weight;      /* n sample weights or NULL */
} tt_grf_data;

typedef struct tt_grf tt_grf;

/* Errors: bad options or shapes (TT_ERR_INVALID naming the field), non-finite
 * data (TT_ERR_DATA naming the row), TT_ERR_NOMEM, TT_ERR_STOPPED when
 * *stop becomes non-zero (stop may be NULL). */
tt_status tt_grf_fit(tt_grf_kind kind, const tt_grf_data *d, const tt_grf_options *opt,
                     volatile const int *stop, tt_grf **out, char *err, size_t errlen);

/* REGRESSION on ny columns of y at once (n x ny column-major, 1 <= ny <=
 * TT_GRF_MAX_Y): one tree per draw for all columns, split on the criterion
 * summed over them; a prediction gives ny values per row. With ny = 1 it is
 * tt_grf_fit(TT_GRF_REGRESSION, ...). (A separate entry rather than a field
 * of tt_grf_data, whose callers initialise it positionally.) */
#define TT_GRF_MAX_Y 32
tt_status tt_grf_fit_multi(const tt_grf_data *d, size_t ny, const tt_grf_options *opt,
                           volatile const int *stop, tt_grf **out, char *err, size_t errlen);

/* Values per row a prediction gives: ny (REGRESSION), 1 (INSTRUMENTAL) or k. */
size_t tt_grf_n_outputs(const tt_grf *f);
size_t tt_grf_n_features(const tt_grf *f); /* p of the fit */

/* Estimates for n rows of column-major x (n x p): est n x n_outputs; var
 * (may be NULL) the little-bags variance of each estimate (NAN when
 * ci_group_size < 2). */
tt_status tt_grf_predict(const tt_grf *f, size_t n, const double *x, double *est, double *var,
                         char *err, size_t errlen);

/* Out-of-bag estimates for the n training rows (same layout); NAN for a row
 * that every tree drew. TT_ERR_UNSUPPORTED after skip_oob or load. */
tt_status tt_grf_predict_oob(const tt_grf *f, double *est, double *var, char *err,
                             size_t errlen);

/* Text, C locale, %.17g; a loaded forest predicts bit-identically (OOB
 * predictions need the training data and are not kept). */
tt_status tt_grf_save(const tt_grf *f, const tt_plugin_sink *sink, char *err, size_t errlen);
tt_status tt_grf_load(const tt_plugin_source *src, tt_grf **out, char *err, size_t errlen);

/* grf's variable_importance: for each depth d = 1..max_depth, the share of
 * the trees' splits at that depth made on each feature, weighted by
 * d^-decay and normalised by the sum of the weights of every depth, as grf
 * does (max_depth 4, decay 2). out: p values, at most 1 in sum (less when
 * the trees are shallower than max_depth; 0 everywhere when none splits). A forest
 * loaded from a file counts too (its trees are saved). */
tt_status tt_grf_split_frequency(const tt_grf *f, int max_depth, double decay, double *out,
                                 char *err, size_t errlen);

void tt_grf_free(tt_grf *f); /* NULL is a no-op */

#endif
