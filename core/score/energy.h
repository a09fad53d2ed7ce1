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
 * matrix). Time O(n^2 p), split over threads (energy_pairs.h): the result is
 * bit-identical for any thread count. About 0.6 s for 20,000 rows x 20
 * features on two cores with AVX2 (tests/bench/scores).
 */
#ifndef TT_SCORE_ENERGY_H
#define TT_SCORE_ENERGY_H

#include <stddef.h>
#include <stdint.h>

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

/* Options of the general entry point; tt_energy_opts_init sets the defaults:
 * standardize 1, propensity NULL (plain energy), clip 0.05, n_threads 0
 * (= TT_ENERGY_DEFAULT_THREADS, 2), max_rows 0 (exact on every row).
 * max_rows > 0 and n > max_rows: METRICS.md's documented subsample for
 * validation sets too large for O(n^2) time: the score is computed exactly
 * on the rows tt_energy_subsample keeps (standardisation constants still
 * from all rows), and the caller reports it as subsampled. */
typedef struct tt_energy_opts {
    int standardize;
    const double *propensity; /* n x K (n x n_z for IV): psw weights; NULL: none */
    double clip;              /* [0, 0.5), used with propensity */
    int n_threads;            /* <= 0: default */
    size_t max_rows;          /* 0: all rows */
    uint64_t subsample_seed;  /* the run seed; stream "score:energy_subsample" */
} tt_energy_opts;

void tt_energy_opts_init(tt_energy_opts *opts);

/* energy (propensity NULL) or psw_energy (propensity set) with every option.
 * tt_energy_score and tt_psw_energy_score are this with the default threads. */
tt_status tt_energy_score_ex(size_t n, size_t p, const double *x, const double *y, const int *t,
                             int n_arms, const double *tau_hat, const tt_energy_opts *opts,
                             double *out, char *err, size_t errlen);

/* IV energy (METRICS.md, "IV problems"): the same distance with the groups
 * given by the instrument z (values 0..n_z-1, value 0 the reference group)
 * instead of the arms, since the instrument is what is randomised. Points are
 * (x_i, y_i - tau_hat_{t_i}(x_i)), i.e. Y - tau_hat(x) T for a binary
 * treatment. score = sum_{g>=1} n_g/(n - n_0) E(group g, group 0). With
 * opts->propensity (n x n_z, P(z = g | row i)) the groups are weighted as in
 * psw_energy. Errors as tt_energy_score; a z value with no rows: TT_ERR_DATA. */
tt_status tt_iv_energy_score(size_t n, size_t p, const double *x, const double *y, const int *t,
                             int n_arms, const double *tau_hat, const int *z, int n_z,
                             const tt_energy_opts *opts, double *out, char *err, size_t errlen);

/* The rows an energy subsample keeps: within each group g (arm, or
 * instrument value), the first max(min(n_g, 2), round(n_g max_rows / n)) rows
 * of a shuffle by the stream (seed, "score:energy_subsample"), so the arms
 * keep their shares. keep: n flags (1 = kept); *kept: their count. With
 * n <= max_rows or max_rows == 0 every row is kept. Depends only on the
 * groups, max_rows and the seed, so every candidate is scored on the same
 * rows. TT_ERR_NOMEM, or TT_ERR_INVALID for a group outside 0..n_groups-1. */
tt_status tt_energy_subsample(size_t n, const int *group, int n_groups, size_t max_rows,
                              uint64_t seed, unsigned char *keep, size_t *kept);

/* E(A, B) of two point sets in R^d, each row-major (point i at a + i*d).
 * Exposed for tests and for the IV variant. NaN if a set is empty or memory
 * runs out. E >= 0 mathematically; a negative rounding residue (near-identical
 * samples) is returned as 0, here and inside tt_energy_score. */
double tt_energy_distance(const double *a, size_t n_a, const double *b, size_t n_b, size_t d);

#endif
