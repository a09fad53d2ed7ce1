/*
 * test_plugins_ra.c - the ra_learner plugin (plugins/ra_learner.c) loaded
 * from its shared object and driven through the ABI.
 *
 * Two hosts:
 *   - a real host table whose arm-outcome nuisances are replaced by known
 *     arrays (fake_oof), so the pseudo-outcomes and the final regression can
 *     be recomputed by hand in the test (closed form, row selection, save /
 *     load, determinism, refusals);
 *   - the estimator harness (test_estimators_util.h: cross-fitted nuisances
 *     built as the program builds them) for an interval-coverage simulation.
 * Recovery of known effects on confounded data (binary constant and linear,
 * three arms) and the harness's save/load checks are in test_estimators.c,
 * which lists ra_learner with every other built-in.
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
#include "test_estimators_util.h"
#include "test_memstream.h"
#include "test_open_plugin.h"

/* ---- data with known nuisances -------------------------------------------- */

enum { NMAX = 600, KMAX = 3, NP = 5 };

typedef struct fixture {
    size_t n;
    int k;
    double x[NMAX * 2], y[NMAX], mu[NMAX * KMAX], wt[NMAX];
    int t[NMAX];
} fixture;

static fixture g_fx;

/* Deterministic rows; the arm outcomes mu_a are deliberately NOT the truth
 * (wrong slopes and a wiggle), so the pseudo-outcomes differ from the
 * effects and a plugin that used the wrong mu, or the wrong rows, gives
 * other numbers than the hand computation. */
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
        for (int a = 0; a < k; a++)
            f->mu[(size_t)a * n + i] =
                1 + 0.9 * x1 - 0.4 * x2 + a * (0.45 + 1.1 * x1) + 0.05 * cos(di + a);
        f->wt[i] = 0.5 + (double)(i % 4) * 0.25;
    }
}

static const double XP[NP * 2] = {0.0, 1.0, -0.7, 0.4, -1.2, /* x1 */
                                  0.0, -0.5, 0.3, 0.9, -0.8}; /* x2 */

/* Stand-in for the host's cached nuisances: arm outcomes of g_fx only. */
static int fake_oof(void *host_ctx, tt_nuisance_kind kind, int arm, const double **values,
                    size_t *n, size_t *width, char *err, size_t errlen)
{
    (void)host_ctx;
    if (kind != TT_NUISANCE_KIND_ARM_OUTCOME) {
        snprintf(err, errlen, "ra_learner asked for a nuisance other than arm outcomes");
        return TT_ERR_UNSUPPORTED;
    }
    *n = g_fx.n;
    *width = 1;
    *values = g_fx.mu + (size_t)arm * g_fx.n;
    return 0;
}

static tt_plugin_host g_host;
static tt_host_ctx g_ctx;

static const tt_plugin_host *host_make(uint64_t seed, size_t resamples)
{
    memset(&g_ctx, 0, sizeof g_ctx);
    g_ctx.plugin_name = "test";
    g_ctx.interval_resamples = resamples;
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

/* Schema defaults, then final_learner = ridge with the smallest penalty the
 * schema allows (1e-3: on a few hundred rows with weights of order 1, the
 * shrinkage is ~1e-5 relative - OLS for the purposes of these checks). */
static void params_ridge(const tt_plugin_descriptor *d, double *v)
{
    for (size_t i = 0; i < d->n_params; i++) {
        v[i] = d->params[i].default_value;
        if (strcmp(d->params[i].name, "final_alpha") == 0)
            v[i] = 1e-3;
    }
}

static void *fit_plugin(const plugin *p, const double *params, int weighted, uint64_t seed,
                        size_t resamples)
{
    char err[512] = "";
    void *inst = NULL;
    const tt_plugin_host *h = host_make(seed, resamples);
    if (p->d->create(h, params, g_fx.k, &inst, err, sizeof err))
        fail_msg("%s create: %s", p->d->name, err);
    tt_plugin_data tr = train_data(weighted);
    if (p->d->fit(inst, &tr, err, sizeof err))
        fail_msg("%s fit: %s", p->d->name, err);
    return inst;
}

/* ---- the hand computation ------------------------------------------------- */

/* Weighted least squares of the RA pseudo-outcome of arm k on [1, x1, x2]
 * over the rows of arms k and 0 (normal equations, Gauss-Jordan on 3 x 3),
 * evaluated at the prediction rows: out[NP]. */
static void ra_by_hand(int k, int weighted, double *out)
{
    const fixture *f = &g_fx;
    size_t n = f->n;
    double A[3][4] = {{0}};
    for (size_t i = 0; i < n; i++) {
        double r;
        if (f->t[i] == k)
            r = f->y[i] - f->mu[i];                   /* Y - mu_0 */
        else if (f->t[i] == 0)
            r = f->mu[(size_t)k * n + i] - f->y[i];   /* mu_k - Y */
        else
            continue;                                 /* another arm: not used */
        double z[3] = {1, f->x[i], f->x[n + i]}, w = weighted ? f->wt[i] : 1.0;
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++)
                A[a][b] += w * z[a] * z[b];
            A[a][3] += w * z[a] * r;
        }
    }
    for (int c = 0; c < 3; c++) {
        int piv = c;
        for (int r = c + 1; r < 3; r++)
            if (fabs(A[r][c]) > fabs(A[piv][c]))
                piv = r;
        for (int j = 0; j < 4; j++) {
            double tmp = A[c][j];
            A[c][j] = A[piv][j];
            A[piv][j] = tmp;
        }
        for (int r = 0; r < 3; r++) {
            if (r == c)
                continue;
            double m = A[r][c] / A[c][c];
            for (int j = 0; j < 4; j++)
                A[r][j] -= m * A[c][j];
        }
    }
    double beta[3] = {A[0][3] / A[0][0], A[1][3] / A[1][1], A[2][3] / A[2][2]};
    for (size_t i = 0; i < NP; i++)
        out[i] = beta[0] + beta[1] * XP[i] + beta[2] * XP[NP + i];
}

static void assert_close(const double *got, const double *want, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs(got[i] - want[i]) <= tol * (1 + fabs(want[i]))))
            fail_msg("value %zu: got %.17g, want %.17g", i, got[i], want[i]);
}

/* ---- tests with known nuisances ------------------------------------------- */

/* Ridge final stage with a negligible penalty = weighted OLS of the
 * pseudo-outcomes, for every arm of three, with and without weights. */
static void test_closed_form(void **state)
{
    (void)state;
    plugin p = open_plugin("ra_learner");
    assert_true(p.d->capabilities & TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES);
    assert_false(p.d->capabilities & TT_PLUGIN_CAP_NEEDS_PROPENSITY);
    for (int k = 2; k <= 3; k++)
        for (int weighted = 0; weighted <= 1; weighted++) {
            data_make(300, k);
            double prm[16], out[NP * 2], want[NP * 2];
            char err[256];
            params_ridge(p.d, prm);
            void *inst = fit_plugin(&p, prm, weighted, 1, 0);
            tt_plugin_data rows = predict_rows();
            assert_int_equal(p.d->effect(inst, &rows, out, err, sizeof err), 0);
            for (int a = 1; a < k; a++)
                ra_by_hand(a, weighted, want + (size_t)(a - 1) * NP);
            print_message("K = %d, weighted %d: arm 1 at x = 0: %.6f (by hand %.6f)\n", k,
                          weighted, out[0], want[0]);
            assert_close(out, want, NP * (size_t)(k - 1), 1e-4);
            p.d->destroy(inst);
        }
    close_plugin(&p);
}

/* Arm 1's fit uses the rows of arms 1 and 0 only: changing every outcome of
 * arm 2 (K = 3) leaves arm 1's effects bit-identical and moves arm 2's. */
static void test_other_arms_unused(void **state)
{
    (void)state;
    plugin p = open_plugin("ra_learner");
    double prm[16], a[NP * 2], b[NP * 2];
    char err[256];
    params_ridge(p.d, prm);
    data_make(300, 3);
    void *inst = fit_plugin(&p, prm, 0, 1, 0);
    tt_plugin_data rows = predict_rows();
    assert_int_equal(p.d->effect(inst, &rows, a, err, sizeof err), 0);
    p.d->destroy(inst);
    for (size_t i = 0; i < g_fx.n; i++)
        if (g_fx.t[i] == 2)
            g_fx.y[i] += 3.0 + g_fx.x[i];
    inst = fit_plugin(&p, prm, 0, 1, 0);
    assert_int_equal(p.d->effect(inst, &rows, b, err, sizeof err), 0);
    p.d->destroy(inst);
    assert_memory_equal(a, b, sizeof(double) * NP);
    assert_memory_not_equal(a + NP, b + NP, sizeof(double) * NP);
    close_plugin(&p);
}

/* Save, load under another seed: effects, intervals and averages are
 * bit-identical (the replicas travel with the model); the header names the
 * plugin; a truncated stream is refused without an instance. Also with a
 * gbm final stage, the slot the presets reach for. */
static void test_save_load(void **state)
{
    (void)state;
    plugin p = open_plugin("ra_learner");
    for (int gbm = 0; gbm <= 1; gbm++) {
        data_make(400, 3);
        double prm[16];
        for (size_t i = 0; i < p.d->n_params; i++)
            prm[i] = p.d->params[i].default_value;
        prm[0] = gbm ? 3.0 : 0.0; /* final_learner: gbm (index 3) or ridge */
        assert_string_equal(p.d->params[0].name, "final_learner");
        void *inst = fit_plugin(&p, prm, 1, 42, 10);
        size_t m = NP * 2;
        double e1[NP * 2], l1[NP * 2], h1[NP * 2], a1[2], al1[2], ah1[2];
        double e2[NP * 2], l2[NP * 2], h2[NP * 2], a2[2], al2[2], ah2[2];
        char err[256];
        tt_plugin_data rows = predict_rows();
        assert_int_equal(p.d->effect(inst, &rows, e1, err, sizeof err), 0);
        assert_int_equal(p.d->effect_interval(inst, &rows, 0.05, l1, h1, err, sizeof err), 0);
        assert_int_equal(p.d->average_effect(inst, &rows, 0.05, a1, al1, ah1, err, sizeof err),
                         0);
        membuf b = {0};
        tt_plugin_sink sink = mem_sink(&b);
        if (p.d->save(inst, &sink, err, sizeof err))
            fail_msg("save: %s", err);
        p.d->destroy(inst);
        assert_memory_equal(b.data, "ra_learner 1\n", 13);
        tt_plugin_source src = {sizeof src, &b, mem_read};
        void *loaded = NULL;
        if (p.d->load(host_make(7, 0), &src, &loaded, err, sizeof err))
            fail_msg("load: %s", err);
        assert_int_equal(b.pos, b.len);
        assert_int_equal(p.d->effect(loaded, &rows, e2, err, sizeof err), 0);
        assert_int_equal(p.d->effect_interval(loaded, &rows, 0.05, l2, h2, err, sizeof err), 0);
        assert_int_equal(p.d->average_effect(loaded, &rows, 0.05, a2, al2, ah2, err, sizeof err),
                         0);
        assert_memory_equal(e1, e2, sizeof(double) * m);
        assert_memory_equal(l1, l2, sizeof(double) * m);
        assert_memory_equal(h1, h2, sizeof(double) * m);
        assert_memory_equal(a1, a2, sizeof a1);
        assert_memory_equal(al1, al2, sizeof al1);
        assert_memory_equal(ah1, ah2, sizeof ah1);
        for (size_t i = 0; i < m; i++)
            assert_true(l1[i] < e1[i] && e1[i] < h1[i]);
        p.d->destroy(loaded);
        b.len /= 2;
        b.pos = 0;
        loaded = NULL;
        assert_int_not_equal(p.d->load(host_make(7, 0), &src, &loaded, err, sizeof err), 0);
        assert_null(loaded);
        free(b.data);
    }
    close_plugin(&p);
}

/* Same seed, same bootstrap intervals; another seed, other intervals. */
static void test_bootstrap_deterministic(void **state)
{
    (void)state;
    plugin p = open_plugin("ra_learner");
    double prm[16], lo[3][NP * 2], hi[3][NP * 2];
    char err[256];
    params_ridge(p.d, prm);
    data_make(300, 3);
    const uint64_t seeds[3] = {5, 5, 6};
    for (int r = 0; r < 3; r++) {
        void *inst = fit_plugin(&p, prm, 0, seeds[r], 20);
        tt_plugin_data rows = predict_rows();
        assert_int_equal(p.d->effect_interval(inst, &rows, 0.1, lo[r], hi[r], err, sizeof err), 0);
        p.d->destroy(inst);
    }
    assert_memory_equal(lo[0], lo[1], sizeof lo[0]);
    assert_memory_equal(hi[0], hi[1], sizeof hi[0]);
    assert_memory_not_equal(lo[0], lo[2], sizeof lo[0]);
    close_plugin(&p);
}

/* An arm without training rows is a data error naming the arm; one arm is
 * refused at create; predicting before fit is refused. */
static void test_refusals(void **state)
{
    (void)state;
    plugin p = open_plugin("ra_learner");
    double prm[16], out[NP * 2];
    char err[256] = "";
    params_ridge(p.d, prm);
    data_make(300, 3);
    for (size_t i = 0; i < g_fx.n; i++)
        if (g_fx.t[i] == 2)
            g_fx.t[i] = 1;
    void *inst = NULL;
    assert_int_equal(p.d->create(host_make(1, 0), prm, 3, &inst, err, sizeof err), 0);
    tt_plugin_data rows = predict_rows();
    assert_int_not_equal(p.d->effect(inst, &rows, out, err, sizeof err), 0);
    tt_plugin_data tr = train_data(0);
    assert_int_equal(p.d->fit(inst, &tr, err, sizeof err), TT_ERR_DATA);
    assert_string_equal(err, "ra_learner: arm 2 has no training rows");
    p.d->destroy(inst);
    inst = NULL;
    assert_int_equal(p.d->create(host_make(1, 0), prm, 1, &inst, err, sizeof err),
                     TT_ERR_INVALID);
    assert_null(inst);
    close_plugin(&p);
}

/* ---- interval coverage ------------------------------------------------------ */

/* The true arm outcomes of the harness's design (test_estimators_util.h):
 * mu_0 = 1 + x1 + 0.5 x2 + w1 - 0.5 w2, mu_1 = mu_0 + tau(x), served as the
 * "cached nuisances" by oracle_oof for the rows of g_oracle. */
static const et_data *g_oracle;
static double *g_oracle_mu; /* n x 2 */

static int oracle_oof(void *host_ctx, tt_nuisance_kind kind, int arm, const double **values,
                      size_t *n, size_t *width, char *err, size_t errlen)
{
    (void)host_ctx;
    if (kind != TT_NUISANCE_KIND_ARM_OUTCOME) {
        snprintf(err, errlen, "only arm outcomes are served here");
        return TT_ERR_UNSUPPORTED;
    }
    *n = g_oracle->n;
    *width = 1;
    *values = g_oracle_mu + (size_t)arm * g_oracle->n;
    return 0;
}

static void oracle_make(const et_data *d)
{
    size_t n = d->n;
    g_oracle = d;
    g_oracle_mu = malloc(sizeof(double) * 2 * n);
    assert_non_null(g_oracle_mu);
    for (size_t i = 0; i < n; i++) {
        double x1 = d->x[i], x2 = d->x[n + i], w1 = d->w[i], w2 = d->w[n + i];
        g_oracle_mu[i] = 1 + x1 + 0.5 * x2 + w1 - 0.5 * w2;
        g_oracle_mu[n + i] = g_oracle_mu[i] + d->tau[i];
    }
}

/* Coverage over N_COVER samples of the harness's binary confounded linear
 * design (tau = 1 + x1, n = 1000): how often the 95% bootstrap interval of
 * the average effect over 500 test rows covers their true average, and the
 * pointwise one at x = (0.5, 0) covers 1.5. Two nuisance sources:
 *   oracle       the true mu_k: the final-stage bootstrap is then the whole
 *                uncertainty, so coverage must be nominal, [0.90, 0.99]
 *                (200 samples: binomial SE 0.015);
 *   cross-fitted the engine's ridge arm outcomes, as in a run. The bootstrap
 *                holds them fixed and the RA pseudo-outcome is NOT
 *                orthogonal to them (an error in mu_0 shifts every treated
 *                row's pseudo-outcome alike), so the interval leaves out an
 *                error of the same order as the one it measures: measured
 *                coverage about 0.64 here. The test holds it above 0.50 (a
 *                regression guard, not a nominal claim); dr's pseudo-outcome
 *                is orthogonal, which is why its final-stage bootstrap
 *                covers (test_estimators_coverage.c). */
#define N_COVER 200

static void test_coverage(void **state)
{
    (void)state;
    tt_registry *reg = et_registry_load();
    assert_non_null(reg);
    const tt_plugin_descriptor *desc = et_plugin(reg, "ra_learner");
    et_dgp g = {.n_arms = 2, .tau = ET_TAU_LINEAR, .randomized = 0};
    size_t cover_ate[2] = {0, 0}, cover_point[2] = {0, 0};
    double width[2] = {0, 0};
    double *params = et_default_params(desc);
    for (uint64_t seed = 1; seed <= N_COVER; seed++) {
        et_data train, test;
        et_generate(&g, 1000, seed, "ra:coverage:train", &train);
        et_generate(&g, 500, seed, "ra:coverage:test", &test);
        et_nuis nu;
        char err[1024] = "";
        if (et_nuis_build(&nu, &train, seed, 0, err, sizeof err) != TT_OK)
            fail_msg("seed %llu: nuisance models: %s", (unsigned long long)seed, err);
        oracle_make(&train);
        for (int oracle = 0; oracle <= 1; oracle++) {
            et_run *r = et_run_new(desc, &nu.nu, seed);
            if (oracle)
                r->host.nuisance_oof = oracle_oof;
            if (desc->create(&r->host, params, 2, &r->inst, err, sizeof err))
                fail_msg("create: %s", err);
            tt_plugin_data tr = et_view(&train, 1);
            if (desc->fit(r->inst, &tr, err, sizeof err))
                fail_msg("fit: %s", err);
            tt_plugin_data rows = et_view(&test, 0);
            double ate, lo, hi;
            if (desc->average_effect(r->inst, &rows, ET_ALPHA, &ate, &lo, &hi, err, sizeof err))
                fail_msg("average_effect: %s", err);
            double truth = et_col_mean(test.tau, test.n, 1);
            cover_ate[oracle] += lo <= truth && truth <= hi;
            width[oracle] += hi - lo;
            static const double x0[2] = {0.5, 0.0}, w0[2] = {0.0, 0.0};
            tt_plugin_data at = {.struct_size = sizeof at, .n = 1, .p_x = 2, .p_w = 2, .x = x0,
                                 .w = w0, .n_arms = 2};
            if (desc->effect_interval(r->inst, &at, ET_ALPHA, &lo, &hi, err, sizeof err))
                fail_msg("effect_interval: %s", err);
            cover_point[oracle] += lo <= 1.5 && 1.5 <= hi;
            et_run_free(r);
        }
        free(g_oracle_mu);
        g_oracle_mu = NULL;
        et_nuis_free(&nu);
        et_data_free(&train);
        et_data_free(&test);
    }
    free(params);
    tt_registry_free(reg);
    static const char *const what[2] = {"cross-fitted", "oracle"};
    static const double floor_[2] = {0.50, 0.90};
    int ok = 1;
    for (int o = 0; o < 2; o++) {
        double ca = (double)cover_ate[o] / N_COVER, cp = (double)cover_point[o] / N_COVER;
        print_message("ra_learner, %s nuisances: coverage of the average %.3f (mean width "
                      "%.3f), at x1 = 0.5 %.3f (%d samples)\n",
                      what[o], ca, width[o] / N_COVER, cp, N_COVER);
        ok &= ca >= floor_[o] && ca <= 0.99 && cp >= floor_[o] && cp <= 0.99;
    }
    if (!ok)
        fail_msg("coverage outside its band");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_form),
        cmocka_unit_test(test_other_arms_unused),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_bootstrap_deterministic),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
