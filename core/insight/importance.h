/*
 * importance.h - permutation importance of the features for an effect
 * function: how much the predicted effects move when one feature's values
 * are shuffled across rows.
 *
 * For feature j and repeat r, column j of x is permuted (a seeded shuffle)
 * and the effect function is evaluated again; with tau_i its predictions on
 * the unpermuted x,
 *   mse_j = mean over R repeats of  mean_i (tau_perm(j,r),i - tau_i)^2,
 *   rms_j = sqrt(mse_j)  (the same ranking, in the effect's units).
 * It measures what the function uses, not what drives the true effect: a
 * feature the function ignores scores exactly 0, and two correlated
 * features can share (or hide) each other's importance. The baseline is
 * the callback on the original x (not out-of-fold estimates), so the
 * comparison is the function against itself.
 *
 * Determinism: feature j's permutations come from the stream
 * "importance:<j>" of the seed (util/rng.h), drawn in repeat order, so
 * adding features or repeats never changes the numbers another feature gets.
 * The same seed, data and function give the same numbers bit for bit.
 *
 * Memory: the result's arrays are owned by it; tt_importance_free releases
 * them. Scratch is one copy of x plus O(n).
 * Thread-safety: reentrant (the callback must be, if called concurrently).
 */
#ifndef TT_INSIGHT_IMPORTANCE_H
#define TT_INSIGHT_IMPORTANCE_H

#include <stddef.h>
#include <stdint.h>

#include "tautune/tautune.h"

/* Effects of n rows of x (n x p, column-major) into tau_out (n). Return 0
 * on success; any other value is a failure (a tt_status is passed on as it
 * is, anything else becomes TT_ERR_PLUGIN). */
typedef int (*tt_effect_predict_fn)(void *ctx, size_t n, size_t p, const double *x,
                                    double *tau_out);

typedef struct tt_importance {
    size_t p;
    size_t repeats;
    double *mse;   /* p, by feature index: mean squared change in the effect */
    double *rms;   /* p: sqrt(mse) */
    size_t *order; /* p feature indices, most important first (ties: lower index) */
} tt_importance;

/* repeats >= 1 (5 is usual). TT_ERR_INVALID: NULL arguments, n == 0 or
 * p == 0, repeats == 0. TT_ERR_NUMERIC: the function returned a non-finite
 * effect (naming the feature permuted, or the baseline, and the row).
 * The callback's failure status as above. TT_ERR_NOMEM. On failure *out is
 * left zeroed. */
tt_status tt_permutation_importance(size_t n, size_t p, const double *x,
                                    tt_effect_predict_fn predict, void *ctx, size_t repeats,
                                    uint64_t seed, tt_importance *out, char *err, size_t errlen);

void tt_importance_free(tt_importance *imp);

#endif
