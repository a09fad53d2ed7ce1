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
 * rows"). Non-finite tau_hat: TT_ERR_NUMERIC. */
tt_status tt_energy_score(size_t n, size_t p, const double *x, const double *y, const int *t,
                          int n_arms, const double *tau_hat, int standardize, double *out,
                          char *err, size_t errlen);

/* E(A, B) of two point sets in R^d, each row-major (point i at a + i*d).
 * Exposed for tests and for the IV variant. */
double tt_energy_distance(const double *a, size_t n_a, const double *b, size_t n_b, size_t d);

#endif
