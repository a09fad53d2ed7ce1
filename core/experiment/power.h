/*
 * power.h - how many rows an experiment needs, or how small an effect it can
 * see: the two-sample t test's power as statsmodels' TTestIndPower computes
 * it (noncentral t), and CUPED's variance reduction.
 *
 * With d = lift / sd (the standardised effect), n1 rows in the first group
 * and n2 = ratio * n1 in the second, df = n1 + n2 - 2 and noncentrality
 * nc = d sqrt(n1 n2 / (n1 + n2)):
 *   two-sided  power = P(T' > t_{1-alpha/2}) + P(T' < -t_{1-alpha/2})
 *   one-sided  power = P(T' > t_{1-alpha})
 * with T' noncentral t (df, nc) and t_q the central t quantile.
 * CUPED with a pre-period covariate correlated rho with the outcome leaves
 * the residual sd * sqrt(1 - rho^2): the same lift is a larger d, so fewer
 * rows.
 *
 * Several treated arms each compared with the control: the caller divides
 * alpha among the comparisons (Bonferroni) before asking.
 * Library code: never prints. Thread-safety: reentrant.
 */
#ifndef TT_EXPERIMENT_POWER_H
#define TT_EXPERIMENT_POWER_H

#include <stddef.h>

#include "tautune/tautune.h"

/* The power of detecting standardised effect d (> 0) with n1 and ratio * n1
 * rows; NaN for arguments outside their ranges (d <= 0, n1 * (1 + ratio) <= 2,
 * alpha outside (0, 1), ratio <= 0). */
double tt_power_ttest(double d, double n1, double ratio, double alpha, int one_sided);

/* The n1 (a real number; round up for rows) at which the power reaches
 * power, by bisection to 1e-10 relative. TT_ERR_INVALID for bad arguments
 * (power in (alpha, 1) two-sided; d > 0). */
tt_status tt_power_solve_n(double d, double power, double ratio, double alpha, int one_sided,
                           double *n1, char *err, size_t errlen);

/* The smallest standardised effect d detected with the given power at n1
 * rows (the minimum detectable effect is d times the outcome's sd). */
tt_status tt_power_solve_effect(double n1, double power, double ratio, double alpha,
                                int one_sided, double *d, char *err, size_t errlen);

/* CUPED's residual sd: sd sqrt(1 - rho^2); NaN unless |rho| < 1. */
double tt_power_cuped_sd(double sd, double rho);

#endif
