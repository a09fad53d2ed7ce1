/*
 * thompson.h - Thompson-sampling probabilities computed exactly, for
 * assignment (`tautune assign`): the probability that each arm is the best
 * when every arm's effect is an independent normal.
 *
 * tt_policy_thompson (policy.h) estimates the same probabilities by Monte
 * Carlo for the scores; an assignment's probabilities become the next
 * round's known propensities, whose errors an IPW estimate divides by, so
 * here they are integrated to ~1e-13 instead of sampled (10^4 draws would
 * leave a standard error of 0.005 at p = 0.5, a 10 % relative error at
 * p = 0.05), and need no seed.
 *
 * Conventions as in policy.h: n rows, K arms (0 = control, fixed at 0),
 * n x (K-1) and n x K arrays column-major. Pure and reentrant.
 */
#ifndef TT_SCORE_THOMPSON_H
#define TT_SCORE_THOMPSON_H

#include <stddef.h>

#include "tautune/tautune.h"

/* pi[k*n + i] = P(arm k has the largest value at row i), where arm k >= 1's
 * value is N(mu[(k-1)*n + i], sd[(k-1)*n + i]^2), the arms independent, and
 * arm 0's value is 0. An arm with sd 0 is fixed at its mean; among fixed
 * arms that tie, the lowest wins (tt_policy_greedy's rule), so sd = 0
 * everywhere gives the greedy policy.
 *
 * How: with c the best fixed value (arm 0's 0 at least), the best fixed arm
 * wins with prod_j Phi((c - mu_j)/sd_j) over the random arms j, and a random
 * arm k with the integral over its own standard normal z > (c - mu_k)/sd_k
 * of phi(z) prod_{j != k} Phi((mu_k + sd_k z - mu_j)/sd_j), by adaptive
 * Gauss-Kronrod (7/15 points) with breakpoints where another arm's factor
 * steps, to an absolute 1e-13 per arm. A single random arm (two arms) is
 * Phi(mu/sd) in closed form. Each row is then divided by its sum, so it sums
 * to 1 to rounding; *max_defect (may be NULL) receives the largest
 * |sum - 1| before that division, the integration's own check.
 *
 * n_arms >= 2. A non-finite mu or sd, or sd < 0: TT_ERR_DATA naming the
 * (0-based) row and the arm. */
tt_status tt_thompson_exact(size_t n, int n_arms, const double *mu, const double *sd,
                            double *pi, double *max_defect, char *err, size_t errlen);

#endif
