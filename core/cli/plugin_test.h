/*
 * plugin_test.h - `tautune plugin-test PATH.so`: one plugin exercised on
 * generated data with known effects, check by check. Internal to the
 * command; the files that share it:
 *   plugin_test_data.c    the test problems: a generator of core/data/gen.c
 *                         with its effect made constant, split into training
 *                         and new rows, with the host's nuisance models
 *   plugin_test_call.c    one sequence of plugin calls (create, fit, effect,
 *                         intervals, save, load) in an isolated child, and
 *                         its numbers sent back
 *   plugin_test_judge.c   the verdicts on the numbers the children sent back
 *   plugin_test_checks.c  the checks: which calls, and the lines they print
 *   plugin_test_valgrind.c  the fit/effect/save/load cycle under valgrind
 *   cmd_plugin_test.c     the command line, loading, the table, exit code
 *
 * Why children: a plugin that crashes, aborts or hangs in one check must
 * cost that check (a FAIL line saying how it ended), not the command.
 */
#ifndef TT_CLI_PLUGIN_TEST_H
#define TT_CLI_PLUGIN_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "nuisance/nuisance.h"
#include "plugin/host.h"
#include "tautune/plugin.h"

/* The most arms a test problem has (the multi-arm problem's). */
#define PT_MAX_ARMS 3
/* Cells after the effects (and after lo, hi) that a plugin must not touch. */
#define PT_GUARD 8
/* Recovery tolerance, in standard errors of a simple estimator on the same
 * training rows (pt_problem.tol). */
#define PT_TOL_SE 5.0
/* Interval level asked for: 1 - alpha. */
#define PT_ALPHA 0.05
/* Share of (row, arm, seed) row intervals that must cover the true effect. */
#define PT_ROW_COVERAGE 0.5
/* A fit with should_stop true from the start must return within this. */
#define PT_STOP_BOUND 2.0

/* The kinds of problem a plugin is run on, by what it claims. */
typedef enum pt_kind {
    PT_TWO_ARMS = 0, /* rct_linear, 2 arms (every plugin without the IV capability) */
    PT_MULTI_ARM,    /* rct_linear, 3 arms (TT_PLUGIN_CAP_MULTI_ARM) */
    PT_IV,           /* iv: binary instrument and treatment (TT_PLUGIN_CAP_IV) */
    PT_CONTINUOUS,   /* pricing (TT_PLUGIN_CAP_CONTINUOUS_TREATMENT) */
    PT_KIND_COUNT
} pt_kind;

/* "2arm", "3arm", "iv", "continuous": the suffix of the checks' names. */
const char *pt_kind_name(pt_kind kind);
/* The generator of core/data/gen.c a kind starts from. */
const char *pt_kind_generator(pt_kind kind);

/* The command's settings (cmd_plugin_test.c fills them). */
typedef struct pt_settings {
    int quick;
    uint64_t seed;
    size_t n_train, n_eval;  /* rows the plugin fits on and predicts */
    size_t n_points;         /* random schema points fitted */
    size_t n_seeds;          /* data seeds the intervals' coverage is judged over */
    size_t resamples;        /* host->interval_resamples (bootstrap replicas) */
    double timeout;          /* seconds per child before it is killed */
} pt_settings;

/* One test problem: generated rows whose true effect is constant, the
 * plugin's views of them, and the host's nuisance models fitted on the
 * training rows. Built in the parent (host code only, no plugin code), so
 * every child shares it copy-on-write. */
typedef struct pt_problem {
    pt_kind kind;
    uint64_t seed;
    int n_arms;
    size_t n_train, n_eval;
    double truth[PT_MAX_ARMS - 1]; /* the constant effect of arm k at truth[k - 1] */
    double tol[PT_MAX_ARMS - 1];   /* |mean effect - truth| allowed (PT_TOL_SE s.e.) */
    const char *tol_rule;          /* the simple estimator the s.e. is of */
    tt_dataset *train, *eval;
    tt_plugin_data train_view;     /* t, y set (continuous: t_value, t NULL) */
    tt_plugin_data eval_view;      /* rows to predict: no t, y, z */
    double *weight;                /* n_train positive weights (the weights check) */
    /* The nuisance models the plugin declared it needs. */
    tt_nuisance_engine *engine;
    tt_nuisance_data nu_data;
    double *features;              /* [x, w] and the instrument's 0/1, when copied */
    const tt_nuisance_result *arm_outcome[PT_MAX_ARMS];
    tt_host_nuisances nu;
} pt_problem;

/* Generate kind's problem for a plugin with capabilities caps: n_train +
 * n_eval rows of the kind's generator with seed, the effect replaced by the
 * constant truth (arm k: k; iv: 1; continuous: -1 per unit), and the
 * nuisance models caps asks for (the first default candidate of each role:
 * logistic or ridge, cross-fitted over 5 folds). TT_ERR_* with err set. */
tt_status pt_problem_make(pt_kind kind, uint64_t seed, size_t n_train, size_t n_eval,
                          uint32_t caps, pt_problem *pb, char *err, size_t errlen);
void pt_problem_free(pt_problem *pb); /* zeroes; a zeroed problem is a no-op */

/* Cells of the effects on the new rows: n_eval x (n_arms - 1). */
size_t pt_cells(const pt_problem *pb);

/* ---- plugin calls in a child (plugin_test_call.c) ---------------------- */

#define PT_MAX_FITS 2

/* One sequence of calls on one instance. With state, the instance is loaded
 * from it (load gets its own host table, as in `tautune predict`) and not
 * fitted; otherwise created with point and seed and fitted `fits` times in
 * a row (each fit followed by effect). Then, as asked, effect_interval and
 * average_effect, and save. */
typedef struct pt_call {
    const pt_problem *pb;
    const tt_plugin_descriptor *desc;
    const double *point;       /* desc->n_params values */
    uint64_t seed;
    int fits;                  /* 1 or PT_MAX_FITS (0 is taken as 1) */
    int intervals;             /* effect_interval and average_effect after the last effect */
    int save;                  /* save after the last effect */
    int weighted;              /* fit with pb->weight */
    int stop_now;              /* should_stop is true from the start: fit only, timed,
                                * its status kept rather than failing the call */
    size_t resamples;          /* host->interval_resamples */
    const unsigned char *state; /* load from these bytes instead of create + fit */
    size_t state_len;
} pt_call;

/* What came back. Arrays are owned (pt_outcome_free). */
typedef struct pt_outcome {
    int ok;                    /* the child answered; else why says how it ended */
    int refused;               /* !ok because a plugin call returned an error (not a
                                * crash, a timeout or an exit) */
    char why[1600];
    char stage[32];            /* the call it was in when it ended ("fit", "load", ...) */
    double seconds;            /* the child's wall time */
    size_t n_fits;
    double fit_seconds[PT_MAX_FITS], effect_seconds[PT_MAX_FITS];
    /* pt_cells + PT_GUARD cells each, pre-filled with pt_unwritten() */
    double *effects[PT_MAX_FITS];
    double *lo, *hi;           /* pt_cells + PT_GUARD, or NULL without intervals */
    char interval_error[512];  /* effect_interval's message when it failed */
    int has_average;           /* average_effect was called */
    double *ate, *ate_lo, *ate_hi; /* n_arms - 1 each */
    char average_error[512];
    unsigned char *state;      /* the saved bytes (save) */
    size_t state_len;
    int fit_status;            /* stop_now: what fit returned */
    char fit_error[512];
} pt_outcome;

/* A NaN whose payload marks a cell the plugin has not written. */
double pt_unwritten(void);
int pt_is_unwritten(double v); /* bit for bit */

/* Run c in an isolated child killed after timeout seconds; the outcome in
 * *out (out->ok 0 and out->why when it failed, crashed or timed out).
 * Returns 0, or -1 when no child could be started (out->why says why). */
int pt_call_run(const pt_call *c, double timeout, pt_outcome *out);

/* Run c in this process (the valgrind cycle: no fork under valgrind). */
int pt_call_here(const pt_call *c, pt_outcome *out);

void pt_outcome_free(pt_outcome *o);

/* ---- verdicts (plugin_test_judge.c) -------------------------------------- */

typedef enum pt_verdict { PT_PASS = 0, PT_FAIL, PT_SKIP, PT_INFO } pt_verdict;

/* Each judges pt_cells(pb) effects e (with PT_GUARD cells after them) and
 * writes the line's reason into why. Shape: every cell written, none after.
 * Finite: every written cell. Recovery: per arm, the mean within pb->tol of
 * pb->truth; an arm with a non-finite cell is not judged (SKIP unless
 * another arm failed). */
pt_verdict pt_judge_shape(const pt_problem *pb, const double *e, char *why, size_t len);
pt_verdict pt_judge_finite(const pt_problem *pb, const double *e, char *why, size_t len);
pt_verdict pt_judge_recovery(const pt_problem *pb, const double *e, char *why, size_t len);

/* The first of n cells where a and b differ bit for bit, or (size_t)-1;
 * *count gets how many do. */
size_t pt_first_difference(const double *a, const double *b, size_t n, size_t *count);

/* Intervals summed over the seeds' outcomes; fail holds the first fault
 * (an interval call's error, an unwritten, non-finite or inverted bound, a
 * write past the end), "" while there is none. */
typedef struct pt_interval_tally {
    size_t rows, rows_covered, seeds, avg_seeds, avg_covered;
    int has_rows, has_avg;
    char fail[1024];
} pt_interval_tally;
void pt_tally_intervals(const pt_problem *pb, const pt_outcome *o, pt_interval_tally *tl);

/* ---- the checks (plugin_test_checks.c) ---------------------------------- */

/* The table being printed: one line per check, as each finishes. */
typedef struct pt_table {
    size_t passed, failed, skipped;
} pt_table;

void pt_row(pt_table *t, const char *name, pt_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Every check but the valgrind one on the plugin desc (file path), rows
 * printed as they finish. Returns 0, or -1 when the problems could not be
 * generated (out of memory, a generator error: message on stderr). */
int pt_run_checks(const tt_plugin_descriptor *desc, const pt_settings *s, pt_table *t);

/* The point where every parameter differs from its default where its range
 * allows (INT +-1, REAL and LOG_REAL a quarter of the range, BOOL flipped,
 * CHOICE the next one), made canonical; into point (desc->n_params). */
void pt_moved_point(const tt_plugin_descriptor *desc, double *point);

/* ---- valgrind (plugin_test_valgrind.c) ---------------------------------- */

/* The path of a valgrind executable on PATH into buf, 0; -1 when none. */
int pt_find_valgrind(char *buf, size_t len);

/* The valgrind check: `valgrind ... tautune plugin-test --cycle PATH` in a
 * child process, judged by its exit code and log. */
void pt_valgrind_check(const char *valgrind, const char *path, const pt_settings *s,
                       pt_table *t);

/* `tautune plugin-test --cycle PATH.so`: one fit/effect/interval/save/load
 * cycle in this process, everything freed before it returns (run under
 * valgrind by pt_valgrind_check). 0 when the plugin got through it. */
int pt_cycle(const char *path, const pt_settings *s);

#endif
