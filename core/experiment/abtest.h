/*
 * abtest.h - the classic analysis of a randomised experiment with K arms
 * (arm 0 the control): per-arm summaries, each treated arm against the
 * control by difference in means (Welch), CUPED, regression adjustment
 * (Lin 2013) and AIPW; the sample-ratio check; the multiple-comparison
 * correction; and, for data whose assignment probabilities are known per row,
 * the inverse-propensity (Hajek) arm means and the mean outcome a stated
 * design would have given.
 *
 * Formulas (n_k rows in arm k, ybar_k, s_k^2 their mean and variance with
 * n_k - 1):
 *   Welch   d = ybar_k - ybar_0, se^2 = s_k^2/n_k + s_0^2/n_0,
 *           df = se^4 / ((s_k^2/n_k)^2/(n_k-1) + (s_0^2/n_0)^2/(n_0-1)),
 *           interval d -+ t_{1-alpha/2, df} se, p = 2 P(T_df > |d|/se)
 *           (statsmodels' ttest_ind / tconfint_diff with usevar="unequal").
 *   CUPED   theta = cov(Y, X) / var(X) on all rows pooled, Y' = Y - theta
 *           (X - Xbar), then Welch on Y'. Its variance reduction on the
 *           pooled rows is 1 - var(Y')/var(Y) = rho^2.
 *   Lin     OLS of Y on [1, D_1..D_{K-1}, Xc, D_1 Xc, .., D_{K-1} Xc],
 *           Xc = X minus its pooled mean; tau_k is D_k's coefficient; HC2
 *           standard errors (e_i^2 / (1 - h_ii)), t intervals with n - q
 *           degrees of freedom (statsmodels' OLS(..).fit(cov_type="HC2",
 *           use_t=True); its default use_t=False takes the normal, which
 *           differs by less than 1e-4 relative beyond a few thousand rows).
 *   AIPW    psi_k = mu_k(x) + 1{T = k} (Y - mu_k(x)) / e_k(x); tau_k =
 *           mean(psi_k - psi_0), se = sd(psi_k - psi_0) / sqrt(n), normal
 *           interval. The caller brings mu (cross-fitted) and e.
 *   Hajek   arm mean m_k = sum_{T=k} Y/e_k / sum_{T=k} 1/e_k; its
 *           influence function gives the s.e. of m_k - m_0 (normal).
 *   SRM     chi^2 = sum_k (n_k - E_k)^2 / E_k, df K - 1, E_k = n share_k
 *           (or sum_i e_k(x_i) when the propensities vary by row); flagged
 *           when p < TT_AB_SRM_ALPHA.
 *   Design value: V = sum_i w_i Y_i / sum_i w_i, w_i = pi(T_i) / e_{T_i}(x_i)
 *           (the ERUPT of the policy "arm k with probability pi_k"), and the
 *           uplift mean(Y) - V of the assignment actually used; percentile
 *           bootstrap intervals over resampled rows.
 *   Correction over the K - 1 comparisons of one outcome and method: Holm
 *           (step-down adjusted p-values; intervals stay per comparison) or
 *           Bonferroni (p times K - 1, intervals at alpha / (K - 1)).
 *
 * Arrays: t (n arms 0..K-1), y (n), x (n x p column-major), e (n x K
 * column-major, e[k*n + i] = P(T = k | row i)). Library code: never prints;
 * reentrant.
 */
#ifndef TT_EXPERIMENT_ABTEST_H
#define TT_EXPERIMENT_ABTEST_H

#include <stddef.h>
#include <stdint.h>

#include "tautune/tautune.h"

/* The sample-ratio check's threshold: a p-value this small is a broken
 * assignment, not chance (the convention of experimentation platforms). */
#define TT_AB_SRM_ALPHA 0.001

typedef struct tt_ab_arm {
    size_t n;
    double mean, sd, se;         /* sd with n - 1; se = sd / sqrt(n) (NaN for n < 2) */
} tt_ab_arm;

/* One treated arm against the control by one method. */
typedef struct tt_ab_effect {
    double estimate, se;
    double lo, hi;               /* the interval (at alpha / m under Bonferroni) */
    double df;                   /* INFINITY: normal */
    double p, p_adj;             /* two-sided p-value, and after the correction */
} tt_ab_effect;

typedef enum tt_ab_correction {
    TT_AB_HOLM = 0,
    TT_AB_BONFERRONI = 1,
    TT_AB_NONE = 2
} tt_ab_correction;

/* "holm", "bonferroni", "none". */
const char *tt_ab_correction_name(tt_ab_correction c);

/* Fill lo, hi, p and p_adj (= p) of e from its estimate, se and df. */
void tt_ab_finish(tt_ab_effect *e, double alpha);

/* Per-arm n, mean, sd, se into arms[0..K-1]. */
void tt_ab_arm_stats(size_t n, int n_arms, const int *t, const double *y, tt_ab_arm *arms);

/* Welch's comparison of arm b against arm a (b - a) at level alpha. Needs
 * two rows per arm; NaN fields otherwise. */
tt_ab_effect tt_ab_welch(const tt_ab_arm *a, const tt_ab_arm *b, double alpha);

/* CUPED's theta on the pooled rows; NaN when x is constant. */
double tt_ab_cuped_theta(size_t n, const double *y, const double *x);

/* y_adj[i] = y[i] - theta (x[i] - mean(x)). */
void tt_ab_cuped_adjust(size_t n, const double *y, const double *x, double theta,
                        double *y_adj);

/* Lin's regression: effects[k-1] for k = 1..K-1. Feature columns constant
 * over the rows, or collinear with earlier columns (an interaction constant
 * within an arm), are dropped; *n_dropped counts the design columns dropped
 * (may be NULL). TT_ERR_DATA when an arm has no rows or fewer rows than
 * columns remain; TT_ERR_NOMEM. Works in row blocks: O(q^2) memory. */
tt_status tt_ab_lin(size_t n, int n_arms, const int *t, const double *y, size_t p,
                    const double *x, double alpha, tt_ab_effect *effects, size_t *n_dropped,
                    char *err, size_t errlen);

/* AIPW effects[k-1] from mu (n x K, cross-fitted) and e (n x K, each in
 * (0, 1)). */
void tt_ab_aipw(size_t n, int n_arms, const int *t, const double *y, const double *mu,
                const double *e, double alpha, tt_ab_effect *effects);

/* Hajek arm means (means[K], NAN for an empty arm) and effects[k-1] of each
 * arm against the control, for propensities e that vary by row. */
void tt_ab_hajek(size_t n, int n_arms, const int *t, const double *y, const double *e,
                 double alpha, double *means, tt_ab_effect *effects);

/* The sample-ratio check: counts[K] against expected[K] (same total). */
typedef struct tt_ab_srm {
    double chi2, df, p;
    int flagged;                 /* p < TT_AB_SRM_ALPHA */
} tt_ab_srm;
tt_ab_srm tt_ab_srm_test(int n_arms, const size_t *counts, const double *expected);

/* Fill p_adj of the m effects (and, for Bonferroni, widen lo/hi to alpha/m:
 * needs se and df). */
void tt_ab_correct(tt_ab_effect *effects, size_t m, tt_ab_correction c, double alpha);

/* The mean outcome under the design pi[K] (shares summing to 1), from rows
 * assigned with known propensities e, and the uplift of the actual
 * assignment over it, each with a percentile bootstrap interval from
 * `resamples` resamples drawn from the stream (seed, "abtest:bootstrap"). */
typedef struct tt_ab_design_value {
    double value, lo, hi;        /* V under the design */
    double actual;               /* mean(Y): the assignment actually used */
    double uplift, uplift_lo, uplift_hi;
    size_t resamples;
} tt_ab_design_value;
tt_status tt_ab_design_value_of(size_t n, int n_arms, const int *t, const double *y,
                                const double *e, const double *pi, double alpha,
                                size_t resamples, uint64_t seed, tt_ab_design_value *out,
                                char *err, size_t errlen);

#endif
