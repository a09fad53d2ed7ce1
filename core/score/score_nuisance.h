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
 * Standardisation constants come from the training folds only. A continuous
 * treatment (v->t_value; v->t then holds its strata, which stratify the
 * folds) has e_hat_1 = E[T | x, w] by the outcome ridges instead, and no
 * per-arm models.
 * With `curved` set, each outcome model (m_hat, and mu_hat_k on arm k's
 * rows) is the better by cross-fitted squared error of three ridges: the
 * linear one (alpha_ridge) and two on [x, w] with squares and pairwise
 * products (standardised; alpha 10 and 100 x alpha_ridge). Why: dr_mse's
 * pseudo-outcomes carry the outcome models' errors, and a linear model of a
 * curved surface (IHDP's exponential one) makes them noisy enough to pick the
 * wrong winner. Only the outcome models compete; the propensity stays the
 * scoring propensity, as for psw_energy. The curved candidates run only when
 * affordable (at most 40 features and rows x width^2 <= 5e8, width the
 * squares-and-products count): wider data keep the linear ridge (model 0).
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
    int m_model;      /* the chosen outcome model: 0 linear, 1..2 the squares-and-products */
    int *mu_model;    /* K: the same per arm */
    /* A continuous treatment (the view's t_value; NULL otherwise): its copy,
     * and e_hat's column 1 is then E[T | x, w] (the better of the outcome
     * ridges by cross-fitted error, e_model), column 0 unused; mu_hat holds
     * m_hat in every column (there are no arms). */
    double *t_value;  /* n */
    int e_model;
    /* IV problems (tt_score_nuisance_fit_iv; NULL otherwise), same folds: */
    int *z;           /* n: the binary instrument, 0/1 */
    double *r_hat;    /* n: P(Z = 1 | x, w), or the design's known value */
    double *pz_hat;   /* n x 2: P(T = 1 | x, w, Z = z), column z */
} tt_score_nuisance;

/* Fit on the validation view v (x, w, t, y set). folds >= 2; every arm needs
 * at least `folds` rows (else TT_ERR_DATA naming the arm). alpha_ridge,
 * alpha_logistic: the learners' L2 penalties; curved: let the outcome models
 * choose among the candidates above (0: linear ridge only). On success the
 * caller owns *out and frees it with tt_score_nuisance_free. */
tt_status tt_score_nuisance_fit(const tt_plugin_data *v, int folds, uint64_t seed,
                                double alpha_ridge, double alpha_logistic, int curved,
                                tt_score_nuisance *out, char *err, size_t errlen);

/* The same with the folds given (fold[i] in 0..folds-1, every fold's
 * complement holding every arm): cross-fitted scoring uses the folds the
 * candidates were cross-validated on, so no row's scoring nuisances saw it
 * and no candidate scored on a row was fitted on it. */
tt_status tt_score_nuisance_fit_folds(const tt_plugin_data *v, const int *fold, int folds,
                                      uint64_t seed, double alpha_ridge, double alpha_logistic,
                                      int curved, tt_score_nuisance *out, char *err,
                                      size_t errlen);

/* The IV scoring nuisances of iv_dr_mse on the folds nu already has (two
 * arms, z binary 0/1 for every row of v): r_hat by the scoring propensity's
 * logistic on Z (or known_r, n values in (0, 1), when the instrument was
 * randomised: data.z_propensity), and pz_hat[z] by the same logistic on the
 * rows with Z = z, predicting every row of the held-out fold. A group whose
 * training rows all have one arm (one-sided non-compliance) predicts that
 * arm exactly. On failure nu's IV arrays stay NULL and the rest is kept. */
tt_status tt_score_nuisance_fit_iv(const tt_plugin_data *v, const int *z, const double *known_r,
                                   double alpha_logistic, uint64_t seed, tt_score_nuisance *nu,
                                   char *err, size_t errlen);

/* "linear ridge", "ridge, squares and products, alpha 10" ...: what model
 * index i of m_model / mu_model is, for reports. */
const char *tt_score_nuisance_model_name(int i);

void tt_score_nuisance_free(tt_score_nuisance *nu); /* frees arrays, zeroes; NULL ok */

#endif
