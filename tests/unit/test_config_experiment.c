/* test_config_experiment.c - the config's experiment = {...} table
 * (lua/config_experiment.c): defaults, the design as a list or by label,
 * estimators optional with it (required without), and each refusal naming
 * its line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "experiment/abtest.h"
#include "lua/config.h"

#define DATA "data = { path = 'a.csv', outcome = 'y', treatment = 't', control = '0' },\n"

static tt_config *load_ok(const char *src)
{
    char err[1024];
    tt_config *cfg = NULL;
    if (tt_config_load_string(src, "exp.lua", TT_SCRIPTS_DIR, &cfg, err, sizeof err) != TT_OK)
        fail_msg("refused: %s", err);
    return cfg;
}

static void refused(const char *src, const char *part)
{
    char err[1024];
    tt_config *cfg = NULL;
    assert_int_not_equal(tt_config_load_string(src, "exp.lua", TT_SCRIPTS_DIR, &cfg, err,
                                               sizeof err), TT_OK);
    assert_null(cfg);
    if (!strstr(err, part))
        fail_msg("message \"%s\" lacks \"%s\"", err, part);
}

static void test_defaults_and_list(void **state)
{
    (void)state;
    tt_config *c = load_ok("return { " DATA "experiment = { design = {1, 3} } }");
    assert_true(c->has_experiment);
    assert_int_equal(c->n_estimators, 0);
    assert_int_equal(c->n_exp_design, 2);
    assert_null(c->exp_design_labels);
    assert_true(c->exp_design[0] == 1 && c->exp_design[1] == 3);
    assert_true(c->exp_alpha == 0.05);
    assert_int_equal(c->exp_correction, TT_AB_HOLM);
    assert_int_equal(c->exp_resamples, 1000);
    assert_false(c->exp_search);
    assert_null(c->exp_outcomes);
    tt_config_free(c);
}

static void test_everything_by_label(void **state)
{
    (void)state;
    tt_config *c = load_ok("return { " DATA "experiment = { outcomes = {'y', 'z'},\n"
                           "  design = { ['No E-Mail'] = 1, [2] = 1 }, pre = 'h', alpha = 0.1,\n"
                           "  correction = 'bonferroni', search = true, resamples = 200 },\n"
                           "  estimators = { diff_in_means = {} } }");
    assert_int_equal(c->n_exp_outcomes, 2);
    assert_string_equal(c->exp_outcomes[1], "z");
    assert_int_equal(c->n_exp_design, 2);
    int named = 0, numbered = 0;
    for (size_t i = 0; i < 2; i++) {
        named += !strcmp(c->exp_design_labels[i], "No E-Mail");
        numbered += !strcmp(c->exp_design_labels[i], "2"); /* a number key reads as its text */
    }
    assert_int_equal(named + numbered, 2);
    assert_string_equal(c->exp_pre, "h");
    assert_true(c->exp_alpha == 0.1);
    assert_int_equal(c->exp_correction, TT_AB_BONFERRONI);
    assert_true(c->exp_search);
    assert_int_equal(c->exp_resamples, 200);
    assert_int_equal(c->n_estimators, 1);
    tt_config_free(c);
}

static void test_refusals(void **state)
{
    (void)state;
    /* Without experiment, run's rules hold: features and estimators. */
    refused("return { " DATA "}", "x (the effect-modifier columns) is required");
    refused("return { data = { path = 'a.csv', outcome = 'y', treatment = 't', control = '0',"
            " x = {'a'} } }", "experiment = {...} instead");
    refused("return { " DATA "experiment = { desing = {1, 1} } }", "desing");
    refused("return { " DATA "experiment = {\n design = {1, -1} } }",
            "exp.lua:3: experiment.design[2]: a design share must be a number > 0, got -1");
    refused("return { " DATA "experiment = { design = {} } }", "experiment.design: is empty");
    refused("return { " DATA "experiment = { design = 0.5 } }", "experiment.design");
    refused("return { " DATA "experiment = { alpha = 0.7 } }", "experiment.alpha: must be in (0, 0.5)");
    refused("return { " DATA "experiment = { correction = 'sidak' } }",
            "experiment.correction: unknown value \"sidak\"");
    refused("return { " DATA "experiment = { search = 'yes' } }", "experiment.search");
    refused("return { " DATA "experiment = { resamples = 5 } }", "experiment.resamples");
    refused("return { " DATA "experiment = { outcomes = {} } }", "experiment.outcomes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_list),
        cmocka_unit_test(test_everything_by_label),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
