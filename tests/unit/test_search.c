/* test_search.c - search spaces, trial evaluation and the random search loop. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data/split.h"
#include "data/synth.h"
#include "lua/config.h"
#include "score/energy.h"
#include "score/scores.h"
#include "search/search.h"
#include "search/space.h"
#include "test_problem.h"
#include "util/rng.h"

/* ---- an in-process estimator: constant effect = param "shift" ---------------- */

static const char *const kinds[] = {"plain", "fancy", NULL};
static const tt_plugin_param fake_params[] = {
    {.name = "shift", .kind = TT_PARAM_REAL, .lo = -5, .hi = 5, .default_value = 0},
    {.name = "depth", .kind = TT_PARAM_INT, .lo = 1, .hi = 10, .default_value = 3},
    {.name = "scale", .kind = TT_PARAM_LOG_REAL, .lo = 1e-3, .hi = 1e3, .default_value = 1},
    {.name = "flag", .kind = TT_PARAM_BOOL, .lo = 0, .hi = 1, .default_value = 1},
    {.name = "kind", .kind = TT_PARAM_CHOICE, .default_value = 1, .choices = kinds},
};

typedef struct fake {
    double shift;
    int n_arms;
} fake;

/* Behaviour switches for failure tests. */
static int g_fail_fit, g_nan_effect, g_create_calls, g_destroy_calls;

static int fake_create(const tt_plugin_host *host, const double *params, int n_arms, void **out,
                       char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    fake *f = host->alloc_zero(1, sizeof *f);
    f->shift = params[0];
    f->n_arms = n_arms;
    g_create_calls++;
    *out = f;
    return 0;
}

static int fake_fit(void *inst, const tt_plugin_data *d, char *err, size_t errlen)
{
    (void)inst;
    (void)d;
    if (g_fail_fit) {
        snprintf(err, errlen, "deliberate failure");
        return TT_ERR_DATA;
    }
    return 0;
}

static int fake_effect(void *inst, const tt_plugin_data *rows, double *out, char *err,
                       size_t errlen)
{
    (void)err;
    (void)errlen;
    fake *f = inst;
    for (size_t i = 0; i < rows->n * (size_t)(f->n_arms - 1); i++)
        out[i] = f->shift;
    if (g_nan_effect)
        out[rows->n / 2] = NAN;
    return 0;
}

static void fake_destroy(void *inst)
{
    g_destroy_calls++;
    free(inst);
}

static const tt_plugin_descriptor fake_desc = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = "fake",
    .version = "1",
    .capabilities = TT_PLUGIN_CAP_MULTI_ARM,
    .params = fake_params,
    .n_params = 5,
    .create = fake_create,
    .fit = fake_fit,
    .effect = fake_effect,
    .destroy = fake_destroy,
};

/* ---- helpers ---------------------------------------------------------------- */

static tt_config *config_from(const char *lua)
{
    char err[1024];
    tt_config *cfg = NULL;
    tt_status st = tt_config_load_string(lua, "test.lua", NULL, &cfg, err, sizeof err);
    if (st != TT_OK)
        fail_msg("config: %s", err);
    return cfg;
}

static tt_status check_space(const char *lua, char *err, size_t errlen)
{
    tt_config *cfg = config_from(lua);
    tt_status st = tt_space_check(&cfg->estimators[0], &fake_desc, "test.lua", err, errlen);
    tt_config_free(cfg);
    return st;
}

/* ---- space -------------------------------------------------------------------- */

static void test_space_check_accepts_valid(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(check_space("return { data = { generator = 'synthetic' }, estimators = { fake = {"
                                 " shift = uniform(-1, 1), depth = randint(2, 4),"
                                 " scale = loguniform(0.01, 10), flag = false,"
                                 " kind = choice({'plain', 'fancy'}) } } }",
                                 err, sizeof err),
                     TT_OK);
}

static void test_space_check_errors(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(check_space("return { data = { generator = 'synthetic' },\n"
                                 "estimators = { fake = {\n shfit = 1 } } }",
                                 err, sizeof err),
                     TT_ERR_CONFIG);
    assert_non_null(strstr(err, "no parameter 'shfit'"));
    assert_non_null(strstr(err, "shift, depth, scale, flag, kind"));

    assert_int_equal(check_space("return { data = { generator = 'synthetic' },\n"
                                 "estimators = { fake = {\n shift = uniform(-9, 1) } } }",
                                 err, sizeof err),
                     TT_ERR_CONFIG);
    assert_non_null(strstr(err, "test.lua:3: estimators.fake.shift"));
    assert_non_null(strstr(err, "outside the plugin's range"));

    assert_int_equal(check_space("return { data = { generator = 'synthetic' }, estimators = { fake = {"
                                 " depth = uniform(1, 3) } } }", err, sizeof err),
                     TT_ERR_CONFIG);
    assert_non_null(strstr(err, "needs randint()"));

    assert_int_equal(check_space("return { data = { generator = 'synthetic' }, estimators = { fake = {"
                                 " depth = 2.5 } } }", err, sizeof err),
                     TT_ERR_CONFIG);
    assert_non_null(strstr(err, "expected an integer"));

    assert_int_equal(check_space("return { data = { generator = 'synthetic' }, estimators = { fake = {"
                                 " kind = choice({'plain', 'weird'}) } } }", err, sizeof err),
                     TT_ERR_CONFIG);
    assert_non_null(strstr(err, "'weird' is not a choice"));

    assert_int_equal(check_space("return { data = { generator = 'synthetic' }, estimators = { fake = {"
                                 " flag = 3 } } }", err, sizeof err),
                     TT_ERR_CONFIG);
    assert_non_null(strstr(err, "expected true or false"));
}

static void test_space_default_point(void **state)
{
    (void)state;
    tt_config *cfg = config_from("return { data = { generator = 'synthetic' }, estimators = { fake = {"
                                 " shift = uniform(1, 3), scale = loguniform(10, 1000),"
                                 " flag = false, kind = choice({'plain'}) } } }");
    double p[5];
    tt_space_default_point(&cfg->estimators[0], &fake_desc, p);
    assert_true(p[0] == 2.0);             /* default 0 outside [1, 3]: centre */
    assert_true(p[1] == 3.0);             /* unmentioned: schema default */
    assert_true(fabs(p[2] - 100.0) < 1e-9); /* geometric centre of [10, 1000] */
    assert_true(p[3] == 0.0);             /* fixed by the config */
    assert_true(p[4] == 0.0);             /* default "fancy" not listed: first option */
    tt_config_free(cfg);
}

static void test_space_sample_stays_in_space(void **state)
{
    (void)state;
    tt_config *cfg = config_from("return { data = { generator = 'synthetic' }, estimators = { fake = {"
                                 " shift = uniform(-1, 1), depth = randint(2, 4), flag = true } } }");
    tt_rng rng;
    tt_rng_seed(&rng, 5, "test");
    int depth_seen[11] = {0}, kind_seen[2] = {0};
    double scale_min = INFINITY, scale_max = 0;
    for (int i = 0; i < 4000; i++) {
        double p[5];
        tt_space_sample(&cfg->estimators[0], &fake_desc, &rng, p);
        assert_true(p[0] >= -1 && p[0] <= 1);
        assert_true(p[1] == floor(p[1]) && p[1] >= 2 && p[1] <= 4);
        depth_seen[(int)p[1]]++;
        assert_true(p[2] >= 1e-3 && p[2] <= 1e3); /* unmentioned: schema range */
        scale_min = fmin(scale_min, p[2]);
        scale_max = fmax(scale_max, p[2]);
        assert_true(p[3] == 1.0);
        assert_true(p[4] == 0.0 || p[4] == 1.0);
        kind_seen[(int)p[4]]++;
    }
    /* randint is inclusive at both ends; log-real spreads over decades. */
    assert_true(depth_seen[2] > 1000 && depth_seen[3] > 1000 && depth_seen[4] > 1000);
    assert_true(scale_min < 1e-2 && scale_max > 1e2);
    assert_true(kind_seen[0] > 1500 && kind_seen[1] > 1500);
    tt_config_free(cfg);
}

/* ---- trial and search ------------------------------------------------------ */

typedef test_problem problem_fixture;

static int setup_problem(void **state)
{
    problem_fixture *f = calloc(1, sizeof *f);
    if (test_problem_make(f, 600) != 0)
        return -1;
    g_fail_fit = g_nan_effect = g_create_calls = g_destroy_calls = 0;
    *state = f;
    return 0;
}

static int teardown_problem(void **state)
{
    test_problem_free(*state);
    free(*state);
    return 0;
}

static void test_trial_scores_match_direct_computation(void **state)
{
    problem_fixture *f = *state;
    double point[5] = {1.25, 3, 1, 1, 1};
    tt_trial_result r = {0};
    tt_trial_evaluate(&f->problem, &fake_desc, point, 9, 0, NULL, &r);
    assert_int_equal(r.status, TT_TRIAL_OK);
    assert_int_equal(g_create_calls, 1);
    assert_int_equal(g_destroy_calls, 1);

    size_t n = f->valid->n;
    double *tau = malloc(n * sizeof *tau), energy, sq = 0, mean_tau = 0;
    for (size_t i = 0; i < n; i++) {
        tau[i] = 1.25;
        sq += (1.25 - f->valid->tau[i]) * (1.25 - f->valid->tau[i]);
        mean_tau += f->valid->tau[i];
    }
    mean_tau /= (double)n;
    char err[256];
    assert_int_equal(tt_energy_score(n, f->valid->p_x, f->valid->x, f->valid->y, f->valid->t, 2,
                                     tau, 1, &energy, err, sizeof err), TT_OK);
    assert_true(r.objective == energy);
    assert_true(tt_trial_find_score(&r, "energy")->value == energy);
    assert_true(fabs(tt_trial_find_score(&r, "pehe")->value - sqrt(sq / (double)n)) < 1e-12);
    assert_true(fabs(tt_trial_find_score(&r, "ate_error")->value - fabs(1.25 - mean_tau)) < 1e-12);
    assert_true(r.ate == 1.25);
    /* The effects come back with the result (for ensembles and cate.csv). */
    assert_int_equal(r.n_effects, n);
    for (size_t i = 0; i < n; i++)
        assert_true(r.effects[i] == 1.25);
    tt_trial_result_clear(&r);
    free(tau);
}

static void test_trial_failures_are_recorded(void **state)
{
    problem_fixture *f = *state;
    double point[5] = {0, 3, 1, 1, 1};
    tt_trial_result r = {0};
    g_fail_fit = 1;
    tt_trial_evaluate(&f->problem, &fake_desc, point, 9, 0, NULL, &r);
    assert_int_equal(r.status, TT_TRIAL_FAILED);
    assert_non_null(strstr(r.error, "fit: deliberate failure"));
    assert_true(isnan(r.objective));
    assert_int_equal(g_destroy_calls, 1); /* the instance is freed on failure too */
    tt_trial_result_clear(&r);

    g_fail_fit = 0;
    g_nan_effect = 1;
    tt_trial_evaluate(&f->problem, &fake_desc, point, 9, 0, NULL, &r);
    assert_int_equal(r.status, TT_TRIAL_FAILED);
    assert_non_null(strstr(r.error, "non-finite effect"));
    tt_trial_result_clear(&r);
}

static tt_config *search_config(const char *budget)
{
    char lua[512];
    snprintf(lua, sizeof lua,
             "return { data = { generator = 'synthetic' }, budget = { %s },"
             " estimators = { fake = { shift = uniform(-3, 3), kind = 'plain' } } }",
             budget);
    return config_from(lua);
}

static int count_new(void *ctx, const tt_trial_result *r)
{
    size_t *n = ctx;
    (*n)++;
    assert_true(r->id > 4); /* earlier trials are not reported again */
    return 0;
}

static int count_sink(void *ctx, const tt_trial_result *r)
{
    size_t *n = ctx;
    (*n)++;
    assert_int_equal((size_t)r->id, *n); /* in order, 1-based */
    return 0;
}

static void test_search_cap_defaults_first_and_best(void **state)
{
    problem_fixture *f = *state;
    tt_config *cfg = search_config("trials = 25");
    const tt_plugin_descriptor *descs[] = {&fake_desc};
    tt_search_options opt = {.max_trials = cfg->max_trials, .seed = 4};
    tt_search_outcome out;
    size_t seen = 0;
    char err[256];
    assert_int_equal(tt_search_run(&f->problem, cfg, descs, &opt, count_sink, &seen, &out, err,
                                   sizeof err), TT_OK);
    assert_int_equal(out.n_trials, 25);
    assert_int_equal(seen, 25);
    assert_true(out.trials[0].is_default);
    assert_true(out.trials[0].point[0] == 0.0); /* schema default inside the range */
    assert_true(out.trials[0].point[4] == 0.0); /* fixed by the config */
    /* best is the minimum objective over the trials (brute force). */
    size_t arg = 0;
    for (size_t i = 1; i < out.n_trials; i++)
        if (out.trials[i].objective < out.trials[arg].objective)
            arg = i;
    assert_int_equal((size_t)out.best, arg);
    assert_false(out.interrupted);

    /* Same seed, same points; another seed, other points. */
    tt_search_outcome again, other;
    assert_int_equal(tt_search_run(&f->problem, cfg, descs, &opt, NULL, NULL, &again, err,
                                   sizeof err), TT_OK);
    opt.seed = 5;
    assert_int_equal(tt_search_run(&f->problem, cfg, descs, &opt, NULL, NULL, &other, err,
                                   sizeof err), TT_OK);
    int differs = 0;
    for (size_t i = 0; i < out.n_trials; i++) {
        assert_true(out.trials[i].point[0] == again.trials[i].point[0]);
        assert_true(out.trials[i].objective == again.trials[i].objective);
        differs |= out.trials[i].point[0] != other.trials[i].point[0];
    }
    assert_true(differs);
    tt_search_outcome_free(&out);
    tt_search_outcome_free(&again);
    tt_search_outcome_free(&other);
    tt_config_free(cfg);
}

static void test_search_stops_on_flag_and_deadline(void **state)
{
    problem_fixture *f = *state;
    tt_config *cfg = search_config("seconds = 100");
    const tt_plugin_descriptor *descs[] = {&fake_desc};
    volatile sig_atomic_t stop = 1;
    tt_search_options opt = {.seed = 4, .stop_flag = &stop};
    tt_search_outcome out;
    char err[256];
    assert_int_equal(tt_search_run(&f->problem, cfg, descs, &opt, NULL, NULL, &out, err,
                                   sizeof err), TT_OK);
    assert_int_equal(out.n_trials, 0);
    assert_true(out.interrupted);
    assert_int_equal(out.best, -1);
    tt_search_outcome_free(&out);

    /* A deadline already in the past: nothing runs. */
    stop = 0;
    opt.deadline = 1e-9;
    assert_int_equal(tt_search_run(&f->problem, cfg, descs, &opt, NULL, NULL, &out, err,
                                   sizeof err), TT_OK);
    assert_int_equal(out.n_trials, 0);
    assert_false(out.interrupted);
    tt_search_outcome_free(&out);
    tt_config_free(cfg);
}

static void test_search_all_failed_has_no_best(void **state)
{
    problem_fixture *f = *state;
    tt_config *cfg = search_config("trials = 5");
    const tt_plugin_descriptor *descs[] = {&fake_desc};
    tt_search_options opt = {.max_trials = 5, .seed = 4};
    tt_search_outcome out;
    char err[256];
    g_fail_fit = 1;
    assert_int_equal(tt_search_run(&f->problem, cfg, descs, &opt, NULL, NULL, &out, err,
                                   sizeof err), TT_OK);
    assert_int_equal(out.n_trials, 5);
    assert_int_equal(out.best, -1); /* a failure never wins */
    for (size_t i = 0; i < out.n_trials; i++)
        assert_int_equal(out.trials[i].status, TT_TRIAL_FAILED);
    tt_search_outcome_free(&out);
    tt_config_free(cfg);
}

static void test_search_stops_when_space_exhausted(void **state)
{
    problem_fixture *f = *state;
    /* Every parameter fixed but one bool: two points in all. */
    tt_config *cfg = config_from("return { data = { generator = 'synthetic' }, budget = { trials = 50 },"
                                 " estimators = { fake = { shift = 1, depth = 2, scale = 1,"
                                 " kind = 'plain' } } }");
    const tt_plugin_descriptor *descs[] = {&fake_desc};
    tt_search_options opt = {.max_trials = 50, .seed = 4};
    tt_search_outcome out;
    char err[256];
    assert_int_equal(tt_search_run(&f->problem, cfg, descs, &opt, NULL, NULL, &out, err,
                                   sizeof err), TT_OK);
    assert_int_equal(out.n_trials, 2);
    assert_true(out.exhausted);
    assert_true(out.trials[0].point[3] != out.trials[1].point[3]);
    assert_int_equal(out.trials[1].id, 2);
    tt_search_outcome_free(&out);
    tt_config_free(cfg);
}

static void test_search_resumes_from_prior_trials(void **state)
{
    problem_fixture *f = *state;
    tt_config *cfg = search_config("trials = 10");
    const tt_plugin_descriptor *descs[] = {&fake_desc};
    tt_search_options opt = {.max_trials = 4, .seed = 8};
    tt_search_outcome first, resumed;
    char err[256];
    assert_int_equal(tt_search_run(&f->problem, cfg, descs, &opt, NULL, NULL, &first, err,
                                   sizeof err), TT_OK);
    assert_int_equal(first.n_trials, 4);
    g_create_calls = 0;
    opt.max_trials = 10;
    opt.prior = first.trials;
    opt.n_prior = first.n_trials;
    size_t seen = 0;
    assert_int_equal(tt_search_run(&f->problem, cfg, descs, &opt, count_new, &seen, &resumed, err,
                                   sizeof err), TT_OK);
    /* The cap counts the earlier trials; only the new ones run and reach the sink. */
    assert_int_equal(resumed.n_trials, 10);
    assert_int_equal(g_create_calls, 6);
    assert_int_equal(seen, 6);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(resumed.trials[i].id, i + 1);
        if (i < 4)
            assert_true(resumed.trials[i].point[0] == first.trials[i].point[0] &&
                        resumed.trials[i].objective == first.trials[i].objective);
        for (size_t j = 0; j < i; j++) /* nothing tried twice */
            assert_false(tt_space_point_equal(resumed.trials[i].point, resumed.trials[j].point, 5));
    }
    tt_search_outcome_free(&first);
    tt_search_outcome_free(&resumed);
    tt_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_space_check_accepts_valid),
        cmocka_unit_test(test_space_check_errors),
        cmocka_unit_test(test_space_default_point),
        cmocka_unit_test(test_space_sample_stays_in_space),
        cmocka_unit_test_setup_teardown(test_trial_scores_match_direct_computation, setup_problem,
                                        teardown_problem),
        cmocka_unit_test_setup_teardown(test_trial_failures_are_recorded, setup_problem,
                                        teardown_problem),
        cmocka_unit_test_setup_teardown(test_search_cap_defaults_first_and_best, setup_problem,
                                        teardown_problem),
        cmocka_unit_test_setup_teardown(test_search_stops_on_flag_and_deadline, setup_problem,
                                        teardown_problem),
        cmocka_unit_test_setup_teardown(test_search_all_failed_has_no_best, setup_problem,
                                        teardown_problem),
        cmocka_unit_test_setup_teardown(test_search_stops_when_space_exhausted, setup_problem,
                                        teardown_problem),
        cmocka_unit_test_setup_teardown(test_search_resumes_from_prior_trials, setup_problem,
                                        teardown_problem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
