/*
 * learner.h - the core's supervised learners behind one interface.
 *
 * Today: "ridge" (L2-penalised least squares with an unpenalised intercept)
 * and "logistic" (L2-penalised binary logistic regression, labels 0/1, predicts
 * P(y = 1)). Both take sample weights and the hyperparameter "alpha" (>= 0,
 * default 1.0), the penalty on the sum of squared coefficients:
 *   ridge:    minimise  sum_i w_i (y_i - b0 - x_i'b)^2 + alpha |b|^2
 *   logistic: minimise -sum_i w_i [y_i log p_i + (1 - y_i) log(1 - p_i)] + (alpha/2) |b|^2,
 *             p_i = 1 / (1 + exp(-(b0 + x_i'b)))
 * (note the 1/2 on the logistic penalty only). The intercept b0 is never
 * penalised. Each learner is deterministic. Inputs are column-major n x p
 * doubles. Row and column numbers in error messages are 0-based.
 * Plugins reach these through tt_plugin_host (core/plugin/host.c adapts).
 *
 * Ownership: tt_learner_create returns a learner owned by the caller, freed
 * with tt_learner_destroy. Thread-safety: one learner per thread.
 */
#ifndef TT_LEARN_LEARNER_H
#define TT_LEARN_LEARNER_H

#include <stddef.h>
#include <stdint.h>

#include "tautune/plugin.h" /* tt_learner, tt_plugin_sink/source */

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
 * before a successful fit). ridge: b0 + x'b; logistic: P(y = 1). x is not
 * checked for NaN: a non-finite input gives a non-finite output. */
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

void tt_learner_destroy(tt_learner *learner); /* NULL is a no-op */

#endif
