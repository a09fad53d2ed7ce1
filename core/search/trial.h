/*
 * trial.h - evaluating one candidate (estimator + hyperparameters).
 *
 * tt_trial_evaluate is the single place where a candidate is created, fitted
 * on the training rows, asked for effects on the validation rows and scored.
 * It is deliberately one function with plain inputs and a plain result so that
 * the tuner can later run it inside an isolated worker process unchanged.
 */
#ifndef TT_SEARCH_TRIAL_H
#define TT_SEARCH_TRIAL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "score/score_value.h"
#include "score/scores.h"
#include "tautune/plugin.h"

typedef enum tt_trial_status {
    TT_TRIAL_OK = 0,
    TT_TRIAL_FAILED,
    TT_TRIAL_TIMEOUT
} tt_trial_status;

const char *tt_trial_status_name(tt_trial_status status); /* "ok", "failed", "timeout" */

#define TT_MAX_SCORES 32 /* scores per trial */
#define TT_MAX_ORACLE 8  /* oracle figures per trial (trial.c computes 4) */


/* One fold of cross-validated scoring: the candidate is fitted on train
 * (with these nuisance models) and predicts valid, which are rows
 * [first, first + valid.n) of the problem's valid rows. */
typedef struct tt_trial_fold {
    tt_plugin_data train;
    tt_plugin_data valid;
    const struct tt_host_nuisances *nuisances; /* or NULL */
    size_t first;
} tt_trial_fold;

/* What every trial sees: the rows (views borrowed from the caller). */
typedef struct tt_trial_problem {
    tt_plugin_data train;
    tt_plugin_data valid;
    const double *valid_tau;   /* n_valid * (K-1) true effects, or NULL */
    const tt_score_context *scores; /* the run's scoring context (scores.h) */
    const char *const *score_names; /* scores to report; n_score_names == 0: all that apply */
    size_t n_score_names;
    const double *cost;        /* K per-arm costs for policy_true, or NULL */
    const struct tt_host_nuisances *nuisances; /* the run's nuisance models (plugin/host.h), or NULL */
    int n_arms;
    const char *metric;        /* a score or oracle name: "energy", "psw_energy", "pehe", ... */
    int maximize;              /* the metric's direction: higher is better */
    int want_intervals;        /* ask plugins for intervals (a score uses them) */
    size_t interval_resamples; /* handed to plugins (host->interval_resamples) */
    /* K-fold cross-validated scoring (n_folds >= 2): the candidate is fitted
     * once per fold and its out-of-fold effects on every valid row are
     * scored together; train and nuisances above are then unused. The folds
     * must cover valid's rows exactly once. n_folds 0 or 1: fit on train,
     * predict valid. */
    size_t n_folds;
    const tt_trial_fold *folds;
} tt_trial_problem;

typedef struct tt_trial_result {
    size_t id;                 /* 1-based, in launch order */
    size_t estimator;          /* index into the config's estimators */
    const tt_plugin_descriptor *desc;
    double *point;             /* owned: desc->n_params values */
    int is_default;            /* the estimator's default point */
    tt_trial_status status;
    char *error;               /* owned: why it failed or timed out (tt_trial_set_error);
                                  NULL when it did not. Read it with tt_trial_error(). */
    double seconds;
    double fit_seconds;        /* of those, create + fit + effects on the validation rows
                                  (without scoring), summed over the folds: a refit of the
                                  trial costs this / folds; NaN when unknown */
    double finished;           /* seconds since the search began when it finished (a resumed
                                  run continues its prior timeline) */
    double objective;          /* the metric's value; NaN unless ok and computable */
    double objective_se;       /* its standard error from the per-row terms
                                  (score/score_terms.h); NaN when the metric has none */
    /* Owned: the metric's n_terms per-row terms, sent back by the worker and
     * kept by the search only for its best trials (search/rank.h); NULL
     * otherwise (and always for trials read back on --resume). */
    double *terms;
    size_t n_terms;
    /* Owned, kept with the terms: the candidate's out-of-sample effects on
     * the validation rows (n_valid x (K-1) column-major; out of fold with
     * K-fold scoring), for ensembles and the winner's cate.csv; NULL when
     * not kept. n_effects = n_valid x (K-1). */
    double *effects;
    size_t n_effects;
    const char *se_missing;    /* static: why objective_se is null although the objective
                                  is not (score_terms.h), set by the search; or NULL */
    /* Paired comparison with the best trial by objective, set at the end of
     * the search for trials that still hold terms (rank.h); has_diff 0
     * otherwise. */
    int has_diff;
    double diff_to_best, diff_se;
    int tied_with_best;
    double ate;                /* mean of tau_hat over validation rows, arm 1 */
    /* Owned: the n_scores figures computed (at most TT_MAX_SCORES), exactly
     * as many as there are: a 10,000-trial search keeps every record for its
     * leaderboard, so a record holds no fixed-size slack. */
    tt_score_value *scores;
    size_t n_scores;
    /* Owned likewise: the n_oracle oracle figures (at most TT_MAX_ORACLE;
     * tt_trial_set_oracle), NULL on real data, which has none. */
    tt_score_value *oracle;
    size_t n_oracle;
    /* Owned: the last lines the trial's worker printed (its plugin's
     * host->log lines, stdout and stderr; search/log_tail.h), however it
     * ended; NULL when it printed nothing or ran in process. The search
     * hands it to its sink with the finished trial (trials.jsonl's "log")
     * and frees it right after, so the records it keeps for ranking hold
     * no log (NULL in tt_search_outcome and in trials read back). */
    struct tt_log_tail *log;
} tt_trial_result;

/* Evaluate one candidate. Never fails as a function: every problem becomes
 * result->status = TT_TRIAL_FAILED with result->error set (or
 * TT_TRIAL_TIMEOUT when the plugin stopped because of the deadline).
 * result->id/estimator/desc/point/is_default are filled by the caller;
 * this fills the rest. deadline: tt_now() value at which the plugin is asked
 * to stop (0 = none). */
void tt_trial_evaluate(const tt_trial_problem *problem, const tt_plugin_descriptor *desc,
                       const double *point, uint64_t seed, double deadline,
                       volatile sig_atomic_t *stop_flag, tt_trial_result *result);

/* Look up a score or oracle figure by name; NULL when absent. */
const tt_score_value *tt_trial_find_score(const tt_trial_result *r, const char *name);

/* r's error: a message formatted like printf's (at most 1 KB kept), owned
 * by r; the previous one is freed. Out of memory leaves no message. */
void tt_trial_set_error(tt_trial_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *tt_trial_error(const tt_trial_result *r); /* "" when there is none */

/* Replace r's scores by copies of the n given (n <= TT_MAX_SCORES); returns
 * -1 (and no scores) when out of memory. */
int tt_trial_set_scores(tt_trial_result *r, const tt_score_value *s, size_t n);

/* The same for the oracle figures (n <= TT_MAX_ORACLE). */
int tt_trial_set_oracle(tt_trial_result *r, const tt_score_value *s, size_t n);

/* Frees point, terms, effects, error, scores, oracle and log; zeroes. */
void tt_trial_result_clear(tt_trial_result *r);

#endif
