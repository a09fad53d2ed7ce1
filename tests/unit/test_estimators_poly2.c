/*
 * test_estimators_poly2.c - the linear final stages with featurizer = poly2
 * on effect modifiers that make poly2 redundant: a 0/1 dummy (its square is
 * itself) and a three-level one-hot categorical (products of two levels are
 * identically 0, the levels sum to the intercept). Before the design screen
 * (plugins/common/pu_screen.h) dml_linear and dr_linear failed on such data
 * ("collinear columns", "Z'WZ is not positive definite"); now every plugin
 * must fit, recover the known effect and save/load to identical results.
 *
 * Data: test_estimators_util.h's confounded binary design with
 * tau = 1 + x1; x2 is replaced by the dummy 1{x2 > 0} (x2 enters Y but not
 * T, so hiding it only adds noise), plus the one-hot columns c1..c3 of a
 * uniform level. x = [x1, d, c1, c2, c3]: poly2 has 1 + 5 + 5 + 10 = 21
 * columns, of which 10 are redundant.
 *
 * Tolerances: n = 4000 and 11 informative columns; the effect is linear in
 * x1, so poly2 only adds variance. MAE of tau_hat over the test rows < 0.3
 * (ignoring the heterogeneity costs E|x1| = 0.8) and the average effect
 * within 4 of its reported standard errors of the truth's test-row mean.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_estimators_util.h"

#define N_TRAIN 4000
#define N_TEST 500
#define SEED 20240611u
#define P_X 5

static tt_registry *g_reg;
static et_data g_train, g_test;
static et_nuis g_nuis;

/* x1 kept; x2 -> [1{x2 > 0}, c1, c2, c3] with the level drawn from its own
 * stream. */
static void redundant_features(et_data *d, const char *stream)
{
    tt_rng rng;
    tt_rng_seed(&rng, SEED, stream);
    const size_t n = d->n;
    double *x = malloc(sizeof(double) * n * P_X);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) {
        int level = (int)(tt_rng_uniform(&rng) * 3.0);
        x[i] = d->x[i];
        x[n + i] = d->x[n + i] > 0.0;
        for (int c = 0; c < 3; c++)
            x[(size_t)(2 + c) * n + i] = level == c;
    }
    free(d->x);
    d->x = x;
    d->p_x = P_X;
}

static int group_setup(void **state)
{
    (void)state;
    et_dgp g = {.n_arms = 2, .tau = ET_TAU_LINEAR, .randomized = 0};
    et_generate(&g, N_TRAIN, SEED, "poly2:train", &g_train);
    et_generate(&g, N_TEST, SEED, "poly2:test", &g_test);
    redundant_features(&g_train, "poly2:train:levels");
    redundant_features(&g_test, "poly2:test:levels");
    char err[1024] = "";
    if (et_nuis_build(&g_nuis, &g_train, SEED, 0, err, sizeof err) != TT_OK) {
        fprintf(stderr, "nuisance models: %s\n", err);
        return -1;
    }
    g_reg = et_registry_load();
    return g_reg ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    et_nuis_free(&g_nuis);
    et_data_free(&g_train);
    et_data_free(&g_test);
    tt_registry_free(g_reg);
    return 0;
}

static void fit_recovers_and_round_trips(const char *name)
{
    const tt_plugin_descriptor *desc = et_plugin(g_reg, name);
    double *params = et_default_params(desc);
    et_set_param(desc, params, "featurizer", 0, "poly2");
    et_run *a = et_fit(desc, params, &g_nuis.nu, &g_train, SEED);
    tt_plugin_data rows = et_view(&g_test, 0);
    et_pred pa = et_predict(a, &rows);

    double mae = 0.0;
    for (size_t i = 0; i < g_test.n; i++) {
        assert_true(isfinite(pa.effect[i]) && isfinite(pa.lo[i]) && isfinite(pa.hi[i]));
        assert_true(pa.lo[i] <= pa.effect[i] && pa.effect[i] <= pa.hi[i]);
        mae += fabs(pa.effect[i] - g_test.tau[i]);
    }
    mae /= (double)g_test.n;
    if (!(mae < 0.3))
        fail_msg("%s poly2: CATE MAE %.3f >= 0.3", name, mae);
    double truth = et_col_mean(g_test.tau, g_test.n, 1);
    double se = (pa.ate_hi[0] - pa.ate_lo[0]) / (2.0 * 1.959963984540054);
    if (!(fabs(pa.ate[0] - truth) <= 4.0 * se))
        fail_msg("%s poly2: ATE %.4f vs truth %.4f (se %.4f)", name, pa.ate[0], truth, se);

    /* Save -> load: the kept-column plan travels with the model. */
    et_stream st = {0};
    tt_plugin_sink sink = {.struct_size = sizeof sink, .ctx = &st, .write = et_stream_write};
    tt_plugin_source src = {.struct_size = sizeof src, .ctx = &st, .read = et_stream_read};
    char err[1024] = "";
    if (desc->save(a->inst, &sink, err, sizeof err) != TT_OK)
        fail_msg("%s save: %s", name, err);
    et_run *c = et_run_new(desc, &g_nuis.nu, SEED + 1);
    if (desc->load(&c->host, &src, &c->inst, err, sizeof err) != TT_OK)
        fail_msg("%s load: %s", name, err);
    assert_int_equal(st.pos, st.len);
    et_pred pc = et_predict(c, &rows);
    et_pred_assert_identical(&pa, &pc, "save -> load");

    free(st.buf);
    free(params);
    et_pred_free(&pa);
    et_pred_free(&pc);
    et_run_free(a);
    et_run_free(c);
}

static void test_dml_linear(void **state)
{
    (void)state;
    fit_recovers_and_round_trips("dml_linear");
}

static void test_dr_linear(void **state)
{
    (void)state;
    fit_recovers_and_round_trips("dr_linear");
}

static void test_dml_sparse_linear(void **state)
{
    (void)state;
    fit_recovers_and_round_trips("dml_sparse_linear");
}

static void test_dr_sparse_linear(void **state)
{
    (void)state;
    fit_recovers_and_round_trips("dr_sparse_linear");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dml_linear),
        cmocka_unit_test(test_dr_linear),
        cmocka_unit_test(test_dml_sparse_linear),
        cmocka_unit_test(test_dr_sparse_linear),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
