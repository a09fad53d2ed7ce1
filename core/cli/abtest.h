/*
 * abtest.h - the pieces of `tautune abtest` (internal to the command):
 * cmd_abtest.c reads the config and data and writes the run folder,
 * abtest_analyse.c turns one outcome into its results.json object,
 * abtest_print.c prints those objects as the terminal table.
 *
 * Everything shown (terminal, summary.md, report.html) is read back from the
 * same JSON, so the three never disagree.
 */
#ifndef TT_CLI_ABTEST_H
#define TT_CLI_ABTEST_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "experiment/abtest.h"

/* The rows of one outcome's analysis (borrowed). */
typedef struct ab_input {
    size_t n;
    int n_arms;
    const char *const *arm_labels;
    const int *t;
    const char *outcome;
    const double *y;
    size_t p;                    /* features for Lin (x then w), n x p column-major */
    const double *x;
    const char *pre_name;        /* CUPED's column, or NULL */
    const double *pre;
    const double *e_known;       /* n x K known per-row propensities, or NULL */
    const double *design;        /* K shares (sum 1), or NULL */
    const double *mu;            /* n x K cross-fitted outcome models (AIPW), or NULL */
    const double *e_aipw;        /* n x K propensities AIPW uses (with mu) */
    const char *aipw_how;        /* what mu and e_aipw are, for the report */
    double alpha;
    tt_ab_correction correction;
    size_t resamples;
    uint64_t seed;
} ab_input;

/* The outcome's object ("name", "arms", "methods", "design_value", "notes"),
 * or NULL with err set. */
cJSON *tt_ab_analyse(const ab_input *in, char *err, size_t errlen);

/* The terminal table of a whole abtest results object. */
void tt_ab_print(const cJSON *results, FILE *out);

#endif
