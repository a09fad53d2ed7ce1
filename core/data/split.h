/*
 * split.h - seeded train/validation split, stratified by arm.
 *
 * Within each arm the rows are shuffled with the stream ("split", seed) and the
 * first round(n_k * validation_share) go to validation, so every arm keeps its
 * share. Both index lists come back sorted ascending. An arm with fewer than 2
 * rows in either part is an error naming the arm.
 */
#ifndef TT_DATA_SPLIT_H
#define TT_DATA_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "tautune/tautune.h"

typedef struct tt_split {
    size_t *train; size_t n_train;
    size_t *valid; size_t n_valid;
} tt_split;

/* validation_share in (0, 1). arm_labels (n_arms, may be NULL) name arms in
 * messages. Caller frees with tt_split_free. */
tt_status tt_split_stratified(const int *t, size_t n, int n_arms, const char *const *arm_labels,
                              double validation_share, uint64_t seed, tt_split *out,
                              char *err, size_t errlen);

/* K folds for cross-validated scoring, stratified by arm: within each arm
 * the rows are shuffled with the stream ("folds", seed) and dealt to the
 * folds in turn, the turn carried over from arm to arm so fold sizes differ
 * by at most one. fold_of (n values, the caller's) receives each row's fold
 * in 0..folds-1. folds >= 2; an arm with fewer than 2 x folds rows is an
 * error naming the arm (every fold needs 2 rows of it to be scored and its
 * complement enough to fit on). */
tt_status tt_split_folds(const int *t, size_t n, int n_arms, const char *const *arm_labels,
                         int folds, uint64_t seed, int *fold_of, char *err, size_t errlen);

void tt_split_free(tt_split *split); /* frees the arrays, zeroes the struct */

#endif
