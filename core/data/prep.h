/*
 * prep.h - feature preprocessing fitted on the training rows only, saved with
 * a run so that new rows are transformed identically later.
 *
 * For each X, W, Z source column (config order), decided on the training rows:
 *  - NUMERIC column: kept as one column. Missing cells are filled with the
 *    median of the training rows' values.
 *  - STRING column whose values are all true/false (any case): BOOLEAN, one
 *    0/1 column, missing filled with the training median.
 *  - other STRING column: CATEGORICAL, one-hot. A missing cell is the level
 *    "(missing)". Levels are ordered by training frequency (descending), ties
 *    by byte order (strcmp); the first level_cap are kept, the rest and any
 *    level first seen after fitting map to "other". The most frequent level
 *    is the reference (no column; all zeros), every other kept level gets a
 *    column "name=level", and "name=(other)" exists when training rows fell
 *    there (otherwise unseen levels also map to all zeros).
 *  - a NUMERIC or BOOLEAN column with a gap in the training rows also gets a
 *    0/1 indicator "name:missing", appended to W (after W's own columns), so
 *    nuisance models can use the gap pattern while tau(x) stays on X.
 * Output order: X columns, W columns then indicators, Z columns. Statistics
 * never look at validation rows: tt_prep_fit sees only the rows it is given.
 *
 * A training column with no value at all, a non-number in a NUMERIC column,
 * and a non-finite feature value are errors naming file, column and line.
 * The object is immutable after fitting; apply and save are thread-safe.
 */
#ifndef TT_DATA_PREP_H
#define TT_DATA_PREP_H

#include <stdio.h>

#include "data/frame.h"

typedef struct tt_prep tt_prep;

/* Fit on frame rows train[0..n_train-1] (indices into frame->base rows). */
tt_status tt_prep_fit(const tt_data_frame *f, const size_t *train, size_t n_train,
                      tt_prep **out, char *err, size_t errlen);

/* Fill ds->{p_x,x,x_names,p_w,w,w_names,p_z,z,z_names} (replacing nothing:
 * they must be empty) from table rows rows[0..n-1], columns found by name. */
tt_status tt_prep_apply(const tt_prep *p, const tt_csv_table *table, const size_t *rows,
                        size_t n, tt_dataset *ds, char *err, size_t errlen);

/* A new dataset: the frame's kept rows with their features. */
tt_status tt_frame_dataset(const tt_data_frame *f, const tt_prep *p, tt_dataset **out,
                           char *err, size_t errlen);

/* Names of the source columns that got a missing indicator (borrowed, valid
 * while p lives); returns how many. */
size_t tt_prep_indicators(const tt_prep *p, const char **names, size_t max);

/* Text format, C locale, numbers as %.17g (exact round trip), strings length-
 * prefixed so any byte sequence survives. */
tt_status tt_prep_save(const tt_prep *p, FILE *fp, char *err, size_t errlen);
tt_status tt_prep_load(FILE *fp, tt_prep **out, char *err, size_t errlen);

void tt_prep_free(tt_prep *p); /* NULL is a no-op */

#endif
