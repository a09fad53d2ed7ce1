/*
 * roles.h - resolving the config's column roles against a CSV header.
 *
 * Explicit names are matched exactly (a miss suggests a near name or lists the
 * header; a name the header holds twice is ambiguous). A true-effect entry
 * "A - B" that is not itself a column means column A minus column B. Then x, w and z are
 * expanded in that order: a glob entry ("x*", "reg6?", fnmatch rules) takes
 * every header column, in header order, that no role names explicitly and no
 * earlier entry took; "..." (at most one in all lists) takes every column
 * left over at the end. A column used by two roles is an error naming both.
 * Internal to the data layer.
 */
#ifndef TT_DATA_ROLES_H
#define TT_DATA_ROLES_H

#include "data/dataset.h"

typedef struct tt_role_cols {
    long outcome, treatment, id, weight, split; /* -1 when absent */
    long *x, *w, *z, *prop, *true_prop, *true_effect;
    long *true_effect_minus; /* n_true_effect: column subtracted ("mu1 - mu0"), or -1 */
    size_t n_x, n_w, n_z, n_prop, n_true_prop, n_true_effect;
} tt_role_cols;

tt_status tt_roles_resolve(const tt_csv_table *t, const tt_roles *r, tt_role_cols *out,
                           char *err, size_t errlen);
void tt_role_cols_free(tt_role_cols *c);

#endif
