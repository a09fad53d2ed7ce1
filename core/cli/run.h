/*
 * run.h - the stages of `tautune run`, shared by the files that implement
 * them (cmd_run.c: arguments, plugins, the search and the run folder;
 * run_data.c: data in; run_scoring.c: the scoring context). Internal to the
 * command.
 */
#ifndef TT_CLI_RUN_H
#define TT_CLI_RUN_H

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "data/dataset.h"
#include "data/frame.h"
#include "data/prep.h"
#include "data/split.h"
#include "nuisance/nuisance.h"
#include "nuisance/nuisance_cost.h"
#include "plugin/host.h"
#include "score/iv_diag.h"
#include "score/propensity.h"
#include "score/scores.h"

/* The built-in estimators that take a continuous treatment (for messages). */
#define TT_CONTINUOUS_ESTIMATORS \
    "dml_linear, dml_sparse_linear, dml_nonparam, causal_forest_dml, tsls (presets.continuous)"

typedef struct run_args {
    const char *config;
    const char *out;
    const char *data;            /* --data PATH: replaces the config's data.path */
    const char *resume;          /* --resume DIR: continue the run in DIR */
    int has_seed, has_budget, has_trials, has_jobs, has_estimand, quiet;
    int estimand;                /* --estimand: a tt_estimand */
    unsigned long long seed;
    double budget;
    long trials;
    int jobs;
    tt_plugin_paths paths;
    /* The search over MPI (run_mpi.c, docs/cluster.md). */
    int mpi;                     /* --mpi */
    double mpi_timeout;          /* --mpi-timeout: seconds of silence before a worker rank
                                  * counts as dead (0: the default) */
    int mpi_slots;               /* --mpi-slots: trials at once on each worker rank (0: 1) */
} run_args;

/* One --fail-under / --fail-over SCORE=VALUE. */
typedef struct run_threshold {
    char score[64];
    const char *text; /* VALUE as given, for the message */
    double value;
    int over;         /* --fail-over: the score must stay <= value */
} run_threshold;

/* The command line of `tautune run`: the stages' run_args (run.h) plus the
 * options only this command acts on. */
typedef struct run_cli {
    run_args a;
    int ci;
    int verbose;       /* --verbose/-v: every trial's log on stderr (progress.h) */
    run_threshold th[32];
    size_t n_th;
    char ci_dir[4096]; /* --ci without --out: runs/<config name> */
} run_cli;

/* The command line of `tautune run` into cli (run_args.c): 0, or -1 after a
 * message on stderr; --help prints the usage and exits. */
int tt_run_parse_args(int argc, char **argv, run_cli *cli);
/* The command line's overrides of the config (seed, budget, trials, jobs,
 * estimand) into c (run_args.c): every rank of an MPI run applies them
 * alike. */
void tt_run_apply_args(tt_config *c, const run_args *a);

/* The run's budget, planned once the data are in (run_plan.c): what each
 * phase may spend, as tt_now() deadlines, and what each phase took. Every
 * decision that changes results (which nuisance candidates run) depends only
 * on the budget and the data's shape; the clock only decides where the
 * search is cut and whether a plan fits at all. */
typedef struct run_plan {
    double start, budget;        /* budget 0 = none */
    double setup;                /* measured: config, data, split, scores */
    double reserve;              /* kept after the search for refit and report */
    double search_deadline;      /* tt_now() value; 0 = none */
    double refit_deadline;       /* tt_now() value; 0 = none */
    double end;                  /* start + budget; 0 = none */
    /* Measured seconds per phase (0 until it ran). */
    double t_nuisance, t_search, t_refit, t_report;
} run_plan;

/* One fold of cross-validated scoring (run_folds.c). */
typedef struct run_fold {
    size_t first, rows;          /* its scoring rows: s->valid rows [first, first + rows) */
    tt_dataset *train;           /* the other folds' rows (fold 0: NULL, it is s->train) */
    tt_dataset *valid;           /* its own rows, as s->valid holds them */
    /* Its nuisance models: the chosen learners refitted on its training rows
     * (fold 0: NULL, s->engine and s->nuisances are its). */
    tt_nuisance_engine *engine;
    tt_nuisance_data nu_data;
    double *nu_features;
    const tt_nuisance_result **nu_arm_outcome;
    tt_host_nuisances nuisances;
} run_fold;

/* The ensemble of the search's best trials (run_ensemble.c). */
typedef struct run_ensemble {
    cJSON *facts;                /* results.json's "ensemble" (owned), or NULL */
    size_t n_members;
    long *trial;                 /* members: indices into outcome.trials */
    double *weight;              /* their weights, sum 1 */
    double *effects;             /* its out-of-sample effects on s->valid's rows, or NULL */
    int wins;                    /* its honest score beats the best single trial's */
} run_ensemble;

/* Everything a run owns, so one cleanup frees it whatever stage failed. */
typedef struct run_state {
    tt_config *cfg;
    tt_registry *reg;
    const tt_plugin_descriptor **descs;
    tt_dataset *data, *train, *valid;
    /* One holdout: split.train / split.valid are the data rows of train and
     * valid (ascending). K folds (n_folds >= 2, run_folds.c): train is fold
     * 0's training part, valid every row in fold-major order, each scored
     * out of fold; folds[k] says which. */
    tt_split split;
    int n_folds;                 /* 1: one holdout */
    const char *folds_rule;      /* why that many (static), for results.json */
    run_fold *folds;
    tt_csv_table *table;         /* CSV runs: the raw table, its frame and the */
    tt_data_frame *frame;        /* preprocessing fitted on the training rows; the table
                                  * and frame are released once tt_run_split has made the
                                  * datasets (a million rows x 28 columns: 300 MB) */
    size_t n_excluded;           /* the frame's n_excluded, kept when it is released */
    int user_split;              /* the data named their own split column (data.split) */
    /* One holdout: s->data's x and w are released once the set-up has read
     * them (tt_run_release_all_rows) - they are the training and the
     * validation rows' together - and rebuilt from those two only where a
     * stage fits on every row (tt_run_all_rows): a million rows x 22
     * features are 176 MB the main process no longer holds in the search. */
    int all_rows_released;
    /* Once the final fit has rebuilt every row's features, the training
     * rows' copy is released instead (tt_run_swap_to_all_rows): a child that
     * fits on them rebuilds it (tt_run_train_rows). */
    int train_rows_released;
    tt_prep *prep;
    size_t *train_counts, *valid_counts;
    tt_score_context *scores;    /* the shared scoring context */
    tt_propensity_summary prop_summary;
    tt_iv_diag iv_diag;          /* IV problems (binary instrument): score/iv_diag.h */
    int has_iv_diag;
    cJSON *estimand_facts;       /* results.json's "estimand" (owned; run_estimand.c), or NULL */
    cJSON *insight_facts;        /* results.json's "insight" (owned; run_insight.c), or NULL */
    cJSON *policy_facts;         /* results.json's "policy" (owned; run_insight.c), or NULL */
    double *costs;               /* K per-arm costs (arm 0: 0), or NULL */
    tt_nuisance_engine *engine;  /* nuisance models the plugins need, or NULL */
    tt_nuisance_data nu_data;    /* the engine's view of the training rows */
    double *nu_features;         /* [x, w] of the training rows, column-major */
    const tt_nuisance_result **nu_arm_outcome; /* K per-arm outcome models */
    tt_host_nuisances nuisances; /* what the host table serves to plugins */
    const char *metric;          /* the objective, "auto" resolved */
    int maximize;                /* the metric's direction */
    FILE *trials_fp;
    tt_search_outcome outcome;
    tt_trial_result *prior;      /* --resume: the finished trials read back */
    size_t n_prior;
    tt_progress progress;
    int quiet;
    /* The refitted winner's effects for every data row (run_winner.c), kept
     * for the report; NULL when there is none. lo/hi NULL without intervals. */
    double *winner_tau, *winner_lo, *winner_hi;
    double *winner_importance;   /* p_x: the handed-on model's permutation importance, or NULL */
    double *winner_model_importance; /* p_x: its own measure (a forest's split frequency), or
                                      * NULL; winner_importance_method says what it is */
    const char *winner_importance_method;
    /* Randomized data: the arm shares as the validation rows' scoring
     * propensity (n_valid x K), and how results.json names the propensity. */
    double *arm_share_prop;
    const char *prop_model;
    /* The nuisance stage (run_nuisance.c): roles to fit with their planned
     * candidates, the plan's estimates (seconds on the reference machine),
     * what it took, and whether the models came from the run folder. */
    uint32_t nu_need;
    int nu_fixed_propensity;      /* known columns or randomized: no model */
    tt_nuisance_plan_role *nu_roles;
    size_t n_nu_roles;
    tt_nuisance_spec **nu_owned;  /* candidate lists made from the config */
    size_t n_nu_owned;
    double nu_allowance, nu_planned, nu_minimum, nu_seconds_taken;
    /* K folds: the estimate of refitting the chosen models on folds 1..K-1,
     * as planned and for the cheapest plan (both inside nu_allowance). */
    double nu_fold_refits_planned, nu_fold_refits_minimum;
    int nu_reused, resuming;
    int nu_degraded;              /* the plan overran: the cheapest models were fitted */
    int live;                     /* progress may rewrite a terminal line */
    int ended_for_refit;          /* the search stopped early to leave the refit time */
    double train_refit_deadline;  /* tt_now() value the training-rows refit stops by, so a
                                   * final fit on every row has its share (0: none) */
    size_t refit_resamples;       /* > 0: bootstrap replicas of the refit, cut to fit the
                                   * budget (tt_run_refit_resamples); 0: the config's */
    run_plan plan;
    run_ensemble ensemble;
    long winner_index;           /* the trial those effects are of (index into
                                  * outcome.trials): the search's best, or the
                                  * fallback refitted in its place; only
                                  * meaningful while winner_tau is set */
    volatile sig_atomic_t *stop; /* the run's stop flag, as given to tt_run_winner */
    /* final_fit = "all" (run_nuisance.c, run_winner.c): the chosen nuisance
     * models cross-fitted again on every row, for the winner's final fit. */
    tt_nuisance_engine *engine_all;
    tt_nuisance_data nu_data_all;
    double *nu_features_all;
    const tt_nuisance_result **nu_arm_outcome_all;
    tt_host_nuisances nuisances_all;
    tt_nuisance_plan_role *final_roles;
    tt_nuisance_spec *final_specs;
    double nu_final_estimate;     /* estimated seconds of that stage (cost model) */
    int final_nu_rc;              /* what fitting them gave (once engine_all exists) */
    int final_all_rows;           /* the written model was fitted on every row */
    /* A run over MPI (run_mpi.h): rank 0's link to the worker ranks, or NULL. */
    struct run_mpi *mpi;
    /* An MPI worker rank: nuisance models come only from the files rank 0
     * sent (adopted as --resume adopts them); tt_run_nu_fit refuses to fit. */
    int nu_adopt_only;
} run_state;

/* Cross-validated scoring (run_folds.c). How many folds: the config's, or by
 * data size; errors (TT_EXIT_USAGE) for folds with a split column or
 * final_fit = "train". */
int tt_run_choose_folds(run_state *s, size_t n_rows, int user_split);
/* Cuts n rows (arms t) into s->n_folds folds and fills s->split and the
 * folds' row ranges; -1 with err on failure. */
int tt_run_make_folds(run_state *s, const int *t, size_t n, int n_arms,
                      const char *const *arm_labels, char *err, size_t errlen);
/* The folds' datasets, once s->data, s->train and s->valid exist. */
int tt_run_fold_datasets(run_state *s, char *err, size_t errlen);
/* Fold k's training rows (fold 0: s->train). */
const tt_dataset *tt_run_fold_train(const run_state *s, int k);
/* Folds 1..K-1's nuisance models: fold 0's chosen learners refitted on
 * each fold's training rows, each in a worker process (dir/nuisance_foldK.ttn,
 * reused by --resume). run_nuisance.c. */
int tt_run_fit_fold_nuisances(run_state *s, const char *dir, volatile sig_atomic_t *stop,
                              double deadline);
void tt_run_folds_free(run_state *s);
/* results.json's "validation" object (caller owns). */
cJSON *tt_run_validation_facts(const run_state *s);

/* Frees everything the state owns (cmd_run.c); the struct itself is the caller's. */
void tt_run_state_free(run_state *s);

/* Stages; each prints its own error and returns a TT_EXIT_* code. */
/* Plugins of the config's estimators, every space checked against its
 * schema; keep_going: report every problem (`check`), the code of the first. */
int tt_run_resolve_plugins(run_state *s, const run_args *a, int keep_going);
/* The run folder (run_folder.c) into dir: a new one (--out, the config's
 * out_dir or runs/<name>-<UTC time>) holding a copy of the config, or
 * --resume's with its finished trials read into s->prior (a torn last line
 * of trials.jsonl dropped with a warning); s->trials_fp then appends to its
 * trials.jsonl. */
int tt_run_open_folder(run_state *s, const run_args *a, char *dir, size_t len);
int tt_run_load_data(run_state *s, const run_args *a);   /* run_data.c */
int tt_run_check_data(const run_state *s);
int tt_run_split(run_state *s);
/* With one holdout, drops s->data's features (run_data.c; K folds and a
 * split that leaves rows out keep them). */
void tt_run_release_all_rows(run_state *s);
/* s->data's features, rebuilt from the training and validation rows when
 * they were released: 0, or -1 out of memory (with a message). Called by
 * forked children (the refits) for their own copy; the main process grows
 * them only once, with tt_run_swap_to_all_rows. */
int tt_run_all_rows(run_state *s);
/* Every row's features rebuilt for good and the training rows' released:
 * what the final fit's stages need, one copy fewer. 0 or -1 as above. */
int tt_run_swap_to_all_rows(run_state *s);
/* s->train's features, rebuilt from every row's when they were released
 * (in a forked child): 0, or -1 out of memory. */
int tt_run_train_rows(run_state *s);
int tt_run_build_scores(run_state *s);                   /* run_scoring.c */
/* What metric = "auto" means for these data (run_scoring.c says why). */
const char *tt_run_auto_metric(const tt_config *c, const tt_dataset *d);
/* The nuisance roles the plugins need and which candidates fit in
 * `allowance` estimated seconds (< 0: all). run_nuisance.c. */
int tt_run_plan_nuisances(run_state *s, double allowance);
/* Fits the planned models in a worker process that writes dir/nuisance.ttn,
 * or (resuming) reuses that file when it was made for the same rows, seed
 * and plan. Answers *stop within 0.1 s (TT_EXIT_INTERRUPTED) and gives up at
 * deadline (tt_now() value, 0 = none) with TT_EXIT_NO_TRIAL. */
int tt_run_fit_nuisances(run_state *s, const char *dir, volatile sig_atomic_t *stop,
                         double deadline);

/* One cross-fitting stage of nuisance models (run_nuisance_stage.c): the
 * training rows' before the search, or every row's for final_fit = "all". */
typedef struct run_nu_stage {
    tt_nuisance_engine *engine;
    const tt_nuisance_data *data;
    uint64_t seed;                  /* the engine's seed */
    size_t folds;
    tt_nuisance_plan_role *roles;   /* with the planned candidates (take) */
    size_t n_roles;
    double planned;                 /* estimated seconds, for progress and messages */
    const char *what;               /* "nuisance models", "final nuisance models" */
} run_nu_stage;
/* What a stage's models are fitted for: rows, seed, folds, planned candidates. */
uint64_t tt_run_nu_fingerprint(const run_nu_stage *st);
/* Reads a stage's file and hands its models to st->engine; 0 when read and
 * made for `want` (*mismatch = 1 when made for something else, -1 when it
 * exists but cannot be read: damaged, say, which it reports on stderr). */
int tt_run_nu_adopt(const run_nu_stage *st, const char *path, uint64_t want, int *mismatch);
/* Fits the stage in a worker process that writes path; a TT_EXIT_* code:
 * TT_EXIT_INTERRUPTED at *stop, TT_EXIT_NO_TRIAL past deadline (0 = none;
 * quietly when soft: the caller has a fallback). */
int tt_run_nu_fit(const run_state *s, const run_nu_stage *st, const char *path, uint64_t fp,
                  volatile sig_atomic_t *stop, double deadline, int soft);

/* final_fit = "all": the nuisance models chosen for the training rows, each
 * cross-fitted again on every row (no new selection) in a worker process,
 * into s->engine_all / s->nuisances_all (dir/nuisance_all.ttn, reused by
 * --resume). Nothing to do (TT_EXIT_OK) when the run has no nuisances. */
int tt_run_fit_final_nuisances(run_state *s, const char *dir, volatile sig_atomic_t *stop,
                               double deadline);

/* The budget plan (run_plan.c): sizes the nuisance stage, sets the
 * deadlines, and refuses (TT_EXIT_USAGE, with the estimate and what to
 * change) a budget that even the smallest plan cannot fit. Call after the
 * scores are built, before anything is fitted. */
int tt_run_make_plan(run_state *s, double start);
/* Estimated seconds to refit trial best as the winner: one fit, or 1 + B
 * when its plugin's intervals come from a bootstrap (the trial's seconds as
 * one fit). */
double tt_run_refit_estimate(const run_state *s, const tt_trial_result *best);
/* Seconds of one fit of trial t as the model handed on (every row, or the
 * training rows with final_fit = "train"), without any bootstrap. */
double tt_run_refit_minimum(const run_state *s, const tt_trial_result *t);
/* The least that handing trial t on costs, with room for a busier machine:
 * one fit as the model handed on, and with a final fit on every row the
 * chosen nuisance models again and, for one holdout, the light refit on the
 * training rows before it. The search keeps this for its best trial, and the
 * winner's refit passes over a trial whose least refit cannot finish. */
double tt_run_refit_least(const run_state *s, const tt_trial_result *t);
/* What handing on an ensemble needs at least: the final nuisance models and
 * one fit of each of the best few trials (run_ensemble.c); 0 when the run
 * builds none. */
double tt_run_ensemble_reserve(const run_state *s);
/* Non-zero when the search should launch no more trials at tt_now() value
 * `now`: 1 because the best trial so far (or an ensemble of the best few)
 * needs more refit time than the reserve leaves (capped at a quarter of the
 * budget); 2 because a trial launched now, as long as the recent ones,
 * would be stopped unfinished at the search's deadline. */
int tt_run_search_should_end(const run_state *s, const tt_trial_result *best, double now);
/* Whether trial r's refit fits the time the search left for the refit of
 * the best trial by objective (the one it reserved for) or the time left
 * until the refit deadline, whichever is more: the selection rule
 * (search/select.h's tt_select_affordable, ctx the run_state) may pick r
 * only then. Always 1 without a time budget. */
int tt_run_refit_affordable(void *ctx, const tt_trial_result *r);
/* Before the winner's refit: when its bootstrap of B replicas would not
 * fit before the refit deadline, sets s->refit_resamples to what fits (at
 * least 5) and says so; otherwise leaves it 0. */
void tt_run_refit_resamples(run_state *s, const tt_trial_result *best, double now);
/* results.json's "plan" object: the budget, each phase's planned and
 * measured seconds (caller owns). */
cJSON *tt_run_plan_facts(const run_state *s);

/* The chosen nuisance models and their diagnostics, for results.json's
 * "nuisances" (caller owns), or NULL when the run fitted none. */
cJSON *tt_run_nuisance_facts(const run_state *s);

/* IV problems with a binary instrument: the diagnostics of score/iv_diag.h
 * on every row (compliance deciles on the scoring rows), with their caveats
 * on stderr; s->has_iv_diag says whether there are any (run_iv.c). */
int tt_run_iv_diagnostics(run_state *s);
/* The first data.z column is 0/1 on every row, takes both values, and there
 * are two arms: the binary-instrument problems the IV scores and
 * diagnostics serve. */
int tt_run_binary_instrument(const tt_dataset *d);
/* The same as a requirement (the IV nuisances): TT_EXIT_OK, or TT_EXIT_DATA
 * after a message naming what fails (no instrument, arms, the first row that
 * is not 0/1, or one value on every row). */
int tt_run_require_binary_instrument(const tt_dataset *d);
/* results.json's "iv" object (caller owns), or NULL. */
cJSON *tt_run_iv_facts(const run_state *s);

/* What every trial sees, from the state once its nuisance models exist
 * (run_problem.c): views borrowed from s; with K folds *folds is a new
 * array the problem points into (the caller frees it after the search),
 * else NULL. TT_EXIT_ERROR (after a message) when out of memory. */
int tt_run_trial_problem(const run_state *s, tt_trial_problem *problem, tt_trial_fold **folds);

/* The view plugins and scores get of a dataset (borrowed pointers). */
tt_plugin_data tt_run_view(const tt_dataset *d);

/* Warns on stderr about features that look like consequences of the
 * treatment (constant within an arm of 30+ rows while varying elsewhere, or
 * correlated with it beyond 0.95): run and check (run_data.c). */
void tt_run_warn_post_treatment(const run_state *s);

/* Data facts for results.json's "data" beyond tt_run_info's own fields
 * (dropped and excluded rows, split, features, missing indicators). The
 * caller owns the object. */
cJSON *tt_run_data_facts(const run_state *s);

/* After a search with a winner: refit it in an isolated child, write
 * dir/cate.csv and dir/model.ttm, and return results.json's "winner" object
 * in *facts (caller owns). When the winner's refit fails or crashes, the
 * next best successful trials are refitted instead (a few at most) and the
 * object says so ("refit_failures", "fallback_from"); it is then returned
 * even when no refit worked (without "effects"/"model"). deadline: tt_now()
 * value the refit must end by (its plugin sees should_stop; the child is
 * killed shortly after), 0 = none. Returns TT_EXIT_OK, TT_EXIT_REFIT when
 * any refit failed, TT_EXIT_INTERRUPTED when *stop was set. run_winner.c. */
int tt_run_winner(run_state *s, const char *dir, double deadline, volatile sig_atomic_t *stop,
                  cJSON **facts);

/* After the search: the ensemble of its best trials, with its honest score
 * against the best trial (s->ensemble; facts say why there is none). */
void tt_run_ensemble(run_state *s);
void tt_run_ensemble_free(run_ensemble *e);
/* The ensemble handed on in place of the best trial (it won): every member
 * refitted as a winner, cate.csv with the weighted effects, model.ttm with
 * the members; *facts is results.json's "winner". TT_EXIT_REFIT when it
 * cannot be (out of time, a member's refit failed: said in the ensemble's
 * facts), and the caller hands on the best trial instead;
 * TT_EXIT_INTERRUPTED at *stop. */
int tt_run_ensemble_winner(run_state *s, const char *dir, double deadline,
                           volatile sig_atomic_t *stop, cJSON **facts);

/* The parts of model.ttm every member shares: arms, features, the
 * preprocessing and the nuisance models (every row's with all_rows); mu:
 * room for n_arms learners, borrowed by *m (run_winner.c). */
struct tt_model;
void tt_run_model_base(const run_state *s, int all_rows, tt_learner **mu, struct tt_model *m);
/* Where desc's plugin was loaded from, for model.ttm: the file's basename
 * and its folder made absolute (predict may run from elsewhere), malloc'd
 * into mb->plugin_file and mb->plugin_dir; NULL when not known (the
 * registry has no file for it, the folder is gone, out of memory). Free
 * with tt_run_plugin_origin_free (run_plugins.c). */
struct tt_model_member;
void tt_run_plugin_origin(const run_state *s, const tt_plugin_descriptor *desc,
                          struct tt_model_member *mb);
void tt_run_plugin_origin_free(struct tt_model_member *mb);

/* One refit of trial (its point, its seed) on the training rows in an
 * isolated child (run_refit.c). In: trial, winner. Out on success: the
 * effects (winner: every data row, intervals, average effects and the saved
 * state; otherwise the validation rows' effects only), all owned. Out on
 * failure: step ("create", "fit", "effect", "interval", "average_effect",
 * "save", ...) and error. */
typedef struct run_refit {
    const tt_trial_result *trial;
    int winner;
    int all_rows;                 /* fit on every row with s->nuisances_all (final_fit) */
    int light;                    /* winner: effects and average effects only (no row
                                   * intervals, no saved state): the final fit follows */
    double *tau, *lo, *hi;        /* (rows x (K-1)) column-major; lo/hi NULL without intervals */
    int importance_wanted;        /* compute the permutation importance (the model handed
                                   * on of a single winner; never ensemble members) */
    double *importance;           /* then: permutation importance (mse) per x column of the
                                   * first treated arm's effect, or NULL (no time for it) */
    double *model_importance;     /* and the plugin's own (ABI 1.9 variable_importance), or
                                   * NULL */
    cJSON *average_effect;        /* winner: results.json's objects, or NULL */
    cJSON *average_effect_oob;
    const char *state_dir;        /* winner: the folder its saved state is written to (in:
                                   * the run folder), as a hidden file the refit's child
                                   * writes, so the main process never holds the bytes (a
                                   * bootstrapped forest's replicas are hundreds of MB) */
    char *state_file;             /* out: that file (owned; removed by tt_run_refit_clear),
                                   * when the plugin can save */
    size_t state_len;             /* its length */
    int has_state;
    double seconds;
    char step[32];
    char error[1024];
    int crashed;                  /* it died or was killed, rather than reported an error */
    int late;                     /* of those: killed for its deadline or timeout */
} run_refit;

/* 0 on success, -1 on failure (step/error set), -2 when *stop was set. */
int tt_run_refit(run_state *s, run_refit *r, double deadline, volatile sig_atomic_t *stop);
void tt_run_refit_clear(run_refit *r); /* frees the outputs, keeps trial/winner */

/* Refit trial r (isolated) and write its effects on the validation rows into
 * tau (n_valid x (K-1)); -1 with err ("step: message") on failure. */
int tt_run_refit_effects(run_state *s, const tt_trial_result *r, volatile sig_atomic_t *stop,
                         double *tau, char *err, size_t errlen);

/* report.html and summary.md from the final results.json object: the
 * validation rows as the scores saw them and the effects of the winner and
 * the next best estimators (refitted). Failures are warnings. run_report.c. */
void tt_run_report(run_state *s, const char *dir, const cJSON *results);

/* The headline average effect (config estimand: ATE, ATT, ATC or overlap),
 * doubly robust from the cross-fitted nuisance models of every row (the
 * training rows' when the final refit has none), into s->estimand_facts;
 * printed, with a loud caveat when overlap is poor. Failures are warnings.
 * run_estimand.c. */
void tt_run_estimand(run_state *s);

/* What drives the effect (best linear projection, calibration test, a
 * shallow tree per treated arm) and a depth-2 policy tree valued on held-out
 * rows, from the out-of-sample rows; into s->insight_facts and
 * s->policy_facts, with dir/dr_scores.csv, policy.json and policy.txt.
 * Failures are warnings. run_insight.c. */
void tt_run_insight(run_state *s, const char *dir);

/* results.json's "policy" of an evaluated policy tree, and its files
 * dir/policy.json and dir/policy.txt (run_insight.c; also `tautune policy`). */
struct tt_policy_eval;
cJSON *tt_run_policy_json(const struct tt_policy_eval *e, const char *const *x_names,
                          const char *const *arm_labels, size_t k, const char *dir);

/* dir/preprocessing.txt, for applying the run's preprocessing to new rows;
 * a failure is a warning. */
void tt_run_write_preprocessing(const run_state *s, const char *dir);

#endif
