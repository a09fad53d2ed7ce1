/* test_builtins.c - the built-in estimator plugins, loaded from the build's
 * plugin folder exactly as the program loads them. */
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
#include "plugin/registry.h"
#include "util/rng.h"

#ifndef TT_PLUGIN_BUILD_DIR
#define TT_PLUGIN_BUILD_DIR "plugins"
#endif

static tt_registry *g_reg;
static tt_host_ctx g_ctx;
static tt_plugin_host g_host;

static int setup(void **state)
{
    (void)state;
    char err[1024];
    size_t loaded = 0;
    g_reg = tt_registry_new();
    if (tt_registry_load_dir(g_reg, TT_PLUGIN_BUILD_DIR, NULL, NULL, &loaded, err, sizeof err) !=
        TT_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    g_ctx.plugin_name = "test";
    tt_host_services_init(&g_host, &g_ctx, 11);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tt_registry_free(g_reg);
    return 0;
}

static const tt_plugin_descriptor *plugin(const char *name)
{
    const tt_plugin_entry *e = tt_registry_find(g_reg, name);
    assert_non_null(e);
    return e->desc;
}

/* Column-major data: x (n x p_x), w (n x p_w), arms, y. */
typedef struct data {
    size_t n, p_x, p_w;
    double *x, *w, *y, *weight;
    int *t;
    int arms;
} data;

static data make_data(size_t n, size_t p_x, size_t p_w, int arms, uint64_t seed)
{
    data d = {.n = n, .p_x = p_x, .p_w = p_w, .arms = arms};
    d.x = calloc(n * p_x + 1, sizeof *d.x);
    d.w = calloc(n * p_w + 1, sizeof *d.w);
    d.y = calloc(n, sizeof *d.y);
    d.t = calloc(n, sizeof *d.t);
    tt_rng rng;
    tt_rng_seed(&rng, seed, "test");
    for (size_t i = 0; i < n * p_x; i++)
        d.x[i] = tt_rng_normal(&rng);
    for (size_t i = 0; i < n * p_w; i++)
        d.w[i] = tt_rng_normal(&rng);
    for (size_t i = 0; i < n; i++)
        d.t[i] = (int)tt_rng_below(&rng, (uint64_t)arms);
    return d;
}

static void free_data(data *d)
{
    free(d->x);
    free(d->w);
    free(d->y);
    free(d->t);
    free(d->weight);
}

static tt_plugin_data view(const data *d)
{
    tt_plugin_data v = {.struct_size = sizeof v, .n = d->n, .p_x = d->p_x, .p_w = d->p_w,
                        .x = d->p_x ? d->x : NULL, .w = d->p_w ? d->w : NULL, .t = d->t,
                        .y = d->y, .weight = d->weight, .n_arms = d->arms};
    return v;
}

static void *fit(const tt_plugin_descriptor *desc, const double *params, const data *d)
{
    void *inst = NULL;
    char err[512] = "";
    assert_int_equal(desc->create(&g_host, params, d->arms, &inst, err, sizeof err), 0);
    tt_plugin_data v = view(d);
    int rc = desc->fit(inst, &v, err, sizeof err);
    if (rc)
        fail_msg("%s fit: %s", desc->name, err);
    return inst;
}

/* In-memory byte stream for save/load round trips. */
typedef struct stream {
    char *buf;
    size_t len, pos;
} stream;

static int s_write(void *ctx, const void *bytes, size_t len)
{
    stream *s = ctx;
    s->buf = realloc(s->buf, s->len + len);
    memcpy(s->buf + s->len, bytes, len);
    s->len += len;
    return 0;
}

static int s_read(void *ctx, void *bytes, size_t len)
{
    stream *s = ctx;
    if (len > s->len - s->pos)
        return -1;
    memcpy(bytes, s->buf + s->pos, len);
    s->pos += len;
    return 0;
}

/* Save, load, and check the loaded model predicts bit for bit the same. */
static void check_round_trip(const tt_plugin_descriptor *desc, void *inst, const data *d)
{
    stream s = {0};
    tt_plugin_sink sink = {.struct_size = sizeof sink, .ctx = &s, .write = s_write};
    tt_plugin_source src = {.struct_size = sizeof src, .ctx = &s, .read = s_read};
    char err[512] = "";
    assert_int_equal(desc->save(inst, &sink, err, sizeof err), 0);
    void *loaded = NULL;
    int rc = desc->load(&g_host, &src, &loaded, err, sizeof err);
    if (rc)
        fail_msg("%s load: %s", desc->name, err);
    assert_int_equal(s.pos, s.len); /* consumed exactly what was written */
    size_t cells = d->n * (size_t)(d->arms - 1);
    double *a = calloc(cells, sizeof *a), *b = calloc(cells, sizeof *b);
    tt_plugin_data v = view(d);
    assert_int_equal(desc->effect(inst, &v, a, err, sizeof err), 0);
    assert_int_equal(desc->effect(loaded, &v, b, err, sizeof err), 0);
    assert_memory_equal(a, b, cells * sizeof *a);

    /* A truncated model is an error, not a crash. */
    stream cut = {.buf = s.buf, .len = s.len / 2};
    tt_plugin_source cut_src = {.struct_size = sizeof cut_src, .ctx = &cut, .read = s_read};
    void *bad = NULL;
    assert_int_not_equal(desc->load(&g_host, &cut_src, &bad, err, sizeof err), 0);
    assert_null(bad);

    desc->destroy(loaded);
    free(a);
    free(b);
    free(s.buf);
}

static void test_all_builtins_load(void **state)
{
    (void)state;
    assert_int_equal(tt_registry_count(g_reg), 3);
    const char *names[] = {"diff_in_means", "s_learner", "t_learner"};
    for (size_t i = 0; i < 3; i++) {
        const tt_plugin_descriptor *d = plugin(names[i]);
        assert_true(d->capabilities & TT_PLUGIN_CAP_MULTI_ARM);
        assert_true(d->capabilities & TT_PLUGIN_CAP_SAVE_LOAD);
    }
}

static void test_diff_in_means_exact(void **state)
{
    (void)state;
    const tt_plugin_descriptor *desc = plugin("diff_in_means");
    data d = make_data(300, 2, 0, 3, 1);
    double sum[3] = {0}, sq[3] = {0};
    size_t cnt[3] = {0};
    for (size_t i = 0; i < d.n; i++) {
        d.y[i] = 10.0 * d.t[i] + d.x[i]; /* arm means about 0, 10, 20 */
        sum[d.t[i]] += d.y[i];
        sq[d.t[i]] += d.y[i] * d.y[i];
        cnt[d.t[i]]++;
    }
    void *inst = fit(desc, NULL, &d);
    double *out = calloc(d.n * 2, sizeof *out), *lo = calloc(d.n * 2, sizeof *lo),
           *hi = calloc(d.n * 2, sizeof *hi);
    tt_plugin_data v = view(&d);
    char err[256];
    assert_int_equal(desc->effect(inst, &v, out, err, sizeof err), 0);
    assert_int_equal(desc->effect_interval(inst, &v, 0.05, lo, hi, err, sizeof err), 0);
    for (int k = 1; k < 3; k++) {
        double m_k = sum[k] / (double)cnt[k], m_0 = sum[0] / (double)cnt[0];
        double v_k = sq[k] / (double)cnt[k] - m_k * m_k, v_0 = sq[0] / (double)cnt[0] - m_0 * m_0;
        double se = sqrt(v_k / (double)cnt[k] + v_0 / (double)cnt[0]);
        for (size_t i = 0; i < d.n; i++) {
            size_t at = (size_t)(k - 1) * d.n + i;
            assert_true(fabs(out[at] - (m_k - m_0)) < 1e-12);
            /* 1.959963984540054 = z_{0.975} */
            assert_true(fabs(hi[at] - out[at] - 1.959963984540054 * se) < 1e-9);
            assert_true(fabs(out[at] - lo[at] - 1.959963984540054 * se) < 1e-9);
        }
    }
    check_round_trip(desc, inst, &d);
    desc->destroy(inst);
    free(out);
    free(lo);
    free(hi);
    free_data(&d);
}

static void test_diff_in_means_weights(void **state)
{
    (void)state;
    const tt_plugin_descriptor *desc = plugin("diff_in_means");
    /* Weight 2 on a row equals the row twice. */
    data d = make_data(4, 0, 0, 2, 1);
    int t[] = {0, 0, 1, 1};
    double y[] = {1, 3, 10, 20};
    memcpy(d.t, t, sizeof t);
    memcpy(d.y, y, sizeof y);
    d.weight = malloc(4 * sizeof *d.weight);
    double w[] = {1, 1, 2, 1};
    memcpy(d.weight, w, sizeof w);
    void *inst = fit(desc, NULL, &d);
    double out[4];
    tt_plugin_data v = view(&d);
    char err[256];
    assert_int_equal(desc->effect(inst, &v, out, err, sizeof err), 0);
    assert_true(fabs(out[0] - ((10.0 * 2 + 20) / 3 - 2.0)) < 1e-12);
    desc->destroy(inst);
    free_data(&d);
}

/* y = 1 + x1 - x2 + w1 + sum_k 1{T=k} (2k + 3k x1): effects tau_k = 2k + 3k x1. */
static data heterogeneous_data(int arms)
{
    data d = make_data(2000, 2, 1, arms, 3);
    for (size_t i = 0; i < d.n; i++) {
        double x1 = d.x[i], x2 = d.x[d.n + i], w1 = d.w[i];
        int k = d.t[i];
        d.y[i] = 1 + x1 - x2 + w1 + (k ? 2.0 * k + 3.0 * k * x1 : 0.0);
    }
    return d;
}

static void check_effects(const tt_plugin_descriptor *desc, void *inst, const data *d, double tol)
{
    size_t cells = d->n * (size_t)(d->arms - 1);
    double *out = calloc(cells, sizeof *out);
    tt_plugin_data v = view(d);
    v.t = NULL; /* prediction rows carry no arms or outcomes */
    v.y = NULL;
    char err[256];
    assert_int_equal(desc->effect(inst, &v, out, err, sizeof err), 0);
    double worst = 0;
    for (int k = 1; k < d->arms; k++)
        for (size_t i = 0; i < d->n; i++)
            worst = fmax(worst, fabs(out[(size_t)(k - 1) * d->n + i] - (2.0 * k + 3.0 * k * d->x[i])));
    if (worst > tol)
        fail_msg("%s: worst effect error %g > %g", desc->name, worst, tol);
    free(out);
}

static void test_t_learner_recovers_linear_effects(void **state)
{
    (void)state;
    const tt_plugin_descriptor *desc = plugin("t_learner");
    double params[] = {1e-4};
    for (int arms = 2; arms <= 3; arms++) {
        data d = heterogeneous_data(arms);
        void *inst = fit(desc, params, &d);
        check_effects(desc, inst, &d, 1e-4);
        check_round_trip(desc, inst, &d);
        desc->destroy(inst);
        free_data(&d);
    }
}

static void test_s_learner_with_and_without_interactions(void **state)
{
    (void)state;
    const tt_plugin_descriptor *desc = plugin("s_learner");
    data d = heterogeneous_data(3);
    double with[] = {1e-4, 1};
    void *inst = fit(desc, with, &d);
    check_effects(desc, inst, &d, 1e-4);
    check_round_trip(desc, inst, &d);
    desc->destroy(inst);

    /* Without interactions a linear S-learner can only say "constant". */
    double without[] = {1e-4, 0};
    inst = fit(desc, without, &d);
    double *out = calloc(d.n * 2, sizeof *out);
    tt_plugin_data v = view(&d);
    char err[256];
    assert_int_equal(desc->effect(inst, &v, out, err, sizeof err), 0);
    for (size_t i = 1; i < d.n; i++)
        assert_true(fabs(out[i] - out[0]) < 1e-12);
    desc->destroy(inst);
    free(out);
    free_data(&d);
}

static void test_t_learner_empty_arm_is_an_error(void **state)
{
    (void)state;
    const tt_plugin_descriptor *desc = plugin("t_learner");
    data d = make_data(50, 1, 0, 3, 4);
    for (size_t i = 0; i < d.n; i++)
        d.t[i] = d.t[i] == 2 ? 1 : d.t[i]; /* nobody in arm 2 */
    void *inst = NULL;
    char err[256] = "";
    double params[] = {1};
    assert_int_equal(desc->create(&g_host, params, 3, &inst, err, sizeof err), 0);
    tt_plugin_data v = view(&d);
    assert_int_not_equal(desc->fit(inst, &v, err, sizeof err), 0);
    assert_non_null(strstr(err, "arm 2 has no training rows"));
    desc->destroy(inst);
    free_data(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_builtins_load),
        cmocka_unit_test(test_diff_in_means_exact),
        cmocka_unit_test(test_diff_in_means_weights),
        cmocka_unit_test(test_t_learner_recovers_linear_effects),
        cmocka_unit_test(test_s_learner_with_and_without_interactions),
        cmocka_unit_test(test_t_learner_empty_arm_is_an_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
