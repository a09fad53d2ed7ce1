/*
 * test_drdml.c - the dr and dml plugin families, loaded from their shared
 * objects and driven through the ABI with a real host table whose nuisances
 * are replaced by known arrays (so the numbers can be checked independently).
 *
 * References: ref.py (numpy / scipy, same data formulas as data_make below),
 * pasted as literals.
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

#include "plugin/host.h"
#include "tautune/plugin.h"
#include "test_memstream.h"
#include "test_open_plugin.h"

/* ---- data: the formulas of ref.py's data() -------------------------------- */

enum { NMAX = 2000, KMAX = 3, NP = 5 };

typedef struct fixture {
    size_t n;
    int k;
    double x[NMAX * 2], y[NMAX], e[NMAX * KMAX], mu[NMAX * KMAX], m[NMAX], wt[NMAX];
    double e1[NMAX + 1]; /* P(T = 1) for two arms (the host's width-1 form) */
    int t[NMAX];
    int extra_row;       /* serve n + 1 rows: a host that disagrees with fit() */
} fixture;

static fixture g_fx;

static void data_make(size_t n, int k)
{
    fixture *f = &g_fx;
    memset(f, 0, sizeof *f);
    f->n = n;
    f->k = k;
    for (size_t i = 0; i < n; i++) {
        double di = (double)i;
        double x1 = sin(0.7 * di + 0.3) * 1.3, x2 = cos(1.3 * di) * 0.8 + 0.1 * (double)(i % 7);
        f->x[i] = x1;
        f->x[n + i] = x2;
        f->t[i] = (int)((i * 7 + i / 5) % (size_t)k);
        f->y[i] = 1 + x1 - 0.5 * x2 + f->t[i] * (0.5 + x1) + 0.3 * sin(2.1 * di);
        double raw[KMAX], sum = 0;
        for (int a = 0; a < k; a++) {
            raw[a] = exp(1.5 * a * x1 + 0.2 * sin(0.5 * di + a));
            sum += raw[a];
        }
        for (int a = 0; a < k; a++) {
            f->e[(size_t)a * n + i] = raw[a] / sum;
            f->mu[(size_t)a * n + i] =
                1 + 0.9 * x1 - 0.4 * x2 + a * (0.45 + 1.1 * x1) + 0.05 * cos(di);
        }
        f->e1[i] = f->e[n + i];
        f->m[i] = 1.2 + 0.8 * x1 + 0.1 * sin(0.11 * di);
        f->wt[i] = 0.5 + (double)(i % 4) * 0.25;
    }
}

static const double XP[NP * 2] = {0.0, 1.0, -0.7, 0.4, -1.2, /* x1 */
                                  0.0, -0.5, 0.3, 0.9, -0.8}; /* x2 */

/* Stand-in for the host's cached nuisances: serves g_fx. */
static int fake_oof(void *host_ctx, tt_nuisance_kind kind, int arm, const double **values,
                    size_t *n, size_t *width, char *err, size_t errlen)
{
    (void)host_ctx;
    (void)err;
    (void)errlen;
    fixture *f = &g_fx;
    *n = f->n + (size_t)f->extra_row;
    *width = 1;
    if (kind == TT_NUISANCE_KIND_PROPENSITY) {
        *values = f->k == 2 ? f->e1 : f->e;
        *width = f->k == 2 ? 1 : (size_t)f->k;
    } else if (kind == TT_NUISANCE_KIND_OUTCOME) {
        *values = f->m;
    } else {
        *values = f->mu + (size_t)arm * f->n;
    }
    return 0;
}

/* ---- plugins and host ------------------------------------------------------- */

static tt_plugin_host g_host;
static tt_host_ctx g_ctx;

/* The run's intervals.resamples served by host_make (0 = plugin default). */
static size_t g_run_resamples;

static const tt_plugin_host *host_make(uint64_t seed)
{
    memset(&g_ctx, 0, sizeof g_ctx);
    g_ctx.plugin_name = "test";
    g_ctx.interval_resamples = g_run_resamples;
    tt_host_services_init(&g_host, &g_ctx, seed);
    g_host.nuisance_oof = fake_oof;
    return &g_host;
}

static tt_plugin_data train_data(int weighted)
{
    fixture *f = &g_fx;
    return (tt_plugin_data){.struct_size = sizeof(tt_plugin_data), .n = f->n, .p_x = 2,
                            .x = f->x, .t = f->t, .y = f->y, .weight = weighted ? f->wt : NULL,
                            .n_arms = f->k};
}

static tt_plugin_data predict_rows(void)
{
    return (tt_plugin_data){.struct_size = sizeof(tt_plugin_data), .n = NP, .p_x = 2, .x = XP,
                            .n_arms = g_fx.k};
}

/* Schema defaults with some entries overridden by name. */
static void params_for(const tt_plugin_descriptor *d, double *v, const char *name, double value,
                       ...)
{
    for (size_t i = 0; i < d->n_params; i++)
        v[i] = d->params[i].default_value;
    va_list ap;
    va_start(ap, value);
    while (name) {
        size_t i = 0;
        while (i < d->n_params && strcmp(d->params[i].name, name) != 0)
            i++;
        if (i == d->n_params)
            fail_msg("%s has no parameter %s", d->name, name);
        v[i] = value;
        name = va_arg(ap, const char *);
        if (name)
            value = va_arg(ap, double);
    }
    va_end(ap);
}

static void *fit_plugin(const plugin *p, const double *params, int weighted, uint64_t seed)
{
    char err[512] = "";
    void *inst = NULL;
    const tt_plugin_host *h = host_make(seed);
    int rc = p->d->create(h, params, g_fx.k, &inst, err, sizeof err);
    if (rc)
        fail_msg("%s create: %s", p->d->name, err);
    tt_plugin_data tr = train_data(weighted);
    rc = p->d->fit(inst, &tr, err, sizeof err);
    if (rc)
        fail_msg("%s fit: %s", p->d->name, err);
    return inst;
}

static void assert_close(const double *got, const double *want, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs(got[i] - want[i]) <= tol * (1 + fabs(want[i]))))
            fail_msg("value %zu: got %.17g, want %.17g", i, got[i], want[i]);
}

/* ---- a growable byte buffer as sink and source ------------------------------ */

/* ---- reference checks ------------------------------------------------------- */

/* ref.py: dr_linear, K = 3, min_propensity 0.05 (151 of 900 propensities
 * clipped), weights, intercept, no poly; alpha = 0.1. Column-major NP x 2. */
static const double DR_LIN_EFF[] = {0.29336896341643981, 1.0375989408838495, -0.23222772985418277, 0.69304655335899235, -0.72950686276065546, 0.96428123310265246, 2.5128975607993151, -0.12525069182105858, 1.7047386659743617, -1.0480722351426712};
static const double DR_LIN_LO[] = {0.11148266296270767, 0.64614901519037338, -0.35908476598729194, 0.37071034900910943, -1.1186050541511634, 0.70070045405663506, 2.0909523694096843, -0.4408249342325089, 1.3586653807257019, -1.7610535430104652};
static const double DR_LIN_HI[] = {0.47525526387017192, 1.4290488665773258, -0.1053706937210736, 1.0153827577088752, -0.34040867137014758, 1.2278620121486699, 2.934842752188946, 0.19032355059039174, 2.0508119512230216, -0.33509092727487721};
static const double DR_LIN_ATE[] = {0.21245597300888869, 0.80171890658251976};
static const double DR_LIN_ATE_LO[] = {0.039930965566343846, 0.5249467113802887};
static const double DR_LIN_ATE_HI[] = {0.38498098045143353, 1.0784911017847509};

/* ref.py: dml_linear, K = 3, intercept, poly2, weights; joint HC1. */
static const double DML_LIN_EFF[] = {0.2913673317745808, 1.1565509229405282, -0.61914432223723326, 0.66642800700947857, -0.9034374320822115, 0.02001522267038694, -0.20108486857919566, -0.95458828365567816, 0.43369441701309686, -1.2437279850606873};
static const double DML_LIN_LO[] = {0.09876884147337131, 0.81130123053120906, -0.78358594319354724, 0.46043906619482783, -1.1940024680464212, -0.22874512577114756, -0.49352954956833717, -1.1450521994047855, 0.220560082884593, -1.6391558307574305};
static const double DML_LIN_HI[] = {0.48396582207579031, 1.5018006153498473, -0.45470270128091922, 0.87241694782412926, -0.61287239611800182, 0.26877557111192141, 0.09135981240994584, -0.76412436790657079, 0.64682875114160066, -0.84830013936394388};

/* ref.py: dml_nonparam, K = 2, ridge alpha 2 (unpenalised intercept) on
 * Y_res/T_res with weights T_res^2, no sample weights. */
static const double DML_NP_EFF[] = {-0.21257713350416307, 0.34439023673198116, -0.61023619864730361, 0.18141174610276717, -1.0988313451670466};

static void test_dr_linear_matches_reference(void **state)
{
    (void)state;
    data_make(300, 3);
    plugin p = open_plugin("dr_linear");
    double prm[8], out[NP * 2], lo[NP * 2], hi[NP * 2], ate[2], alo[2], ahi[2];
    char err[256];
    params_for(p.d, prm, "min_propensity", 0.05, "fit_cate_intercept", 1.0, "featurizer", 0.0,
               NULL);
    void *inst = fit_plugin(&p, prm, 1, 1);
    tt_plugin_data rows = predict_rows();
    assert_int_equal(p.d->effect(inst, &rows, out, err, sizeof err), 0);
    assert_int_equal(p.d->effect_interval(inst, &rows, 0.1, lo, hi, err, sizeof err), 0);
    assert_int_equal(p.d->average_effect(inst, &rows, 0.1, ate, alo, ahi, err, sizeof err), 0);
    assert_close(out, DR_LIN_EFF, NP * 2, 1e-9);
    assert_close(lo, DR_LIN_LO, NP * 2, 1e-9);
    assert_close(hi, DR_LIN_HI, NP * 2, 1e-9);
    assert_close(ate, DR_LIN_ATE, 2, 1e-9);
    assert_close(alo, DR_LIN_ATE_LO, 2, 1e-9);
    assert_close(ahi, DR_LIN_ATE_HI, 2, 1e-9);
    assert_string_equal(p.d->interval_method, "HC1 sandwich");
    p.d->destroy(inst);
    dlclose(p.so);
}

/* dr with a nearly unpenalised ridge final stage is OLS of Gamma on [1, x]:
 * the same effects as dr_linear's reference (checks the learner path and that
 * every variant builds the same pseudo-outcomes). */
static void test_dr_learner_ridge_is_ols(void **state)
{
    (void)state;
    data_make(300, 3);
    plugin p = open_plugin("dr");
    double prm[16], out[NP * 2];
    char err[256];
    params_for(p.d, prm, "min_propensity", 0.05, "final_learner", 0.0, "final_alpha", 1e-3,
               NULL);
    void *inst = fit_plugin(&p, prm, 1, 1);
    tt_plugin_data rows = predict_rows();
    assert_int_equal(p.d->effect(inst, &rows, out, err, sizeof err), 0);
    assert_close(out, DR_LIN_EFF, NP * 2, 1e-4);
    p.d->destroy(inst);
    dlclose(p.so);
}

static void test_dml_linear_matches_reference(void **state)
{
    (void)state;
    data_make(300, 3);
    plugin p = open_plugin("dml_linear");
    double prm[8], out[NP * 2], lo[NP * 2], hi[NP * 2];
    char err[256];
    params_for(p.d, prm, "fit_cate_intercept", 1.0, "featurizer", 1.0, NULL);
    void *inst = fit_plugin(&p, prm, 1, 1);
    tt_plugin_data rows = predict_rows();
    assert_int_equal(p.d->effect(inst, &rows, out, err, sizeof err), 0);
    assert_int_equal(p.d->effect_interval(inst, &rows, 0.1, lo, hi, err, sizeof err), 0);
    assert_close(out, DML_LIN_EFF, NP * 2, 1e-9);
    assert_close(lo, DML_LIN_LO, NP * 2, 1e-9);
    assert_close(hi, DML_LIN_HI, NP * 2, 1e-9);
    p.d->destroy(inst);
    dlclose(p.so);
}

static void test_dml_nonparam_ridge_matches_reference(void **state)
{
    (void)state;
    data_make(300, 2);
    plugin p = open_plugin("dml_nonparam");
    double prm[16], out[NP];
    char err[256];
    params_for(p.d, prm, "final_learner", 0.0, "final_alpha", 2.0, NULL);
    void *inst = fit_plugin(&p, prm, 0, 1);
    tt_plugin_data rows = predict_rows();
    assert_int_equal(p.d->effect(inst, &rows, out, err, sizeof err), 0);
    assert_close(out, DML_NP_EFF, NP, 1e-8);
    p.d->destroy(inst);
    dlclose(p.so);
}

/* The sparse variants on plenty of rows and two strong features: the debiased
 * lasso is close to OLS (dr_linear / dml_linear of the same data). */
static void test_sparse_close_to_ols(void **state)
{
    (void)state;
    static const char *const pairs[][2] = {{"dr_sparse_linear", "dr_linear"},
                                           {"dml_sparse_linear", "dml_linear"}};
    data_make(2000, 3);
    /* m = sum_k e_k mu_k, consistent with the other nuisances, so Y_res has
     * mean ~0 and the lasso's own intercept (dropped) has nothing to absorb
     * that OLS without an intercept would put into the effect. */
    for (size_t i = 0; i < g_fx.n; i++) {
        g_fx.m[i] = 0;
        for (int a = 0; a < g_fx.k; a++)
            g_fx.m[i] += g_fx.e[(size_t)a * g_fx.n + i] * g_fx.mu[(size_t)a * g_fx.n + i];
    }
    for (size_t c = 0; c < 2; c++) {
        plugin ps = open_plugin(pairs[c][0]), pl = open_plugin(pairs[c][1]);
        double prm_s[8], prm_l[8], a[NP * 2], b[NP * 2], lo[NP * 2], hi[NP * 2];
        char err[256];
        params_for(ps.d, prm_s, "featurizer", 0.0, NULL);
        params_for(pl.d, prm_l, "featurizer", 0.0, NULL);
        void *is = fit_plugin(&ps, prm_s, 0, 1), *il = fit_plugin(&pl, prm_l, 0, 1);
        tt_plugin_data rows = predict_rows();
        assert_int_equal(ps.d->effect(is, &rows, a, err, sizeof err), 0);
        assert_int_equal(pl.d->effect(il, &rows, b, err, sizeof err), 0);
        assert_int_equal(ps.d->effect_interval(is, &rows, 0.1, lo, hi, err, sizeof err), 0);
        for (size_t i = 0; i < NP * 2; i++) {
            if (fabs(a[i] - b[i]) > 0.05)
                fail_msg("%s row %zu: %.6g vs %s %.6g", pairs[c][0], i, a[i], pairs[c][1], b[i]);
            if (!(lo[i] <= a[i] && a[i] <= hi[i] && hi[i] - lo[i] < 2.0))
                fail_msg("%s row %zu: %.6g not in [%.6g, %.6g]", pairs[c][0], i, a[i], lo[i], hi[i]);
        }
        assert_string_equal(ps.d->interval_method, "debiased lasso");
        ps.d->destroy(is);
        pl.d->destroy(il);
        dlclose(ps.so);
        dlclose(pl.so);
    }
}

static void test_dml_nonparam_refuses_three_arms(void **state)
{
    (void)state;
    plugin p = open_plugin("dml_nonparam");
    double prm[16];
    char err[256] = "";
    void *inst = NULL;
    params_for(p.d, prm, NULL, 0.0);
    int rc = p.d->create(host_make(1), prm, 3, &inst, err, sizeof err);
    assert_int_equal(rc, TT_ERR_UNSUPPORTED);
    assert_null(inst);
    assert_non_null(strstr(err, "binary"));
    assert_false(p.d->capabilities & TT_PLUGIN_CAP_MULTI_ARM);
    dlclose(p.so);
}

/* A host whose nuisances have another row count than fit() got: an error
 * with a message, no crash, and the instance stays unfitted. */
static void test_nuisance_row_count_checked(void **state)
{
    (void)state;
    static const char *const names[] = {"dr", "dr_linear", "dml_linear", "dml_nonparam"};
    for (size_t c = 0; c < 4; c++) {
        data_make(200, strcmp(names[c], "dml_nonparam") == 0 ? 2 : 3);
        g_fx.extra_row = 1;
        plugin p = open_plugin(names[c]);
        double prm[16], out[NP * 2];
        char err[256] = "";
        void *inst = NULL;
        params_for(p.d, prm, NULL, 0.0);
        assert_int_equal(p.d->create(host_make(1), prm, g_fx.k, &inst, err, sizeof err), 0);
        tt_plugin_data tr = train_data(0), rows = predict_rows();
        assert_int_not_equal(p.d->fit(inst, &tr, err, sizeof err), 0);
        assert_true(strlen(err) > 0);
        assert_int_not_equal(p.d->effect(inst, &rows, out, err, sizeof err), 0);
        p.d->destroy(inst);
        dlclose(p.so);
        g_fx.extra_row = 0;
    }
}

/* Save, load, and the loaded model gives bit-identical effects, intervals and
 * average effects; the header line names the plugin. */
static void test_save_load_bit_identical(void **state)
{
    (void)state;
    static const char *const names[] = {"dr", "dr_linear", "dr_sparse_linear",
                                        "dml_linear", "dml_sparse_linear", "dml_nonparam"};
    for (size_t c = 0; c < 6; c++) {
        int k = strcmp(names[c], "dml_nonparam") == 0 ? 2 : 3;
        data_make(400, k);
        plugin p = open_plugin(names[c]);
        double prm[16];
        params_for(p.d, prm, NULL, 0.0);
        void *inst = fit_plugin(&p, prm, 1, 42);
        size_t m = NP * (size_t)(k - 1);
        double e1[NP * 2], l1[NP * 2], h1[NP * 2], a1[2], al1[2], ah1[2];
        double e2[NP * 2], l2[NP * 2], h2[NP * 2], a2[2], al2[2], ah2[2];
        char err[256];
        tt_plugin_data rows = predict_rows();
        assert_int_equal(p.d->effect(inst, &rows, e1, err, sizeof err), 0);
        assert_int_equal(p.d->effect_interval(inst, &rows, 0.05, l1, h1, err, sizeof err), 0);
        assert_int_equal(p.d->average_effect(inst, &rows, 0.05, a1, al1, ah1, err, sizeof err), 0);
        membuf b = {0};
        tt_plugin_sink sink = {sizeof sink, &b, mem_write};
        if (p.d->save(inst, &sink, err, sizeof err))
            fail_msg("%s save: %s", names[c], err);
        p.d->destroy(inst);
        char head[80];
        snprintf(head, sizeof head, "%s 1\n", names[c]);
        assert_memory_equal(b.data, head, strlen(head));
        tt_plugin_source src = {sizeof src, &b, mem_read};
        void *loaded = NULL;
        if (p.d->load(host_make(7), &src, &loaded, err, sizeof err))
            fail_msg("%s load: %s", names[c], err);
        assert_int_equal(p.d->effect(loaded, &rows, e2, err, sizeof err), 0);
        assert_int_equal(p.d->effect_interval(loaded, &rows, 0.05, l2, h2, err, sizeof err), 0);
        assert_int_equal(p.d->average_effect(loaded, &rows, 0.05, a2, al2, ah2, err, sizeof err),
                         0);
        assert_memory_equal(e1, e2, sizeof(double) * m);
        assert_memory_equal(l1, l2, sizeof(double) * m);
        assert_memory_equal(h1, h2, sizeof(double) * m);
        assert_memory_equal(a1, a2, sizeof(double) * (size_t)(k - 1));
        assert_memory_equal(al1, al2, sizeof(double) * (size_t)(k - 1));
        assert_memory_equal(ah1, ah2, sizeof(double) * (size_t)(k - 1));
        for (size_t i = 0; i < m; i++)
            assert_true(l1[i] <= e1[i] && e1[i] <= h1[i]);
        p.d->destroy(loaded);
        /* A truncated stream is refused with a message, not a crash. */
        b.len /= 2;
        b.pos = 0;
        loaded = NULL;
        assert_int_not_equal(p.d->load(host_make(7), &src, &loaded, err, sizeof err), 0);
        assert_null(loaded);
        free(b.data);
        dlclose(p.so);
    }
}

/* Same seed, same bootstrap intervals; another seed, other intervals. */
static void test_bootstrap_deterministic(void **state)
{
    (void)state;
    data_make(300, 3);
    plugin p = open_plugin("dr");
    double prm[16], lo[3][NP * 2], hi[3][NP * 2];
    char err[256];
    params_for(p.d, prm, NULL, 0.0);
    g_run_resamples = 20;
    uint64_t seeds[3] = {5, 5, 6};
    for (int r = 0; r < 3; r++) {
        void *inst = fit_plugin(&p, prm, 0, seeds[r]);
        tt_plugin_data rows = predict_rows();
        assert_int_equal(p.d->effect_interval(inst, &rows, 0.1, lo[r], hi[r], err, sizeof err), 0);
        p.d->destroy(inst);
    }
    g_run_resamples = 0;
    assert_memory_equal(lo[0], lo[1], sizeof lo[0]);
    assert_memory_equal(hi[0], hi[1], sizeof hi[0]);
    assert_memory_not_equal(lo[0], lo[2], sizeof lo[0]);
    dlclose(p.so);
}

/* Fit under a host whose interval_resamples is B (abi_minor as given), take
 * the intervals on the prediction rows and the saved model (NUL-terminated;
 * caller frees b->data). */
static void fit_with_replicas(const plugin *p, const double *prm, size_t B, uint32_t abi_minor,
                              double *lo, double *hi, membuf *b)
{
    char err[256];
    void *inst = NULL;
    const tt_plugin_host *h = host_make(3);
    g_host.interval_resamples = B;
    g_host.abi_minor = abi_minor;
    assert_int_equal(p->d->create(h, prm, g_fx.k, &inst, err, sizeof err), 0);
    tt_plugin_data tr = train_data(0);
    assert_int_equal(p->d->fit(inst, &tr, err, sizeof err), 0);
    tt_plugin_data rows = predict_rows();
    assert_int_equal(p->d->effect_interval(inst, &rows, 0.1, lo, hi, err, sizeof err), 0);
    tt_plugin_sink sink = {sizeof sink, b, mem_write};
    assert_int_equal(p->d->save(inst, &sink, err, sizeof err), 0);
    assert_int_equal(mem_write(b, "", 1), 0);
    p->d->destroy(inst);
}

/* The replica count is the run's intervals.resamples (host->interval_resamples),
 * not a hyperparameter: B = 5 and B = 40 give different intervals and each
 * saved model records its count; 0, or a host reporting ABI 1.1 (which has
 * no such field to read), means PU_BOOT_DEFAULT_RESAMPLES (30). A model saved with B = 5 loads
 * its 5 replicas (bit-identical intervals) under a host asking for 40. */
static void test_run_resamples_override(void **state)
{
    (void)state;
    static const char *const names[] = {"dr", "dml_nonparam"};
    const uint32_t abi = TT_PLUGIN_ABI_MINOR;
    for (size_t c = 0; c < 2; c++) {
        data_make(200, c == 0 ? 3 : 2);
        plugin p = open_plugin(names[c]);
        for (size_t i = 0; i < p.d->n_params; i++)
            assert_null(strstr(p.d->params[i].name, "resample"));
        double prm[16], lo[4][NP * 2], hi[4][NP * 2];
        params_for(p.d, prm, NULL, 0.0);
        const size_t B[4] = {5, 40, 0, 5};
        const uint32_t minor[4] = {abi, abi, abi, 1};
        const char *const header[4] = {"\nresamples 5\n", "\nresamples 40\n",
                                       "\nresamples 30\n", "\nresamples 30\n"};
        membuf saved5 = {0};
        for (int r = 0; r < 4; r++) {
            membuf b = {0};
            fit_with_replicas(&p, prm, B[r], minor[r], lo[r], hi[r], &b);
            if (!strstr(b.data, header[r]))
                fail_msg("%s, run %d: saved model lacks '%s'", names[c], r, header[r] + 1);
            if (r == 0)
                saved5 = b;
            else
                free(b.data);
        }
        size_t m = (size_t)NP * (size_t)(g_fx.k - 1);
        assert_memory_not_equal(lo[0], lo[1], m * sizeof lo[0][0]);
        assert_memory_not_equal(hi[0], hi[1], m * sizeof hi[0][0]);
        /* The ABI 1.1 host's setting is never read: the default, as for 0. */
        assert_memory_equal(lo[2], lo[3], m * sizeof lo[0][0]);
        assert_memory_equal(hi[2], hi[3], m * sizeof hi[0][0]);

        char err[256];
        void *loaded = NULL;
        const tt_plugin_host *h = host_make(3);
        g_host.interval_resamples = 40;
        saved5.len--; /* drop the NUL terminator */
        tt_plugin_source src = {sizeof src, &saved5, mem_read};
        assert_int_equal(p.d->load(h, &src, &loaded, err, sizeof err), 0);
        tt_plugin_data rows = predict_rows();
        double llo[NP * 2], lhi[NP * 2];
        assert_int_equal(p.d->effect_interval(loaded, &rows, 0.1, llo, lhi, err, sizeof err), 0);
        assert_memory_equal(lo[0], llo, m * sizeof llo[0]);
        assert_memory_equal(hi[0], lhi, m * sizeof lhi[0]);
        p.d->destroy(loaded);
        free(saved5.data);
        dlclose(p.so);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dr_linear_matches_reference),
        cmocka_unit_test(test_dr_learner_ridge_is_ols),
        cmocka_unit_test(test_dml_linear_matches_reference),
        cmocka_unit_test(test_dml_nonparam_ridge_matches_reference),
        cmocka_unit_test(test_sparse_close_to_ols),
        cmocka_unit_test(test_dml_nonparam_refuses_three_arms),
        cmocka_unit_test(test_nuisance_row_count_checked),
        cmocka_unit_test(test_save_load_bit_identical),
        cmocka_unit_test(test_bootstrap_deterministic),
        cmocka_unit_test(test_run_resamples_override),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
