/*
 * oracle.h - ground-truth figures, when the data carry true effects.
 *
 * Over validation rows and treated arms (tau, tau_hat: n x (K-1) column-major):
 *   pehe      = sqrt(mean over rows and arms of (tau_hat - tau)^2)
 *   ate_error = mean over arms k of |mean_i tau_hat_k - mean_i tau_k|
 * Never used for selection unless a config asks (benchmark mode).
 * NaN when n == 0, n_arms < 2 or a pointer is NULL.
 */
#ifndef TT_SCORE_ORACLE_H
#define TT_SCORE_ORACLE_H

#include <stddef.h>

double tt_oracle_pehe(size_t n, int n_arms, const double *tau_hat, const double *tau);
double tt_oracle_ate_error(size_t n, int n_arms, const double *tau_hat, const double *tau);

#endif
