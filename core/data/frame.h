/*
 * frame.h - a CSV table with its column roles resolved and its non-feature
 * columns checked: the first stage of a run's data path
 *
 *   table -> tt_frame_build (roles, outcome, arms, truths, weights, ids)
 *         -> tt_frame_split (user split column, or seeded stratified split)
 *         -> tt_prep_fit on the training rows only (prep.h)
 *         -> tt_frame_dataset: every kept row through that preprocessing
 *         -> tt_dataset_subset for train and validation.
 *
 * Rows matching roles->exclude_* are left out first (counted in n_excluded).
 * Checks (each naming file, column and line): outcome and treatment required;
 * a missing outcome or treatment is an error unless roles->drop_missing (then
 * the row is dropped and counted in base->n_dropped); non-finite outcome;
 * control not a treatment value; fewer than 2 arms (constant treatment);
 * an outcome, weight or true effect beyond +-TT_FRAME_MAX_MAGNITUDE (a rescale
 * is suggested); true-effect count other than 0 or K-1; known/true propensities: 1 column
 * (binary only) or K, numeric, in (0, 1) for known ones ([0, 1] for true),
 * rows summing to 1 within 1e-6; weights finite and >= 0; split values
 * train/validation (any case) or 0/1.
 */
#ifndef TT_DATA_FRAME_H
#define TT_DATA_FRAME_H

#include <stdint.h>

#include "data/dataset.h"
#include "data/split.h"

enum { TT_FEAT_X = 0, TT_FEAT_W = 1, TT_FEAT_Z = 2 };

/* The largest |value| of an outcome, weight or true effect: squares of
 * differences of such values, divided by clipped propensities, stay far
 * inside a double's range (1e308). */
#define TT_FRAME_MAX_MAGNITUDE 1e100

typedef struct tt_data_frame {
    const tt_csv_table *table;   /* borrowed: must outlive the frame */
    tt_dataset *base;            /* kept rows; x, w, z not filled (p_x = p_w = p_z = 0) */
    long *feat_col;              /* n_feat source columns of X, W, Z in config order */
    int *feat_role;              /* TT_FEAT_* of each */
    size_t n_feat;
    signed char *user_split;     /* base->n flags, 1 = validation; NULL without data.split */
    size_t level_cap;
    size_t n_excluded;           /* rows left out by roles->exclude_* */
} tt_data_frame;

tt_status tt_frame_build(const tt_csv_table *table, const tt_roles *roles, tt_data_frame **out,
                         char *err, size_t errlen);

/* The user split column when there is one, else tt_split_stratified. Either
 * way every arm needs at least 2 rows in each part (an error naming the arm
 * and the counts). Indices refer to base rows. */
tt_status tt_frame_split(const tt_data_frame *f, double validation_share, uint64_t seed,
                         tt_split *out, char *err, size_t errlen);

void tt_frame_free(tt_data_frame *f); /* NULL is a no-op */

#endif
