/*
 * energy_pairs.h - internal to core/score: exact, blocked, multithreaded sums
 * of pairwise Euclidean distances, the kernel of every energy score.
 *
 * A job is a list of sums, each either
 *   cross: sum_{a in A, b in B} wa_a wb_b d(a, b)
 *   self:  sum_{a, a' in A} w_a w_a' d(a, a')  (ordered pairs; diagonal is 0)
 * with weights 1 when the weight pointers are NULL. Points are row-major
 * (point i at a + i*d). Memory: O(d * TILE) scratch per thread plus one double
 * pair per column tile; never an n x n matrix.
 *
 * Determinism: the work is cut into column tiles (up to 128 points of B, or
 * of A for a self sum); each tile's partial sum is computed by one thread in a
 * fixed order and stored in its own slot, and the slots are added in tile
 * order after all threads join. So the result is the same bit for bit
 * whatever the thread count or scheduling, and the same on the SSE2 and the
 * AVX2 code paths (identical lane grouping, no FMA contraction).
 */
#ifndef TT_SCORE_ENERGY_PAIRS_H
#define TT_SCORE_ENERGY_PAIRS_H

#include <stddef.h>

#include "tautune/tautune.h"

typedef struct tt_pair_sum {
    const double *a, *wa; /* na points (and weights, or NULL) */
    size_t na;
    const double *b, *wb; /* nb points for a cross sum; ignored when self */
    size_t nb;
    int self;
    double result;        /* written by tt_pair_sums */
} tt_pair_sum;

/* Default thread count when a caller passes n_threads <= 0: the two cores of
 * the reference machine; more threads never change the result. */
#define TT_ENERGY_DEFAULT_THREADS 2

/* Fill sums[i].result for every sum. n_threads <= 0: the default. Small jobs
 * run on the calling thread only. TT_ERR_NOMEM when scratch cannot be
 * allocated; a failed thread start falls back to fewer threads (same
 * result). Reentrant. */
tt_status tt_pair_sums(tt_pair_sum *sums, size_t n_sums, size_t d, int n_threads);

#endif
