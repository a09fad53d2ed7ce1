/*
 * oracle.h - ground-truth figures, when the data carry true effects.
 *
 * Over validation rows and treated arms (tau, tau_hat: n x (K-1) column-major):
 *   pehe      = sqrt(mean over rows and arms of (tau_hat - tau)^2)
 *   ate_error = mean over arms k of |mean_i tau_hat_k - mean_i tau_k|
 *   cate_corr, policy_true: below
 * Never used for selection unless a config asks (benchmark mode).
 * NaN when n == 0, n_arms < 2 or a pointer is NULL.
 */
#ifndef TT_SCORE_ORACLE_H
#define TT_SCORE_ORACLE_H

#include <stddef.h>

double tt_oracle_pehe(size_t n, int n_arms, const double *tau_hat, const double *tau);
double tt_oracle_ate_error(size_t n, int n_arms, const double *tau_hat, const double *tau);

/* cate_corr: Pearson correlation of tau_hat_k and tau_k over rows, averaged
 * over treated arms. NaN (null) when either is constant for some arm. */
double tt_oracle_cate_corr(size_t n, int n_arms, const double *tau_hat, const double *tau);

/* policy_true = mean_i sum_k (tau_ik - cost_k) 1{greedy policy of tau_hat
 * gives row i arm k} (policy.h's greedy policy; arm 0 contributes 0).
 * cost: K values or NULL (all 0). */
double tt_oracle_policy_true(size_t n, int n_arms, const double *tau_hat, const double *tau,
                             const double *cost);

#endif
