/*
 * uplift.h - Qini and AUUC (METRICS.md "qini and auuc"), O(n log n).
 *
 * Rows are ranked by tau_hat descending; rows with equal tau_hat form one
 * group, the curves are evaluated at group boundaries and linear within a
 * group (so the result does not depend on row order and is deterministic).
 * For the top k rows: N_t(k), N_c(k) treated/control counts and Y_t(k),
 * Y_c(k) outcome sums; with weights (IPW 1/e of the row's observed arm) both
 * the counts and the sums are weighted, so the ratios are Hajek means; k
 * itself stays a row count.
 *   q(k) = Y_t - Y_c N_t / N_c (0 when N_c = 0)
 *   qini = (1/n) sum_{k=1..n} [q(k) - (k/n) q(n)]
 *   g(k) = k (Y_t/N_t - Y_c/N_c) (0 when either count is 0)
 *   auuc = (1/n) sum_{k=1..n} g(k) / |g(n)| (NaN, i.e. null, when g(n) = 0)
 * A constant tau_hat is one group: q is the straight line, so qini = 0.
 *
 * K > 2 arms: each arm k against the control on the rows of arms {0, k},
 * ranked by tau_hat_k, and the K-1 figures averaged with weights
 * n_k / (n - n_0) (the arm-size weights of the energy score).
 */
#ifndef TT_SCORE_UPLIFT_H
#define TT_SCORE_UPLIFT_H

#include <stddef.h>

#include "tautune/tautune.h"

/* Both figures for K arms. t in 0..K-1, y, tau_hat n x (K-1) column-major,
 * weight: n per-row weights or NULL (unweighted). *qini / *auuc are NaN when
 * undefined (an arm pair without rows, g(n) = 0 for auuc). TT_ERR_NOMEM only. */
tt_status tt_uplift_scores(size_t n, int n_arms, const int *t, const double *y,
                           const double *tau_hat, const double *weight, double *qini,
                           double *auuc, char *err, size_t errlen);

#endif
