/*
 * assign.h - an experiment's next assignment from Thompson probabilities
 * (score/thompson.h): a floor that keeps every arm explored, and a seeded
 * draw of each row's arm (`tautune assign`).
 *
 * The floored probabilities are what the next round's data carry as known
 * propensities (data.propensity, data/frame.c), which must lie strictly
 * inside (0, 1) and sum to 1 across arms; the floor guarantees the first,
 * and the mixing below keeps the second.
 *
 * Conventions: n rows, K arms, pi n x K column-major, pi[k*n + i].
 * Library code: never prints. Reentrant.
 */
#ifndef TT_EXPERIMENT_ASSIGN_H
#define TT_EXPERIMENT_ASSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "tautune/tautune.h"

/* The smallest floor accepted: below it 1 - (K-1) floor rounds to 1 for
 * the arm that takes the rest (so a propensity would read back as exactly
 * 1), and an inverse propensity weight above 10^6 is no estimate. */
#define TT_ASSIGN_MIN_FLOOR 1e-6

/* The stream of the draw (util/rng.h): the assigned arms are a function of
 * the seed and the probabilities only. */
#define TT_ASSIGN_STREAM "assign:draw"

/* Check a floor for K arms: TT_ERR_INVALID (with a message saying the
 * range) unless TT_ASSIGN_MIN_FLOOR <= floor and K * floor <= 1. */
tt_status tt_assign_floor_check(double floor, int n_arms, char *err, size_t errlen);

/* pi <- floor + (1 - K floor) pi, in place: a mixture of the probabilities
 * with the uniform, so rows that summed to 1 still do (to rounding) and
 * every value lies in [floor, 1 - (K-1) floor]. The floor must pass
 * tt_assign_floor_check (not checked again here). */
void tt_assign_floor(size_t n, int n_arms, double floor, double *pi);

/* Draw each row's arm: one uniform u_i in [0, 1) per row, rows in order,
 * from the stream (seed, TT_ASSIGN_STREAM); arm[i] is the first k with
 * u_i < pi_i(0) + ... + pi_i(k) (the last arm with pi > 0 when rounding
 * leaves u_i above the row's sum). */
void tt_assign_draw(size_t n, int n_arms, const double *pi, uint64_t seed, int *arm);

#endif
