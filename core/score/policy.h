/*
 * policy.h - policies derived from a candidate's effects, and the scores that
 * value them by inverse propensity weighting (METRICS.md: erupt, erupt_net,
 * treat shares, norm_erupt, policy_value, policy_gain, policy_risk).
 *
 * Conventions: n rows, K arms (0 = control), tau_hat n x (K-1) column-major
 * (tau_hat_0 = 0), a policy is pi: n x K column-major, pi[k*n + i] = P(the
 * policy gives row i arm k), each row summing to 1. prop: n x K scoring
 * propensities, P(arm k | row i) at prop[k*n + i], clipped here to
 * [clip, 1 - clip]. cost: K per-arm costs with cost[0] = 0, or NULL (all 0).
 * All functions are pure and reentrant; none allocates more than O(n K).
 */
#ifndef TT_SCORE_POLICY_H
#define TT_SCORE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "tautune/tautune.h"

/* z_{0.975}: an interval half-width divided by this is the standard error. */
#define TT_Z975 1.959963984540054

/* Greedy: arm argmax_k (tau_hat_k - cost_k), tau_hat_0 = cost_0 = 0; ties go
 * to the lower arm. pi is 0/1. */
void tt_policy_greedy(size_t n, int n_arms, const double *tau_hat, const double *cost,
                      double *pi);

/* The greedy arm of row i alone (the same rule, without an n x K array). */
int tt_policy_greedy_arm(size_t n, int n_arms, const double *tau_hat, const double *cost,
                         size_t i);

/* Thompson: pi_i(k) = P(arm k is the argmax) when tau_k ~ N(tau_hat_k - cost_k,
 * s_k(x_i)^2) independently and arm 0 is fixed at 0.
 * s: from intervals, s = (hi - lo) / (2 z_0.975) per row and arm (lo, hi
 * n x (K-1)); with lo == NULL, s = pooled_s[k-1] for every row (K-1 values).
 * A zero s makes that arm deterministic. Binary: Phi(mu/s) in closed form
 * (s = 0: greedy). K > 2: Monte-Carlo with `draws` draws per row from the
 * stream (seed, "score:thompson"), rows in order, so the result is a function
 * of the seed. draws >= 1; non-finite or negative widths: TT_ERR_DATA. */
tt_status tt_policy_thompson(size_t n, int n_arms, const double *tau_hat, const double *lo,
                             const double *hi, const double *pooled_s, const double *cost,
                             int draws, uint64_t seed, double *pi, char *err, size_t errlen);

/* ERUPT = sum_i w_i pi_i(t_i) y_i / sum_i w_i pi_i(t_i), w_i = 1/clip(e_{t_i}).
 * NaN when no observed arm agrees with the policy (denominator 0). */
double tt_erupt(size_t n, int n_arms, const int *t, const double *y, const double *prop,
                double clip, const double *pi);

/* Mean policy cost: mean_i sum_k pi_i(k) cost_k (0 when cost is NULL). */
double tt_policy_mean_cost(size_t n, int n_arms, const double *pi, const double *cost);

/* shares[k] = mean_i pi_i(k), k = 0..K-1. */
void tt_policy_shares(size_t n, int n_arms, const double *pi, double *shares);

/* Hajek value of giving every row arm k: sum_{t_i = k} w_i y_i / sum_{t_i = k} w_i,
 * w_i = 1/clip(e_k). NaN when arm k has no rows. */
double tt_arm_value(size_t n, const int *t, const double *y, const double *prop, double clip,
                    int k);

/* norm_erupt (binary): pi = 1{tau_hat > ate_psw}, norm_erupt = ERUPT(pi) -
 * ate_psw * mean(pi), ate_psw = arm value 1 - arm value 0 (both arms weighted
 * by their own propensity; METRICS.md "differs"). NaN as tt_erupt. */
double tt_norm_erupt(size_t n, const int *t, const double *y, const double *prop, double clip,
                     const double *tau_hat);

#endif
