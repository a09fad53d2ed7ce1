/* test_config_search.c - the config's budget and search tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lua/config.h"

static char err[1024];

static tt_config *load(const char *lua)
{
    tt_config *cfg = NULL;
    if (tt_config_load_string(lua, "cfg.lua", NULL, &cfg, err, sizeof err) != TT_OK)
        return NULL;
    return cfg;
}

#define BASE "return { data = { generator = 'synthetic' }, estimators = { diff_in_means = {} },\n"

static void test_search_defaults(void **state)
{
    (void)state;
    tt_config *cfg = load(BASE "}");
    assert_non_null(cfg);
    assert_string_equal(cfg->searcher, "cfo");
    assert_false(cfg->cost_in_seconds);
    assert_int_equal(cfg->jobs, 0);
    assert_int_equal(cfg->memory_mb, -1);
    assert_true(cfg->trial_seconds == 0);
    tt_config_free(cfg);
}

static void test_search_table(void **state)
{
    (void)state;
    tt_config *cfg = load(BASE "search = { searcher = 'random', cost = 'seconds', jobs = 3,"
                               " memory_mb = 2048 },\n budget = { seconds = 20, trial_seconds = 4 } }");
    assert_non_null(cfg);
    assert_string_equal(cfg->searcher, "random");
    assert_true(cfg->cost_in_seconds);
    assert_int_equal(cfg->jobs, 3);
    assert_int_equal(cfg->memory_mb, 2048);
    assert_true(cfg->trial_seconds == 4);
    assert_true(cfg->budget_seconds == 20);
    tt_config_free(cfg);
}

static void expect_error(const char *lua, const char *want)
{
    tt_config *cfg = load(lua);
    if (cfg || !strstr(err, want)) {
        tt_config_free(cfg);
        fail_msg("expected error containing \"%s\", got \"%s\"", want, cfg ? "(none)" : err);
    }
}

static void test_search_errors(void **state)
{
    (void)state;
    expect_error(BASE "search = {\n searcher = 'grid' } }",
                 "cfg.lua:3: search.searcher: unknown value \"grid\" (expected one of: cfo, random)");
    expect_error(BASE "search = {\n cost = 'money' } }",
                 "cfg.lua:3: search.cost: unknown value \"money\"");
    expect_error(BASE "search = {\n jobs = 0 } }", "cfg.lua:3: search.jobs: must be >= 1");
    expect_error(BASE "search = {\n workers = 2 } }", "search");
    expect_error(BASE "budget = {\n trial_seconds = -1 } }",
                 "cfg.lua:3: budget.trial_seconds: must be > 0");
}

static void test_scoring_table(void **state)
{
    (void)state;
    tt_config *cfg = load(BASE "metric = 'erupt', scoring = { scores = {'energy', 'qini'},"
                               " costs = {0.5, 1}, clip = 0.1, erupt_policy = 'thompson',"
                               " qini_weighted = true, energy_standardize = false,"
                               " energy_max_rows = 5000 } }");
    assert_non_null(cfg);
    assert_string_equal(cfg->metric, "erupt");
    assert_int_equal(cfg->n_scores, 2);
    assert_string_equal(cfg->scores[1], "qini");
    assert_int_equal(cfg->n_costs, 2);
    assert_true(cfg->costs[0] == 0.5 && cfg->costs[1] == 1);
    assert_true(cfg->clip == 0.1);
    assert_true(cfg->erupt_thompson && cfg->qini_weighted && !cfg->energy_standardize);
    assert_int_equal(cfg->energy_max_rows, 5000);
    tt_config_free(cfg);

    cfg = load(BASE "}");
    assert_true(cfg->clip == 0.05 && cfg->energy_standardize && !cfg->erupt_thompson);
    assert_null(cfg->scores);
    /* Exact energy is O(rows^2): by default above 20,000 validation rows a
     * subsample; 0 asks for every row. */
    assert_int_equal(cfg->energy_max_rows, 20000);
    tt_config_free(cfg);
    cfg = load(BASE "scoring = { energy_max_rows = 0 } }");
    assert_int_equal(cfg->energy_max_rows, 0);
    tt_config_free(cfg);

    expect_error(BASE "scoring = {\n scores = {'energy', 'nrg'} } }",
                 "cfg.lua:3: scoring.scores: unknown score \"nrg\" (known: energy, psw_energy,");
    expect_error(BASE "scoring = {\n clip = 0.5 } }", "cfg.lua:3: scoring.clip: must be in [0, 0.5)");
    expect_error(BASE "scoring = {\n erupt_policy = 'best' } }",
                 "scoring.erupt_policy: unknown value \"best\" (expected one of: greedy, thompson)");
    expect_error(BASE "scoring = {\n costs = {1, 'x'} } }", "cfg.lua:3: scoring.costs[2]: expected a number");
}

static void test_nuisance_table(void **state)
{
    (void)state;
    tt_config *cfg = load(BASE "nuisance = { propensity = {'logistic', 'gbm'}, outcome = 'auto',"
                               " folds = 3, seconds = 1.5 } }");
    assert_non_null(cfg);
    assert_int_equal(cfg->n_nu_propensity, 2);
    assert_string_equal(cfg->nu_propensity[1], "gbm");
    assert_null(cfg->nu_outcome); /* auto */
    assert_int_equal(cfg->nu_folds, 3);
    assert_true(cfg->nu_seconds == 1.5);
    tt_config_free(cfg);
    cfg = load(BASE "nuisance = { outcome = 'forest' } }");
    assert_int_equal(cfg->n_nu_outcome, 1);
    tt_config_free(cfg);
    expect_error(BASE "nuisance = {\n propensity = 'svm' } }",
                 "cfg.lua:3: nuisance.propensity: unknown learner \"svm\" (learners: ridge,");
    expect_error(BASE "nuisance = {\n folds = 1 } }", "cfg.lua:3: nuisance.folds: must be >= 2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_defaults),
        cmocka_unit_test(test_search_table),
        cmocka_unit_test(test_search_errors),
        cmocka_unit_test(test_scoring_table),
        cmocka_unit_test(test_nuisance_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
