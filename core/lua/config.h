/*
 * config.h - a run's configuration, read once from a Lua script.
 *
 * A config is a Lua 5.4 script that returns a table. It runs in the sandbox of
 * sandbox.h with the search-space helpers of space_dsl (uniform, loguniform,
 * randint, choice) and the Lua prelude scripts/tautune.lua loaded. The returned
 * table is turned into a tt_config below and checked (unknown keys, wrong types,
 * bad ranges) before anything runs; every error starts with "FILE:LINE:" where
 * a line is known (helpers record the line they were called on; for other
 * values the line is found by following the key path through the source
 * text), followed by the key path, e.g.
 *   quickstart.lua:17: estimators.t_learner.alpha: loguniform(): low must be > 0
 *
 * The table (keys not listed are errors):
 *   name        string, default: the file name without ".lua"
 *   seed        integer >= 0, default 0
 *   data = {                         -- either a generator ...
 *     generator = "synthetic", rows = 4000, arms = 2, seed = <run seed>,
 *                                    -- ... or a CSV file (path relative to the config's folder)
 *     path = "file.csv", outcome = "y", treatment = "t", control = "0",
 *     treatment_kind = "discrete",   -- or "continuous" (a price, a dose: no control;
 *                                    -- effects are per unit of the treatment)
 *     x = {"a", "b"}, w = {"c"}, true_effect = "tau" or {"tau1", "tau2"},
 *     randomized = false,            -- true: arms were assigned at random (an RCT)
 *     z = {"inst"}, propensity = "e" or {"e0", "e1", "e2"}, true_propensity = ...,
 *     z_propensity = 0.5,            -- the instrument was randomised with P(Z = 1) = 0.5:
 *                                    -- its propensity is known, not fitted
 *     id = "id", weight = "w8", split = "fold",   -- split: train/validation or 0/1
 *     drop_missing = false, level_cap = 20, missing = {"", "NA", "NaN", "null"},
 *     path = {"a.csv", "b.csv"},     -- files with one header, rows stacked
 *     exclude = {sample = "NSW", treat = 0},  -- rows matching all are left out
 *     categorical = {"plan"},        -- feature columns that are categories although most
 *                                    -- of their cells read as numbers (else an error)
 *                                    -- x, w, z may hold globs ("x*") and "..." (the rest)
 *   }
 *   Generators (data.generator): see data/gen.h; arms = K where the DGP allows.
 *   validation  number in (0, 1): one holdout of that share of rows; or
 *               { folds = K } (K >= 2: cross-validated scoring, K = 1: one
 *               holdout, with share = S); default: chosen by data size
 *   metric      "auto" (default: energy when data.randomized, else psw_energy), any
 *               rankable score of score/scores.h's catalogue ("energy", "erupt",
 *               "qini", "r_score", ...), or an oracle figure "pehe", "ate_error",
 *               "cate_corr", "policy_true" (benchmark mode)
 *   budget = { seconds = 30, trials = 100,    -- each optional; none = 60 s
 *              trial_seconds = 10 }           -- per-trial timeout (default: from the budget)
 *   scoring = {                               -- all optional (METRICS.md)
 *     scores = {"energy", "erupt"},           -- reported scores; default: all that apply
 *     costs = {1.5, 2},                       -- per treated arm (arm 1..K-1); default 0
 *     clip = 0.05, erupt_policy = "greedy" or "thompson", qini_weighted = false,
 *     energy_standardize = true, energy_max_rows = 20000 (0: exact on every row),
 *   }
 *   nuisance = {                              -- models plugins get from the host (ABI 1.1)
 *     propensity = "auto" or "logistic" or {"logistic", "gbm"},  -- chosen by out-of-fold loss
 *     outcome = "auto" or ...,                -- for m(x, w) and every mu_k(x, w)
 *     folds = 5, seconds = N,                 -- cross-fitting folds; planned (estimated)
 *                                             -- seconds per role (cli/run_plan.c)
 *   }
 *   intervals = { resamples = 30,             -- bootstrap replicas of plugins without
 *                                             -- analytic intervals (default: the plugin's)
 *                 in_trials = false }         -- every trial computes intervals (default: only
 *                                             -- when a score or erupt_policy uses them; the
 *                                             -- winner always gets them)
 *   search = { searcher = "cfo" or "random",  -- default "cfo" (see search/searcher.h)
 *              cost = "trials" or "seconds",  -- cfo's cost per trial; "trials" is reproducible
 *              jobs = 1,                      -- trials in parallel worker processes
 *              memory_mb = N,                 -- address-space cap per worker; 0 = none
 *              selection = "one_se", "best" or "medoid" } -- the winner (default
 *                                             -- one_se): the simplest trial tied with the
 *                                             -- best, the best objective, or the tied trial
 *                                             -- nearest the ties' mean effects (search/select.h)
 *   estimators = {                            -- at least one; keys are plugin names
 *     diff_in_means = {},
 *     t_learner = { model_alpha = loguniform(1e-3, 1e3) },
 *     s_learner = { model_learner = "gbm", interactions = choice({true, false}) },
 *   }
 *   out         string: run folder (default runs/<name>-<UTC time>)
 *   final_fit   "all" (default): after selection the winner, with its nuisance
 *               models, is refitted on every row for model.ttm and cate.csv;
 *               "train": on the training rows only (its selection-time model)
 *   experiment = {                            -- tautune abtest (no estimators needed)
 *     outcomes = {"visit", "spend"},          -- default: data.outcome
 *     design = {0.5, 0.5},                    -- shares per arm in arm order (control first),
 *                                             -- or {["No E-Mail"] = 1, ...}; normalised
 *     pre = "spend_before",                   -- CUPED's pre-period column
 *     alpha = 0.05, correction = "holm",      -- or "bonferroni", "none"
 *     search = false,                         -- AIPW with cross-fitted outcome models
 *     resamples = 1000,                       -- bootstrap of the design value
 *   }
 *   estimand    "ate" (default), "att", "atc" or "overlap": the headline average
 *               effect, doubly robust over every row, the treated, the controls
 *               or overlap weights (score/estimand.h); --estimand overrides
 * Estimators are kept sorted by name (Lua tables have no order).
 */
#ifndef TT_LUA_CONFIG_H
#define TT_LUA_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "tautune/tautune.h"

typedef enum tt_space_kind {
    TT_SPACE_FIXED = 0,   /* one value */
    TT_SPACE_UNIFORM,     /* real uniform on [lo, hi] */
    TT_SPACE_LOGUNIFORM,  /* real log-uniform on [lo, hi], lo > 0 */
    TT_SPACE_RANDINT,     /* integer uniform on [lo, hi] inclusive */
    TT_SPACE_CHOICE       /* one of options[] */
} tt_space_kind;

/* A number/bool (str == NULL; bools as 0/1) or a string. */
typedef struct tt_space_value {
    double num;
    char *str;
    int is_bool;
} tt_space_value;

typedef struct tt_space_param {
    char *name;
    tt_space_kind kind;
    double lo, hi;              /* UNIFORM, LOGUNIFORM, RANDINT */
    tt_space_value fixed;       /* FIXED */
    tt_space_value *options;    /* CHOICE: n_options values */
    size_t n_options;
    int line;                   /* config line, 0 if unknown */
} tt_space_param;

typedef struct tt_space_estimator {
    char *plugin;
    tt_space_param *params;
    size_t n_params;
    int line;
} tt_space_estimator;

/* The energy scores' default subsample (scoring.energy_max_rows). Exact
 * energy is O(rows^2): ~0.6 s per scoring at 20,000 rows x 20 columns on the
 * reference machine, 150 s at 300,000 (a million-row run's holdout) - so
 * above this many validation rows the energy distances use a seeded
 * subsample, stratified by arm, and the run says so. Every data set up to
 * ~66,000 rows (a 30 % holdout) stays exact. */
#define TT_ENERGY_DEFAULT_ROWS 20000

typedef struct tt_config {
    char *path;                 /* the file as given */
    char *name;
    uint64_t seed;

    /* data: generator XOR path */
    char *generator;            /* NULL when reading a file */
    size_t gen_rows;
    int gen_arms;
    uint64_t gen_seed;
    char *data_path;            /* resolved against the config's folder */
    char *outcome, *treatment, *control;
    char **x; size_t n_x;
    char **w; size_t n_w;
    char **true_effect; size_t n_true_effect;
    int randomized;             /* data.randomized: assignment known to be random */
    int treatment_continuous;   /* data.treatment_kind = "continuous": effects per unit of T */
    double z_propensity;        /* data.z_propensity: a randomised instrument's P(Z = 1);
                                   0 when not given (then it is fitted) */
    /* More data roles (issue 3; see the data keys above). */
    char **z; size_t n_z;                             /* instruments */
    char **propensity; size_t n_propensity;           /* known propensity: 1 or K columns */
    char **true_propensity; size_t n_true_propensity; /* oracle only */
    char *id_col, *weight_col, *split_col;            /* NULL when absent */
    int drop_missing;           /* drop rows with a missing outcome/treatment (default: error) */
    long level_cap;             /* one-hot levels kept per string column (default 20) */
    char **missing; size_t n_missing; /* missing-value tokens; NULL = the reader's defaults */
    char **data_paths; size_t n_data_paths; /* data.path as a list: files stacked (resolved);
                                               data_path is then the first */
    char **exclude_cols, **exclude_vals; size_t n_exclude; /* data.exclude = {col = value} */
    char **categorical; size_t n_categorical; /* data.categorical: text columns to take as
                                                 categories although most cells are numbers */

    double validation;          /* holdout share (folds == 1) */
    int folds;                  /* validation.folds: >= 2 cross-validated scoring, 1 one
                                 * holdout, 0 not given (chosen by data size) */
    int estimand;               /* tt_estimand: the headline average (default ate) */
    int final_fit_train;        /* final_fit = "train": the winner's model keeps the training
                                 * rows only; 0 (default "all"): refitted on every row */
    char *metric;
    double budget_seconds;      /* 0 = no wall-clock limit */
    long max_trials;            /* 0 = no trial cap */
    char **scores; size_t n_scores; /* scoring.scores; NULL = all that apply */
    double *costs; size_t n_costs;  /* scoring.costs, per treated arm; NULL = all 0 */
    double clip;                /* scoring.clip, default 0.05 */
    int erupt_thompson;         /* scoring.erupt_policy == "thompson" */
    int qini_weighted, energy_standardize; /* defaults 0, 1 */
    size_t energy_max_rows;     /* 0 = exact energy on every validation row;
                                 * default TT_ENERGY_DEFAULT_ROWS */
    char **nu_propensity; size_t n_nu_propensity; /* nuisance.propensity; NULL = auto */
    char **nu_outcome; size_t n_nu_outcome;         /* nuisance.outcome; NULL = auto */
    int nu_folds;               /* 0 = 5 */
    double nu_seconds;          /* planned (estimated) seconds per role; 0 = from the budget */
    double trial_seconds;       /* per-trial timeout; 0 = derived from the budget */
    size_t interval_resamples;  /* intervals.resamples: bootstrap replicas; 0 = plugin default */
    int intervals_in_trials;    /* intervals.in_trials: every trial computes intervals (default:
                                   only when a score or the Thompson policy uses them) */
    char *searcher;             /* "cfo" or "random" */
    int cost_in_seconds;        /* search.cost == "seconds" */
    int jobs;                   /* 0 = not given (one) */
    long memory_mb;             /* -1 = not given (the default cap) */
    int selection;              /* search.selection as search/select.h's tt_selection:
                                   0 "best", 1 "one_se" (the default), 2 "medoid" */
    int ensemble;               /* search.ensemble: build an ensemble of the best trials
                                 * (default 1; cli/run_ensemble.c) */

    tt_space_estimator *estimators; /* sorted by plugin name; none only with experiment */
    size_t n_estimators;

    /* experiment = {...} (tautune abtest; lua/config_experiment.c) */
    int has_experiment;
    char **exp_outcomes; size_t n_exp_outcomes; /* NULL: data.outcome alone */
    double *exp_design; size_t n_exp_design;    /* shares as given (normalised by abtest) */
    char **exp_design_labels;   /* per share, the arm label; NULL: shares in arm order */
    char *exp_pre;              /* CUPED's pre-period column, or NULL */
    double exp_alpha;           /* 0.05 */
    int exp_correction;         /* experiment/abtest.h's tt_ab_correction (default holm) */
    int exp_search;             /* AIPW with cross-fitted nuisance models */
    size_t exp_resamples;       /* bootstrap resamples of the design value (default 1000) */

    char *out_dir;              /* NULL = default */
} tt_config;

/* Run the script at path and read its table. scripts_dir: folder holding
 * tautune.lua (the prelude); NULL = none. On failure *out is NULL. */
tt_status tt_config_load(const char *path, const char *scripts_dir, tt_config **out,
                         char *err, size_t errlen);

/* Same from a string; path is used in messages and to resolve data paths. */
tt_status tt_config_load_string(const char *source, const char *path, const char *scripts_dir,
                                tt_config **out, char *err, size_t errlen);

void tt_config_free(tt_config *cfg); /* NULL is a no-op */

#endif
