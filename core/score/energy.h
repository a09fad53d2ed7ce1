/*
 * energy.h - the energy score of METRICS.md ("energy", minimise).
 *
 * z_i = (x_i, y_i - tau_hat_{t_i}(x_i)) with tau_hat_0 = 0. With standardize,
 * every x column is centred and scaled by its validation mean and standard
 * deviation (population sd; a constant column is centred only), and the last
 * component by the mean and sd of the observed y, so the constants do not
 * depend on the candidate.
 * E(A, B) = 2/(|A||B|) sum d(a,b) - 1/|A|^2 sum d(a,a') - 1/|B|^2 sum d(b,b'),
 * Euclidean d. Binary: E(arm 1, arm 0). K arms: sum_{k>=1} n_k/(n - n_0) E(arm k, arm 0).
 *
 * Exact: all pairs, computed in row blocks so memory is O(n p) (never an n x n
 * matrix). Time O(n^2 p).
 */
#ifndef TT_SCORE_ENERGY_H
#define TT_SCORE_ENERGY_H

#include <stddef.h>

#include "tautune/tautune.h"

/* x: n x p column-major (p may be 0, x NULL). y, t: n. tau_hat: n x (K-1)
 * column-major. An arm with no rows: TT_ERR_DATA ("arm k has no validation
 * rows"). Non-finite tau_hat: TT_ERR_NUMERIC. Non-finite x or y: TT_ERR_DATA.
 * t outside 0..n_arms-1 or n_arms < 2: TT_ERR_INVALID. *out is NaN on error.
 * A column (or y) with max == min is centred only. Reentrant. */
tt_status tt_energy_score(size_t n, size_t p, const double *x, const double *y, const int *t,
                          int n_arms, const double *tau_hat, int standardize, double *out,
                          char *err, size_t errlen);

/* psw_energy (METRICS.md): as tt_energy_score, but row i of arm k carries
 * u_i = 1 / clip(e_k(x_i)), normalised to sum 1 within its arm, and
 * E_w(A,B) = 2 sum u_a u_b d_ab - sum u_a u_a' d_aa' - sum u_b u_b' d_bb'.
 * propensity: n x K column-major, P(arm k | row i) at propensity[k*n + i],
 * clipped to [clip, 1 - clip] (clip in [0, 0.5); METRICS.md default 0.05).
 * With constant propensities within each arm this equals tt_energy_score up
 * to rounding. A propensity outside [0, 1]: TT_ERR_DATA. */
tt_status tt_psw_energy_score(size_t n, size_t p, const double *x, const double *y, const int *t,
                              int n_arms, const double *tau_hat, const double *propensity,
                              double clip, int standardize, double *out, char *err, size_t errlen);

/* E(A, B) of two point sets in R^d, each row-major (point i at a + i*d).
 * Exposed for tests and for the IV variant. NaN if a set is empty or memory
 * runs out. E >= 0 mathematically; a negative rounding residue (near-identical
 * samples) is returned as 0, here and inside tt_energy_score. */
double tt_energy_distance(const double *a, size_t n_a, const double *b, size_t n_b, size_t d);

#endif
