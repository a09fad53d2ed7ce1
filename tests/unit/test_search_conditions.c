/* test_search_conditions.c - conditional parameters (ABI 1.5) through the
 * search: activity and canonical points, dims never searched, dedup on active
 * parameters, writers and resume; and the searcher learning from failures
 * (a failing choice value is pruned, a failing estimator gets fewer trials,
 * deterministically). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "lua/config.h"
#include "plugin/conditions.h"
#include "plugin/registry.h"
#include "report/results.h"
#include "report/trials_read.h"
#include "search/prune.h"
#include "search/search.h"
#include "search/space.h"
#include "test_open_plugin.h"
#include "test_problem.h"
#include "util/rng.h"

/* ---- an in-process estimator with a conditional schema ---------------------- */

enum { C_LEARNER, C_ALPHA, C_DEPTH, C_SHIFT, C_N };
static const char *const learners[] = {"lin", "tree", "broken", NULL};
static const char *const when_lin[] = {"lin", NULL};
static const char *const when_tree[] = {"tree", NULL};
static const tt_plugin_param cond_params[C_N] = {
    [C_LEARNER] = {.name = "learner", .kind = TT_PARAM_CHOICE, .default_value = 0,
                   .choices = learners},
    [C_ALPHA] = {.name = "alpha", .kind = TT_PARAM_LOG_REAL, .lo = 1e-3, .hi = 1e3,
                 .default_value = 1},
    [C_DEPTH] = {.name = "depth", .kind = TT_PARAM_INT, .lo = 1, .hi = 10, .default_value = 3},
    [C_SHIFT] = {.name = "shift", .kind = TT_PARAM_REAL, .lo = -3, .hi = 3, .default_value = 0},
};
static const tt_plugin_condition cond_table[] = {
    {"alpha", "learner", when_lin},
    {"depth", "learner", when_tree},
};

typedef struct inst {
    double shift;
    int n_arms, broken;
} inst;

static int c_create(const tt_plugin_host *host, const double *params, int n_arms, void **out,
                    char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    inst *f = host->alloc_zero(1, sizeof *f);
    f->shift = params[C_SHIFT];
    f->n_arms = n_arms;
    f->broken = params[C_LEARNER] == 2;
    *out = f;
    return 0;
}

static int c_fit(void *p, const tt_plugin_data *d, char *err, size_t errlen)
{
    (void)d;
    const inst *f = p;
    if (f->broken) {
        snprintf(err, errlen, "this learner always fails");
        return TT_ERR_DATA;
    }
    return 0;
}

static int c_effect(void *p, const tt_plugin_data *rows, double *out, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    const inst *f = p;
    for (size_t i = 0; i < rows->n * (size_t)(f->n_arms - 1); i++)
        out[i] = f->shift;
    return 0;
}

static void c_destroy(void *p)
{
    free(p);
}

static const tt_plugin_descriptor cond_desc = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = "cond", .version = "1", .capabilities = TT_PLUGIN_CAP_MULTI_ARM,
    .params = cond_params, .n_params = C_N,
    .create = c_create, .fit = c_fit, .effect = c_effect, .destroy = c_destroy,
    .conditions = cond_table, .n_conditions = 2,
};

/* Same schema, but its fit always fails. */
static int doomed_fit(void *p, const tt_plugin_data *d, char *err, size_t errlen)
{
    (void)p;
    (void)d;
    snprintf(err, errlen, "doomed");
    return TT_ERR_DATA;
}

static const tt_plugin_descriptor doomed_desc = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = "doomed", .version = "1", .capabilities = TT_PLUGIN_CAP_MULTI_ARM,
    .params = cond_params, .n_params = C_N,
    .create = c_create, .fit = doomed_fit, .effect = c_effect, .destroy = c_destroy,
    .conditions = cond_table, .n_conditions = 2,
};

static tt_config *config_from(const char *lua)
{
    char err[1024];
    tt_config *cfg = NULL;
    if (tt_config_load_string(lua, "test.lua", NULL, &cfg, err, sizeof err) != TT_OK)
        fail_msg("config: %s", err);
    return cfg;
}

/* ---- conditions on points ---------------------------------------------------- */

static void test_activity_and_canonical(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(tt_plugin_validate(&cond_desc, err, sizeof err), TT_OK);
    double p[C_N] = {1, 50, 7, 0.5}; /* tree: alpha inactive, depth active */
    assert_true(tt_param_active(&cond_desc, p, C_LEARNER));
    assert_false(tt_param_active(&cond_desc, p, C_ALPHA));
    assert_true(tt_param_active(&cond_desc, p, C_DEPTH));
    assert_true(tt_param_active(&cond_desc, p, C_SHIFT));
    tt_point_canonical(&cond_desc, p);
    assert_true(p[C_ALPHA] == 1 && p[C_DEPTH] == 7 && p[C_SHIFT] == 0.5);
    char text[128];
    tt_param_condition_text(&cond_desc, C_DEPTH, text, sizeof text);
    assert_string_equal(text, "only when learner is tree");
    tt_param_condition_text(&cond_desc, C_SHIFT, text, sizeof text);
    assert_string_equal(text, "");

    /* An ABI 1.4 descriptor has no table, whatever lies past its struct. */
    tt_plugin_descriptor old = cond_desc;
    old.abi_minor = 4;
    old.struct_size = TT_PLUGIN_DESCRIPTOR_SIZE_V1_4;
    size_t n = 9;
    assert_null(tt_plugin_conditions(&old, &n));
    assert_int_equal(n, 0);
    assert_true(tt_param_active(&old, p, C_ALPHA));
    assert_int_equal(tt_plugin_validate(&old, err, sizeof err), TT_OK);
}

/* Cycles need two choices; the fixtures on disk cover the other rejections. */
static void test_condition_cycle_rejected(void **state)
{
    (void)state;
    static const char *const ab[] = {"a", "b", NULL};
    static const char *const when_a[] = {"a", NULL};
    const tt_plugin_param ps[] = {
        {.name = "x", .kind = TT_PARAM_CHOICE, .choices = ab},
        {.name = "y", .kind = TT_PARAM_CHOICE, .choices = ab},
    };
    const tt_plugin_condition cyc[] = {{"x", "y", when_a}, {"y", "x", when_a}};
    tt_plugin_descriptor d = cond_desc;
    d.params = ps;
    d.n_params = 2;
    d.conditions = cyc;
    d.n_conditions = 2;
    char err[256];
    assert_int_equal(tt_plugin_validate(&d, err, sizeof err), TT_ERR_PLUGIN);
    assert_non_null(strstr(err, "conditions form a cycle through parameter 'x'"));
    d.n_conditions = 1; /* a chain is fine */
    assert_int_equal(tt_plugin_validate(&d, err, sizeof err), TT_OK);
}

/* ---- the space ---------------------------------------------------------------- */

static void test_conditional_dims_not_searched(void **state)
{
    (void)state;
    /* learner pinned to tree: alpha can never count, so it is not a dimension. */
    tt_config *cfg = config_from("return { data = { generator = 'synthetic' }, estimators = {"
                                 " cond = { learner = 'tree', alpha = loguniform(0.1, 10) } } }");
    tt_space_dim *dims;
    assert_int_equal(tt_space_dims(&cfg->estimators[0], &cond_desc, &dims), TT_OK);
    assert_int_equal(dims[C_ALPHA].kind, TT_DIM_FIXED);
    assert_int_equal(tt_space_free_dims(dims, C_N), 2); /* depth, shift */
    tt_space_dims_free(dims, C_N);
    tt_config_free(cfg);

    /* Free learner: samples are canonical, each active value varies. */
    cfg = config_from("return { data = { generator = 'synthetic' }, estimators = { cond = {} } }");
    tt_rng rng;
    tt_rng_seed(&rng, 3, "t");
    int alpha_moved = 0, depth_moved = 0;
    for (int i = 0; i < 500; i++) {
        double p[C_N];
        assert_int_equal(tt_space_sample(&cfg->estimators[0], &cond_desc, &rng, p), TT_OK);
        if (p[C_LEARNER] != 0)
            assert_true(p[C_ALPHA] == 1);
        else
            alpha_moved |= p[C_ALPHA] != 1;
        if (p[C_LEARNER] != 1)
            assert_true(p[C_DEPTH] == 3);
        else
            depth_moved |= p[C_DEPTH] != 3;
    }
    assert_true(alpha_moved && depth_moved);
    tt_config_free(cfg);
}

/* ---- the search loop ---------------------------------------------------------- */

typedef test_problem problem_fixture;

static int setup_problem(void **state)
{
    problem_fixture *f = calloc(1, sizeof *f);
    if (!f || test_problem_make(f, 400) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown_problem(void **state)
{
    test_problem_free(*state);
    free(*state);
    return 0;
}

static void run_search(problem_fixture *f, const char *lua, const tt_plugin_descriptor **descs,
                       long trials, const char *searcher, tt_search_outcome *out)
{
    tt_config *cfg = config_from(lua);
    tt_search_options opt = {.max_trials = trials, .seed = 11, .searcher = searcher};
    char err[256];
    assert_int_equal(tt_search_run(&f->problem, cfg, descs, &opt, NULL, NULL, out, err,
                                   sizeof err), TT_OK);
    tt_config_free(cfg);
}

/* Two choices of alpha under lin and two of depth under tree: four points,
 * not the 2 x 2 x 2 = 8 the coordinates alone would give. */
static void test_points_equal_on_active_params_are_one(void **state)
{
    static const char *const searchers[] = {"cfo", "random"};
    for (size_t k = 0; k < 2; k++) {
        tt_search_outcome out;
        const tt_plugin_descriptor *descs[] = {&cond_desc};
        run_search(*state,
                   "return { data = { generator = 'synthetic' }, estimators = { cond = {"
                   " learner = choice({'lin', 'tree'}), alpha = choice({0.1, 10}),"
                   " depth = choice({2, 5}), shift = 1 } } }",
                   descs, 100, searchers[k], &out);
        assert_true(out.exhausted);
        assert_int_equal(out.n_trials, 4);
        for (size_t i = 0; i < out.n_trials; i++) {
            const double *p = out.trials[i].point;
            assert_true(p[C_LEARNER] == 0 ? p[C_DEPTH] == 3 : p[C_ALPHA] == 1);
        }
        tt_search_outcome_free(&out);
    }
}

/* trials.jsonl lines and results.json params: the active parameters only. */
static void test_writers_omit_inactive(void **state)
{
    (void)state;
    double p[C_N] = {1, 1, 6, 0.25};
    tt_trial_result r = {.id = 1, .desc = &cond_desc, .point = p, .status = TT_TRIAL_OK,
                         .objective = 1, .ate = 0.25};
    cJSON *o = tt_trial_to_json(&r);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(o, "params");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(params, "learner"));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(params, "depth"));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(params, "shift"));
    assert_null(cJSON_GetObjectItemCaseSensitive(params, "alpha"));
    assert_int_equal(cJSON_GetArraySize(params), 3);
    cJSON_Delete(o);
}

/* Resume reads lines that omit inactive parameters and the older lines that
 * list them all (canonicalised), and still refuses a missing active one. */
static void test_resume_reads_both_forms(void **state)
{
    (void)state;
    char path[] = "/tmp/tt_cond_trialsXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fputs("{\"id\":1,\"estimator\":\"cond\",\"params\":{\"learner\":\"tree\",\"alpha\":50,"
          "\"depth\":7,\"shift\":0.5},\"status\":\"ok\",\"seconds\":0.1,\"objective\":2}\n"
          "{\"id\":2,\"estimator\":\"cond\",\"params\":{\"learner\":\"tree\",\"depth\":7,"
          "\"shift\":0.5},\"status\":\"failed\",\"error\":\"x\",\"seconds\":0.1}\n",
          fp);
    fclose(fp);
    tt_config *cfg = config_from("return { data = { generator = 'synthetic' }, estimators = {"
                                 " cond = {} } }");
    const tt_plugin_descriptor *descs[] = {&cond_desc};
    tt_trial_result *trials;
    size_t n;
    tt_trials_tail tail;
    char err[512];
    assert_int_equal(tt_trials_read(path, cfg, descs, &trials, &n, &tail, err, sizeof err),
                     TT_OK);
    assert_int_equal(n, 2);
    assert_true(trials[0].point[C_ALPHA] == 1); /* the old form's 50 was inactive */
    assert_true(tt_space_point_equal(trials[0].point, trials[1].point, C_N));
    for (size_t i = 0; i < n; i++)
        tt_trial_result_clear(&trials[i]);
    free(trials);

    fp = fopen(path, "w");
    fputs("{\"id\":1,\"estimator\":\"cond\",\"params\":{\"learner\":\"tree\",\"shift\":0.5},"
          "\"status\":\"ok\"}\n",
          fp);
    fclose(fp);
    assert_int_equal(tt_trials_read(path, cfg, descs, &trials, &n, &tail, err, sizeof err),
                     TT_ERR_DATA);
    assert_non_null(strstr(err, "parameter 'depth' of cond is missing"));
    unlink(path);
    tt_config_free(cfg);
}

/* ---- learning from failures ------------------------------------------------- */

static size_t count_learner(const tt_search_outcome *out, double learner)
{
    size_t n = 0;
    for (size_t i = 0; i < out->n_trials; i++)
        n += out->trials[i].estimator == 0 && out->trials[i].point[C_LEARNER] == learner;
    return n;
}

/* learner = broken fails every time; after TT_PRUNE_FAILS failures it is not
 * proposed again (unpruned, about a third of 60 trials would be broken). */
static void test_failing_choice_value_is_pruned(void **state)
{
    static const char *const searchers[] = {"cfo", "random"};
    for (size_t k = 0; k < 2; k++) {
        tt_search_outcome out;
        const tt_plugin_descriptor *descs[] = {&cond_desc};
        run_search(*state,
                   "return { data = { generator = 'synthetic' }, estimators = { cond = {} } }",
                   descs, 60, searchers[k], &out);
        assert_int_equal(out.n_trials, 60);
        size_t broken = count_learner(&out, 2), failed = 0;
        for (size_t i = 0; i < out.n_trials; i++)
            failed += out.trials[i].status != TT_TRIAL_OK;
        assert_int_equal(failed, broken);
        assert_true(broken >= 1 && broken <= 2);
        /* The last broken trial comes before the other values ran out. */
        assert_true(count_learner(&out, 0) > 10 && count_learner(&out, 1) > 10);
        tt_search_outcome_free(&out);
    }
}

/* Blame goes to a point's only unproven value; a timeout prunes at once. */
static void test_prune_blame_and_timeouts(void **state)
{
    (void)state;
    tt_config *cfg = config_from("return { data = { generator = 'synthetic' }, estimators = {"
                                 " cond = {} } }");
    tt_space_dim *dims;
    assert_int_equal(tt_space_dims(&cfg->estimators[0], &cond_desc, &dims), TT_OK);
    tt_prune *p = tt_prune_new(&cond_desc, dims);
    assert_non_null(p);
    double lin[C_N] = {0, 1, 3, 0}, tree[C_N] = {1, 1, 3, 0}, broken[C_N] = {2, 1, 3, 0};
    tt_prune_observe(p, lin, TT_TRIAL_OK);
    tt_prune_observe(p, broken, TT_TRIAL_FAILED);
    assert_false(tt_prune_is_pruned(p, C_LEARNER, 2)); /* one failure is not enough */
    tt_prune_observe(p, broken, TT_TRIAL_FAILED);
    assert_true(tt_prune_is_pruned(p, C_LEARNER, 2));
    tt_prune_observe(p, tree, TT_TRIAL_TIMEOUT);
    assert_true(tt_prune_is_pruned(p, C_LEARNER, 1));
    assert_false(tt_prune_is_pruned(p, C_LEARNER, 0)); /* it ran */
    tt_rng rng;
    tt_rng_seed(&rng, 1, "t");
    double q[C_N] = {2, 1, 3, 0.5};
    tt_prune_repair(p, &rng, q); /* lin is the only value left */
    assert_true(q[C_LEARNER] == 0 && q[C_SHIFT] == 0.5);
    tt_prune_free(p);
    tt_space_dims_free(dims, C_N);
    tt_config_free(cfg);
}

/* An estimator whose every trial fails gets a shrinking share; the same
 * seed gives the same sequence of proposals. */
static void test_failing_estimator_gets_fewer_trials(void **state)
{
    const char *lua = "return { data = { generator = 'synthetic' }, estimators = {"
                      " cond = { learner = choice({'lin', 'tree'}) },"
                      " doomed = { learner = choice({'lin', 'tree'}) } } }";
    const tt_plugin_descriptor *descs[] = {&cond_desc, &doomed_desc};
    tt_search_outcome a, b;
    run_search(*state, lua, descs, 80, "cfo", &a);
    run_search(*state, lua, descs, 80, "cfo", &b);
    size_t per[2] = {0, 0};
    assert_int_equal(a.n_trials, b.n_trials);
    for (size_t i = 0; i < a.n_trials; i++) {
        per[a.trials[i].estimator]++;
        assert_int_equal(a.trials[i].estimator, b.trials[i].estimator);
        assert_true(tt_space_point_equal(a.trials[i].point, b.trials[i].point, C_N));
        assert_int_equal(a.trials[i].status, b.trials[i].status);
    }
    print_message("working %zu trials, failing %zu trials\n", per[0], per[1]);
    assert_true(per[1] >= 1);
    assert_true(4 * per[1] < per[0]);
    tt_search_outcome_free(&a);
    tt_search_outcome_free(&b);
}

/* The built-in slot plugins declare their slots' conditions: a ridge slot
 * has no trees, a gbm slot no alpha, and only linear slots a featurizer. */
static void test_builtin_slots_are_conditional(void **state)
{
    (void)state;
    static const char *const names[] = {"t_learner", "s_learner", "x_learner", "da_learner",
                                        "dr", "dml_nonparam", "transformed_outcome"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        plugin pl = open_plugin(names[k]);
        char err[512];
        assert_int_equal(tt_plugin_validate(pl.d, err, sizeof err), TT_OK);
        size_t n;
        assert_non_null(tt_plugin_conditions(pl.d, &n));
        assert_int_equal(n % 6, 0);
        double p[64] = {0};
        for (size_t i = 0; i < pl.d->n_params; i++)
            p[i] = pl.d->params[i].default_value;
        for (size_t i = 0; i < pl.d->n_params; i++) {
            const char *nm = pl.d->params[i].name;
            int ridge_active = tt_param_active(pl.d, p, i);
            if (strstr(nm, "_trees") || strstr(nm, "_depth") || strstr(nm, "_learning_rate") ||
                strstr(nm, "_min_leaf"))
                assert_false(ridge_active);
            else
                assert_true(ridge_active);
        }
        close_plugin(&pl);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activity_and_canonical),
        cmocka_unit_test(test_condition_cycle_rejected),
        cmocka_unit_test(test_builtin_slots_are_conditional),
        cmocka_unit_test(test_conditional_dims_not_searched),
        cmocka_unit_test_setup_teardown(test_points_equal_on_active_params_are_one,
                                        setup_problem, teardown_problem),
        cmocka_unit_test(test_writers_omit_inactive),
        cmocka_unit_test(test_resume_reads_both_forms),
        cmocka_unit_test_setup_teardown(test_failing_choice_value_is_pruned, setup_problem,
                                        teardown_problem),
        cmocka_unit_test(test_prune_blame_and_timeouts),
        cmocka_unit_test_setup_teardown(test_failing_estimator_gets_fewer_trials,
                                        setup_problem, teardown_problem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
