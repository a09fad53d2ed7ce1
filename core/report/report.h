/*
 * report.h - report.html (a self-contained page a person opens from disk)
 * and summary.md (a short Markdown page for a CI job summary).
 *
 * Everything the page shows in tables comes from the run's results.json
 * object (in->results) and, for the trials, from the search's records
 * (in->trials) turned into results.json's objects by the same code that
 * writes that file, so table numbers are results.json's numbers; the
 * plots are computed from the validation rows given here (the same rows and
 * the same scoring propensity the scores used), and every plotted number is
 * also in the SVG's data-* attributes (svg.h).
 *
 * Sections of report.html, in order:
 *   1. the run: data (rows, arms, roles/features, missingness handled, dropped
 *      rows), budget used, trials ok / failed / timed out, status;
 *   2. caveats computed from the data: weak overlap (scoring propensity
 *      outside [clip, 1 - clip] for a share of rows), few rows in an arm
 *      (< 50 validation rows), oracle figures present (semi-synthetic data:
 *      say they are not available on real data), no successful trial, an
 *      interrupted run;
 *   3. the winner: estimator, parameters, average effect per arm with its
 *      interval and interval method, what the greedy policy would do (share
 *      of rows per arm, net of costs);
 *   4. leaderboard: best trial per estimator with every score, the objective
 *      column highlighted, and failed estimators with their errors;
 *   5. plots:
 *      - objective over time: every ok trial (finished_seconds, objective)
 *        and the best-so-far steps;
 *      - two scores against each other per trial (the objective and the
 *        first other rankable score present, e.g. energy vs erupt);
 *      - Qini curves of the top candidates (in->top) against random
 *        targeting, per treated arm (arm 1 for K > 2 shown first);
 *      - histogram of the winner's tau_hat per arm;
 *      - calibration by decile of tau_hat: mean tau_hat vs mean doubly
 *        robust pseudo-outcome per decile with 95 % intervals (when
 *        in->pseudo is given);
 *      - policy value vs share treated (treat the top q share by
 *        tau_hat - cost, IPW value, q = 0, 5, ..., 100 %), binary or per arm;
 *      - propensity overlap: histogram of the scoring propensity of the
 *        treated arm(s) by observed arm;
 *      - nuisance diagnostics (table: learner, out-of-fold loss, R2 / AUC,
 *        calibration, range), from results.json "nuisances".
 * Plain HTML + inline CSS + inline SVG: no script, no network, no fonts.
 *
 * summary.md: status, winner with its average effect and interval, the
 * objective, the top 5 of the leaderboard, caveats; under 60 lines.
 *
 * Both files are written atomically (temporary name, then rename).
 */
#ifndef TT_REPORT_REPORT_H
#define TT_REPORT_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "search/trial.h"
#include "tautune/tautune.h"

/* One candidate whose validation effects the plots compare (the winner
 * first). */
typedef struct tt_report_candidate {
    const char *estimator;
    size_t trial;
    const double *tau;          /* n x (K-1) column-major */
} tt_report_candidate;

typedef struct tt_report_input {
    const cJSON *results;       /* the run's results.json object (borrowed); its "trials"
                                 * are not read: */
    const tt_trial_result *trials; /* the run's finished trials, in id order (borrowed):
                                 * counts, leaderboard, failures and trial plots */
    size_t n_trials;
    /* The validation rows, as the scores saw them. */
    size_t n;
    int n_arms;
    const char *const *arm_labels;  /* K */
    const int *t;               /* n arms */
    const double *y;            /* n outcomes */
    const double *prop;         /* n x K scoring propensity (unclipped) */
    double clip;                /* the scores' propensity clip */
    const double *cost;         /* K per-arm costs (cost[0] = 0), or NULL */
    const double *pseudo;       /* n x (K-1) doubly robust pseudo-outcomes, or NULL */
    const double *winner_lo, *winner_hi; /* n x (K-1) intervals of top[0], or NULL */
    const tt_report_candidate *top; /* n_top >= 0 candidates, the winner first */
    size_t n_top;
} tt_report_input;

/* dir/report.html. A run without a winner still gets a page (run facts,
 * failures, caveats). */
tt_status tt_report_write_html(const char *dir, const tt_report_input *in, char *err,
                               size_t errlen);

/* dir/summary.md. */
tt_status tt_report_write_summary(const char *dir, const tt_report_input *in, char *err,
                                  size_t errlen);

/* `tautune explain`: the answer, whether the effect varies and why, the
 * groups and the policy of results (a run's results.json object) as plain
 * text; 0 when results has none of them (a run from before they existed, or
 * without a winner). report_insight.c. */
int tt_report_write_explain(FILE *out, const cJSON *results);

/* `tautune abtest`'s report.html and summary.md from its results object
 * (cli/abtest.h): per outcome the arm table, every method's comparisons,
 * the sample-ratio check and a forest plot of the arm effects
 * (report_abtest.c). Both written atomically into dir. */
tt_status tt_report_abtest_write(const cJSON *results, const char *dir, char *err,
                                 size_t errlen);

#endif
