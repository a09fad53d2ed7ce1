/*
 * dataset.h - a causal data set: outcome, arms, effect modifiers, common
 * causes and optional true effects, as dense column-major doubles.
 *
 * Built from a CSV table and column roles, or by a generator (synth.h).
 * Arm 0 is always the control. For a numeric treatment column the arms are the
 * distinct values in ascending order with the control moved to index 0; for a
 * string column, the distinct strings sorted by strcmp, control first.
 */
#ifndef TT_DATA_DATASET_H
#define TT_DATA_DATASET_H

#include <stddef.h>

#include "tautune/tautune.h"
#include "data/csv.h"

typedef struct tt_dataset {
    char *source;        /* file path, or a description of the generator */
    size_t n;            /* rows */
    size_t p_x, p_w;
    double *x;           /* n * p_x column-major (NULL when p_x == 0) */
    double *w;           /* n * p_w column-major (NULL when p_w == 0) */
    double *y;           /* n */
    int *t;              /* n, arms 0..n_arms-1 */
    int n_arms;          /* K >= 2 */
    char **arm_labels;   /* K labels as text; arm_labels[0] is the control */
    double *tau;         /* n * (K-1) true effects column-major, or NULL */
    char **x_names, **w_names;
    char *y_name, *t_name;
} tt_dataset;

/* Column roles chosen by the config. All names refer to header names. */
typedef struct tt_roles {
    const char *outcome;
    const char *treatment;
    const char *control;              /* label of the control arm, as text ("0", "No E-Mail") */
    const char *const *x; size_t n_x; /* effect modifiers */
    const char *const *w; size_t n_w; /* common causes */
    const char *const *true_effect; size_t n_true_effect; /* 0 or K-1 columns */
} tt_roles;
/* outcome, treatment and control are required. true_effect[j] is the effect
 * of arm j+1 (arm order as above, control excluded) versus the control.
 * A numeric control matches by text or by value ("1.0" names the arm "1"). */

/* Build a dataset from a table. Errors (each naming file, column and, where it
 * applies, line): a role column not found; a column used in two roles or twice
 * in one; a non-numeric outcome, x, w or true-effect column; a missing or
 * non-finite value in a used column; a control label that is not a value of
 * the treatment column; fewer than 2 arms; true-effect count other than 0 or
 * K-1. */
tt_status tt_dataset_from_csv(const tt_csv_table *table, const tt_roles *roles,
                              tt_dataset **out, char *err, size_t errlen);

/* Copy of the rows idx[0..m-1] (in that order). */
tt_status tt_dataset_subset(const tt_dataset *ds, const size_t *idx, size_t m,
                            tt_dataset **out, char *err, size_t errlen);

/* Rows per arm into counts[0..n_arms-1]. */
void tt_dataset_arm_counts(const tt_dataset *ds, size_t *counts);

void tt_dataset_free(tt_dataset *ds); /* NULL is a no-op */

#endif
