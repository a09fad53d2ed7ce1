/* test_config.c - the config sandbox, the search-space helpers and tt_config. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lua.h>

#include "lua/config.h"
#include "lua/sandbox.h"

#ifndef TT_SCRIPTS_DIR
#define TT_SCRIPTS_DIR "scripts"
#endif

static char err[1024];

/* Loads src as "cfg.lua" with the prelude; returns the status. */
static tt_status load(const char *src, tt_config **cfg)
{
    err[0] = '\0';
    return tt_config_load_string(src, "cfg.lua", TT_SCRIPTS_DIR, cfg, err, sizeof err);
}

/* The config must fail with exactly this message. */
static void expect_error(const char *src, const char *message)
{
    tt_config *cfg = (tt_config *)1;
    tt_status st = load(src, &cfg);
    if (st == TT_OK)
        fail_msg("accepted: %s", src);
    assert_null(cfg);
    assert_string_equal(err, message);
}

/* The config must fail with a message containing this text. */
static void expect_error_part(const char *src, const char *part)
{
    tt_config *cfg = (tt_config *)1;
    assert_int_not_equal(load(src, &cfg), TT_OK);
    assert_null(cfg);
    if (!strstr(err, part))
        fail_msg("message \"%s\" lacks \"%s\"", err, part);
}

static const tt_space_param *param(const tt_config *cfg, const char *plugin, const char *name)
{
    for (size_t i = 0; i < cfg->n_estimators; i++) {
        if (strcmp(cfg->estimators[i].plugin, plugin) != 0)
            continue;
        for (size_t j = 0; j < cfg->estimators[i].n_params; j++)
            if (strcmp(cfg->estimators[i].params[j].name, name) == 0)
                return &cfg->estimators[i].params[j];
    }
    fail_msg("no parameter %s.%s", plugin, name);
    return NULL;
}

#define GEN "data = { generator = \"synthetic\" }, "
#define ONE_EST "estimators = { diff_in_means = {} } "

/* ---- whole configs ------------------------------------------------------ */

static void test_full_file_config(void **state)
{
    (void)state;
    const char *src =
        "-- a full config\n"                                    /* 1 */
        "local ests = nil\n"                                    /* 2 */
        "return {\n"                                            /* 3 */
        "  name = \"study\",\n"                                 /* 4 */
        "  seed = 42,\n"                                        /* 5 */
        "  data = {\n"                                          /* 6 */
        "    path = \"data/jobs.csv\",\n"                       /* 7 */
        "    outcome = \"y\", treatment = \"t\", control = 0,\n" /* 8 */
        "    x = {\"a\", \"b\"}, w = {\"c\"},\n"                /* 9 */
        "    true_effect = {\"tau1\", \"tau2\"}, randomized = true,\n" /* 10 */
        "  },\n"                                                /* 11 */
        "  validation = 0.25,\n"                                /* 12 */
        "  metric = \"pehe\",\n"                                /* 13 */
        "  budget = { seconds = 12.5, trials = 40 },\n"         /* 14 */
        "  estimators = {\n"                                    /* 15 */
        "    t_learner = {\n"                                   /* 16 */
        "      alpha = loguniform(1e-3, 1e3),\n"                /* 17 */
        "      degree = randint(1, 3),\n"                       /* 18 */
        "    },\n"                                              /* 19 */
        "    s_learner = { alpha = 1.5, interactions = true, solver = \"qr\",\n" /* 20 */
        "                  mix = uniform(-1, 1), kind = choice({1, \"two\", false}) },\n" /* 21 */
        "    diff_in_means = {},\n"                             /* 22 */
        "  },\n"                                                /* 23 */
        "  out = \"runs/study\",\n"                             /* 24 */
        "}\n";
    tt_config *cfg = NULL;
    assert_int_equal(tt_config_load_string(src, "/srv/cfgs/study.lua", TT_SCRIPTS_DIR, &cfg, err,
                                           sizeof err),
                     TT_OK);
    assert_string_equal(cfg->path, "/srv/cfgs/study.lua");
    assert_string_equal(cfg->name, "study");
    assert_int_equal(cfg->seed, 42);
    assert_null(cfg->generator);
    assert_string_equal(cfg->data_path, "/srv/cfgs/data/jobs.csv");
    assert_string_equal(cfg->outcome, "y");
    assert_string_equal(cfg->treatment, "t");
    assert_string_equal(cfg->control, "0");
    assert_int_equal(cfg->n_x, 2);
    assert_string_equal(cfg->x[0], "a");
    assert_string_equal(cfg->x[1], "b");
    assert_int_equal(cfg->n_w, 1);
    assert_string_equal(cfg->w[0], "c");
    assert_int_equal(cfg->n_true_effect, 2);
    assert_string_equal(cfg->true_effect[1], "tau2");
    assert_true(cfg->randomized);
    assert_true(cfg->validation == 0.25);
    assert_string_equal(cfg->metric, "pehe");
    assert_true(cfg->budget_seconds == 12.5);
    assert_int_equal(cfg->max_trials, 40);
    assert_string_equal(cfg->out_dir, "runs/study");

    assert_int_equal(cfg->n_estimators, 3);
    assert_string_equal(cfg->estimators[0].plugin, "diff_in_means");
    assert_string_equal(cfg->estimators[1].plugin, "s_learner");
    assert_string_equal(cfg->estimators[2].plugin, "t_learner");
    assert_int_equal(cfg->estimators[0].n_params, 0);
    assert_int_equal(cfg->estimators[0].line, 22);
    assert_int_equal(cfg->estimators[2].line, 16);

    /* Parameters sorted by name. */
    const tt_space_estimator *s = &cfg->estimators[1];
    assert_int_equal(s->n_params, 5);
    const char *order[] = {"alpha", "interactions", "kind", "mix", "solver"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(s->params[i].name, order[i]);

    const tt_space_param *p = param(cfg, "s_learner", "alpha");
    assert_int_equal(p->kind, TT_SPACE_FIXED);
    assert_true(p->fixed.num == 1.5);
    assert_null(p->fixed.str);
    assert_int_equal(p->line, 20);
    p = param(cfg, "s_learner", "interactions");
    assert_int_equal(p->kind, TT_SPACE_FIXED);
    assert_int_equal(p->fixed.is_bool, 1);
    assert_true(p->fixed.num == 1);
    p = param(cfg, "s_learner", "solver");
    assert_string_equal(p->fixed.str, "qr");
    p = param(cfg, "s_learner", "mix");
    assert_int_equal(p->kind, TT_SPACE_UNIFORM);
    assert_true(p->lo == -1 && p->hi == 1);
    assert_int_equal(p->line, 21);
    p = param(cfg, "s_learner", "kind");
    assert_int_equal(p->kind, TT_SPACE_CHOICE);
    assert_int_equal(p->n_options, 3);
    assert_true(p->options[0].num == 1 && !p->options[0].is_bool && !p->options[0].str);
    assert_string_equal(p->options[1].str, "two");
    assert_true(p->options[2].is_bool && p->options[2].num == 0);
    assert_int_equal(p->line, 21);
    p = param(cfg, "t_learner", "alpha");
    assert_int_equal(p->kind, TT_SPACE_LOGUNIFORM);
    assert_true(p->lo == 1e-3 && p->hi == 1e3);
    assert_int_equal(p->line, 17);
    p = param(cfg, "t_learner", "degree");
    assert_int_equal(p->kind, TT_SPACE_RANDINT);
    assert_true(p->lo == 1 && p->hi == 3);
    assert_int_equal(p->line, 18);
    tt_config_free(cfg);
}

static void test_generator_config(void **state)
{
    (void)state;
    tt_config *cfg = NULL;
    assert_int_equal(load("return { seed = 9, data = { generator = \"synthetic\", rows = 500,\n"
                          "  arms = 3, seed = 11 }, budget = { trials = 5 }, " ONE_EST "}",
                          &cfg),
                     TT_OK);
    assert_string_equal(cfg->generator, "synthetic");
    assert_null(cfg->data_path);
    assert_int_equal(cfg->gen_rows, 500);
    assert_int_equal(cfg->gen_arms, 3);
    assert_int_equal(cfg->gen_seed, 11);
    assert_int_equal(cfg->seed, 9);
    /* trials alone: no wall-clock limit. */
    assert_true(cfg->budget_seconds == 0);
    assert_int_equal(cfg->max_trials, 5);
    tt_config_free(cfg);
}

static void test_defaults(void **state)
{
    (void)state;
    tt_config *cfg = NULL;
    assert_int_equal(tt_config_load_string("return { " GEN ONE_EST "}", "configs/quickstart.lua",
                                           TT_SCRIPTS_DIR, &cfg, err, sizeof err),
                     TT_OK);
    assert_string_equal(cfg->name, "quickstart");
    assert_int_equal(cfg->seed, 0);
    assert_true(cfg->validation == 0.3);
    assert_string_equal(cfg->metric, "auto");
    assert_false(cfg->randomized);
    assert_int_equal(cfg->gen_rows, 4000);
    assert_int_equal(cfg->gen_arms, 2);
    assert_int_equal(cfg->gen_seed, 0);
    assert_true(cfg->budget_seconds == 60);
    assert_int_equal(cfg->max_trials, 0);
    assert_null(cfg->out_dir);
    assert_null(cfg->w);
    assert_int_equal(cfg->n_w, 0);
    tt_config_free(cfg);

    /* The generator follows the run seed; an empty budget is the default one. */
    assert_int_equal(load("return { seed = 77, budget = {}, " GEN ONE_EST "}", &cfg), TT_OK);
    assert_int_equal(cfg->gen_seed, 77);
    assert_true(cfg->budget_seconds == 60);
    assert_string_equal(cfg->name, "cfg");
    tt_config_free(cfg);

    /* No prelude at all is fine too. */
    assert_int_equal(tt_config_load_string("return { " GEN ONE_EST "}", "x", NULL, &cfg, err,
                                           sizeof err),
                     TT_OK);
    assert_string_equal(cfg->name, "x");
    tt_config_free(cfg);
}

static void test_control_formatting(void **state)
{
    (void)state;
    static const struct {
        const char *lua, *text;
    } cases[] = {{"0", "0"}, {"1.5", "1.5"}, {"0.1", "0.1"}, {"-3", "-3"},
                 {"2.0", "2"}, {"\"treated\"", "treated"}, {"1e300", "1e+300"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char src[256];
        snprintf(src, sizeof src,
                 "return { data = { path = \"d.csv\", outcome = \"y\", treatment = \"t\",\n"
                 "  control = %s, x = {\"a\"}, true_effect = \"tau\" }, " ONE_EST "}",
                 cases[i].lua);
        tt_config *cfg = NULL;
        assert_int_equal(load(src, &cfg), TT_OK);
        assert_string_equal(cfg->control, cases[i].text);
        assert_string_equal(cfg->data_path, "d.csv"); /* no folder in "cfg.lua" */
        assert_int_equal(cfg->n_true_effect, 1);
        assert_string_equal(cfg->true_effect[0], "tau");
        tt_config_free(cfg);
    }
}

/* ---- search-space helpers ---------------------------------------------- */

static void test_dsl_errors(void **state)
{
    (void)state;
    static const struct {
        const char *call, *message;
    } cases[] = {
        {"loguniform(0, 10)", "loguniform(): low must be > 0, got 0"},
        {"loguniform(-1, 10)", "loguniform(): low must be > 0, got -1"},
        {"uniform(2, 1)", "uniform(): low must be < high, got low 2, high 1"},
        {"uniform(1, 1)", "uniform(): low must be < high, got low 1, high 1"},
        {"uniform(\"a\", 1)", "uniform(): low must be a number, got string"},
        {"uniform(0)", "uniform(): high must be a number, got nil"},
        {"uniform(0, 1/0)", "uniform(): high must be finite, got inf"},
        {"uniform(0, 0/0)", "uniform(): high must be finite, got -nan"},
        {"uniform(0, 1, 2)", "uniform(): expected 2 arguments (low, high), got 3"},
        {"randint(1.5, 3)", "randint(): low must be an integer, got 1.5"},
        {"randint(3, 1)", "randint(): low must be <= high, got low 3 > high 1"},
        {"choice({})", "choice(): the list of options is empty"},
        {"choice(5)", "choice(): expected one list of options, e.g. choice({1, 2, 3}), got number"},
        {"choice()", "choice(): expected one list of options, e.g. choice({1, 2, 3}), got nothing"},
        {"choice({{}})", "choice(): option 1 must be a number, boolean or string, got table"},
        {"choice({1, nil, 3})", "choice(): the list of options has holes (nil values)"},
        {"choice({1, a = 2})",
         "choice(): expected a plain list of options like {1, 2, 3}, got a table with other keys"},
        {"choice({1, 1/0})", "choice(): option 2 must be finite"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char src[512], want[512];
        snprintf(src, sizeof src,
                 "return {\n  " GEN "\n  estimators = {\n    t_learner = {\n"
                 "      alpha = %s,\n    },\n  },\n}\n",
                 cases[i].call);
        snprintf(want, sizeof want, "cfg.lua:5: estimators.t_learner.alpha: %s", cases[i].message);
        if (strstr(cases[i].call, "0/0")) { /* the sign of NaN printed is libc's business */
            expect_error_part(src, "cfg.lua:5: estimators.t_learner.alpha: uniform(): high must be finite");
            continue;
        }
        expect_error(src, want);
    }
}

static void test_dsl_line_is_the_call(void **state)
{
    (void)state;
    /* The helper records where it was called, even far from where it is used. */
    const char *src = "local a = 1\n"
                      "local bad = loguniform(0, 1)\n"
                      "return { " GEN "\n"
                      "  estimators = { t_learner = { alpha = bad } } }\n";
    expect_error(src, "cfg.lua:2: estimators.t_learner.alpha: loguniform(): low must be > 0, got 0");

    /* Called from a chunk of its own: its line means nothing in cfg.lua, so
     * the line comes from the key instead. */
    src = "local mk = load('return randint(5, 1)', '=gen')\n"
          "return { " GEN "\n"
          "  estimators = {\n"
          "    t_learner = { degree = mk() } } }\n";
    expect_error(src, "cfg.lua:4: estimators.t_learner.degree: randint(): low must be <= high, got "
                      "low 5 > high 1");

    /* A hand-made space is checked like a real one. */
    src = "return { " GEN "\n"
          "  estimators = { t_learner = {\n"
          "    alpha = { __tt_space = \"loguniform\", lo = -1, hi = 2 } } } }\n";
    expect_error(src, "cfg.lua:3: estimators.t_learner.alpha: loguniform(): low must be > 0, got -1");

    /* Changing a space after the call does not sneak past the check. */
    src = "local s = uniform(0, 1)\n"
          "s.hi = -5\n"
          "return { " GEN " estimators = { t_learner = { alpha = s } } }\n";
    expect_error(src, "cfg.lua:1: estimators.t_learner.alpha: uniform(): low must be < high, got "
                      "low 0, high -5");
}

static void test_dsl_values_readable_from_lua(void **state)
{
    (void)state;
    tt_config *cfg = NULL;
    assert_int_equal(load("local u = uniform(0.5, 2)\n"
                          "local c = choice({\"a\", \"b\"})\n"
                          "assert(u.lo == 0.5 and u.hi == 2 and u.__tt_space == 'uniform')\n"
                          "assert(c.n == 2 and c.options[2] == 'b')\n"
                          "return { " GEN " estimators = { t_learner = { alpha = u, s = c } } }",
                          &cfg),
                     TT_OK);
    assert_int_equal(param(cfg, "t_learner", "alpha")->line, 1);
    assert_int_equal(param(cfg, "t_learner", "s")->line, 2);
    tt_config_free(cfg);
}

/* ---- validation --------------------------------------------------------- */

static void test_unknown_keys(void **state)
{
    (void)state;
    expect_error("return {\n"
                 "  " GEN "\n"
                 "  colour = 'blue',\n"
                 "  " ONE_EST "\n"
                 "}\n",
                 "cfg.lua:3: colour: unknown key (allowed: name, seed, data, validation, metric, "
                 "scoring, budget, search, nuisance, intervals, estimators, out, final_fit, estimand, experiment)");
    /* Of several, the first in the file is reported. */
    expect_error("return {\n  zzz = 1,\n  aaa = 2,\n  " GEN ONE_EST "}\n",
                 "cfg.lua:2: zzz: unknown key (allowed: name, seed, data, validation, metric, "
                 "scoring, budget, search, nuisance, intervals, estimators, out, final_fit, estimand, experiment)");
    expect_error("return { " GEN ONE_EST ",\n  budget = {\n    minutes = 5 } }",
                 "cfg.lua:3: budget.minutes: unknown key (allowed: seconds, trials, trial_seconds)");
    expect_error_part("return { data = { generator = 'synthetic',\n rowz = 5 }, " ONE_EST "}",
                      "cfg.lua:2: data.rowz: unknown key (allowed: generator, rows, arms, seed, "
                      "path, outcome");
    expect_error("return { " GEN ONE_EST ", 'stray' }",
                 "cfg.lua: [1]: unknown key (allowed: name, seed, data, validation, metric, "
                 "scoring, budget, search, nuisance, intervals, estimators, out, final_fit, estimand, experiment)");
}

/* final_fit: "all" by default, "train" on request, anything else refused
 * with its line. */
static void test_final_fit(void **state)
{
    (void)state;
    tt_config *cfg = NULL;
    assert_int_equal(load("return { " GEN ONE_EST " }", &cfg), TT_OK);
    assert_int_equal(cfg->final_fit_train, 0);
    tt_config_free(cfg);
    assert_int_equal(load("return { " GEN ONE_EST ", final_fit = 'train' }", &cfg), TT_OK);
    assert_int_equal(cfg->final_fit_train, 1);
    tt_config_free(cfg);
    assert_int_equal(load("return { " GEN ONE_EST ", final_fit = 'all' }", &cfg), TT_OK);
    assert_int_equal(cfg->final_fit_train, 0);
    tt_config_free(cfg);
    expect_error_part("return { " GEN ONE_EST ",\n final_fit = 'most' }",
                      "cfg.lua:2: final_fit: expected \"all\"");
}

static void test_wrong_types_and_ranges(void **state)
{
    (void)state;
    expect_error("return { " GEN ONE_EST ",\n"
                 "  budget = {\n"
                 "    trials = 3,\n"
                 "    seconds = \"30\",\n"
                 "  } }",
                 "cfg.lua:4: budget.seconds: expected a number, got string");
    expect_error("return { " GEN ONE_EST ",\n  seed = 1.5 }",
                 "cfg.lua:2: seed: expected an integer, got 1.5");
    expect_error("return { " GEN ONE_EST ",\n  seed = -1 }", "cfg.lua:2: seed: must be >= 0, got -1");
    expect_error("return { " GEN ONE_EST ",\n  seed = randint(1, 5) }",
                 "cfg.lua:2: seed: expected an integer, got randint() search space");
    expect_error("return { " GEN ONE_EST ",\n  validation = 1 }",
                 "cfg.lua:2: validation: must be between 0 and 1 (the share of rows held out), got 1");
    expect_error_part("return { " GEN ONE_EST ",\n  metric = 'mse' }",
                      "cfg.lua:2: metric: unknown metric \"mse\" (expected one of: auto, energy, "
                      "psw_energy, ");
    expect_error_part("return { " GEN ONE_EST ",\n  metric = 'ate' }", /* report-only */
                      "cfg.lua:2: metric: unknown metric \"ate\"");
    expect_error("return { data = { generator = 'synthetic',\n randomized = 1 }," ONE_EST "}",
                 "cfg.lua:2: data.randomized: expected a boolean, got number");
    expect_error("return { " GEN ONE_EST ",\n  budget = { seconds = 0 } }",
                 "cfg.lua:2: budget.seconds: must be > 0, got 0");
    expect_error("return { " GEN ONE_EST ",\n  budget = 30 }",
                 "cfg.lua:2: budget: expected a table, got number");
    expect_error("return { " GEN ONE_EST ",\n  name = '' }", "cfg.lua:2: name: must not be empty");
    expect_error("return { " GEN ONE_EST ",\n  name = 'a/b' }",
                 "cfg.lua:2: name: must be usable as a folder name (no '/', not . or ..)");
    expect_error("return { " GEN ONE_EST ",\n  out = 5 }", "cfg.lua:2: out: expected a string, got number");
    expect_error("return 5", "cfg.lua: the config must end with `return { ... }` (a table), got number");
    expect_error("local x = 1", "cfg.lua: the config must end with `return { ... }` (a table), got nil");
    expect_error("return { " GEN "}",
                 "cfg.lua: estimators is required, e.g. estimators = { diff_in_means = {} } "
                 "(a config for tautune abtest alone has experiment = {...} instead)");
    expect_error("return { " ONE_EST "}",
                 "cfg.lua: data is required, e.g. data = { generator = \"synthetic\" }");
}

static void test_estimator_errors(void **state)
{
    (void)state;
    expect_error("return { " GEN "\n  estimators = {} }",
                 "cfg.lua:2: estimators: needs at least one estimator, e.g. diff_in_means = {}");
    expect_error("return { " GEN "\n  estimators = {\n    TLearner = {} } }",
                 "cfg.lua:3: estimators.TLearner: \"TLearner\" is not a plugin name (lowercase "
                 "letters, digits and _, starting with a letter, at most 63 characters)");
    expect_error("return { " GEN "\n  estimators = {\n    t_learner = true } }",
                 "cfg.lua:3: estimators.t_learner: expected a table of hyperparameters (may be "
                 "empty: {}), got boolean");
    expect_error("return { " GEN "\n  estimators = {\n    t_learner = { alpha = {1, 2} } } }",
                 "cfg.lua:3: estimators.t_learner.alpha: expected a number, boolean, string or "
                 "search space (uniform, loguniform, randint, choice), got table");
    expect_error("return { " GEN "\n  estimators = {\n    t_learner = { alpha = 1/0 } } }",
                 "cfg.lua:3: estimators.t_learner.alpha: must be finite, got inf");
    expect_error("return { " GEN "\n  estimators = { 'diff_in_means' } }",
                 "cfg.lua:2: estimators[1]: keys must be plugin names");
    expect_error("return { " GEN "\n  estimators = { t_learner = { ['a b'] = 1 } } }",
                 "cfg.lua:2: estimators.t_learner[\"a b\"]: hyperparameter names are identifiers "
                 "(letters, digits, _)");
}

static void test_data_errors(void **state)
{
    (void)state;
    expect_error("return { data = {},\n " ONE_EST "}",
                 "cfg.lua:1: data: needs either generator = \"synthetic\" or path = \"file.csv\"");
    expect_error("return { data = { generator = 'synthetic',\n  path = 'd.csv' }, " ONE_EST "}",
                 "cfg.lua:2: data.path: give either data.generator or data.path, not both");
    expect_error("return { data = { generator = 'gauss' }, " ONE_EST "}",
                 "cfg.lua:1: data.generator: unknown generator \"gauss\" (available: synthetic, "
                 "rct_linear, rct_nonlinear, confounded_linear, confounded_nonlinear, "
                 "known_propensity, iv, pricing)");
    expect_error("return { data = { generator = 'pricing',\n  treatment_kind = 'dose' }, "
                 ONE_EST "}",
                 "cfg.lua:2: data.treatment_kind: must be \"discrete\" (arms, the default) or "
                 "\"continuous\" (a dose or price: effects per unit of the treatment), got "
                 "\"dose\"");
    expect_error("return { data = { path = 'd.csv', outcome = 'y', treatment = 't', x = {'a'},"
                 "\n  treatment_kind = 'continuous', control = 0 }, " ONE_EST "}",
                 "cfg.lua:2: data.control: a continuous treatment has no control arm (effects "
                 "are per unit of the treatment): remove data.control");
    expect_error("return { data = { generator = 'synthetic',\n  arms = 1 }, " ONE_EST "}",
                 "cfg.lua:2: data.arms: must be >= 2, got 1");
    expect_error("return { data = { generator = 'synthetic',\n  rows = 5 }, " ONE_EST "}",
                 "cfg.lua:2: data.rows: must be >= 10, got 5");
    expect_error("return { data = { generator = 'synthetic',\n  x = {'a'} }, " ONE_EST "}",
                 "cfg.lua:2: data.x: only used with data.path (a CSV file), not with a generator");
    expect_error("return { data = { path = 'd.csv',\n  rows = 10 }, " ONE_EST "}",
                 "cfg.lua:2: data.rows: only used with data.generator, not with a file");
    expect_error("return {\n data = { path = 'd.csv', treatment = 't' }, " ONE_EST "}",
                 "cfg.lua:2: data: outcome is required with data.path");
    expect_error("return {\n data = { path = 'd.csv', outcome = 'y', treatment = 't',\n"
                 "  control = 0, x = {} }, " ONE_EST "}",
                 "cfg.lua:3: data.x: needs at least 1 name");
    expect_error("return {\n data = { path = 'd.csv', outcome = 'y', treatment = 't',\n"
                 "  control = 0,\n  x = {'a', 3} }, " ONE_EST "}",
                 "cfg.lua:4: data.x[2]: expected a string, got number");
    expect_error("return {\n data = { path = 'd.csv', outcome = 'y', treatment = 't',\n"
                 "  control = 0, x = {'a', 'a'} }, " ONE_EST "}",
                 "cfg.lua:3: data.x[2]: \"a\" is listed twice");
    expect_error("return {\n data = { path = 'd.csv', outcome = 'y', treatment = 't',\n"
                 "  control = true, x = {'a'} }, " ONE_EST "}",
                 "cfg.lua:3: data.control: expected a string or a number, got boolean");
}

/* The roles of issue 3: instruments, propensities, id, weight, split, patterns. */
static void test_data_roles(void **state)
{
    (void)state;
    tt_config *cfg = NULL;
    assert_int_equal(load("return { data = { path = 'd.csv', outcome = 'y', treatment = 't',\n"
                          "  control = 0, x = 'x*', w = {'...'}, z = 'inst',\n"
                          "  propensity = {'p0', 'p1'}, true_propensity = 'e1', id = 'id',\n"
                          "  weight = 'wt', split = 'fold', drop_missing = true, level_cap = 5,\n"
                          "  missing = {'', '-99'} }, " ONE_EST "}", &cfg), TT_OK);
    assert_int_equal(cfg->n_x, 1);
    assert_string_equal(cfg->x[0], "x*");
    assert_string_equal(cfg->w[0], "...");
    assert_int_equal(cfg->n_z, 1);
    assert_string_equal(cfg->z[0], "inst");
    assert_int_equal(cfg->n_propensity, 2);
    assert_string_equal(cfg->propensity[1], "p1");
    assert_string_equal(cfg->true_propensity[0], "e1");
    assert_string_equal(cfg->id_col, "id");
    assert_string_equal(cfg->weight_col, "wt");
    assert_string_equal(cfg->split_col, "fold");
    assert_true(cfg->drop_missing);
    assert_int_equal(cfg->level_cap, 5);
    assert_int_equal(cfg->n_missing, 2);
    assert_string_equal(cfg->missing[0], "");
    assert_string_equal(cfg->missing[1], "-99");
    tt_config_free(cfg);

    assert_int_equal(load("return { data = { generator = 'iv', rows = 100 }, " ONE_EST "}", &cfg),
                     TT_OK);
    assert_string_equal(cfg->generator, "iv");
    tt_config_free(cfg);

    expect_error("return { data = { path = 'd.csv', outcome = 'y', treatment = 't',\n"
                 "  control = 0, x = 'a', drop_missing = 1 }, " ONE_EST "}",
                 "cfg.lua:2: data.drop_missing: expected a boolean, got number");
    expect_error_part("return { data = { path = 'd.csv', outcome = 'y', treatment = 't',\n"
                      "  control = 0, x = 'a', level_cap = 0 }, " ONE_EST "}",
                      "data.level_cap: must be >= 1");
    expect_error_part("return { data = { path = 'd.csv', outcome = 'y', treatment = 't',\n"
                      "  control = 0, x = 'a', missing = {1} }, " ONE_EST "}",
                      "data.missing[1]");
    expect_error_part("return { data = { generator = 'iv', id = 'a' }, " ONE_EST "}",
                      "data.id: only used with data.path");

    /* Several files, resolved against the config's folder; exclude pairs. */
    assert_int_equal(tt_config_load_string("return { data = { path = {'a.csv', '/abs/b.csv'},\n"
                                           "  outcome = 'y', treatment = 't', control = 0,\n"
                                           "  x = '...', exclude = { t = 0, src = 'exp' } }, "
                                           ONE_EST "}", "dir/cfg.lua", TT_SCRIPTS_DIR, &cfg,
                                           err, sizeof err), TT_OK);
    assert_int_equal(cfg->n_data_paths, 2);
    assert_string_equal(cfg->data_paths[0], "dir/a.csv");
    assert_string_equal(cfg->data_paths[1], "/abs/b.csv");
    assert_string_equal(cfg->data_path, "dir/a.csv");
    assert_int_equal(cfg->n_exclude, 2);
    assert_string_equal(cfg->exclude_cols[0], "src"); /* sorted by column */
    assert_string_equal(cfg->exclude_vals[0], "exp");
    assert_string_equal(cfg->exclude_vals[1], "0");
    tt_config_free(cfg);
    expect_error_part("return { data = { path = 'd.csv', outcome = 'y', treatment = 't',\n"
                      "  control = 0, x = 'a', exclude = { 1, 2 } }, " ONE_EST "}",
                      "data.exclude: keys must be column names");
}

static void test_line_search_skips_comments_and_nesting(void **state)
{
    (void)state;
    /* "seed =" in a comment, a string and a nested table come first. */
    expect_error("-- seed = 3 is the usual choice\n"
                 "local note = [[ seed = 4 ]]\n"
                 "return { data = { generator = 'synthetic', seed = 5 },\n"
                 "  " ONE_EST ",\n"
                 "  seed = -2,\n"
                 "}\n",
                 "cfg.lua:5: seed: must be >= 0, got -2");
    /* data.seed resolves inside data, not to the run seed above it. */
    expect_error("return {\n  seed = 1,\n  data = {\n    generator = 'synthetic',\n"
                 "    seed = -1 }, " ONE_EST "}",
                 "cfg.lua:5: data.seed: must be >= 0, got -1");
}

/* ---- script errors and the sandbox -------------------------------------- */

static void test_script_errors(void **state)
{
    (void)state;
    expect_error("return {\n  seed = = 1 }", "cfg.lua:2: unexpected symbol near '='");
    expect_error("local x = 1\nlocal y = 2\nfoo()\n",
                 "cfg.lua:3: attempt to call a nil value (global 'foo')");
    expect_error("\nerror('custom')", "cfg.lua:2: custom");
    expect_error("\n\nerror({})", "cfg.lua:3: error object is a table value");
    expect_error("local f = io.open('x')",
                 "cfg.lua:1: attempt to index a nil value (global 'io')");
    expect_error("return require('os')", "cfg.lua:1: attempt to call a nil value (global 'require')");
}

static void test_sandbox_globals(void **state)
{
    (void)state;
    lua_State *L = tt_sandbox_open(NULL);
    assert_non_null(L);
    const char *src = "return io == nil and os == nil and require == nil and dofile == nil\n"
                      "  and loadfile == nil and collectgarbage == nil and print == nil\n"
                      "  and string.dump == nil and debug == nil and package == nil\n"
                      "  and coroutine == nil and utf8 == nil\n"
                      "  and type(string.format) == 'function' and type(table.sort) == 'function'\n"
                      "  and type(math.floor) == 'function' and type(pairs) == 'function'\n"
                      "  and type(load) == 'function'\n";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "=t", 1, err, sizeof err), TT_OK);
    assert_true(lua_toboolean(L, -1));
    lua_pop(L, 1);

    /* Text chunks load, binary ones do not, nor can an env be given. */
    src = "local f = load('return 1 + 1'); return f()";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "=t", 1, err, sizeof err), TT_OK);
    assert_int_equal(lua_tointeger(L, -1), 2);
    lua_pop(L, 1);
    src = "local f, msg = load('\\27Lua\\x54\\0junk'); return msg";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "=t", 1, err, sizeof err), TT_OK);
    assert_string_equal(lua_tostring(L, -1), "load(): binary chunks are not allowed in configs");
    lua_pop(L, 1);
    src = "return load('return 1', 'x', 't', {})";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "@c.lua", 1, err, sizeof err), TT_ERR_CONFIG);
    assert_string_equal(err, "c.lua:1: load(): the env argument is not supported in configs");
    src = "return load('return 1', 'x', 'b')";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "@c.lua", 1, err, sizeof err), TT_ERR_CONFIG);
    assert_string_equal(err, "c.lua:1: load(): only text chunks are allowed (mode \"t\")");
    src = "local f, msg = load('x = = 1', '=inner'); return msg";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "=t", 1, err, sizeof err), TT_OK);
    assert_string_equal(lua_tostring(L, -1), "inner:1: unexpected symbol near '='");
    lua_pop(L, 1);

    /* A binary chunk given to the sandbox itself. */
    const char bin[] = "\x1bLua\x54\x00\x19\x93";
    assert_int_equal(tt_sandbox_run(L, bin, sizeof bin - 1, "@b.luac", 0, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_string_equal(err, "b.luac: binary (precompiled) Lua chunks are not allowed; give the "
                             "source text");

    /* Finalizers would run without the instruction limit. */
    src = "setmetatable({}, { __gc = function() while true do end end })";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "@g.lua", 0, err, sizeof err), TT_ERR_CONFIG);
    assert_string_equal(err, "g.lua:1: setmetatable(): __gc metamethods are not allowed in configs");
    src = "local t = setmetatable({}, { __index = function(_, k) return k .. '!' end }); return t.hi";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "=t", 1, err, sizeof err), TT_OK);
    assert_string_equal(lua_tostring(L, -1), "hi!");
    lua_pop(L, 1);
    assert_int_equal(lua_gettop(L), 0);
    tt_sandbox_close(L);
    tt_sandbox_close(NULL);

    /* math.random draws the same numbers in every new state. */
    lua_Integer draws[2];
    for (int i = 0; i < 2; i++) {
        L = tt_sandbox_open(NULL);
        src = "return math.random(1, 1000000000)";
        assert_int_equal(tt_sandbox_run(L, src, strlen(src), "=t", 1, err, sizeof err), TT_OK);
        draws[i] = lua_tointeger(L, -1);
        tt_sandbox_close(L);
    }
    assert_true(draws[0] == draws[1]);
}

static void test_instruction_limit(void **state)
{
    (void)state;
    tt_sandbox_limits lim;
    tt_sandbox_limits_init(&lim);
    assert_int_equal(lim.max_bytes, (size_t)64 << 20);
    assert_int_equal(lim.max_instructions, 50000000UL);
    lim.max_instructions = 200000;
    lua_State *L = tt_sandbox_open(&lim);
    assert_non_null(L);
    const char *src = "local n = 0\nwhile true do\n  n = n + 1\nend\n";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "@loop.lua", 0, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_non_null(strstr(err, "config ran more than 200000 instructions (infinite loop?)"));
    assert_int_equal(strncmp(err, "loop.lua:", 9), 0);

    /* Catching the error does not buy more time. */
    src = "while true do pcall(function() while true do end end) end";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "@loop.lua", 0, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_non_null(strstr(err, "infinite loop?"));

    /* The budget is per run: the state is usable afterwards. */
    src = "local s = 0 for i = 1, 1000 do s = s + i end return s";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "=t", 1, err, sizeof err), TT_OK);
    assert_int_equal(lua_tointeger(L, -1), 500500);
    lua_pop(L, 1);
    tt_sandbox_close(L);

    /* Through a config, with the default limit. */
    expect_error_part("return {\n" GEN ONE_EST "}, (function() while true do end end)()",
                      "config ran more than 50000000 instructions (infinite loop?)");
}

static void test_memory_limit(void **state)
{
    (void)state;
    tt_sandbox_limits lim;
    tt_sandbox_limits_init(&lim);
    lim.max_bytes = (size_t)8 << 20;
    lua_State *L = tt_sandbox_open(&lim);
    assert_non_null(L);
    const char *src = "local s = 'x'\nwhile true do s = s .. s end";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "@mem.lua", 0, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_string_equal(err, "mem.lua: config uses more than 8 MiB of memory");
    src = "local t = {}\nfor i = 1, 1e9 do t[i] = {} end";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "@mem.lua", 0, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_string_equal(err, "mem.lua: config uses more than 8 MiB of memory");
    src = "return string.rep('ab', 1e9)";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "@mem.lua", 1, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_string_equal(err, "mem.lua:1: config uses more than 8 MiB of memory (string.rep)");
    /* A memory error caught by pcall is raised again by the next
     * instruction, now with its line: the script never gets to run on. */
    src = "local ok, e = pcall(string.rep, 'x', 4 * 1024 * 1024)\n"
          "local ok2, e2 = pcall(function() local s = 'x' while true do s = s .. s end end)\n"
          "error(e2, 0)";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "@mem.lua", 0, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_string_equal(err, "mem.lua:2: config uses more than 8 MiB of memory");

    /* Empty pieces make no memory but would loop for ever in C. */
    src = "return #string.rep('', 1e15) + #string.rep('ab', 3, ', ')";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "=t", 1, err, sizeof err), TT_OK);
    assert_int_equal(lua_tointeger(L, -1), 10);
    lua_pop(L, 1);
    src = "return string.rep('ab', 3, '-') .. ('x'):rep(2)";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "=t", 1, err, sizeof err), TT_OK);
    assert_string_equal(lua_tostring(L, -1), "ab-ab-abxx");
    lua_pop(L, 1);
    tt_sandbox_close(L);

    /* Through a config, with the default cap. */
    expect_error("local s = 'x'\nwhile true do s = s .. s end",
                 "cfg.lua: config uses more than 64 MiB of memory");
}

/* ---- prelude and files -------------------------------------------------- */

static void test_presets(void **state)
{
    (void)state;
    tt_config *cfg = NULL;
    assert_int_equal(load("return {\n  " GEN "\n  estimators = presets.linear }", &cfg), TT_OK);
    assert_int_equal(cfg->n_estimators, 3);
    assert_string_equal(cfg->estimators[0].plugin, "diff_in_means");
    const tt_space_param *p = param(cfg, "t_learner", "model_alpha");
    assert_int_equal(p->kind, TT_SPACE_LOGUNIFORM);
    assert_true(p->lo == 1e-3 && p->hi == 1e3);
    /* Made in the prelude: the line falls back to the config's own text. */
    assert_int_equal(p->line, 3);
    tt_config_free(cfg);

    assert_int_equal(load("return { " GEN "\n"
                          "  estimators = merge(presets.linear, {\n"
                          "    t_learner = { model_alpha = 2.5, extra = choice({1, 2}) } }) }",
                          &cfg),
                     TT_OK);
    p = param(cfg, "t_learner", "model_alpha");
    assert_int_equal(p->kind, TT_SPACE_FIXED);
    assert_true(p->fixed.num == 2.5);
    assert_int_equal(param(cfg, "t_learner", "extra")->line, 3);
    assert_int_equal(param(cfg, "s_learner", "model_alpha")->kind, TT_SPACE_LOGUNIFORM);
    tt_config_free(cfg);

    /* merge leaves the preset alone; without drops keys. */
    assert_int_equal(load("local m = merge(presets.linear, { s_learner = { model_alpha = 1 } })\n"
                          "assert(presets.linear.s_learner.model_alpha.__tt_space == 'loguniform')\n"
                          "return { " GEN "estimators = without(presets.linear, 'diff_in_means', "
                          "'s_learner') }",
                          &cfg),
                     TT_OK);
    assert_int_equal(cfg->n_estimators, 1);
    assert_string_equal(cfg->estimators[0].plugin, "t_learner");
    tt_config_free(cfg);

    assert_int_equal(load("return { " GEN "estimators = presets.baseline }", &cfg), TT_OK);
    assert_int_equal(cfg->n_estimators, 1);
    tt_config_free(cfg);

    /* scripts/presets.lua runs after the prelude: the 14 non-forest plugins
     * at three levels, plus forests (none in cheap, causal_forest and
     * dr_forest in medium, all four in wide), and families. */
    static const char *const forests[] = {"causal_forest", "causal_forest_dml", "dr_forest",
                                          "multi_arm_causal_forest"};
    static const char *const levels[] = {"cheap", "medium", "wide"};
    static const int in_level[3][4] = {{0, 0, 0, 0}, {1, 0, 1, 0}, {1, 1, 1, 1}};
    for (int l = 0; l < 3; l++) {
        char src[160];
        snprintf(src, sizeof src, "return { " GEN "estimators = presets.%s }", levels[l]);
        assert_int_equal(load(src, &cfg), TT_OK);
        int n_forests = 0, has_dml = 0;
        for (int f = 0; f < 4; f++) {
            int found = 0;
            for (size_t i = 0; i < cfg->n_estimators; i++)
                found |= !strcmp(cfg->estimators[i].plugin, forests[f]);
            if (found != in_level[l][f])
                fail_msg("presets.%s: %s %s", levels[l], forests[f],
                         found ? "present" : "missing");
            n_forests += found;
        }
        for (size_t i = 0; i < cfg->n_estimators; i++)
            has_dml |= !strcmp(cfg->estimators[i].plugin, "dml_nonparam");
        assert_true(has_dml);
        assert_int_equal(cfg->n_estimators, 14 + (size_t)n_forests);
        /* The strong simple candidates are in every level, and every level
         * lets their slot reach gbm (cheap too: a small one). */
        static const char *const strong[][2] = {{"t_learner", "model_learner"},
                                                {"s_learner", "model_learner"},
                                                {"dr", "final_learner"},
                                                {"ra_learner", "final_learner"}};
        for (int s = 0; s < 4; s++) {
            const tt_space_param *sp = param(cfg, strong[s][0], strong[s][1]);
            assert_int_equal(sp->kind, TT_SPACE_CHOICE);
            int has_gbm = 0, has_ridge = 0;
            for (size_t o = 0; o < sp->n_options; o++) {
                const char *str = sp->options[o].str;
                has_gbm |= str && !strcmp(str, "gbm");
                has_ridge |= str && !strcmp(str, "ridge");
            }
            if (!has_gbm || !has_ridge)
                fail_msg("presets.%s: %s.%s lacks gbm or ridge", levels[l], strong[s][0],
                         strong[s][1]);
        }
        /* In name order: causal_forest comes before da_learner. */
        assert_string_equal(cfg->estimators[0].plugin, l ? "causal_forest" : "da_learner");
        tt_config_free(cfg);
    }
    /* A forest's space is its level's: 100-500 trees in medium. */
    assert_int_equal(load("return { " GEN "estimators = presets.medium }", &cfg), TT_OK);
    p = param(cfg, "causal_forest", "trees");
    assert_int_equal(p->kind, TT_SPACE_RANDINT);
    assert_true(p->lo == 100 && p->hi == 500);
    tt_config_free(cfg);
    assert_int_equal(load("return { " GEN "estimators = presets.dml.medium }", &cfg), TT_OK);
    assert_int_equal(cfg->n_estimators, 3);
    tt_config_free(cfg);
    assert_int_equal(load("return { " GEN "estimators = presets.forests.cheap }", &cfg), TT_OK);
    assert_int_equal(cfg->n_estimators, 4);
    tt_config_free(cfg);

    /* Without the prelude there are no presets. */
    assert_int_equal(tt_config_load_string("return { estimators = presets.linear }", "cfg.lua",
                                           NULL, &cfg, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_string_equal(err, "cfg.lua:1: attempt to index a nil value (global 'presets')");
}

/* intervals = { resamples, in_trials }: read, defaulted, and checked with
 * the config line. */
static void test_intervals(void **state)
{
    (void)state;
    tt_config *cfg = NULL;
    assert_int_equal(load("return { " GEN "estimators = { t_learner = {} } }", &cfg), TT_OK);
    assert_int_equal(cfg->interval_resamples, 0); /* 0 = each plugin's own default */
    assert_int_equal(cfg->intervals_in_trials, 0);
    tt_config_free(cfg);
    assert_int_equal(load("return { " GEN "intervals = { resamples = 40, in_trials = true },\n"
                          "  estimators = { t_learner = {} } }", &cfg),
                     TT_OK);
    assert_int_equal(cfg->interval_resamples, 40);
    assert_int_equal(cfg->intervals_in_trials, 1);
    tt_config_free(cfg);
    expect_error("return { " GEN "\n  intervals = { resamples = 1 },\n"
                 "  estimators = { t_learner = {} } }",
                 "cfg.lua:2: intervals.resamples: must be >= 2, got 1");
    expect_error_part("return { " GEN "intervals = { in_trials = 1 }, "
                      "estimators = { t_learner = {} } }", "intervals.in_trials");
    expect_error_part("return { " GEN "intervals = { bootstrap = 3 }, "
                      "estimators = { t_learner = {} } }", "unknown key");
}

static void test_missing_prelude(void **state)
{
    (void)state;
    tt_config *cfg = (tt_config *)1;
    assert_int_equal(tt_config_load_string("return {}", "cfg.lua", "/nonexistent/dir", &cfg, err,
                                           sizeof err),
                     TT_ERR_IO);
    assert_null(cfg);
    assert_non_null(strstr(err, "/nonexistent/dir/tautune.lua"));
}

static char *write_file(const char *dir, const char *name, const char *text)
{
    char *path;
    assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_load_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/tt_config_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = write_file(dir, "study.lua",
                            "return {\n"
                            "  data = { path = 'sub/d.csv', outcome = 'y', treatment = 't',\n"
                            "           control = 'none', x = {'a'} },\n"
                            "  estimators = { t_learner = {\n"
                            "    alpha = loguniform(0, 1) } } }\n");
    tt_config *cfg = NULL;
    assert_int_equal(tt_config_load(path, TT_SCRIPTS_DIR, &cfg, err, sizeof err), TT_ERR_CONFIG);
    char want[512];
    snprintf(want, sizeof want, "%s:5: estimators.t_learner.alpha: loguniform(): low must be > 0, got 0",
             path);
    assert_string_equal(err, want);
    unlink(path);
    free(path);

    path = write_file(dir, "study.lua",
                      "return {\n"
                      "  data = { path = 'sub/d.csv', outcome = 'y', treatment = 't',\n"
                      "           control = 'none', x = {'a'} },\n"
                      "  estimators = { diff_in_means = {} } }\n");
    assert_int_equal(tt_config_load(path, TT_SCRIPTS_DIR, &cfg, err, sizeof err), TT_OK);
    char expect[512];
    snprintf(expect, sizeof expect, "%s/sub/d.csv", dir);
    assert_string_equal(cfg->data_path, expect);
    assert_string_equal(cfg->name, "study");
    assert_string_equal(cfg->control, "none");
    tt_config_free(cfg);
    unlink(path);
    free(path);

    /* Absolute data paths are kept. */
    path = write_file(dir, "abs.lua",
                      "return { data = { path = '/data/d.csv', outcome = 'y', treatment = 't',\n"
                      "  control = 1, x = {'a'} }, estimators = { diff_in_means = {} } }\n");
    assert_int_equal(tt_config_load(path, NULL, &cfg, err, sizeof err), TT_OK);
    assert_string_equal(cfg->data_path, "/data/d.csv");
    assert_string_equal(cfg->control, "1");
    tt_config_free(cfg);
    unlink(path);
    free(path);

    cfg = (tt_config *)1;
    assert_int_equal(tt_config_load("/nonexistent/x.lua", NULL, &cfg, err, sizeof err), TT_ERR_IO);
    assert_null(cfg);
    assert_non_null(strstr(err, "/nonexistent/x.lua"));
    assert_int_equal(rmdir(dir), 0);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    tt_config *cfg = (tt_config *)1;
    assert_int_equal(tt_config_load_string(NULL, "x", NULL, &cfg, err, sizeof err), TT_ERR_INVALID);
    assert_null(cfg);
    assert_int_equal(tt_config_load_string("return {}", "x", NULL, NULL, err, sizeof err),
                     TT_ERR_INVALID);
    tt_config_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_file_config),
        cmocka_unit_test(test_generator_config),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_control_formatting),
        cmocka_unit_test(test_dsl_errors),
        cmocka_unit_test(test_dsl_line_is_the_call),
        cmocka_unit_test(test_dsl_values_readable_from_lua),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_final_fit),
        cmocka_unit_test(test_wrong_types_and_ranges),
        cmocka_unit_test(test_estimator_errors),
        cmocka_unit_test(test_data_errors),
        cmocka_unit_test(test_data_roles),
        cmocka_unit_test(test_line_search_skips_comments_and_nesting),
        cmocka_unit_test(test_script_errors),
        cmocka_unit_test(test_sandbox_globals),
        cmocka_unit_test(test_instruction_limit),
        cmocka_unit_test(test_memory_limit),
        cmocka_unit_test(test_presets),
        cmocka_unit_test(test_intervals),
        cmocka_unit_test(test_missing_prelude),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
