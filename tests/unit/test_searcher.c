/* test_searcher.c - the unit-cube view of a space, and the random and
 * cost-frugal searchers on objectives with a known optimum. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lua/config.h"
#include "search/searcher.h"
#include "search/space.h"
#include "util/rng.h"

static const char *const modes[] = {"a", "b", "c", NULL};
static const tt_plugin_param bowl_params[] = {
    {.name = "alpha", .kind = TT_PARAM_LOG_REAL, .lo = 1e-4, .hi = 1e4, .default_value = 1},
    {.name = "depth", .kind = TT_PARAM_INT, .lo = 1, .hi = 20, .default_value = 2},
    {.name = "mode", .kind = TT_PARAM_CHOICE, .default_value = 0, .choices = modes},
    {.name = "shift", .kind = TT_PARAM_REAL, .lo = -1, .hi = 1, .default_value = 0},
};
static const tt_plugin_descriptor bowl = {
    TT_PLUGIN_DESCRIPTOR_HEADER, .name = "bowl", .params = bowl_params, .n_params = 4,
};
static const tt_plugin_descriptor flat = {TT_PLUGIN_DESCRIPTOR_HEADER, .name = "flat"};

/* Minimum 0 at alpha = 10^1.3, depth = 7, mode = "c", shift = 0.3. */
static double bowl_objective(const double *p)
{
    double a = log10(p[0]) - 1.3, d = (p[1] - 7) / 5.0, s = p[3] - 0.3;
    return a * a + d * d + (p[2] == 2 ? 0.0 : 0.5) + s * s;
}

static tt_config *config_from(const char *lua)
{
    char err[512];
    tt_config *cfg = NULL;
    if (tt_config_load_string(lua, "t.lua", NULL, &cfg, err, sizeof err) != TT_OK)
        fail_msg("%s", err);
    return cfg;
}

static void test_unit_cube_round_trip(void **state)
{
    (void)state;
    tt_config *cfg = config_from("return { data = { generator = 'synthetic' }, estimators = {"
                                 " bowl = { mode = choice({'b', 'c'}), depth = randint(3, 5) } } }");
    tt_space_dim *dims;
    assert_int_equal(tt_space_dims(&cfg->estimators[0], &bowl, &dims), TT_OK);
    assert_int_equal(tt_space_free_dims(dims, 4), 4);
    assert_int_equal(dims[1].kind, TT_DIM_INT);
    assert_int_equal(dims[2].kind, TT_DIM_CATEGORY);
    assert_int_equal(dims[2].n_values, 2);
    tt_rng rng;
    tt_rng_seed(&rng, 1, "t");
    int depth_seen[6] = {0};
    for (int i = 0; i < 3000; i++) {
        double u[4], p[4], u2[4], p2[4];
        for (int k = 0; k < 4; k++)
            u[k] = tt_rng_uniform(&rng);
        tt_space_from_unit(dims, 4, u, p);
        assert_true(p[0] >= 1e-4 && p[0] <= 1e4);
        assert_true(p[1] >= 3 && p[1] <= 5 && p[1] == floor(p[1]));
        assert_true(p[2] == 1 || p[2] == 2); /* "b" and "c" are choices 1 and 2 */
        depth_seen[(int)p[1]]++;
        tt_space_to_unit(dims, 4, p, u2);
        tt_space_from_unit(dims, 4, u2, p2);
        assert_true(p2[1] == p[1] && p2[2] == p[2]);
        assert_true(fabs(p2[0] - p[0]) <= 1e-9 * p[0] && fabs(p2[3] - p[3]) < 1e-12);
    }
    /* Every integer gets an equal share, the end points included. */
    for (int d = 3; d <= 5; d++)
        assert_true(depth_seen[d] > 850 && depth_seen[d] < 1150);
    tt_space_dims_free(dims, 4);
    tt_config_free(cfg);
}

/* Best objective after `budget` proposals (after the default point). */
static double run_searcher(const char *kind, const tt_config *cfg, uint64_t seed, int budget,
                           double *first_points)
{
    const tt_plugin_descriptor *descs[] = {&bowl};
    tt_searcher *s;
    char err[256];
    assert_int_equal(tt_searcher_new(kind, cfg, descs, seed, 0, 0, &s, err, sizeof err), TT_OK);
    tt_trial_result r;
    memset(&r, 0, sizeof r);
    double point[4];
    tt_space_default_point(&cfg->estimators[0], &bowl, point);
    r.point = point;
    r.desc = &bowl;
    r.status = TT_TRIAL_OK;
    r.objective = bowl_objective(point);
    double best = r.objective;
    tt_searcher_observe(s, &r);
    for (int i = 0; i < budget; i++) {
        size_t est;
        assert_int_equal(tt_searcher_propose(s, &est, point), TT_OK);
        assert_int_equal(est, 0);
        if (first_points && i < 5)
            memcpy(first_points + 4 * i, point, sizeof point);
        r.objective = bowl_objective(point);
        best = fmin(best, r.objective);
        tt_searcher_observe(s, &r);
    }
    tt_searcher_free(s);
    return best;
}

static void test_cfo_beats_random_on_a_bowl(void **state)
{
    (void)state;
    tt_config *cfg = config_from("return { data = { generator = 'synthetic' }, estimators = {"
                                 " bowl = {} } }");
    double cfo = 0, rnd = 0;
    int cfo_wins = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        double c = run_searcher("cfo", cfg, seed, 60, NULL);
        double r = run_searcher("random", cfg, seed, 60, NULL);
        cfo += c;
        rnd += r;
        cfo_wins += c < r;
    }
    /* Local search from the defaults homes in; random search stays coarse. */
    if (!(cfo < 0.5 * rnd && cfo_wins >= 14))
        fail_msg("mean best: cfo %g, random %g; cfo better in %d of 20", cfo / 20, rnd / 20,
                 cfo_wins);

    /* Same seed, same proposals; another seed, others. */
    double a[20], b[20], c[20];
    run_searcher("cfo", cfg, 5, 5, a);
    run_searcher("cfo", cfg, 5, 5, b);
    run_searcher("cfo", cfg, 6, 5, c);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    tt_config_free(cfg);
}

static void test_cfo_prefers_the_improving_estimator(void **state)
{
    (void)state;
    /* "flat" has nothing to search; "bowl" does: every proposal goes to bowl. */
    tt_config *cfg = config_from("return { data = { generator = 'synthetic' }, estimators = {"
                                 " bowl = {}, flat = {} } }");
    const tt_plugin_descriptor *descs[] = {&bowl, &flat};
    tt_searcher *s;
    char err[256];
    assert_int_equal(tt_searcher_new("cfo", cfg, descs, 1, 0, 0, &s, err, sizeof err), TT_OK);
    for (int i = 0; i < 50; i++) {
        size_t est;
        double point[4];
        assert_int_equal(tt_searcher_propose(s, &est, point), TT_OK);
        assert_int_equal(est, 0);
    }
    tt_searcher_free(s);
    assert_int_equal(tt_searcher_new("grid", cfg, descs, 1, 0, 0, &s, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_non_null(strstr(err, "unknown searcher 'grid'"));
    tt_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unit_cube_round_trip),
        cmocka_unit_test(test_cfo_beats_random_on_a_bowl),
        cmocka_unit_test(test_cfo_prefers_the_improving_estimator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
