/*
 * cate.h - per-row effects as CSV: the run's cate.csv and `tautune predict`'s
 * output share this writer, so the two can be compared cell for cell.
 *
 * Columns: "row" (the 1-based data row of the source file, header excluded),
 * the id column (under its own name) when there is one, "arm" (the observed
 * arm's label) when arms are known (a continuous treatment: its value, under
 * the treatment's name), "split" ("train" or "validation": the
 * rows the winner was fitted on, and the rows every score used) when given,
 * then for every treated arm k (label L):
 * "tau_L", and "lo_L", "hi_L" when intervals are given; then, when given,
 * "oos_tau_L" for every treated arm (validation rows only), "policy_arm"
 * (a policy tree's arm label), "p_L" for every arm, control included (an
 * assignment's probabilities) and "assigned" (the drawn arm's label).
 * Numbers are written
 * with 17 significant digits (they read back exactly). Text is quoted when
 * it holds a comma, quote or line break.
 */
#ifndef TT_REPORT_CATE_H
#define TT_REPORT_CATE_H

#include <stddef.h>

#include "tautune/tautune.h"

typedef struct tt_cate_rows {
    size_t n;
    int n_arms;
    const char *const *arm_labels;  /* n_arms */
    const size_t *row;              /* n 0-based source rows, or NULL (0..n-1) */
    const char *id_name;            /* or NULL */
    const char *const *ids;         /* n, when id_name */
    const int *t;                   /* n observed arms, or NULL */
    /* A continuous treatment: its n values, written under t_name instead of
     * "arm" (t is then ignored); NULL for arms. */
    const double *t_value;
    const char *t_name;
    const unsigned char *is_valid;  /* n flags (1 = validation row), or NULL */
    const double *tau;              /* n x (K-1) column-major */
    const double *lo, *hi;          /* same shape, or both NULL */
    /* Out-of-sample effects (n x (K-1)), written as "oos_tau_L" on the
     * validation rows only (empty on training rows), or NULL: a run whose
     * final model saw every row keeps the selection-time model's effects on
     * the rows it was scored on. */
    const double *oos_tau;
    /* A policy's arm for each row (`tautune predict --policy`), written last
     * as "policy_arm" (its label), or NULL. */
    const int *policy_arm;
    /* `tautune assign`: each row's probability of every arm (n x K
     * column-major), written as "p_L" in arm order, control first, and the
     * arm drawn, written as "assigned" (its label); each NULL or not. */
    const double *prob;
    const int *assigned;
} tt_cate_rows;

/* Write to path atomically ("-": standard output). */
tt_status tt_cate_write(const char *path, const tt_cate_rows *r, char *err, size_t errlen);

#endif
