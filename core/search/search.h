/*
 * search.h - the search loop: propose, evaluate, record, until the budget ends.
 *
 * Every estimator's default point is evaluated first (in config order), then
 * the searcher (searcher.h) proposes. A point already tried is never run again
 * (plugins are deterministic, so it would only repeat a result; points are
 * canonical, so two that differ only in inactive parameters are one); when
 * hundreds of draws in a row find nothing new, the space is exhausted and the
 * search ends. Otherwise it stops when the wall-clock deadline passes, the
 * trial cap is reached, or *stop_flag becomes non-zero; a trial already
 * running is asked to stop through should_stop.
 */
#ifndef TT_SEARCH_SEARCH_H
#define TT_SEARCH_SEARCH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "lua/config.h"
#include "search/pool.h"
#include "search/trial.h"

typedef struct tt_search_options {
    double deadline;      /* tt_now() value; 0 = none */
    long max_trials;      /* 0 = no cap */
    uint64_t seed;
    volatile sig_atomic_t *stop_flag; /* may be NULL */
    /* Isolation (worker.h). With isolate == 0 trials run in this process one
     * after another and the fields below are ignored. */
    int isolate;
    int jobs;             /* workers at once, >= 1 */
    double trial_timeout; /* seconds per trial; 0 = none */
    double grace;         /* seconds a trial may overrun the deadline before it is killed */
    size_t memory_cap;    /* bytes of address space per worker; 0 = none */
    /* Another backend for the isolated trials (pool.h: the MPI ranks), or
     * NULL for the local pool of `jobs` forked workers (then trial_timeout,
     * grace and memory_cap apply). Borrowed. jobs stays the batch width of
     * the searcher either way. */
    const tt_trial_pool *pool;
    const char *searcher; /* "cfo" (NULL = default) or "random"; see searcher.h */
    int cost_in_seconds;  /* cfo: cost per trial in seconds instead of 1 */
    /* Resuming: trials finished by an earlier run of the same search. They
     * are copied, count towards max_trials, are never re-run, and new trials
     * continue after the highest id. */
    const tt_trial_result *prior;
    size_t n_prior;
} tt_search_options;

/* Called after every finished trial, in the order trials finish (id order
 * when jobs == 1). Return non-zero to stop launching new trials. */
typedef int (*tt_trial_sink)(void *ctx, const tt_trial_result *result);

typedef struct tt_search_outcome {
    tt_trial_result *trials;  /* owned; n_trials finished trials in id order */
    size_t n_trials;
    long best;                /* index of the best ok trial by objective (ties: lowest
                               * id), -1 if none; tt_search_select may then pick
                               * another trial tied with it */
    long best_by_objective;   /* the best ok trial by objective, whatever the selection
                               * rule (select.h) made `best`; -1 if none */
    size_t n_tied;            /* trials tied with best_by_objective (rank.h), itself
                               * included; 0 when the metric has no standard error */
    int tied_at_least;        /* n_tied is a lower bound (rank.h) */
    const char *rule;         /* the rule that picked `best`: "best", "one_se" or "medoid"
                               * (static; select.h) */
    long picks[3];            /* the trial each rule of select.h would pick, indexed by
                               * tt_selection (set by tt_search_select; -1: none) */
    int interrupted;          /* stopped by the stop flag */
    int exhausted;            /* stopped because every point of the space was tried */
} tt_search_outcome;

/* descs[i] is the plugin of config->estimators[i]. Lower objective is better
 * (every metric today is minimised). */
/* The seed trial `id` (1-based) of a run with run_seed hands its plugin
 * instance; refitting a trial's point with it reproduces the trial. */
uint64_t tt_search_trial_seed(uint64_t run_seed, size_t id);

tt_status tt_search_run(const tt_trial_problem *problem, const tt_config *config,
                        const tt_plugin_descriptor *const *descs, const tt_search_options *opt,
                        tt_trial_sink sink, void *sink_ctx, tt_search_outcome *out,
                        char *err, size_t errlen);

void tt_search_outcome_free(tt_search_outcome *out);

#endif
