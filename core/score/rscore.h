/*
 * rscore.h - r_score and dr_mse (METRICS.md), from validation-cross-fitted
 * scoring nuisances (score_nuisance.h). O(n K^2).
 *
 * r_score: Y~ = Y - m_hat, T~_k = 1{T = k} - e_hat_k for k = 1..K-1 (the
 * one-hot residual; binary: T - e_hat_1). R(tau) = mean_i (Y~_i - sum_k
 * tau_k(x_i) T~_ik)^2. tau_bar = least squares of Y~ on T~ (the best constant
 * effect, one per arm). r_score = 1 - R(tau_hat) / R(tau_bar); NaN (null) when
 * R(tau_bar) = 0 or the T~ normal equations are singular. The propensities
 * are not clipped here: they are only subtracted, never divided by.
 *
 * dr_mse: for each treated arm k, Gamma_ik = mu_k - mu_0 + 1{T=k}(Y - mu_k)/e_k
 * - 1{T=0}(Y - mu_0)/e_0 with e clipped to [clip, 1 - clip]; dr_mse = sum_k
 * n_k / (n - n_0) mean_i (Gamma_ik - tau_hat_k(x_i))^2 (binary: the plain mean).
 *
 * A continuous treatment (nu->t_value): T~ = T - E[T | x] in r_score (one
 * "arm"), and dr_mse's pseudo-outcome is the partially linear model's
 *   psi_i = theta_0 + (Y~_i - theta_0 T~_i) T~_i / s^2,
 * theta_0 = sum Y~T~ / sum T~^2 (the constant residual-on-residual effect),
 * s^2 = mean T~^2: with Y~ = theta(x) T~ + noise, E[psi | x] = theta(x) when
 * Var(T | x) is constant (the DRIV pseudo-outcome with the treatment as its
 * own instrument); dr_mse = mean_i (psi_i - tau_hat(x_i))^2.
 *
 * iv_dr_mse (IV problems, two arms, binary instrument; the IV nuisances of
 * tt_score_nuisance_fit_iv): the doubly robust IV pseudo-outcome of DRIV,
 *   psi_i = theta_0 + (Y~_i - theta_0 T~_i) Z~_i / cov_i,
 * Y~ = Y - m_hat, T~ = T - e_hat_1, Z~ = Z - r_hat, cov_i = r_hat (1 - r_hat)
 * (p_hat_1 - p_hat_0) = E[T~ Z~ | x, w], theta_0 the constant residual Wald
 * ratio sum Y~Z~ / sum T~Z~ (any fixed theta_0 leaves E[psi | x] = theta(x)
 * when the nuisances are right; a good one only lowers the variance). |cov_i|
 * is kept at least a tenth of |mean cov| (its sign kept; 0 takes the mean's):
 * a row with near-zero compliance would otherwise dominate. iv_dr_mse =
 * mean_i (psi_i - tau_hat(x_i))^2, with per-row terms like dr_mse's.
 * A continuous treatment has no compliance model: cov_i is the constant
 * mean_i T~_i Z~_i (right when E[T~ Z~ | x] does not vary with x).
 * Undefined (NaN / 0) without IV nuisances, when the mean compliance or the
 * Wald denominator is 0.
 */
#ifndef TT_SCORE_RSCORE_H
#define TT_SCORE_RSCORE_H

#include <stddef.h>

#include "score/score_nuisance.h"

/* tau_hat: n x (K-1) column-major; t, y: the validation rows the nuisances
 * were fitted on. */
double tt_r_score(const tt_score_nuisance *nu, const int *t, const double *y,
                  const double *tau_hat);

double tt_dr_mse(const tt_score_nuisance *nu, const int *t, const double *y,
                 const double *tau_hat, double clip);

/* Per-row terms (n values into terms) whose mean is the score and whose
 * sample standard deviation / sqrt(n) is its standard error (score_terms.h).
 * dr_mse: the row's arm-size-weighted squared error sum_k n_k/(n - n_0)
 * (Gamma_ik - tau_hat_k(x_i))^2, a plain row mean. r_score = 1 - A/B is a
 * ratio of the row means A (tau_hat's squared R-residuals a_i) and B (tau_bar's,
 * b_i): by the delta method its terms are score - (a_i - (A/B) b_i) / B. tau_bar
 * is held fixed: it minimises B, so its own estimation moves B only to second
 * order. Return 1, or 0 when the score is undefined (its null cases). */
int tt_dr_mse_terms(const tt_score_nuisance *nu, const int *t, const double *y,
                    const double *tau_hat, double clip, double *terms);

/* dr_mse's pseudo-outcomes: Gamma_ik (out: n x (K-1), column k-1 arm k) or,
 * for a continuous treatment, psi_i (out: n values). Returns 0 when they are
 * undefined (no rows; a continuous treatment whose residuals are all 0). */
int tt_dr_pseudo(const tt_score_nuisance *nu, const int *t, const double *y, double clip,
                 double *out);

double tt_iv_dr_mse(const tt_score_nuisance *nu, const int *t, const double *y,
                    const double *tau_hat);
int tt_iv_dr_mse_terms(const tt_score_nuisance *nu, const int *t, const double *y,
                       const double *tau_hat, double *terms);
int tt_r_score_terms(const tt_score_nuisance *nu, const int *t, const double *y,
                     const double *tau_hat, double *terms);

#endif
