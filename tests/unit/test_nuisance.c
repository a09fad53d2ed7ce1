/* test_nuisance.c - cross-fitting, cache, selection and diagnostics of
 * core/nuisance against independent recomputation. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "learn/learner.h"
#include "nuisance/nuisance.h"
#include "util/rng.h"

enum { N = 600, P = 3 };

static double x[N * P], y[N];
static int32_t arm[N];
static double true_e[N];

/* e(x) = logistic(x0 - 0.5 x1); y = 1 + x0^2 + 2 sin(x2) + 3 W + noise. */
static int setup(void **state)
{
    (void)state;
    tt_rng r;
    tt_rng_seed(&r, 77, "nuisance-data");
    for (size_t i = 0; i < N * P; i++)
        x[i] = tt_rng_normal(&r);
    for (size_t i = 0; i < N; i++) {
        true_e[i] = 1.0 / (1.0 + exp(-(x[i] - 0.5 * x[N + i])));
        arm[i] = tt_rng_uniform(&r) < true_e[i];
        y[i] = 1.0 + x[i] * x[i] + 2.0 * sin(x[2 * N + i]) + 3.0 * arm[i] +
               0.3 * tt_rng_normal(&r);
    }
    return 0;
}

static tt_nuisance_engine *engine(size_t folds, uint64_t seed)
{
    tt_nuisance_data d = {.n = N, .p = P, .x = x, .y = y, .arm = arm, .n_arms = 2};
    tt_nuisance_engine *e = NULL;
    char err[256] = "";
    if (tt_nuisance_engine_new(&d, folds, seed, &e, err, sizeof err) != TT_OK)
        fail_msg("engine: %s", err);
    return e;
}

static void test_folds_stratified(void **state)
{
    (void)state;
    tt_nuisance_engine *e = engine(0, 5), *e2 = engine(5, 5), *e3 = engine(5, 6);
    size_t k = 0;
    const uint32_t *f = tt_nuisance_folds(e, &k);
    assert_int_equal(k, 5);
    size_t count[5][2] = {{0}}, n_arm[2] = {0};
    for (size_t i = 0; i < N; i++) {
        assert_true(f[i] < 5);
        count[f[i]][arm[i]]++;
        n_arm[arm[i]]++;
    }
    /* Every fold holds its share of each arm, give or take one row. */
    for (size_t c = 0; c < 5; c++)
        for (int a = 0; a < 2; a++)
            assert_true(fabs((double)count[c][a] - (double)n_arm[a] / 5.0) <= 1.0);
    /* Same seed, same plan; another seed, another plan. */
    assert_memory_equal(f, tt_nuisance_folds(e2, NULL), N * sizeof *f);
    assert_true(memcmp(f, tt_nuisance_folds(e3, NULL), N * sizeof *f) != 0);
    tt_nuisance_engine_free(e);
    tt_nuisance_engine_free(e2);
    tt_nuisance_engine_free(e3);
}

/* Out-of-fold predictions equal, bit for bit, a ridge refitted here on
 * exactly the rows outside each fold: no row is predicted by a model that
 * saw it. */
static void test_crossfit_matches_manual_refit(void **state)
{
    (void)state;
    tt_nuisance_engine *e = engine(4, 9);
    tt_nuisance_spec spec = {"ridge", 1, {"alpha"}, {0.5}};
    const tt_nuisance_result *r = NULL;
    char err[256] = "";
    assert_int_equal(tt_nuisance_fit(e, TT_NUISANCE_OUTCOME, -1, &spec, &r, err, sizeof err),
                     TT_OK);
    assert_int_equal(r->width, 1);
    const uint32_t *f = tt_nuisance_folds(e, NULL);
    static double xt[N * P], yt[N], xh[N * P], pred[N];
    for (uint32_t k = 0; k < 4; k++) {
        size_t m = 0, h = 0;
        for (size_t i = 0; i < N; i++)
            *(f[i] == k ? &h : &m) += 1;
        size_t a = 0, b = 0;
        for (size_t i = 0; i < N; i++) {
            if (f[i] != k) {
                for (size_t j = 0; j < P; j++)
                    xt[j * m + a] = x[j * N + i];
                yt[a++] = y[i];
            } else {
                for (size_t j = 0; j < P; j++)
                    xh[j * h + b] = x[j * N + i];
                b++;
            }
        }
        const char *keys[] = {"alpha"};
        double v[] = {0.5};
        tt_learner *l = NULL;
        assert_int_equal(tt_learner_create("ridge", keys, v, 1, 0, &l, NULL, 0), TT_OK);
        assert_int_equal(tt_learner_fit(l, m, P, xt, yt, NULL, NULL, 0), TT_OK);
        assert_int_equal(tt_learner_predict(l, h, P, xh, pred, NULL, 0), TT_OK);
        for (size_t i = 0, t = 0; i < N; i++)
            if (f[i] == k)
                assert_true(r->oof[i] == pred[t++]);
        tt_learner_destroy(l);
    }
    /* The full model is there for new x. */
    double p1;
    assert_int_equal(tt_learner_predict(r->full, 1, P, x, &p1, NULL, 0), TT_OK);
    tt_nuisance_engine_free(e);
}

/* A forest that memorises (leaves of one row, no sampling, pure-noise y)
 * reproduces every row it saw; out of fold it reproduces none. */
static void test_crossfit_never_sees_row(void **state)
{
    (void)state;
    static double noise[N];
    tt_rng r;
    tt_rng_seed(&r, 4, "noise");
    for (size_t i = 0; i < N; i++)
        noise[i] = tt_rng_normal(&r);
    tt_nuisance_data d = {.n = N, .p = P, .x = x, .y = noise, .arm = arm, .n_arms = 2};
    tt_nuisance_engine *e = NULL;
    assert_int_equal(tt_nuisance_engine_new(&d, 5, 1, &e, NULL, 0), TT_OK);
    tt_nuisance_spec spec = {"forest", 4, {"n_trees", "min_leaf", "bootstrap", "mtry"},
                             {3, 1, 0, 3}};
    const tt_nuisance_result *res = NULL;
    assert_int_equal(tt_nuisance_fit(e, TT_NUISANCE_OUTCOME, -1, &spec, &res, NULL, 0), TT_OK);
    static double full[N];
    assert_int_equal(tt_learner_predict(res->full, N, P, x, full, NULL, 0), TT_OK);
    size_t seen = 0, oof_hits = 0;
    for (size_t i = 0; i < N; i++) {
        seen += fabs(full[i] - noise[i]) < 1e-12;
        oof_hits += fabs(res->oof[i] - noise[i]) < 1e-9;
    }
    assert_true(seen > N - 5);
    assert_int_equal(oof_hits, 0);
    tt_nuisance_engine_free(e);
}

static void test_cache(void **state)
{
    (void)state;
    tt_nuisance_engine *e = engine(5, 2);
    tt_nuisance_spec a = {"ridge", 0, {0}, {0}};
    tt_nuisance_spec b = {"ridge", 1, {"alpha"}, {1.0}}; /* = the default */
    tt_nuisance_spec c = {"ridge", 1, {"alpha"}, {3.0}};
    const tt_nuisance_result *ra, *rb, *rc, *rd;
    assert_int_equal(tt_nuisance_fit(e, TT_NUISANCE_OUTCOME, -1, &a, &ra, NULL, 0), TT_OK);
    assert_int_equal(tt_nuisance_fit(e, TT_NUISANCE_OUTCOME, -1, &b, &rb, NULL, 0), TT_OK);
    assert_int_equal(tt_nuisance_fit(e, TT_NUISANCE_OUTCOME, -1, &c, &rc, NULL, 0), TT_OK);
    assert_int_equal(tt_nuisance_fit(e, TT_NUISANCE_ARM_OUTCOME, 1, &a, &rd, NULL, 0), TT_OK);
    assert_ptr_equal(ra, rb);
    assert_true(ra != rc && ra != rd);
    assert_true(memcmp(ra->oof, rc->oof, N * sizeof(double)) != 0);
    char err[256];
    tt_nuisance_spec bad = {"ridge", 1, {"lambda"}, {1.0}};
    assert_int_equal(tt_nuisance_fit(e, TT_NUISANCE_OUTCOME, -1, &bad, &ra, err, sizeof err),
                     TT_ERR_CONFIG);
    assert_int_equal(tt_nuisance_fit(e, TT_NUISANCE_ARM_OUTCOME, 2, &a, &ra, err, sizeof err),
                     TT_ERR_INVALID);
    tt_nuisance_engine_free(e);
}

/* mu_k trains on arm k only but predicts every row. */
static void test_arm_outcomes(void **state)
{
    (void)state;
    static double ya[N];
    for (size_t i = 0; i < N; i++)
        ya[i] = 10.0 * arm[i] + x[i];
    tt_nuisance_data d = {.n = N, .p = P, .x = x, .y = ya, .arm = arm, .n_arms = 2};
    tt_nuisance_engine *e = NULL;
    assert_int_equal(tt_nuisance_engine_new(&d, 5, 1, &e, NULL, 0), TT_OK);
    tt_nuisance_spec spec = {"ridge", 1, {"alpha"}, {1e-8}};
    for (int k = 0; k < 2; k++) {
        const tt_nuisance_result *r = NULL;
        assert_int_equal(tt_nuisance_fit(e, TT_NUISANCE_ARM_OUTCOME, k, &spec, &r, NULL, 0),
                         TT_OK);
        for (size_t i = 0; i < N; i++)
            assert_true(fabs(r->oof[i] - (10.0 * k + x[i])) < 1e-6);
        assert_true(r->diag.r2 > 0.999999);
    }
    tt_nuisance_engine_free(e);
}

static void test_selection_and_diagnostics(void **state)
{
    (void)state;
    tt_nuisance_engine *e = engine(5, 3);
    char err[256] = "";
    const tt_nuisance_result *m = NULL, *p = NULL;
    tt_nuisance_spec cands[] = {
        {"ridge", 0, {0}, {0}},
        {"forest", 2, {"n_trees", "min_leaf"}, {40, 5}},
    };
    assert_int_equal(tt_nuisance_select(e, TT_NUISANCE_OUTCOME, -1, cands, 2, &m, err,
                                        sizeof err), TT_OK);
    /* y is nonlinear in x: the forest must win, and the diagnostics are the
     * loss recomputed from the out-of-fold predictions. */
    assert_string_equal(m->diag.learner, "forest");
    assert_int_equal(m->diag.n_candidates, 2);
    double sse = 0.0, mean = 0.0, sst = 0.0;
    for (size_t i = 0; i < N; i++)
        mean += y[i] / N;
    for (size_t i = 0; i < N; i++) {
        sse += (y[i] - m->oof[i]) * (y[i] - m->oof[i]);
        sst += (y[i] - mean) * (y[i] - mean);
    }
    assert_true(fabs(m->diag.oof_loss - sse / N) < 1e-9);
    assert_true(fabs(m->diag.r2 - (1.0 - sse / sst)) < 1e-9);
    assert_ptr_equal(tt_nuisance_chosen(e, TT_NUISANCE_OUTCOME, -1), m);

    /* Propensity from a plan of one default candidate (the first): exactly
     * it is evaluated, and a logistic model fits a logistic truth. */
    const tt_nuisance_spec *defaults;
    size_t n_defaults;
    tt_nuisance_default_candidates(TT_NUISANCE_PROPENSITY, &defaults, &n_defaults);
    assert_true(n_defaults >= 2);
    assert_int_equal(tt_nuisance_select(e, TT_NUISANCE_PROPENSITY, -1, defaults, 1, &p, err,
                                        sizeof err), TT_OK);
    assert_int_equal(p->diag.n_candidates, 1);
    assert_string_equal(p->diag.learner, "logistic");
    assert_true(p->diag.auc > 0.7 && p->diag.auc < 1.0);
    assert_true(p->diag.oof_loss < log(2.0));
    assert_true(p->diag.calibration >= 0.0 && p->diag.calibration < 0.1);
    assert_true(p->diag.prop_min > 0.0 && p->diag.prop_max < 1.0);
    assert_true(isnan(p->diag.r2));
    tt_nuisance_engine_free(e);
}

/* Known propensities bypass fitting; the diagnostics are checked against a
 * brute-force AUC and a direct count. */
static void test_known_propensity(void **state)
{
    (void)state;
    tt_nuisance_engine *e = engine(5, 3);
    const tt_nuisance_result *r = NULL;
    char err[256];
    assert_int_equal(tt_nuisance_set_propensity(e, true_e, 1, &r, err, sizeof err), TT_OK);
    assert_string_equal(r->diag.learner, "known");
    assert_null(r->full);
    assert_ptr_equal(tt_nuisance_chosen(e, TT_NUISANCE_PROPENSITY, -1), r);
    double num = 0.0, pairs = 0.0, ll = 0.0;
    size_t outside = 0;
    for (size_t i = 0; i < N; i++) {
        outside += true_e[i] < 0.05 || true_e[i] > 0.95;
        ll -= log(arm[i] ? true_e[i] : 1.0 - true_e[i]) / N;
        if (!arm[i])
            continue;
        for (size_t j = 0; j < N; j++)
            if (!arm[j]) {
                pairs += 1.0;
                num += true_e[i] > true_e[j] ? 1.0 : (true_e[i] == true_e[j] ? 0.5 : 0.0);
            }
    }
    assert_true(fabs(r->diag.auc - num / pairs) < 1e-12);
    assert_true(fabs(r->diag.oof_loss - ll) < 1e-12);
    assert_int_equal(r->diag.n_outside, outside);
    static double bad[N];
    memcpy(bad, true_e, sizeof bad);
    bad[7] = 1.0;
    assert_int_equal(tt_nuisance_set_propensity(e, bad, 1, &r, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "row 7"));
    assert_int_equal(tt_nuisance_set_propensity(e, bad, 2, &r, err, sizeof err), TT_ERR_DATA);
    tt_nuisance_engine_free(e);
}

static void test_multi_arm_and_errors(void **state)
{
    (void)state;
    static int32_t arm3[N];
    for (size_t i = 0; i < N; i++)
        arm3[i] = (int32_t)(i % 3);
    tt_nuisance_data d = {.n = N, .p = P, .x = x, .y = y, .arm = arm3, .n_arms = 3};
    tt_nuisance_engine *e = NULL;
    char err[256];
    assert_int_equal(tt_nuisance_engine_new(&d, 5, 1, &e, err, sizeof err), TT_OK);
    const tt_nuisance_result *r = NULL;
    /* Three arms: one probability column per arm (multinomial logistic or a
     * classification forest). Arms do not depend on x here, so the best
     * out-of-fold log-loss is close to log 3. */
    assert_int_equal(tt_nuisance_select(e, TT_NUISANCE_PROPENSITY, -1, NULL, 0, &r, err,
                                        sizeof err), TT_OK);
    assert_int_equal(r->width, 3);
    assert_int_equal(r->diag.n_candidates, 5);
    assert_true(fabs(r->diag.oof_loss - log(3.0)) < 0.05);
    assert_true(isnan(r->diag.auc));
    for (size_t i = 0; i < N; i++)
        assert_true(fabs(r->oof[i] + r->oof[N + i] + r->oof[2 * N + i] - 1.0) < 1e-9);
    /* A candidate that fails is skipped; if all fail, the error comes back. */
    tt_nuisance_spec mixed[] = {{"no_such_learner", 0, {0}, {0}}, {"ridge", 0, {0}, {0}}};
    assert_int_equal(tt_nuisance_select(e, TT_NUISANCE_OUTCOME, -1, mixed, 2, &r, err,
                                        sizeof err), TT_OK);
    assert_string_equal(r->diag.learner, "ridge");
    assert_int_equal(tt_nuisance_select(e, TT_NUISANCE_OUTCOME, -1, mixed, 1, &r, err,
                                        sizeof err), TT_ERR_CONFIG);
    assert_null(r);
    tt_nuisance_engine_free(e);

    arm3[0] = 5;
    assert_int_equal(tt_nuisance_engine_new(&d, 5, 1, &e, err, sizeof err), TT_ERR_DATA);
    assert_null(e);
    for (size_t i = 0; i < N; i++)
        arm3[i] = i < 3 ? 1 : 0; /* arm 1 has 3 rows < 5 folds */
    assert_int_equal(tt_nuisance_engine_new(&d, 5, 1, &e, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "arm 1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folds_stratified),
        cmocka_unit_test(test_crossfit_matches_manual_refit),
        cmocka_unit_test(test_crossfit_never_sees_row),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_arm_outcomes),
        cmocka_unit_test(test_selection_and_diagnostics),
        cmocka_unit_test(test_known_propensity),
        cmocka_unit_test(test_multi_arm_and_errors),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
