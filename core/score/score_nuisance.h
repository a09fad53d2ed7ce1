/*
 * score_nuisance.h - the scoring nuisances of r_score and dr_mse, cross-fitted
 * on the validation split (METRICS.md), fitted once per run and shared by
 * every trial.
 *
 * The validation rows are cut into `folds` folds, stratified by arm: within
 * each arm the rows are shuffled with the stream (seed, "score:folds") and
 * dealt round-robin. For every fold f, models fitted on the other folds
 * predict the rows of f, so no row is ever predicted by a model that saw it:
 *   m_hat   = E[Y | x, w]          ridge on standardised [x, w]
 *   e_hat_k = P(T = k | x, w)      tt_scoring_propensity (propensity.c)
 *   mu_hat_k = E[Y | x, w, T = k]  ridge per arm on the fold's arm-k rows
 * Standardisation constants come from the training folds only.
 */
#ifndef TT_SCORE_SCORE_NUISANCE_H
#define TT_SCORE_SCORE_NUISANCE_H

#include <stddef.h>
#include <stdint.h>

#include "tautune/plugin.h"

typedef struct tt_score_nuisance {
    size_t n;
    int n_arms, folds;
    int *fold;        /* n: the fold of each row, 0..folds-1 */
    double *m_hat;    /* n */
    double *e_hat;    /* n x K column-major, rows sum to 1, unclipped */
    double *mu_hat;   /* n x K column-major */
} tt_score_nuisance;

/* Fit on the validation view v (x, w, t, y set). folds >= 2; every arm needs
 * at least `folds` rows (else TT_ERR_DATA naming the arm). alpha_ridge,
 * alpha_logistic: the learners' L2 penalties. On success the caller owns
 * *out and frees it with tt_score_nuisance_free. */
tt_status tt_score_nuisance_fit(const tt_plugin_data *v, int folds, uint64_t seed,
                                double alpha_ridge, double alpha_logistic,
                                tt_score_nuisance *out, char *err, size_t errlen);

void tt_score_nuisance_free(tt_score_nuisance *nu); /* frees arrays, zeroes; NULL ok */

#endif
