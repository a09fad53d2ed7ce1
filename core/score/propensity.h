/*
 * propensity.h - the scoring propensity of METRICS.md: one classifier fitted
 * once on the training split and shared by every candidate's scores (never a
 * candidate's own nuisance model).
 *
 * Features are [x, w], each standardised with training means and standard
 * deviations (weighted by the sample weights when there are any) so the L2
 * penalty treats columns alike; the logistic learner's own "standardize",
 * which needs no scaled copy of the rows. Two arms: an
 * L2-logistic regression of 1{T = 1}. K arms: one such model per arm
 * (one-versus-rest), with the K probabilities of a row rescaled to sum to 1.
 * The later nuisance engine (selection by cross-validated loss, known
 * propensity columns) replaces this; the interface stays.
 */
#ifndef TT_SCORE_PROPENSITY_H
#define TT_SCORE_PROPENSITY_H

#include <stddef.h>
#include <stdint.h>

#include "tautune/plugin.h"

/* Fit on train (t set), predict for rows. out: rows->n x K column-major,
 * P(arm k | row i) at out[k * n + i], unclipped. alpha: L2 penalty. */
tt_status tt_scoring_propensity(const tt_plugin_data *train, const tt_plugin_data *rows,
                                double alpha, uint64_t seed, double *out, char *err,
                                size_t errlen);

/* Diagnostics of n x K propensities: smallest and largest value of the
 * observed arm's propensity, and how many rows fall outside [clip, 1 - clip]. */
typedef struct tt_propensity_summary {
    double min, max;
    size_t outside_clip;
} tt_propensity_summary;

void tt_propensity_summarise(const double *prop, const int *t, size_t n, double clip,
                             tt_propensity_summary *out);

#endif
