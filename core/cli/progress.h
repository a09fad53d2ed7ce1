/*
 * progress.h - what `tautune run` shows on stderr while it searches.
 *
 * On a terminal: one live line, rewritten after every trial (trials done and
 * failed, the best score and its estimator, elapsed and remaining time), with
 * each failure printed on a line of its own above it. Otherwise (a log file,
 * CI): a plain line at most every `interval` seconds and one per failure.
 * A failure is followed by the last TT_PROGRESS_FAILED_LINES lines its
 * worker printed (its log, search/log_tail.h), indented under "  | ";
 * verbose: every trial's whole log (as trials.jsonl has it), failed or not.
 * Quiet: nothing. A plugin's bytes are shown with control characters
 * replaced, so a log cannot move the cursor or recolour the terminal.
 */
#ifndef TT_CLI_PROGRESS_H
#define TT_CLI_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

#include "search/trial.h"

/* Log lines shown under a failed trial without verbose. */
#define TT_PROGRESS_FAILED_LINES 3

typedef struct tt_progress {
    FILE *out;
    int live, quiet;
    int verbose;              /* every trial's whole log (set after init) */
    double start, budget;     /* budget 0 = none */
    long max_trials;          /* 0 = none */
    double interval, last_print;
    const char *metric;
    int maximize;             /* the metric is better when higher (set after init) */
    size_t done, failed;
    double best;
    const char *best_name;
} tt_progress;

void tt_progress_init(tt_progress *p, FILE *out, int quiet, double start, double budget,
                      long max_trials, const char *metric);
/* Never the live line (run --ci): plain lines as when out is not a terminal,
 * so a CI log holds no carriage returns or terminal control codes. Call
 * after tt_progress_init. */
void tt_progress_plain(tt_progress *p);
void tt_progress_trial(tt_progress *p, const tt_trial_result *r);
/* A resumed run's finished trials: counted (done, failed, best) without a
 * line, so the progress line continues from the kept best trial. */
void tt_progress_seed(tt_progress *p, const tt_trial_result *prior, size_t n);
void tt_progress_end(tt_progress *p); /* ends the live line */

#endif
