/*
 * estimand.h - the average effect the user asked for, doubly robust: over
 * every row (ATE), the treated (ATT), the controls (ATC) or the rows both
 * arms reach (overlap weights), from cross-fitted nuisances, with a standard
 * error from the estimator's influence function - what grf's
 * average_treatment_effect(target.sample = "all" | "treated" | "control" |
 * "overlap") reports, and what a run's headline uses.
 *
 * Arms 0..K-1 (0 the control); for each treated arm k, with e the
 * propensities (clipped into [clip, 1 - clip] wherever they divide) and mu
 * the arm outcome models, both out of fold:
 *   ATE_k  = mean_i Gamma_ik,  Gamma_ik = mu_k - mu_0 + 1{T=k}(Y - mu_k)/e_k
 *                                         - 1{T=0}(Y - mu_0)/e_0
 *   ATT_k  = (1/n_k) sum_i [1{T=k}(Y - mu_0) - 1{T=0}(e_k/e_0)(Y - mu_0)]
 *            (the effect on the rows that took arm k; only mu_0 is needed)
 *   ATC_k  = (1/n_0) sum_i [1{T=0}(mu_k - Y) + 1{T=k}(e_0/e_k)(Y - mu_k)]
 *   overlap_k = sum_i w_ik Gamma_ik / sum_i w_ik,  w_ik = e_k e_0 / (e_k + e_0)
 *            (binary: e(1 - e); rows that could have gone either way count
 *            most, and w Gamma never divides by a small propensity, so the
 *            overlap average needs no clipping)
 * Sample weights (may be NULL) multiply every row's term and count. The
 * standard error is sd(phi) / sqrt(n) with phi the influence function of the
 * estimate (e.g. ATT: phi_i = [1{T=k}(Y - mu_0 - ATT) - 1{T=0}(e_k/e_0)(Y -
 * mu_0)] / (n_k / n)), nuisances held fixed (they are cross-fitted).
 *
 * A continuous treatment (partially linear model, m = E[Y | x], e = E[T | x]):
 * the average marginal effect, ate only, is the constant theta of the
 * residual-on-residual regression, sum (T - e)(Y - m) / sum (T - e)^2, with
 * the HC0 s.e. of that no-intercept least squares.
 *
 * Overlap: rows whose propensity (of arm k or the control) lies outside
 * [TT_ESTIMAND_OVERLAP_LO, 1 - TT_ESTIMAND_OVERLAP_LO] are counted; a share
 * above TT_ESTIMAND_POOR_SHARE is poor overlap for the ATE (its weights
 * explode there), which the caller turns into a caveat.
 *
 * Library code: never prints. Thread-safety: reentrant.
 */
#ifndef TT_SCORE_ESTIMAND_H
#define TT_SCORE_ESTIMAND_H

#include <stddef.h>

#include "tautune/tautune.h"

typedef enum tt_estimand {
    TT_ESTIMAND_ATE = 0,
    TT_ESTIMAND_ATT,
    TT_ESTIMAND_ATC,
    TT_ESTIMAND_OVERLAP
} tt_estimand;

#define TT_ESTIMAND_OVERLAP_LO 0.05
#define TT_ESTIMAND_POOR_SHARE 0.05

/* "ate", "att", "atc", "overlap"; NULL for anything else. */
const char *tt_estimand_name(tt_estimand e);
/* One line: what the estimand averages over. */
const char *tt_estimand_description(tt_estimand e);
/* From a name; -1 when unknown. */
int tt_estimand_parse(const char *name);

typedef struct tt_estimand_value {
    double estimate, se, lo, hi;  /* lo/hi: the normal (1 - alpha) interval */
    double rows;                  /* the rows it averages over (weighted count; overlap:
                                   * the sum of the overlap weights) */
    size_t n_outside;             /* rows with e_k or e_0 outside [0.05, 0.95] */
    size_t n_clipped;             /* rows whose dividing propensity was clipped */
} tt_estimand_value;

/* Discrete arms. t (n, in 0..K-1), y (n), e (n x K column-major, rows sum to
 * 1), mu (n x K; ATT reads only column 0 and ATC only column k, so the other
 * columns may hold anything finite), weight (n or NULL). out: K - 1 values.
 * TT_ERR_INVALID: bad sizes, clip outside [0, 0.5), alpha outside (0, 1);
 * TT_ERR_DATA: a non-finite input (naming the row), an arm the estimand
 * averages over without rows (ATT of an empty arm). */
tt_status tt_estimand_aipw(tt_estimand which, size_t n, int n_arms, const int *t,
                           const double *y, const double *e, const double *mu,
                           const double *weight, double clip, double alpha,
                           tt_estimand_value *out, char *err, size_t errlen);

/* Continuous treatment (ATE only; others TT_ERR_INVALID): t, y, m = E[Y | x],
 * e = E[T | x] (n each, out of fold), weight (n or NULL). */
tt_status tt_estimand_continuous(tt_estimand which, size_t n, const double *t, const double *y,
                                 const double *m, const double *e, const double *weight,
                                 double alpha, tt_estimand_value *out, char *err,
                                 size_t errlen);

#endif
