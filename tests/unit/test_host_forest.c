/* test_host_forest.c - the host table's forest services (ABI 1.3) as a plugin
 * sees them: options with defaults, fit, predict with variance, the column
 * check, save/load through a byte stream, and the causal kind. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/host.h"
#include "util/rng.h"

#include "test_learn_util.h" /* membuf, mem_write, mem_read */

enum { N = 2000, P = 3 };

static void make_data(uint64_t seed, double *x, double *y, double *w, double tau_step)
{
    tt_rng r;
    tt_rng_seed(&r, seed, "host-forest");
    for (size_t i = 0; i < (size_t)N * P; i++)
        x[i] = tt_rng_normal(&r);
    for (size_t i = 0; i < N; i++) {
        double t = tt_rng_uniform(&r) < 0.5 ? 1.0 : 0.0;
        w[i] = t - 0.5; /* centred treatment (known propensity 1/2) */
        double tau = 1.0 + tau_step * (x[i] > 0);
        y[i] = (x[i] > 0 ? 2.0 : 0.0) + t * tau + 0.5 * tt_rng_normal(&r);
    }
}

static void test_regression_and_round_trip(void **state)
{
    (void)state;
    tt_host_ctx ctx = {.plugin_name = "test"};
    tt_plugin_host h;
    tt_host_services_init(&h, &ctx, 3);
    assert_true(h.abi_minor >= 3);
    double *x = malloc(sizeof *x * N * P), *y = malloc(sizeof *y * N), *w = malloc(sizeof *w * N);
    make_data(1, x, y, w, 0.0);
    tt_forest_options o = {.struct_size = sizeof o, .n_trees = 200, .threads = 2};
    tt_forest *f = NULL;
    char err[256] = "";
    assert_int_equal(h.forest_fit(h.host_ctx, TT_FOREST_REGRESSION, &o, N, P, x, y, NULL, 0,
                                  NULL, NULL, &f, err, sizeof err), TT_OK);
    assert_int_equal(h.forest_n_outputs(f), 1);
    double q[2 * P] = {-1, 1, 0, 0, 0, 0}; /* two rows: x1 = -1 and x1 = 1 */
    double est[2], var[2], est2[2], var2[2];
    assert_int_equal(h.forest_predict(f, 2, P, q, est, var, err, sizeof err), TT_OK);
    /* E[y | x1] = 2 * 1{x1 > 0} + E[t] * 1 = 0.5 or 2.5 */
    assert_true(fabs(est[0] - 0.5) < 0.3 && fabs(est[1] - 2.5) < 0.3);
    assert_true(var[0] > 0 && var[1] > 0);
    assert_int_equal(h.forest_predict(f, 2, P - 1, q, est, var, err, sizeof err), TT_ERR_INVALID);
    membuf s = {0};
    tt_plugin_sink sink = {.struct_size = sizeof sink, .ctx = &s, .write = mem_write};
    assert_int_equal(h.forest_save(f, &sink, err, sizeof err), TT_OK);
    const char tail[] = "after";
    mem_write(&s, tail, sizeof tail); /* the loader must stop at the forest's end */
    tt_plugin_source src = {.struct_size = sizeof src, .ctx = &s, .read = mem_read};
    tt_forest *g = NULL;
    assert_int_equal(h.forest_load(h.host_ctx, &src, &g, err, sizeof err), TT_OK);
    char after[sizeof tail];
    assert_int_equal(mem_read(&s, after, sizeof after), 0);
    assert_string_equal(after, "after");
    assert_int_equal(h.forest_predict(g, 2, P, q, est2, var2, err, sizeof err), TT_OK);
    assert_memory_equal(est, est2, sizeof est);
    assert_memory_equal(var, var2, sizeof var);
    double *oob = malloc(sizeof *oob * N);
    assert_int_equal(h.forest_predict_oob(g, oob, NULL, err, sizeof err), TT_ERR_UNSUPPORTED);
    assert_int_equal(h.forest_predict_oob(f, oob, NULL, err, sizeof err), TT_OK);
    h.forest_destroy(f);
    h.forest_destroy(g);
    h.forest_destroy(NULL);
    /* A short options struct is refused rather than read past. */
    o.struct_size = 8;
    assert_int_not_equal(h.forest_fit(h.host_ctx, TT_FOREST_REGRESSION, &o, N, P, x, y, NULL, 0,
                                      NULL, NULL, &f, err, sizeof err), TT_OK);
    free(oob);
    free(s.data);
    free(x);
    free(y);
    free(w);
}

/* Causal kind: tau = 1 + 2 * 1{x1 > 0} recovered on both sides. */
static void test_causal(void **state)
{
    (void)state;
    tt_host_ctx ctx = {.plugin_name = "test"};
    tt_plugin_host h;
    tt_host_services_init(&h, &ctx, 5);
    double *x = malloc(sizeof *x * N * P), *y = malloc(sizeof *y * N), *w = malloc(sizeof *w * N);
    make_data(2, x, y, w, 2.0);
    double mean = 0;
    for (size_t i = 0; i < N; i++)
        mean += y[i] / N;
    for (size_t i = 0; i < N; i++)
        y[i] -= mean; /* crude centring: the forest's local intercept takes the rest */
    tt_forest_options o = {.struct_size = sizeof o, .n_trees = 400, .threads = 2};
    tt_forest *f = NULL;
    char err[256] = "";
    assert_int_equal(h.forest_fit(h.host_ctx, TT_FOREST_CAUSAL, &o, N, P, x, y, w, 1, NULL, NULL,
                                  &f, err, sizeof err), TT_OK);
    double q[2 * P] = {-1, 1, 0, 0, 0, 0};
    double est[2];
    assert_int_equal(h.forest_predict(f, 2, P, q, est, NULL, err, sizeof err), TT_OK);
    assert_true(fabs(est[0] - 1.0) < 0.4 && fabs(est[1] - 3.0) < 0.4);
    h.forest_destroy(f);
    free(x);
    free(y);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regression_and_round_trip),
        cmocka_unit_test(test_causal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
