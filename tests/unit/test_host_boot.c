/* test_host_boot.c - the host's bootstrap of a plugin without intervals
 * (plugin/host_boot.h), on a difference-in-means plugin defined here (no
 * effect_interval, no average_effect):
 *   - its bootstrap sd of the effect is the closed-form standard error of a
 *     difference of means, sqrt(s1^2/n1 + s0^2/n0) (within 5 % at 2,000
 *     replicas), and the interval is the point +- 1.96 sd;
 *   - every replica keeps each arm's row count (stratified resamples);
 *   - the same seed gives the same intervals bit for bit, another seed others;
 *   - should_stop after a few replicas keeps those, and the method says how
 *     many; stopped before two is TT_ERR_STOPPED;
 *   - which plugins it applies to. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/host.h"
#include "plugin/host_boot.h"

typedef struct dim {
    double effect;
} dim;

static size_t g_fits, g_arm_rows[2], g_bad_strata;

static int dim_create(const tt_plugin_host *host, const double *params, int n_arms, void **out,
                      char *err, size_t errlen)
{
    (void)host, (void)params, (void)n_arms, (void)err, (void)errlen;
    *out = calloc(1, sizeof(dim));
    return *out ? TT_OK : TT_ERR_NOMEM;
}

static int dim_fit(void *inst, const tt_plugin_data *d, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    double s[2] = {0, 0};
    size_t c[2] = {0, 0};
    for (size_t i = 0; i < d->n; i++) {
        s[d->t[i]] += d->y[i];
        c[d->t[i]]++;
    }
    if (g_fits++ > 0 && (c[0] != g_arm_rows[0] || c[1] != g_arm_rows[1]))
        g_bad_strata++;
    ((dim *)inst)->effect = s[1] / (double)c[1] - s[0] / (double)c[0];
    return TT_OK;
}

static int dim_effect(void *inst, const tt_plugin_data *rows, double *out, char *err,
                      size_t errlen)
{
    (void)err, (void)errlen;
    for (size_t i = 0; i < rows->n; i++)
        out[i] = ((dim *)inst)->effect;
    return TT_OK;
}

static void dim_destroy(void *inst)
{
    free(inst);
}

static const tt_plugin_descriptor dim_desc = {
    .struct_size = sizeof(tt_plugin_descriptor), .magic = TT_PLUGIN_MAGIC,
    .abi_major = TT_PLUGIN_ABI_MAJOR, .abi_minor = TT_PLUGIN_ABI_MINOR, .name = "dim",
    .version = "1", .create = dim_create, .fit = dim_fit, .effect = dim_effect,
    .destroy = dim_destroy};

enum { N = 400 };

typedef struct fixture {
    double y[N], x[N];
    int t[N];
    tt_plugin_data train;
    double se; /* closed form */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    uint64_t s = 12345;
    double sum[2] = {0, 0}, sq[2] = {0, 0};
    size_t c[2] = {0, 0};
    for (size_t i = 0; i < N; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(s >> 11) / 9007199254740992.0;
        f->t[i] = i % 3 == 0; /* 134 treated, 266 control */
        f->x[i] = u;
        f->y[i] = 2.0 * f->t[i] + 3.0 * u + (f->t[i] ? 1.5 * u : 0.0);
        sum[f->t[i]] += f->y[i];
        sq[f->t[i]] += f->y[i] * f->y[i];
        c[f->t[i]]++;
    }
    double v = 0;
    for (int k = 0; k < 2; k++) {
        double m = sum[k] / (double)c[k];
        /* The bootstrap's variance of a mean uses the plug-in (1/n) variance. */
        v += (sq[k] / (double)c[k] - m * m) / (double)c[k];
        g_arm_rows[k] = c[k];
    }
    f->se = sqrt(v);
    f->train = (tt_plugin_data){.struct_size = sizeof(tt_plugin_data), .n = N, .p_x = 1,
                                .x = f->x, .t = f->t, .y = f->y, .n_arms = 2};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static void test_closed_form_and_strata(void **state)
{
    fixture *f = *state;
    tt_host_ctx ctx = {.plugin_name = "dim"};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    char err[256];
    tt_host_boot *b = NULL;
    g_fits = 1; /* every fit from here is a replica */
    g_bad_strata = 0;
    assert_int_equal(tt_host_boot_fit(&dim_desc, &host, NULL, &f->train, 2000, 99, &b, err,
                                      sizeof err), TT_OK);
    assert_int_equal(g_fits, 2001);
    assert_int_equal(g_bad_strata, 0);
    assert_string_equal(tt_host_boot_method(b), "bootstrap by the host (normal, 2000 refits)");
    double point[3] = {2.75, 2.75, 2.75}, lo[3], hi[3];
    tt_plugin_data rows = {.struct_size = sizeof rows, .n = 3, .p_x = 1, .x = f->x, .n_arms = 2};
    assert_int_equal(tt_host_boot_interval(b, &rows, point, 0.05, lo, hi, err, sizeof err), TT_OK);
    double sd = (hi[0] - lo[0]) / (2 * 1.959963984540054);
    assert_true(fabs(sd / f->se - 1.0) < 0.05);
    assert_true(fabs((lo[0] + hi[0]) / 2 - 2.75) < 1e-12); /* around the point */
    assert_true(lo[1] == lo[0] && hi[2] == hi[0]);
    double ate, alo, ahi;
    assert_int_equal(tt_host_boot_average(b, &rows, point, 0.05, &ate, &alo, &ahi, err,
                                          sizeof err), TT_OK);
    assert_true(ate == 2.75);
    assert_true(fabs((ahi - alo) / (2 * 1.959963984540054) / f->se - 1.0) < 0.05);
    /* A bad alpha is refused, not used. */
    assert_int_equal(tt_host_boot_interval(b, &rows, point, 1.5, lo, hi, err, sizeof err),
                     TT_ERR_INVALID);
    tt_host_boot_free(b);
}

static void test_seeded(void **state)
{
    fixture *f = *state;
    tt_host_ctx ctx = {.plugin_name = "dim"};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    char err[256];
    double point[1] = {2.0}, lo[3][1], hi[3][1];
    tt_plugin_data rows = {.struct_size = sizeof rows, .n = 1, .p_x = 1, .x = f->x, .n_arms = 2};
    const uint64_t seeds[3] = {5, 5, 6};
    for (int i = 0; i < 3; i++) {
        tt_host_boot *b = NULL;
        assert_int_equal(tt_host_boot_fit(&dim_desc, &host, NULL, &f->train, 20, seeds[i], &b,
                                          err, sizeof err), TT_OK);
        assert_int_equal(tt_host_boot_interval(b, &rows, point, 0.1, lo[i], hi[i], err,
                                               sizeof err), TT_OK);
        tt_host_boot_free(b);
    }
    assert_memory_equal(lo[0], lo[1], sizeof lo[0]);
    assert_memory_equal(hi[0], hi[1], sizeof hi[0]);
    assert_true(lo[0][0] != lo[2][0]);
}

static int g_polls, g_stop_after;

static int stop_after(void *host_ctx)
{
    (void)host_ctx;
    return ++g_polls > g_stop_after;
}

static void test_should_stop(void **state)
{
    fixture *f = *state;
    tt_host_ctx ctx = {.plugin_name = "dim"};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 7);
    host.should_stop = stop_after;
    char err[256];
    tt_host_boot *b = NULL;
    /* Polled before each replica from the third on: stopping at the second
     * poll leaves three replicas. */
    g_polls = 0, g_stop_after = 1;
    assert_int_equal(tt_host_boot_fit(&dim_desc, &host, NULL, &f->train, 50, 1, &b, err,
                                      sizeof err), TT_OK);
    assert_string_equal(tt_host_boot_method(b), "bootstrap by the host (normal, 3 refits)");
    tt_host_boot_free(b);
    /* Bad counts are refused before any work. */
    assert_int_equal(tt_host_boot_fit(&dim_desc, &host, NULL, &f->train, 1, 1, &b, err,
                                      sizeof err), TT_ERR_INVALID);
    assert_null(b);
}

static void test_applies(void **state)
{
    (void)state;
    tt_plugin_descriptor d = dim_desc;
    assert_true(tt_host_boot_applies(&d));
    d.capabilities = TT_PLUGIN_CAP_INTERVALS;
    assert_false(tt_host_boot_applies(&d)); /* its own intervals */
    d.capabilities = TT_PLUGIN_CAP_NEEDS_PROPENSITY;
    assert_false(tt_host_boot_applies(&d)); /* training-row nuisances */
    d.capabilities = TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_SAVE_LOAD;
    assert_true(tt_host_boot_applies(&d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_form_and_strata),
        cmocka_unit_test(test_seeded),
        cmocka_unit_test(test_should_stop),
        cmocka_unit_test(test_applies),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
