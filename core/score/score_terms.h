/*
 * score_terms.h - the per-row terms of a trial's objective, for its standard
 * error and for paired comparisons between trials (search/rank.h).
 *
 * A metric "has terms" when its value is the mean of n per-row numbers (one
 * per validation row), exactly or to first order (delta method): then
 * s.e. = sd(terms) / sqrt(n), and two trials scored on the same rows differ
 * by the mean of their per-row differences, whose s.e. is
 * sd(differences) / sqrt(n) - far smaller than either s.e. when the rows
 * move both trials alike. Today dr_mse (an exact row mean), r_score (a
 * ratio of two row means, delta method; rscore.h) and the IPW policy scores
 * erupt, erupt_net (greedy policy only), policy_value, policy_gain and
 * policy_gain_best (Hajek ratios and row means, delta method;
 * policy_terms.c) have terms. The energy scores are not row means (O(n^2)
 * pair sums; a bootstrap would cost that sum per replica); norm_erupt,
 * policy_risk, qini, auuc and the oracle figures are not done: for those
 * the objective's s.e. is null with tt_score_terms_missing's reason.
 *
 * Ownership: the caller owns terms (n = tt_score_context_rows values).
 */
#ifndef TT_SCORE_SCORE_TERMS_H
#define TT_SCORE_SCORE_TERMS_H

#include <stddef.h>

#include "score/scores.h"

/* NULL when `metric` has terms in this context (ctx NULL: as if the ERUPT
 * policy were greedy); otherwise why its s.e. is null (static). */
const char *tt_score_terms_missing(const tt_score_context *ctx, const char *metric);

/* Validation rows of the context (the number of terms). */
size_t tt_score_context_rows(const tt_score_context *ctx);

/* The metric's per-row terms of one candidate (tau_hat as for
 * tt_scores_compute) into terms. Returns 1, or 0 when the metric has no
 * terms or is null for this candidate (no nuisances, undefined). */
int tt_score_terms(const tt_score_context *ctx, const char *metric, const double *tau_hat,
                   double *terms);

/* sd(terms) / sqrt(n), sd with n - 1; NaN when n < 2. */
double tt_terms_se(const double *terms, size_t n);

/* The paired comparison of two trials' terms on the same rows:
 * *diff = mean(a - b), *se = sd(a - b) / sqrt(n) (NaN when n < 2). */
void tt_terms_paired(const double *a, const double *b, size_t n, double *diff, double *se);

#endif
