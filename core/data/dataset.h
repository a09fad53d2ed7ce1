/*
 * dataset.h - a causal data set: outcome, arms, effect modifiers, common
 * causes and optional true effects, as dense column-major doubles.
 *
 * Built from a CSV table and column roles, or by a generator (synth.h).
 * Arm 0 is always the control. For a numeric treatment column the arms are the
 * distinct values in ascending order with the control moved to index 0; for a
 * string column, the distinct strings sorted by strcmp, control first.
 *
 * A continuous treatment (a price, a dose; roles->continuous) has no arms:
 * t_value holds the treatment, the effect is the marginal one per unit of T
 * (one column, tau), and t holds the row's stratum (0: T at or below the
 * median, 1: above), so that splits and folds stratified "by arm" spread the
 * treatment's range evenly; n_arms is 2, arm_labels[0] names the lower
 * stratum (TT_CONTINUOUS_ARM_LABEL_LOW) and arm_labels[1] is the treatment's
 * name, so an effect column reads "tau_<treatment>" (per unit of it).
 * Nothing may read t as an arm there: code that needs arms checks t_value
 * first (tt_dataset_continuous).
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
    /* Fields added with column roles (issue 3); NULL/0 when absent. */
    size_t p_z;
    double *z;           /* n * p_z instruments, column-major */
    char **z_names;
    double *propensity;  /* n * K known P(T = k | row), column-major: replaces the estimate */
    double *true_propensity; /* n * K, oracle only (never a feature) */
    double *weight;      /* n non-negative sample weights */
    char **ids;          /* n ids as text (numbers in shortest form) */
    char *id_name;
    size_t *row;         /* n: 0-based data row of the source table each row came from */
    size_t n_dropped;    /* rows dropped for a missing outcome or treatment */
    double *mu0;         /* n baseline E[Y | x, w, T = control], oracle only (generators) */
    double *t_value;     /* n continuous treatment values, or NULL (discrete arms) */
    /* 1: w lives in x's allocation, right after its n * p_x values, so
     * [x, w] is one n x (p_x + p_w) column-major block (tt_dataset_xw) that
     * the nuisance models read in place, and w is not freed on its own. Set
     * by tt_dataset_subset and the CSV path; a million rows x 22 features
     * is 176 MB a copy would add. */
    int xw_joint;
} tt_dataset;

/* The [x, w] block of ds, n x (p_x + p_w) column-major, when it is one
 * allocation (or one of x, w is empty); NULL when x and w live apart. */
const double *tt_dataset_xw(const tt_dataset *ds);

/* Frees ds's x and w (however they are allocated) and sets them NULL; the
 * names stay. */
void tt_dataset_drop_features(tt_dataset *ds);

/* Whether ds has a continuous treatment (t_value set). */
#define tt_dataset_continuous(ds) ((ds)->t_value != NULL)

/* arm_labels[0] of a continuous treatment (the lower stratum of t). */
#define TT_CONTINUOUS_ARM_LABEL_LOW "at or below the median"

/* Column roles chosen by the config. All names refer to header names. */
typedef struct tt_roles {
    const char *outcome;
    const char *treatment;
    const char *control;              /* label of the control arm, as text ("0", "No E-Mail") */
    const char *const *x; size_t n_x; /* effect modifiers */
    const char *const *w; size_t n_w; /* common causes */
    const char *const *true_effect; size_t n_true_effect; /* 0 or K-1 columns */
    /* Added with issue 3 (zero = absent). */
    const char *const *z; size_t n_z;  /* instruments */
    const char *const *propensity; size_t n_propensity; /* known: 1 (P(arm 1), binary) or K */
    const char *const *true_propensity; size_t n_true_propensity; /* oracle: 1 or K */
    const char *id;                    /* passed through to outputs */
    const char *weight;                /* sample weights, finite and >= 0 */
    const char *split;                 /* user split: train/validation or 0/1 (1 = validation) */
    int drop_missing;                  /* drop rows with a missing outcome/treatment */
    size_t level_cap;                  /* one-hot cap per string column; 0 = default 20 */
    /* Rows to leave out: a row whose every exclude_cols[k] cell equals
     * exclude_vals[k] (as text, or by value for numbers) is not used. */
    const char *const *exclude_cols;
    const char *const *exclude_vals;
    size_t n_exclude;
    /* Feature columns that are categories although most of their cells are
     * numbers (a column of codes): without this such a column is an error,
     * its few non-number cells most likely typos (frame.h). */
    const char *const *categorical; size_t n_categorical;
    int continuous;                    /* the treatment is a number per row, not arms: no
                                        * control; 0 or 1 true-effect column (per unit) */
} tt_roles;
/* outcome, treatment and control are required. true_effect[j] is the effect
 * of arm j+1 (arm order as above, control excluded) versus the control, or
 * "A - B" for column A minus column B. A numeric control matches by text or
 * by value ("1.0" names the arm "1"). Lists x, w and z may hold glob patterns
 * ("x*", "reg6?") matching header columns no other role names (header order),
 * and the entry "..." = every column no other role uses (at most once). */

/* Build a dataset from a table, fitting the preprocessing (prep.h) on all
 * rows; a run fits it on the training rows only (frame.h). Errors, each
 * naming file, column and, where it applies, line, are those of frame.h and
 * prep.h: a role column not found (with a suggestion) or ambiguous; a column
 * in two roles; a non-numeric or non-finite outcome; a missing outcome or
 * treatment (unless drop_missing); a control label that is not a value of
 * the treatment column; fewer than 2 arms; a true-effect count other than 0
 * or K-1; bad propensities, weights or split values. Gaps in x, w, z are
 * imputed, string columns one-hot encoded (prep.h). */
tt_status tt_dataset_from_csv(const tt_csv_table *table, const tt_roles *roles,
                              tt_dataset **out, char *err, size_t errlen);

/* Copy of the rows idx[0..m-1] (in that order). */
tt_status tt_dataset_subset(const tt_dataset *ds, const size_t *idx, size_t m,
                            tt_dataset **out, char *err, size_t errlen);

/* Rows per arm into counts[0..n_arms-1]. */
void tt_dataset_arm_counts(const tt_dataset *ds, size_t *counts);

void tt_dataset_free(tt_dataset *ds); /* NULL is a no-op */

#endif
