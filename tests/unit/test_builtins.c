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

#include "nuisance/nuisance.h"
#include "plugin/host.h"
#include "plugin/registry.h"
#include "util/rng.h"
#include "test_memstream.h"

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
    /* The run's intervals.resamples: few bootstrap replicas keep tests fast. */
    g_ctx.interval_resamples = 10;
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

/* The schema's default values (caller frees), with set() to change one. */
static double *defaults(const tt_plugin_descriptor *desc)
{
    double *p = calloc(desc->n_params + 1, sizeof *p);
    for (size_t i = 0; i < desc->n_params; i++)
        p[i] = desc->params[i].default_value;
    return p;
}

static void set(const tt_plugin_descriptor *desc, double *params, const char *name, double v)
{
    for (size_t i = 0; i < desc->n_params; i++)
        if (strcmp(desc->params[i].name, name) == 0) {
            params[i] = v;
            return;
        }
    fail_msg("%s has no parameter %s", desc->name, name);
}

/* The host's propensity nuisance as known columns (no model for new rows,
 * like a run given its propensities), or a real engine's result. The table
 * serves only what the plugin declared: caps. */
static tt_nuisance_result g_prop;
static tt_host_nuisances g_nu;

static void serve_propensity(const tt_nuisance_result *r, int arms, size_t p_x, size_t p_w,
                             uint32_t caps)
{
    g_nu = (tt_host_nuisances){.propensity = r, .n_arms = arms, .p_x = p_x, .p_w = p_w};
    g_ctx.nuisances = &g_nu;
    g_ctx.capabilities = caps;
}

static void serve_known(const double *e, size_t n, size_t width, int arms, size_t p_x,
                        size_t p_w, uint32_t caps)
{
    g_prop = (tt_nuisance_result){.role = TT_NUISANCE_PROPENSITY, .arm = -1, .n = n,
                                  .width = width, .oof = (double *)e, .full = NULL};
    serve_propensity(&g_prop, arms, p_x, p_w, caps);
}

static void serve_nothing(void)
{
    g_ctx.nuisances = NULL;
    g_ctx.capabilities = 0;
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

/* Save, load, and check the loaded model predicts bit for bit the same. */
static void check_round_trip(const tt_plugin_descriptor *desc, void *inst, const data *d)
{
    membuf s = {0};
    tt_plugin_sink sink = {.struct_size = sizeof sink, .ctx = &s, .write = mem_write};
    tt_plugin_source src = {.struct_size = sizeof src, .ctx = &s, .read = mem_read};
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
    if (desc->capabilities & TT_PLUGIN_CAP_INTERVALS) {
        assert_int_equal(desc->effect_interval(inst, &v, 0.1, a, b, err, sizeof err), 0);
        double *la = calloc(cells, sizeof *la), *lb = calloc(cells, sizeof *lb);
        assert_int_equal(desc->effect_interval(loaded, &v, 0.1, la, lb, err, sizeof err), 0);
        assert_memory_equal(a, la, cells * sizeof *a);
        assert_memory_equal(b, lb, cells * sizeof *b);
        free(la);
        free(lb);
    }
    if (desc->average_effect) {
        double x1[3 * 16], x2[3 * 16];
        size_t k1 = (size_t)(d->arms - 1);
        assert_true(k1 <= 16);
        assert_int_equal(desc->average_effect(inst, &v, 0.1, x1, x1 + k1, x1 + 2 * k1, err,
                                              sizeof err), 0);
        assert_int_equal(desc->average_effect(loaded, &v, 0.1, x2, x2 + k1, x2 + 2 * k1, err,
                                              sizeof err), 0);
        assert_memory_equal(x1, x2, 3 * k1 * sizeof *x1);
    }

    /* A truncated model is an error, not a crash. */
    membuf cut = {.data = s.data, .len = s.len / 2};
    tt_plugin_source cut_src = {.struct_size = sizeof cut_src, .ctx = &cut, .read = mem_read};
    void *bad = NULL;
    assert_int_not_equal(desc->load(&g_host, &cut_src, &bad, err, sizeof err), 0);
    assert_null(bad);

    desc->destroy(loaded);
    free(a);
    free(b);
    free(s.data);
}

static void test_all_builtins_load(void **state)
{
    (void)state;
    const char *names[] = {"diff_in_means", "ipw", "transformed_outcome", "s_learner",
                           "t_learner", "x_learner", "da_learner"};
    size_t count = sizeof names / sizeof names[0];
    assert_true(tt_registry_count(g_reg) >= count); /* other families load too */
    for (size_t i = 0; i < count; i++) {
        const tt_plugin_descriptor *d = plugin(names[i]);
        int binary_only = strcmp(names[i], "transformed_outcome") == 0;
        assert_int_equal(!!(d->capabilities & TT_PLUGIN_CAP_MULTI_ARM), !binary_only);
        assert_true(d->capabilities & TT_PLUGIN_CAP_SAVE_LOAD);
        assert_true(d->capabilities & TT_PLUGIN_CAP_INTERVALS);
        assert_true(d->struct_size >= TT_PLUGIN_DESCRIPTOR_SIZE_V1_2);
        assert_non_null(d->interval_method);
        assert_non_null(d->average_effect);
        /* Estimators never fit their own nuisances: those that weight by the
         * propensity declare it, the others ask for nothing. */
        int needs = strcmp(names[i], "ipw") == 0 || binary_only ||
                    strcmp(names[i], "x_learner") == 0 || strcmp(names[i], "da_learner") == 0;
        assert_int_equal(d->capabilities & (TT_PLUGIN_CAP_NEEDS_PROPENSITY |
                                            TT_PLUGIN_CAP_NEEDS_OUTCOME |
                                            TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES),
                         needs ? TT_PLUGIN_CAP_NEEDS_PROPENSITY : 0);
    }
    /* The bootstrap replica count is a run setting (host->interval_resamples),
     * so no plugin may offer it to the search as a hyperparameter. */
    for (size_t i = 0; i < tt_registry_count(g_reg); i++) {
        const tt_plugin_descriptor *d = tt_registry_at(g_reg, i)->desc;
        for (size_t j = 0; j < d->n_params; j++)
            if (strstr(d->params[j].name, "resample"))
                fail_msg("%s has a schema parameter %s", d->name, d->params[j].name);
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
    /* Constant effect: the average is the effect, with the same interval. */
    double ate[2], alo[2], ahi[2];
    assert_int_equal(desc->average_effect(inst, &v, 0.05, ate, alo, ahi, err, sizeof err), 0);
    for (int k = 1; k < 3; k++) {
        size_t at = (size_t)(k - 1) * d.n;
        assert_true(ate[k - 1] == out[at] && alo[k - 1] == lo[at] && ahi[k - 1] == hi[at]);
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
    double *params = defaults(desc);
    set(desc, params, "model_alpha", 1e-3);
    for (int arms = 2; arms <= 3; arms++) {
        data d = heterogeneous_data(arms);
        void *inst = fit(desc, params, &d);
        check_effects(desc, inst, &d, 1e-4);
        check_round_trip(desc, inst, &d);
        desc->destroy(inst);
        free_data(&d);
    }
    free(params);
}

static void test_s_learner_with_and_without_interactions(void **state)
{
    (void)state;
    const tt_plugin_descriptor *desc = plugin("s_learner");
    data d = heterogeneous_data(3);
    double *with = defaults(desc);
    set(desc, with, "model_alpha", 1e-3);
    set(desc, with, "interactions", 1);
    void *inst = fit(desc, with, &d);
    check_effects(desc, inst, &d, 1e-4);
    check_round_trip(desc, inst, &d);
    desc->destroy(inst);

    /* Without interactions a linear S-learner can only say "constant". */
    double *without = defaults(desc);
    set(desc, without, "model_alpha", 1e-3);
    set(desc, without, "interactions", 0);
    inst = fit(desc, without, &d);
    double *out = calloc(d.n * 2, sizeof *out);
    tt_plugin_data v = view(&d);
    char err[256];
    assert_int_equal(desc->effect(inst, &v, out, err, sizeof err), 0);
    for (size_t i = 1; i < d.n; i++)
        assert_true(fabs(out[i] - out[0]) < 1e-12);
    desc->destroy(inst);
    free(out);
    free(with);
    free(without);
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
    double *params = defaults(desc);
    assert_int_equal(desc->create(&g_host, params, 3, &inst, err, sizeof err), 0);
    free(params);
    tt_plugin_data v = view(&d);
    assert_int_not_equal(desc->fit(inst, &v, err, sizeof err), 0);
    assert_non_null(strstr(err, "arm 2 has no training rows"));
    desc->destroy(inst);
    free_data(&d);
}

/* ---- ipw ---- */

/* Twelve rows, three arms, known propensities. Reference: statsmodels WLS of
 * y on [1, 1{T=1}, 1{T=2}] with weights 1/e_T and cov_type="HC0" - the Hajek
 * IPW contrasts and their influence-function standard errors
 * (/usr/bin/python3, statsmodels 0.13.5):
 *   params[1:] = 2.0954575378538527, 3.0138248847926263
 *   bse[1:]    = 0.41692419092170752, 1.2063690941489218 */
static const int ipw_t[12] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 0};
static const double ipw_y[12] = {1.0, 3.5, 2.0, 0.5, 4.0, 6.5, 2.0, 2.5, 5.0, 1.5, 3.0, 0.0};
static const double ipw_e[12][3] = {
    {0.5, 0.3, 0.2}, {0.2, 0.6, 0.2},   {0.3, 0.3, 0.4}, {0.6, 0.2, 0.2},
    {0.25, 0.5, 0.25}, {0.1, 0.3, 0.6}, {0.4, 0.4, 0.2}, {0.3, 0.5, 0.2},
    {0.2, 0.2, 0.6}, {0.5, 0.25, 0.25}, {0.3, 0.4, 0.3}, {0.7, 0.2, 0.1}};

static void test_ipw_matches_weighted_least_squares(void **state)
{
    (void)state;
    const tt_plugin_descriptor *desc = plugin("ipw");
    data d = make_data(12, 1, 1, 3, 5);
    memcpy(d.t, ipw_t, sizeof ipw_t);
    memcpy(d.y, ipw_y, sizeof ipw_y);
    double e[36]; /* column-major n x K */
    for (size_t i = 0; i < 12; i++)
        for (size_t k = 0; k < 3; k++)
            e[k * 12 + i] = ipw_e[i][k];
    serve_known(e, 12, 3, 3, 1, 1, desc->capabilities);
    double *params = defaults(desc);
    void *inst = fit(desc, params, &d);
    const double tau[2] = {2.0954575378538527, 3.0138248847926263};
    const double se[2] = {0.41692419092170752, 1.2063690941489218};
    double out[24], lo[24], hi[24], ate[2], alo[2], ahi[2];
    tt_plugin_data v = view(&d);
    char err[256];
    assert_int_equal(desc->effect(inst, &v, out, err, sizeof err), 0);
    assert_int_equal(desc->effect_interval(inst, &v, 0.05, lo, hi, err, sizeof err), 0);
    assert_int_equal(desc->average_effect(inst, &v, 0.05, ate, alo, ahi, err, sizeof err), 0);
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < 12; i++) {
            assert_true(fabs(out[k * 12 + i] - tau[k]) < 1e-12);
            assert_true(fabs(hi[k * 12 + i] - tau[k] - 1.959963984540054 * se[k]) < 1e-9);
            assert_true(fabs(tau[k] - lo[k * 12 + i] - 1.959963984540054 * se[k]) < 1e-9);
        }
        assert_true(ate[k] == out[k * 12] && alo[k] == lo[k * 12] && ahi[k] == hi[k * 12]);
    }
    check_round_trip(desc, inst, &d);
    desc->destroy(inst);

    /* Row 11 (control, y = 0) given e_0 = 0.05: the default clip (0.01) keeps
     * it, min_propensity = 0.1 raises it to 0.1. Same statsmodels reference on
     * e clipped into [c, 1 - c]: c = 0.01 gives 2.8398744113029837 and
     * 3.7582417582417578, c = 0.1 gives 2.6281595206890076 and
     * 3.5465268676277861. */
    e[0 * 12 + 11] = 0.05;
    e[1 * 12 + 11] = 0.9;
    e[2 * 12 + 11] = 0.05;
    inst = fit(desc, params, &d);
    assert_int_equal(desc->effect(inst, &v, out, err, sizeof err), 0);
    assert_true(fabs(out[0] - 2.8398744113029837) < 1e-12);
    assert_true(fabs(out[12] - 3.7582417582417578) < 1e-12);
    desc->destroy(inst);
    set(desc, params, "min_propensity", 0.1);
    inst = fit(desc, params, &d);
    assert_int_equal(desc->effect(inst, &v, out, err, sizeof err), 0);
    assert_true(fabs(out[0] - 2.6281595206890076) < 1e-12);
    assert_true(fabs(out[12] - 3.5465268676277861) < 1e-12);
    desc->destroy(inst);
    free(params);
    serve_nothing();
    free_data(&d);
}

static void test_ipw_needs_the_declared_propensity(void **state)
{
    (void)state;
    const tt_plugin_descriptor *desc = plugin("ipw");
    data d = make_data(12, 1, 0, 3, 5);
    double *params = defaults(desc);
    void *inst = NULL;
    char err[256] = "";
    assert_int_equal(desc->create(&g_host, params, 3, &inst, err, sizeof err), 0);
    tt_plugin_data v = view(&d);
    serve_nothing(); /* a host that serves nothing, or a plugin that declared nothing */
    assert_int_equal(desc->fit(inst, &v, err, sizeof err), TT_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, "propensity"));
    desc->destroy(inst);
    free(params);
    free_data(&d);
}

/* ---- transformed_outcome ---- */

static void test_transformed_outcome_is_binary_only(void **state)
{
    (void)state;
    const tt_plugin_descriptor *desc = plugin("transformed_outcome");
    double *params = defaults(desc);
    void *inst = NULL;
    char err[256] = "";
    assert_int_not_equal(desc->create(&g_host, params, 3, &inst, err, sizeof err), 0);
    assert_null(inst);
    assert_string_equal(err, "transformed_outcome handles 2 arms; this problem has 3");
    free(params);
}

/* Randomised binary T (e = 0.5 known), tau(x) = 2 + 3 x1: the ridge final
 * model of Y* on x recovers the average effect 2 up to Y*'s noise. */
static void test_transformed_outcome_fits_and_round_trips(void **state)
{
    (void)state;
    const tt_plugin_descriptor *desc = plugin("transformed_outcome");
    data d = heterogeneous_data(2);
    double *e = malloc(d.n * sizeof *e);
    for (size_t i = 0; i < d.n; i++)
        e[i] = 0.5;
    serve_known(e, d.n, 1, 2, d.p_x, d.p_w, desc->capabilities);
    double *params = defaults(desc);
    void *inst = fit(desc, params, &d);
    tt_plugin_data v = view(&d);
    double ate, lo, hi;
    char err[256];
    assert_int_equal(desc->average_effect(inst, &v, 0.05, &ate, &lo, &hi, err, sizeof err), 0);
    assert_true(fabs(ate - 2.0) < 0.5);
    assert_true(lo < ate && ate < hi);
    check_round_trip(desc, inst, &d);
    desc->destroy(inst);
    free(params);
    free(e);
    serve_nothing();
    free_data(&d);
}

/* ---- x_learner and da_learner ---- */

/* Randomised arms: the known propensity is 1/K everywhere. */
static double *uniform_propensity(const data *d)
{
    size_t width = d->arms == 2 ? 1 : (size_t)d->arms;
    double *e = malloc(d->n * width * sizeof *e);
    for (size_t i = 0; i < d->n * width; i++)
        e[i] = d->arms == 2 ? 0.5 : 1.0 / d->arms;
    return e;
}

/* Linear effects on exact linear data: with ridge in both stages every
 * imputed effect is exact, so each two-stage learner recovers tau. */
static void check_two_stage(const char *name)
{
    const tt_plugin_descriptor *desc = plugin(name);
    double *params = defaults(desc);
    set(desc, params, "outcome_alpha", 1e-3);
    set(desc, params, "effect_alpha", 1e-3);
    for (int arms = 2; arms <= 3; arms++) {
        data d = heterogeneous_data(arms);
        double *e = uniform_propensity(&d);
        serve_known(e, d.n, arms == 2 ? 1 : (size_t)arms, arms, d.p_x, d.p_w,
                    desc->capabilities);
        void *inst = fit(desc, params, &d);
        check_effects(desc, inst, &d, 1e-3);
        check_round_trip(desc, inst, &d);
        desc->destroy(inst);
        free(e);
        serve_nothing();
        free_data(&d);
    }
    free(params);
}

static void test_x_learner_recovers_linear_effects(void **state)
{
    (void)state;
    check_two_stage("x_learner");
}

static void test_da_learner_recovers_linear_effects(void **state)
{
    (void)state;
    check_two_stage("da_learner");
}

/* With a real propensity model the blend uses it for new rows; the empty arm
 * is refused at fit. */
static void test_x_learner_with_a_propensity_model(void **state)
{
    (void)state;
    const tt_plugin_descriptor *desc = plugin("x_learner");
    data d = heterogeneous_data(2);
    size_t p = d.p_x + d.p_w;
    double *f = malloc(d.n * p * sizeof *f);
    memcpy(f, d.x, d.n * d.p_x * sizeof *f);
    memcpy(f + d.n * d.p_x, d.w, d.n * d.p_w * sizeof *f);
    int32_t *arm = malloc(d.n * sizeof *arm);
    for (size_t i = 0; i < d.n; i++)
        arm[i] = d.t[i];
    tt_nuisance_data nd = {.n = d.n, .p = p, .x = f, .y = d.y, .arm = arm, .n_arms = 2};
    tt_nuisance_spec logistic = {.learner = "logistic"};
    tt_nuisance_engine *eng = NULL;
    const tt_nuisance_result *prop = NULL;
    char err[256];
    assert_int_equal(tt_nuisance_engine_new(&nd, 3, 7, &eng, err, sizeof err), 0);
    assert_int_equal(tt_nuisance_fit(eng, TT_NUISANCE_PROPENSITY, -1, &logistic, &prop, err,
                                     sizeof err), 0);
    assert_non_null(prop->full);
    serve_propensity(prop, 2, d.p_x, d.p_w, desc->capabilities);
    double *params = defaults(desc);
    set(desc, params, "outcome_alpha", 1e-3);
    set(desc, params, "effect_alpha", 1e-3);
    void *inst = fit(desc, params, &d);
    check_effects(desc, inst, &d, 1e-3);
    check_round_trip(desc, inst, &d);
    desc->destroy(inst);

    for (size_t i = 0; i < d.n; i++)
        d.t[i] = 0;
    void *bad = NULL;
    assert_int_equal(desc->create(&g_host, params, 2, &bad, err, sizeof err), 0);
    tt_plugin_data v = view(&d);
    assert_int_not_equal(desc->fit(bad, &v, err, sizeof err), 0);
    assert_non_null(strstr(err, "arm 1 has no training rows"));
    desc->destroy(bad);
    free(params);
    serve_nothing();
    tt_nuisance_engine_free(eng);
    free(arm);
    free(f);
    free_data(&d);
}

/* Noisy data: every bootstrap interval holds its point estimate, has a
 * positive width, and the same seed gives the same intervals. */
static void test_meta_learner_intervals(void **state)
{
    (void)state;
    const char *names[] = {"s_learner", "t_learner", "x_learner", "da_learner"};
    data d = heterogeneous_data(3);
    tt_rng rng;
    tt_rng_seed(&rng, 9, "noise");
    for (size_t i = 0; i < d.n; i++)
        d.y[i] += tt_rng_normal(&rng);
    double *e = uniform_propensity(&d);
    size_t cells = d.n * 2;
    double *pt = calloc(cells, sizeof *pt), *lo = calloc(cells, sizeof *lo),
           *hi = calloc(cells, sizeof *hi), *lo2 = calloc(cells, sizeof *lo2);
    tt_plugin_data v = view(&d);
    char err[256];
    for (size_t j = 0; j < sizeof names / sizeof names[0]; j++) {
        const tt_plugin_descriptor *desc = plugin(names[j]);
        serve_known(e, d.n, 3, 3, d.p_x, d.p_w, desc->capabilities);
        double *params = defaults(desc);
        void *inst = fit(desc, params, &d), *again = fit(desc, params, &d);
        assert_int_equal(desc->effect(inst, &v, pt, err, sizeof err), 0);
        assert_int_equal(desc->effect_interval(inst, &v, 0.1, lo, hi, err, sizeof err), 0);
        for (size_t i = 0; i < cells; i++)
            assert_true(lo[i] < pt[i] && pt[i] < hi[i]);
        assert_int_equal(desc->effect_interval(again, &v, 0.1, lo2, hi, err, sizeof err), 0);
        assert_memory_equal(lo, lo2, cells * sizeof *lo);
        double ate[2], alo[2], ahi[2];
        assert_int_equal(desc->average_effect(inst, &v, 0.1, ate, alo, ahi, err, sizeof err), 0);
        for (int k = 0; k < 2; k++)
            assert_true(alo[k] < ate[k] && ate[k] < ahi[k]);
        desc->destroy(inst);
        desc->destroy(again);
        free(params);
    }
    serve_nothing();
    free(pt);
    free(lo);
    free(hi);
    free(lo2);
    free(e);
    free_data(&d);
}

/* Tree learners in every slot save and load bit for bit too (their
 * bootstrap replicas included). */
static void test_tree_slots_round_trip(void **state)
{
    (void)state;
    const char *names[] = {"s_learner", "t_learner", "x_learner", "da_learner",
                           "transformed_outcome"};
    for (size_t j = 0; j < sizeof names / sizeof names[0]; j++) {
        const tt_plugin_descriptor *desc = plugin(names[j]);
        int arms = j == 4 ? 2 : 3;
        data d = make_data(300, 2, 1, arms, 21);
        for (size_t i = 0; i < d.n; i++)
            d.y[i] = d.x[i] + (d.t[i] ? d.t[i] * (d.x[d.n + i] > 0) : 0) + d.w[i];
        double *e = uniform_propensity(&d);
        serve_known(e, d.n, arms == 2 ? 1 : (size_t)arms, arms, d.p_x, d.p_w, desc->capabilities);
        double *params = defaults(desc);
        size_t slot = j;
        for (size_t i = 0; i < desc->n_params; i++) {
            const char *name = desc->params[i].name;
            size_t len = strlen(name);
            if (len > 8 && strcmp(name + len - 8, "_learner") == 0)
                params[i] = (slot++ % 2) ? 3 : 2; /* gbm or forest, alternating */
            if (len > 6 && strcmp(name + len - 6, "_trees") == 0)
                params[i] = 20;
        }
        void *inst = fit(desc, params, &d);
        check_round_trip(desc, inst, &d);
        desc->destroy(inst);
        free(params);
        free(e);
        serve_nothing();
        free_data(&d);
    }
}

/* A ridge fitted by the host on rows where t == arm (arm < 0: all rows) of
 * the column-major block f (n x p), predicted on g (m x p). */
static void ridge_w(const double *f, size_t n, size_t p, const double *target, const int *t,
                    int arm, const double *wt, const double *g, size_t m, double *out)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += arm < 0 || t[i] == arm;
    double *sub = malloc((c * p + 1) * sizeof *sub), *y = malloc(c * sizeof *y),
           *sw = malloc(c * sizeof *sw);
    size_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(arm < 0 || t[i] == arm))
            continue;
        for (size_t j = 0; j < p; j++)
            sub[j * c + r] = f[j * n + i];
        sw[r] = wt ? wt[i] : 1.0;
        y[r++] = target[i];
    }
    static const char *const keys[] = {"alpha"};
    const double one = 1.0;
    tt_learner *l = NULL;
    char err[256];
    assert_int_equal(g_host.learner_create(g_host.host_ctx, "ridge", keys, &one, 1, &l, err,
                                           sizeof err), 0);
    assert_int_equal(g_host.learner_fit(l, c, p, sub, y, wt ? sw : NULL, err, sizeof err), 0);
    assert_int_equal(g_host.learner_predict(l, m, p, g, out, err, sizeof err), 0);
    g_host.learner_destroy(l);
    free(sub);
    free(y);
    free(sw);
}

static void ridge_on(const double *f, size_t n, size_t p, const double *target, const int *t,
                     int arm, const double *g, size_t m, double *out)
{
    ridge_w(f, n, p, target, t, arm, NULL, g, m, out);
}

/* The X-learner by hand on nonlinear data with unequal arms that cover
 * different x, where the two stage-2 models disagree, so the blend matters.
 * With known propensities (no model for new rows) the plugin blends with the
 * training shares: g = e_1 / (e_1 + e_0) = share_1,
 * tau = g tau^(0) + (1 - g) tau^(1). */
static void test_x_learner_blend_by_hand(void **state)
{
    (void)state;
    const tt_plugin_descriptor *desc = plugin("x_learner");
    data d = make_data(400, 1, 1, 2, 8);
    double share1 = 0;
    for (size_t i = 0; i < d.n; i++) {
        d.t[i] = d.x[i] > 0.3; /* about 38% treated, on one side of x */
        share1 += d.t[i] / (double)d.n;
        double x = d.x[i];
        d.y[i] = x * x + d.w[i] + (d.t[i] ? 1 + fabs(x) : 0);
    }
    double *e = uniform_propensity(&d);
    serve_known(e, d.n, 1, 2, d.p_x, d.p_w, desc->capabilities);
    double *params = defaults(desc); /* ridge, alpha 1, in both slots */
    void *inst = fit(desc, params, &d);
    double *out = calloc(d.n, sizeof *out);
    tt_plugin_data v = view(&d);
    char err[256];
    assert_int_equal(desc->effect(inst, &v, out, err, sizeof err), 0);

    size_t n = d.n;
    double *xw = malloc(2 * n * sizeof *xw), *mu0 = malloc(n * sizeof *mu0),
           *mu1 = malloc(n * sizeof *mu1), *dd = calloc(n, sizeof *dd),
           *t0 = malloc(n * sizeof *t0), *t1 = malloc(n * sizeof *t1);
    memcpy(xw, d.x, n * sizeof *xw);
    memcpy(xw + n, d.w, n * sizeof *xw);
    ridge_on(xw, n, 2, d.y, d.t, 0, xw, n, mu0);
    ridge_on(xw, n, 2, d.y, d.t, 1, xw, n, mu1);
    for (size_t i = 0; i < n; i++)
        dd[i] = d.t[i] ? d.y[i] - mu0[i] : mu1[i] - d.y[i];
    ridge_on(d.x, n, 1, dd, d.t, 1, d.x, n, t1);
    ridge_on(d.x, n, 1, dd, d.t, 0, d.x, n, t0);
    double spread = 0;
    for (size_t i = 0; i < n; i++) {
        double want = share1 * t0[i] + (1 - share1) * t1[i];
        spread = fmax(spread, fabs(t0[i] - t1[i]));
        if (fabs(out[i] - want) > 1e-9)
            fail_msg("row %zu: x_learner %.17g, by hand %.17g", i, out[i], want);
    }
    assert_true(spread > 0.1); /* the blend weight is visible */
    desc->destroy(inst);
    free(params);
    free(e);
    free(out);
    free(xw);
    free(mu0);
    free(mu1);
    free(dd);
    free(t0);
    free(t1);
    serve_nothing();
    free_data(&d);
}

/* The DA-learner by hand, two arms, known propensities that vary by row
 * (one clipped at 0.01): mu_1 on treated rows weighted e_0 / e_1, mu_0 on
 * control rows weighted e_1 / e_0, D imputed on every row, tau a ridge of D
 * on x over all rows. */
static void test_da_learner_by_hand(void **state)
{
    (void)state;
    const tt_plugin_descriptor *desc = plugin("da_learner");
    data d = make_data(400, 1, 1, 2, 12);
    size_t n = d.n;
    double *e = malloc(n * sizeof *e);
    for (size_t i = 0; i < n; i++) {
        e[i] = d.w[i] > 0 ? 0.7 : 0.25;
        if (i == 5)
            e[i] = 0.001; /* clipped to 0.01 */
        d.t[i] = (i % 3) == 0 ? 1 : 0;
        d.y[i] = d.x[i] * d.x[i] + d.w[i] * d.x[i] + (d.t[i] ? 1 + fabs(d.x[i]) : 0);
    }
    d.t[5] = 1;
    serve_known(e, n, 1, 2, d.p_x, d.p_w, desc->capabilities);
    double *params = defaults(desc); /* ridge, alpha 1, in both slots */
    void *inst = fit(desc, params, &d);
    double *out = calloc(n, sizeof *out);
    tt_plugin_data v = view(&d);
    char err[256];
    assert_int_equal(desc->effect(inst, &v, out, err, sizeof err), 0);

    double *xw = malloc(2 * n * sizeof *xw), *mu0 = malloc(n * sizeof *mu0),
           *mu1 = malloc(n * sizeof *mu1), *dd = calloc(n, sizeof *dd),
           *w1 = calloc(n, sizeof *w1), *w0 = calloc(n, sizeof *w0),
           *tau = malloc(n * sizeof *tau);
    memcpy(xw, d.x, n * sizeof *xw);
    memcpy(xw + n, d.w, n * sizeof *xw);
    for (size_t i = 0; i < n; i++) {
        double e1 = fmin(fmax(e[i], 0.01), 0.99), e0 = fmin(fmax(1 - e[i], 0.01), 0.99);
        w1[i] = e0 / e1;
        w0[i] = e1 / e0;
    }
    ridge_w(xw, n, 2, d.y, d.t, 1, w1, xw, n, mu1);
    ridge_w(xw, n, 2, d.y, d.t, 0, w0, xw, n, mu0);
    for (size_t i = 0; i < n; i++)
        dd[i] = d.t[i] ? d.y[i] - mu0[i] : mu1[i] - d.y[i];
    ridge_on(d.x, n, 1, dd, d.t, -1, d.x, n, tau);
    for (size_t i = 0; i < n; i++)
        if (fabs(out[i] - tau[i]) > 1e-9)
            fail_msg("row %zu: da_learner %.17g, by hand %.17g", i, out[i], tau[i]);
    desc->destroy(inst);
    free(params);
    free(e);
    free(out);
    free(xw);
    free(mu0);
    free(mu1);
    free(dd);
    free(w1);
    free(w0);
    free(tau);
    serve_nothing();
    free_data(&d);
}

/* Save inst into a fresh stream (caller frees s->data). */
static void save_to(const tt_plugin_descriptor *desc, void *inst, membuf *s)
{
    tt_plugin_sink sink = {.struct_size = sizeof sink, .ctx = s, .write = mem_write};
    char err[512] = "";
    if (desc->save(inst, &sink, err, sizeof err) != 0)
        fail_msg("%s save: %s", desc->name, err);
    mem_write(s, "", 1); /* NUL-terminate for strstr; never read back */
}

/* The run's intervals.resamples (host->interval_resamples) sets every
 * bootstrap builtin's replica count: 7 replicas, or PU_BOOT_DEFAULT_RESAMPLES
 * (30) when the run leaves it at 0. The saved model records the count and a
 * host with another setting loads the saved replicas unchanged. */
static void test_run_sets_the_bootstrap_replicas(void **state)
{
    (void)state;
    const char *names[] = {"transformed_outcome", "s_learner", "t_learner", "x_learner",
                           "da_learner"};
    data d = make_data(300, 2, 1, 2, 21);
    tt_rng rng;
    tt_rng_seed(&rng, 21, "noise");
    for (size_t i = 0; i < d.n; i++)
        d.y[i] = d.x[i] + d.w[i] + (d.t[i] ? 1.0 + d.x[d.n + i] : 0.0) + tt_rng_normal(&rng);
    double *e = uniform_propensity(&d);
    tt_plugin_data v = view(&d);
    double *lo[2], *hi[2], *lo_loaded = calloc(d.n, sizeof *lo_loaded),
                           *hi_loaded = calloc(d.n, sizeof *hi_loaded);
    for (int r = 0; r < 2; r++) {
        lo[r] = calloc(d.n, sizeof *lo[r]);
        hi[r] = calloc(d.n, sizeof *hi[r]);
    }
    const size_t run_setting[2] = {7, 0};
    const char *header[2] = {"\nresamples 7\n", "\nresamples 30\n"};
    char err[512] = "";
    for (size_t j = 0; j < sizeof names / sizeof names[0]; j++) {
        const tt_plugin_descriptor *desc = plugin(names[j]);
        serve_known(e, d.n, 1, 2, d.p_x, d.p_w, desc->capabilities);
        double *params = defaults(desc);
        for (int r = 0; r < 2; r++) {
            g_host.interval_resamples = run_setting[r];
            void *inst = fit(desc, params, &d);
            assert_int_equal(desc->effect_interval(inst, &v, 0.1, lo[r], hi[r], err, sizeof err),
                             0);
            membuf s = {0};
            save_to(desc, inst, &s);
            if (!strstr(s.data, header[r]))
                fail_msg("%s: saved model lacks '%s'", desc->name, header[r] + 1);
            /* Loading follows the stream, not the loading run's setting. */
            g_host.interval_resamples = 40;
            void *loaded = NULL;
            tt_plugin_source src = {.struct_size = sizeof src, .ctx = &s, .read = mem_read};
            if (desc->load(&g_host, &src, &loaded, err, sizeof err) != 0)
                fail_msg("%s load: %s", desc->name, err);
            assert_int_equal(
                desc->effect_interval(loaded, &v, 0.1, lo_loaded, hi_loaded, err, sizeof err), 0);
            assert_memory_equal(lo[r], lo_loaded, d.n * sizeof *lo_loaded);
            assert_memory_equal(hi[r], hi_loaded, d.n * sizeof *hi_loaded);
            desc->destroy(loaded);
            desc->destroy(inst);
            free(s.data);
        }
        /* Different replica counts give different (same-seed) intervals. */
        assert_memory_not_equal(lo[0], lo[1], d.n * sizeof *lo[0]);
        free(params);
    }
    g_host.interval_resamples = 10;
    for (int r = 0; r < 2; r++) {
        free(lo[r]);
        free(hi[r]);
    }
    free(lo_loaded);
    free(hi_loaded);
    free(e);
    serve_nothing();
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
        cmocka_unit_test(test_ipw_matches_weighted_least_squares),
        cmocka_unit_test(test_ipw_needs_the_declared_propensity),
        cmocka_unit_test(test_transformed_outcome_is_binary_only),
        cmocka_unit_test(test_transformed_outcome_fits_and_round_trips),
        cmocka_unit_test(test_x_learner_recovers_linear_effects),
        cmocka_unit_test(test_da_learner_recovers_linear_effects),
        cmocka_unit_test(test_x_learner_with_a_propensity_model),
        cmocka_unit_test(test_meta_learner_intervals),
        cmocka_unit_test(test_run_sets_the_bootstrap_replicas),
        cmocka_unit_test(test_tree_slots_round_trip),
        cmocka_unit_test(test_x_learner_blend_by_hand),
        cmocka_unit_test(test_da_learner_by_hand),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
