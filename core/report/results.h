/*
 * results.h - the run folder's machine-readable files.
 *
 * trials.jsonl: one JSON object per finished trial, appended and flushed as
 * the trial finishes, so an interrupted run keeps every finished trial. A
 * line also holds the trial's "log" (the last lines its worker printed,
 * search/log_tail.h; an array of strings, absent when it printed nothing),
 * which results.json's trials do not: the search drops each log once it
 * is written, so memory does not grow with it.
 * results.json: the whole run, written to a temporary file in the same folder
 * and renamed over the old one, so readers never see half a file.
 * The format is public (README "results.json"); fields are only ever added.
 */
#ifndef TT_REPORT_RESULTS_H
#define TT_REPORT_RESULTS_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "score/propensity.h"
#include "search/search.h"

/* Everything about the run that is not a trial. Strings are borrowed. */
typedef struct tt_run_info {
    const char *config_path;
    const char *config_name;
    uint64_t seed;
    const char *metric;              /* the objective actually used */
    const char *metric_requested;    /* as the config said ("auto", ...) */
    const char *direction;           /* "min" or "max" */
    const tt_propensity_summary *propensity; /* scoring propensity on validation rows, or NULL */
    double propensity_clip;
    int known_propensity;            /* the data's propensity columns, not a model */
    const char *propensity_model;    /* how the scoring propensity was made; NULL: from
                                      * known_propensity as before */
    size_t energy_rows;              /* rows the energy scores used (< validation_rows: subsample) */
    const cJSON *data_facts;         /* more members for "data" (copied), or NULL */
    const cJSON *nuisances;          /* "nuisances": the run's nuisance models (copied), or NULL */
    const cJSON *winner;             /* "winner": the refitted winner's outputs (copied), or NULL */
    const cJSON *plan;               /* "plan": the budget plan and phase times (copied), or NULL */
    const cJSON *ensemble;           /* "ensemble": the ensemble of trials (copied), or NULL */
    const cJSON *iv;                 /* "iv": the IV diagnostics (copied), or NULL */
    const cJSON *estimand;           /* "estimand": the headline average effect (copied), or
                                      * NULL */
    const cJSON *insight;            /* "insight": what drives the effect (copied), or NULL */
    const cJSON *policy;             /* "policy": the policy tree (copied), or NULL */
    const char *data_source;
    size_t rows, train_rows, validation_rows;
    int n_arms;
    const char *const *arm_labels;   /* n_arms */
    const size_t *train_arm_counts;  /* n_arms */
    const size_t *valid_arm_counts;  /* n_arms */
    int has_truth;
    double budget_seconds;           /* 0 = none */
    long max_trials;                 /* 0 = none */
    double elapsed_seconds;
    const char *status;              /* "complete" or "interrupted" */
} tt_run_info;

/* One trial as a JSON object (caller deletes). NULL on out of memory. */
cJSON *tt_trial_to_json(const tt_trial_result *r);

/* o as JSON text (formatted or on one line), every byte sequence that is
 * not UTF-8 replaced by U+FFFD so the text is valid JSON; the caller frees
 * it with free(). NULL for NULL or out of memory. Every JSON file tautune
 * writes goes through this. */
char *tt_json_text(const cJSON *o, int formatted);

/* A JSON number, or null for NaN and infinities (JSON has neither). */
cJSON *tt_json_number(double v);

/* Append one line to an open trials.jsonl and flush it. */
tt_status tt_trials_append(FILE *fp, const tt_trial_result *r, char *err, size_t errlen);

/* The whole run as results.json's object (caller deletes); NULL on out of
 * memory. */
cJSON *tt_results_json(const tt_run_info *info, const tt_search_outcome *out);

/* The same without the trials ("trials" is an empty array): what the
 * report reads beside the search's records (report.h), so the end of a
 * 10,000-trial run holds no tree of every trial. */
cJSON *tt_results_json_no_trials(const tt_run_info *info, const tt_search_outcome *out);

/* Write root as dir/name atomically (a temporary name, fsync, rename), so a
 * crash never leaves half a file under the real name. */
tt_status tt_json_write_atomic(const char *dir, const char *name, const cJSON *root, char *err,
                               size_t errlen);

/* Write dir/results.json atomically. */
tt_status tt_results_write(const char *dir, const tt_run_info *info,
                           const tt_search_outcome *out, char *err, size_t errlen);

#endif
