/* test_abi_v1_0.c - today's host runs a plugin built against the frozen ABI
 * 1.0 headers (abi_v1_0_plugin.c) through every 1.0 slot:
 *   - the loader accepts its 1.0 descriptor (struct_size 1.0's, abi_minor 0)
 *     and reads nothing past it: every later field comes back absent;
 *   - create / fit / effect / effect_interval with today's host table and
 *     data view (larger than 1.0's): effects recover the truth of generated
 *     data, intervals hold them;
 *   - save, then load through a fresh host table: the same effects, bit for
 *     bit;
 *   - its errors and should_stop come back through the 1.0 callbacks. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugin/conditions.h"
#include "plugin/host.h"
#include "plugin/host_boot.h"
#include "plugin/registry.h"
#include "test_memstream.h"
#include "util/rng.h"

enum { N = 3000, P = 2, K = 3 };
static const double TAU[K] = {0.0, 2.0, -1.0};

typedef struct fixture {
    tt_registry *reg;
    const tt_plugin_descriptor *d;
    double x[N * P], y[N], xnew[N * P];
    int t[N];
    tt_plugin_data train, rows;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->reg = tt_registry_new();
    char err[512] = "";
    if (tt_registry_load_file(f->reg, TT_ABI_PLUGIN_DIR "/abi_v1_0.so", err, sizeof err) != TT_OK)
        fail_msg("the ABI 1.0 plugin was refused: %s", err);
    const tt_plugin_entry *e = tt_registry_find(f->reg, "abi_v1_0");
    assert_non_null(e);
    f->d = e->desc;
    /* y = 1 + x1 - 0.5 x2 + tau_T + N(0, 1), three arms. */
    tt_rng rng;
    tt_rng_seed(&rng, 7, "abi-v1-0");
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < P; j++) {
            f->x[j * N + i] = tt_rng_normal(&rng);
            f->xnew[j * N + i] = tt_rng_normal(&rng);
        }
        f->t[i] = (int)(i % K);
        f->y[i] = 1 + f->x[i] - 0.5 * f->x[N + i] + TAU[f->t[i]] + tt_rng_normal(&rng);
    }
    /* Today's view: struct_size is today's, larger than 1.0's. */
    f->train = (tt_plugin_data){.struct_size = sizeof(tt_plugin_data), .n = N, .p_x = P,
                                .x = f->x, .t = f->t, .y = f->y, .n_arms = K};
    f->rows = (tt_plugin_data){.struct_size = sizeof(tt_plugin_data), .n = N, .p_x = P,
                               .x = f->xnew, .n_arms = K};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tt_registry_free(f->reg);
    free(f);
    return 0;
}

static void test_descriptor_read_as_1_0(void **state)
{
    const tt_plugin_descriptor *d = ((fixture *)*state)->d;
    assert_int_equal(d->abi_major, 1);
    assert_int_equal(d->abi_minor, 0);
    assert_int_equal(d->struct_size, TT_PLUGIN_DESCRIPTOR_SIZE_V1_0);
    assert_true(d->struct_size < sizeof(tt_plugin_descriptor));
    assert_int_equal(d->n_params, 3);
    /* Fields of later minors lie past its descriptor: the host must not
     * read them (they are whatever follows in the plugin's memory). */
    assert_null(tt_plugin_interval_method(d));
    assert_null(tt_plugin_average_effect(d));
    assert_null(tt_plugin_average_method(d));
    assert_null(tt_plugin_average_effect_oob(d));
    assert_null(tt_plugin_average_oob_method(d));
    assert_null(tt_plugin_variable_importance(d));
    assert_null(tt_plugin_variable_importance_method(d));
    size_t n = 99;
    assert_null(tt_plugin_conditions(d, &n));
    assert_int_equal(n, 0);
    /* It has its own intervals: no host bootstrap. */
    assert_false(tt_host_boot_applies(d));
}

typedef struct run {
    tt_host_ctx ctx;
    tt_plugin_host host;
    void *inst;
} run;

static void start(const fixture *f, run *r, const double *params, volatile sig_atomic_t *stop)
{
    r->ctx = (tt_host_ctx){.plugin_name = f->d->name, .stop_flag = stop,
                           .capabilities = f->d->capabilities};
    tt_host_services_init(&r->host, &r->ctx, 11);
    char err[512] = "";
    if (f->d->create(&r->host, params, K, &r->inst, err, sizeof err) != TT_OK)
        fail_msg("create: %s", err);
}

static void test_fit_effect_interval(void **state)
{
    fixture *f = *state;
    const double params[] = {1.0, 5, 0};
    run r;
    start(f, &r, params, NULL);
    char err[512] = "";
    if (f->d->fit(r.inst, &f->train, err, sizeof err) != TT_OK)
        fail_msg("fit: %s", err);
    static double tau[N * (K - 1)], lo[N * (K - 1)], hi[N * (K - 1)];
    assert_int_equal(f->d->effect(r.inst, &f->rows, tau, err, sizeof err), TT_OK);
    assert_int_equal(f->d->effect_interval(r.inst, &f->rows, 0.05, lo, hi, err, sizeof err),
                     TT_OK);
    for (int k = 1; k < K; k++) {
        double mean = 0;
        size_t covered = 0;
        for (size_t i = 0; i < N; i++) {
            size_t c = (size_t)(k - 1) * N + i;
            mean += tau[c] / N;
            assert_true(lo[c] <= tau[c] && tau[c] <= hi[c]);
            covered += lo[c] <= TAU[k] && TAU[k] <= hi[c];
        }
        /* 1,000 rows per arm, noise sd 1: the mean effect is within ~0.05. */
        if (fabs(mean - TAU[k]) > 0.2)
            fail_msg("arm %d: mean effect %g, truth %g", k, mean, TAU[k]);
        assert_true(covered >= N * 8 / 10);
    }
    f->d->destroy(r.inst);
}

static void test_save_load_same_effects(void **state)
{
    fixture *f = *state;
    const double params[] = {0.1, 5, 1};
    run r;
    start(f, &r, params, NULL);
    char err[512] = "";
    assert_int_equal(f->d->fit(r.inst, &f->train, err, sizeof err), TT_OK);
    static double before[N * (K - 1)], after[N * (K - 1)];
    static double lo0[N * (K - 1)], hi0[N * (K - 1)], lo1[N * (K - 1)], hi1[N * (K - 1)];
    assert_int_equal(f->d->effect(r.inst, &f->rows, before, err, sizeof err), TT_OK);
    assert_int_equal(f->d->effect_interval(r.inst, &f->rows, 0.1, lo0, hi0, err, sizeof err),
                     TT_OK);
    membuf m = {0};
    tt_plugin_sink sink = mem_sink(&m);
    if (f->d->save(r.inst, &sink, err, sizeof err) != TT_OK)
        fail_msg("save: %s", err);
    f->d->destroy(r.inst);

    /* load gets a table of its own, as predict gives it. */
    tt_host_ctx ctx = {.plugin_name = f->d->name, .capabilities = f->d->capabilities};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, 11);
    tt_plugin_source src = mem_source(&m);
    void *loaded = NULL;
    if (f->d->load(&host, &src, &loaded, err, sizeof err) != TT_OK)
        fail_msg("load: %s", err);
    assert_int_equal(m.pos, m.len); /* it read exactly what it wrote */
    assert_int_equal(f->d->effect(loaded, &f->rows, after, err, sizeof err), TT_OK);
    assert_int_equal(f->d->effect_interval(loaded, &f->rows, 0.1, lo1, hi1, err, sizeof err),
                     TT_OK);
    assert_memory_equal(before, after, sizeof before);
    assert_memory_equal(lo0, lo1, sizeof lo0);
    assert_memory_equal(hi0, hi1, sizeof hi0);
    f->d->destroy(loaded);

    /* A damaged state is refused with a message, not a crash. */
    m.data[0] = 'X';
    m.pos = 0;
    err[0] = '\0';
    assert_int_equal(f->d->load(&host, &src, &loaded, err, sizeof err), TT_ERR_PARSE);
    assert_non_null(strstr(err, "abi_v1_0"));
    free(m.data);
}

static void test_errors_and_should_stop(void **state)
{
    fixture *f = *state;
    char err[512] = "";
    /* min_rows above an arm's 1,000 rows: the plugin's own refusal. */
    const double strict[] = {1.0, 1000, 0};
    run r;
    start(f, &r, strict, NULL);
    tt_plugin_data few = f->train;
    few.n = 2 * K; /* two rows per arm */
    assert_int_equal(f->d->fit(r.inst, &few, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "min_rows"));
    f->d->destroy(r.inst);

    /* A raised stop flag reaches it through the 1.0 should_stop slot. */
    volatile sig_atomic_t stop = 1;
    const double params[] = {1.0, 5, 0};
    start(f, &r, params, &stop);
    assert_int_equal(f->d->fit(r.inst, &f->train, err, sizeof err), TT_ERR_STOPPED);
    f->d->destroy(r.inst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor_read_as_1_0),
        cmocka_unit_test(test_fit_effect_interval),
        cmocka_unit_test(test_save_load_same_effects),
        cmocka_unit_test(test_errors_and_should_stop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
