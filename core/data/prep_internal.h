/* prep_internal.h - the preprocessing object, shared by prep.c and prep_io.c. */
#ifndef TT_DATA_PREP_INTERNAL_H
#define TT_DATA_PREP_INTERNAL_H

#include "data/prep.h"

enum { TT_PREP_NUM = 0, TT_PREP_BOOL = 1, TT_PREP_CAT = 2 };

typedef struct tt_prep_feature {
    char *name;        /* source column */
    int role;          /* TT_FEAT_X / W / Z */
    int kind;          /* TT_PREP_* */
    double fill;       /* NUM/BOOL: training median */
    int indicator;     /* NUM/BOOL: emit name:missing into W */
    char **levels;     /* CAT: kept levels, frequency order; levels[0] = reference */
    size_t n_levels;
    int has_other;     /* CAT: emit name=(other) */
} tt_prep_feature;

struct tt_prep {
    tt_prep_feature *f;
    size_t n;
};

#define TT_PREP_MISSING_LEVEL "(missing)"

#endif
