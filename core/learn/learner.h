/*
 * learner.h - the core's supervised learners behind one interface.
 *
 * Learners (tt_learner_describe lists each one's hyperparameters):
 *   "ridge"       L2-penalised least squares, unpenalised intercept;
 *   "logistic"    L2-penalised logistic regression: labels 0/1 predict P(y = 1);
 *                 labels 0..K-1 with K > 2 fit the multinomial (softmax) model;
 *   "lasso"       L1-penalised least squares by coordinate descent (alpha "auto" = K-fold CV
 *                 over a warm-started path);
 *   "elastic_net" lasso plus an L2 part (l1_ratio), same path and CV;
 *   "forest"      random forest (regression, or classification with classify = 1) on the
 *                 generalised random forest engine (grf.h): exact splits on presorted
 *                 features, bootstrap or subsampling, honesty, out-of-bag predictions, threads;
 *   "gbm"         histogram gradient boosting: squared error, or with classify = 1 binary
 *                 log-loss / multiclass softmax; early stopping on a held-out slice.
 * Linear learners take "poly2" (add squares and pairwise products) and "standardize".
 *   ridge:    minimise  sum_i w_i (y_i - b0 - x_i'b)^2 + alpha |b|^2
 *   logistic: minimise -sum_i w_i [y_i log p_i + (1 - y_i) log(1 - p_i)] + (alpha/2) |b|^2,
 *             p_i = 1 / (1 + exp(-(b0 + x_i'b)))
 *   lasso / elastic_net (scikit-learn's ElasticNet objective, with weights, W = sum w):
 *             (1 / 2W) sum_i w_i (y_i - b0 - x_i'b)^2 + alpha l1 |b|_1 + (alpha (1 - l1) / 2) |b|^2
 * The intercept b0 is never penalised. Given the seed, every learner is
 * deterministic (the forest also for any thread count). Inputs are
 * column-major n x p doubles. Row and column numbers in error messages are 0-based.
 * Plugins reach these through tt_plugin_host (core/plugin/host.c adapts).
 *
 * Outputs: a learner predicts tt_learner_n_outputs() values per row, written
 * column-major into out (n x K). Regression and binary classification give 1
 * (binary: P(y = 1)); a classifier with K > 2 classes (labels 0..K-1) gives K
 * class probabilities.
 *
 * Ownership: tt_learner_create returns a learner owned by the caller, freed
 * with tt_learner_destroy. Thread-safety: one learner per thread (a learner
 * may start its own threads inside fit/predict: param "threads").
 */
#ifndef TT_LEARN_LEARNER_H
#define TT_LEARN_LEARNER_H

#include <stddef.h>
#include <stdint.h>

#include "tautune/plugin.h" /* tt_learner, tt_plugin_sink/source */

/* ---- hyperparameter schema (introspection) ------------------------------- */

/* Kinds are plugin.h's tt_param_kind: TT_PARAM_REAL, TT_PARAM_INT (whole
 * numbers), TT_PARAM_BOOL (0 or 1). */

/* The value that asks a learner to choose a parameter itself (only where
 * auto_ok; e.g. lasso alpha by cross-validation). Valid values are otherwise
 * >= lo, so the sentinel never collides with a real setting. */
#define TT_LEARNER_AUTO (-1.0)

typedef struct tt_learner_param_info {
    const char *name;
    tt_param_kind kind;
    double default_value; /* may be TT_LEARNER_AUTO */
    double lo, hi;        /* valid range, inclusive */
    int auto_ok;          /* TT_LEARNER_AUTO accepted */
    const char *help;     /* one short line */
} tt_learner_param_info;

/* Learner names by index 0..count-1 (NULL past the end). */
size_t tt_learner_count(void);
const char *tt_learner_name_at(size_t index);

/* One entry of the catalogue, read-only and static: the tables the core
 * validates learner_create against, so anything printed from them (`tautune
 * plugins --learners`, docs/learners.md) cannot drift from what is accepted. */
typedef struct tt_learner_info {
    const char *name;                    /* as tt_learner_create takes it */
    const char *summary;                 /* one line: what it fits and predicts */
    const tt_learner_param_info *params; /* n_params entries, in schema order */
    size_t n_params;
} tt_learner_info;

/* Entry index (0..tt_learner_count()-1) into *out: 0, or -1 past the end. */
int tt_learner_info_at(size_t index, tt_learner_info *out);

/* The schema of a learner: *params points at n static entries.
 * Unknown name: TT_ERR_CONFIG. */
tt_status tt_learner_describe(const char *name, const tt_learner_param_info **params,
                              size_t *n_params, char *err, size_t errlen);

/* ---- lifecycle ------------------------------------------------------------ */

/* Unknown name, unknown key or out-of-range value: TT_ERR_CONFIG with a
 * message listing the valid names/keys. */
tt_status tt_learner_create(const char *name, const char *const *keys, const double *values,
                            size_t n_params, uint64_t seed, tt_learner **out,
                            char *err, size_t errlen);

/* Fit on n rows, p features (p may be 0: intercept only). weight may be NULL
 * (all 1); otherwise finite, >= 0, with a positive sum. x and y must be finite
 * (TT_ERR_DATA naming the row). n must be >= 1 and n, p + 1 must fit in a
 * 32-bit int. A logistic learner requires y in {0, 1} with both classes
 * carrying weight. Refitting replaces the previous fit; a failed fit leaves
 * the learner unfitted. A singular system (ridge, alpha = 0) or a Newton run
 * that does not converge (logistic, e.g. separable classes with alpha = 0)
 * gives TT_ERR_NUMERIC. */
tt_status tt_learner_fit(tt_learner *learner, size_t n, size_t p, const double *x,
                         const double *y, const double *weight, char *err, size_t errlen);

/* Predict n rows with the same p as the fit (otherwise TT_ERR_INVALID; also
 * before a successful fit) into out (n x tt_learner_n_outputs, column-major).
 * ridge: b0 + x'b; logistic: P(y = 1). x is not checked for NaN: a
 * non-finite input gives a non-finite output (a forest sends NaN right). */
tt_status tt_learner_predict(const tt_learner *learner, size_t n, size_t p, const double *x,
                             double *out, char *err, size_t errlen);

/* Serialise a fitted learner (text, C locale, %.17g so doubles round-trip)
 * and read it back; a loaded learner predicts bit-identically. Saving an
 * unfitted learner is TT_ERR_INVALID; malformed data TT_ERR_PARSE. load reads
 * exactly the bytes save wrote (up to its final "end" line), so the learner
 * can be embedded in a larger stream. The format is described in learner.c. */
tt_status tt_learner_save(const tt_learner *learner, const tt_plugin_sink *sink,
                          char *err, size_t errlen);
tt_status tt_learner_load(const tt_plugin_source *source, tt_learner **out,
                          char *err, size_t errlen);

const char *tt_learner_name(const tt_learner *learner);

/* Values per predicted row (see the top); 0 before a successful fit. */
size_t tt_learner_n_outputs(const tt_learner *learner);

/* The value of hyperparameter key as created (NAN if unknown). For lasso /
 * elastic_net after a fit with alpha auto, "alpha" gives the chosen value. */
double tt_learner_param(const tt_learner *learner, const char *key);

/* Out-of-bag predictions for the n training rows of the last fit (forest
 * with oob = 1 only, otherwise TT_ERR_UNSUPPORTED; not kept by save/load).
 * Rows that were in every tree's sample get NAN. out: n x n_outputs. */
tt_status tt_learner_oob_predict(const tt_learner *learner, size_t n, double *out,
                                 char *err, size_t errlen);

void tt_learner_destroy(tt_learner *learner); /* NULL is a no-op */

#endif
