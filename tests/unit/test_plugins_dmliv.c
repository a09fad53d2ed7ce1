/* test_plugins_dmliv.c - the residual-based instrumental-variable plugins
 * dml_iv, ortho_iv, dml_iv_nonparam and instrumental_forest, loaded from
 * their shared objects and driven through the ABI with a host table whose
 * nuisances (ABI 1.7: m, p, r = P(Z = 1 | x, w), p_z = P(T = 1 | x, w, Z = z))
 * are served by the test - the run's host does not serve the IV ones yet.
 *
 * Data: the `iv` generator (data/gen.h): Z ~ Bernoulli(0.5), an unobserved
 * U confounds T and Y, tau = 1 + 0.5 x1, and
 *   P(T = 1 | x, Z = z) = Phi((-0.5 + 1.5 z + 0.5 x1) / sqrt 2),
 * so r = 0.5, p = (p_0 + p_1) / 2 and, since U has mean 0 and is independent
 * of (x, w, Z), E[Y | x, w] = x2 + w1 + (1 + 0.5 x1) p(x1): every nuisance is
 * known exactly ("truth"), and one test replaces m by a cross-fitted ridge
 * and another p and p_z by cross-fitted logistic regressions (core/learn).
 *
 * What is checked: recovery of theta(x) and of the average effect, with the
 * error shrinking in n; coverage of the average effect's 95 % interval in 50
 * seeded replications; ortho_iv with phi = [1] against the residual Wald
 * ratio and its HC1 variance in closed form, dml_iv against weighted least
 * squares solved by explicit matrix inversion; refusals; save/load; a weak
 * (unrelated) instrument. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "data/gen.h"
#include "learn/learner.h"
#include "plugin/host.h"
#include "util/rng.h"
#include "test_memstream.h"
#include "test_open_plugin.h"
#include "test_iv_data.h"

enum { P_DMLIV = 0, P_ORTHO, P_NONPARAM, P_FOREST, NPLUG };
static const char *const NAMES[NPLUG] = {"dml_iv", "ortho_iv", "dml_iv_nonparam",
                                         "instrumental_forest"};
static plugin g_plug[NPLUG];

/* z_{0.975}, to compare interval half-widths. */
#define Z975 1.959963984540054

/* ---- the generator's truth ------------------------------------------------ */

static double pz_true(double z, double x1)
{
    double lin = -0.5 + 1.5 * z + 0.5 * x1;
    return 0.5 * erfc(-lin / 2.0); /* Phi(lin / sqrt 2), as gen.c writes e1 */
}

static double p_true(double x1)
{
    return 0.5 * (pz_true(0, x1) + pz_true(1, x1));
}

static double m_true(double x1, double x2, double w1)
{
    return x2 + w1 + (1 + 0.5 * x1) * p_true(x1);
}

/* ---- the served nuisances ----------------------------------------------------- */

typedef struct served {
    size_t n;
    double *m, *p, *r, *p0, *p1;
} served;

static served g_nu;
static int g_no_iv;   /* 1: the host has no IV nuisances (as the run's host today) */
static int g_wrong_n; /* 1: serve one row more than fit() gets */

static void served_free(void)
{
    free(g_nu.m), free(g_nu.p), free(g_nu.r), free(g_nu.p0), free(g_nu.p1);
    memset(&g_nu, 0, sizeof g_nu);
}

static void served_alloc(size_t n)
{
    served_free();
    g_nu.n = n;
    g_nu.m = malloc(sizeof(double) * (n + 1));
    g_nu.p = malloc(sizeof(double) * (n + 1));
    g_nu.r = malloc(sizeof(double) * (n + 1));
    g_nu.p0 = malloc(sizeof(double) * (n + 1));
    g_nu.p1 = malloc(sizeof(double) * (n + 1));
}

/* Every nuisance at its true value for the rows of d. */
static void serve_truth(const tt_dataset *d)
{
    size_t n = d->n;
    served_alloc(n);
    for (size_t i = 0; i < n; i++) {
        double x1 = d->x[i], x2 = d->x[n + i], w1 = d->w[i];
        g_nu.m[i] = m_true(x1, x2, w1);
        g_nu.p0[i] = pz_true(0, x1);
        g_nu.p1[i] = pz_true(1, x1);
        g_nu.p[i] = p_true(x1);
        g_nu.r[i] = 0.5;
        /* the generator's own e1 agrees with the formula */
        assert_true(fabs(d->true_propensity[n + i] - (d->z[i] ? g_nu.p1[i] : g_nu.p0[i])) <
                    1e-12);
    }
}

static int fake_oof(void *host_ctx, tt_nuisance_kind kind, int arm, const double **values,
                    size_t *n, size_t *width, char *err, size_t errlen)
{
    (void)host_ctx;
    *n = g_nu.n + (size_t)g_wrong_n;
    *width = 1;
    if ((kind == TT_NUISANCE_KIND_INSTRUMENT || kind == TT_NUISANCE_KIND_TREATMENT_GIVEN_Z) &&
        g_no_iv) {
        snprintf(err, errlen, "the host has no %s nuisance (data without a binary data.z)",
                 kind == TT_NUISANCE_KIND_INSTRUMENT ? "instrument propensity"
                                                     : "treatment-given-instrument");
        return TT_ERR_UNSUPPORTED;
    }
    switch (kind) {
    case TT_NUISANCE_KIND_OUTCOME: *values = g_nu.m; return 0;
    case TT_NUISANCE_KIND_PROPENSITY: *values = g_nu.p; return 0;
    case TT_NUISANCE_KIND_INSTRUMENT: *values = g_nu.r; return 0;
    case TT_NUISANCE_KIND_TREATMENT_GIVEN_Z: *values = arm == 1 ? g_nu.p1 : g_nu.p0; return 0;
    default: snprintf(err, errlen, "not served"); return TT_ERR_UNSUPPORTED;
    }
}

/* Other rows (the forest's LATE average on held-out rows): the truth. */
static int fake_predict(void *host_ctx, tt_nuisance_kind kind, int arm,
                        const tt_plugin_data *rows, double *out, char *err, size_t errlen)
{
    (void)host_ctx;
    size_t n = rows->n;
    if (g_no_iv &&
        (kind == TT_NUISANCE_KIND_INSTRUMENT || kind == TT_NUISANCE_KIND_TREATMENT_GIVEN_Z)) {
        snprintf(err, errlen, "no IV nuisances");
        return TT_ERR_UNSUPPORTED;
    }
    for (size_t i = 0; i < n; i++) {
        double x1 = rows->x[i], x2 = rows->x[n + i], w1 = rows->w[i];
        switch (kind) {
        case TT_NUISANCE_KIND_OUTCOME: out[i] = m_true(x1, x2, w1); break;
        case TT_NUISANCE_KIND_PROPENSITY: out[i] = p_true(x1); break;
        case TT_NUISANCE_KIND_INSTRUMENT: out[i] = 0.5; break;
        case TT_NUISANCE_KIND_TREATMENT_GIVEN_Z: out[i] = pz_true(arm, x1); break;
        default: snprintf(err, errlen, "not served"); return TT_ERR_UNSUPPORTED;
        }
    }
    return 0;
}

/* ---- host with a log the tests read ------------------------------------------ */

static tt_plugin_host g_host;
static tt_host_ctx g_ctx;
static char g_warn[1024];
static int g_n_warn;

static void capture_log(void *host_ctx, tt_log_level level, const char *fmt, ...)
{
    (void)host_ctx;
    if (level != TT_LOG_WARN)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_warn, sizeof g_warn, fmt, ap);
    va_end(ap);
    g_n_warn++;
}

static const tt_plugin_host *host_make(uint64_t seed)
{
    memset(&g_ctx, 0, sizeof g_ctx);
    g_ctx.plugin_name = "test";
    tt_host_services_init(&g_host, &g_ctx, seed);
    g_host.nuisance_oof = fake_oof;
    g_host.nuisance_predict = fake_predict;
    g_host.log = capture_log;
    g_n_warn = 0;
    g_warn[0] = '\0';
    return &g_host;
}

/* ---- data, views, fits ----------------------------------------------------------- */

static double mean_tau(const tt_dataset *d)
{
    double s = 0;
    for (size_t i = 0; i < d->n; i++)
        s += d->tau[i];
    return s / (double)d->n;
}

static void defaults(int which, double *prm)
{
    const tt_plugin_descriptor *pd = g_plug[which].d;
    assert_true(pd->n_params <= 16);
    for (size_t i = 0; i < pd->n_params; i++)
        prm[i] = pd->params[i].default_value;
}

/* Create and fit with the schema defaults; the status and message come back. */
static void *try_fit(int which, const tt_plugin_data *v, uint64_t seed, int *rc, char *err,
                     size_t errlen)
{
    const tt_plugin_descriptor *pd = g_plug[which].d;
    double prm[16];
    defaults(which, prm);
    void *inst = NULL;
    err[0] = '\0';
    *rc = pd->create(host_make(seed), prm, 2, &inst, err, errlen);
    if (*rc)
        fail_msg("%s create: %s", pd->name, err);
    *rc = pd->fit(inst, v, err, errlen);
    return inst;
}

static void *fit_ok(int which, const tt_plugin_data *v, uint64_t seed)
{
    char err[1024];
    int rc;
    void *inst = try_fit(which, v, seed, &rc, err, sizeof err);
    if (rc)
        fail_msg("%s fit: %s", NAMES[which], err);
    return inst;
}

/* Rows to predict: the view without t, y, z. */
static tt_plugin_data predict_view(const tt_dataset *d)
{
    tt_plugin_data v = test_iv_view(d);
    v.t = NULL;
    v.y = NULL;
    v.p_z = 0;
    v.z = NULL;
    return v;
}

/* ---- cross-fitting with core/learn (the host's way, done by hand) ------------ */

/* Out-of-fold predictions for every row of features f (n x p, column-major):
 * fold = i % k; each fold's model is fitted on the other folds' rows with
 * use[i] set (NULL = all), as the host fits P(T | x, w, Z = z) on the rows
 * with Z = z and predicts every row. */
static void crossfit(const char *name, const char *const *keys, const double *vals, size_t nk,
                     size_t n, size_t p, const double *f, const double *y,
                     const unsigned char *use, size_t k, double *out)
{
    double *xtr = malloc(sizeof(double) * n * p), *ytr = malloc(sizeof(double) * n);
    double *xte = malloc(sizeof(double) * n * p), *pte = malloc(sizeof(double) * n);
    char err[256];
    for (size_t fold = 0; fold < k; fold++) {
        size_t ntr = 0, nte = 0;
        for (size_t i = 0; i < n; i++) {
            if (i % k == fold)
                nte++;
            else if (!use || use[i])
                ntr++;
        }
        size_t a = 0, b = 0;
        for (size_t i = 0; i < n; i++) {
            if (i % k == fold) {
                for (size_t j = 0; j < p; j++)
                    xte[j * nte + b] = f[j * n + i];
                b++;
            } else if (!use || use[i]) {
                for (size_t j = 0; j < p; j++)
                    xtr[j * ntr + a] = f[j * n + i];
                ytr[a++] = y[i];
            }
        }
        tt_learner *l = NULL;
        if (tt_learner_create(name, keys, vals, nk, 1 + fold, &l, err, sizeof err) ||
            tt_learner_fit(l, ntr, p, xtr, ytr, NULL, err, sizeof err) ||
            tt_learner_predict(l, nte, p, xte, pte, err, sizeof err))
            fail_msg("crossfit %s: %s", name, err);
        tt_learner_destroy(l);
        b = 0;
        for (size_t i = 0; i < n; i++)
            if (i % k == fold)
                out[i] = pte[b++];
    }
    free(xtr), free(ytr), free(xte), free(pte);
}

/* [x, w] of d, column-major (caller frees). */
static double *features(const tt_dataset *d)
{
    size_t n = d->n;
    double *f = malloc(sizeof(double) * n * (d->p_x + d->p_w));
    memcpy(f, d->x, sizeof(double) * n * d->p_x);
    memcpy(f + n * d->p_x, d->w, sizeof(double) * n * d->p_w);
    return f;
}

/* ---- setup ----------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    for (int k = 0; k < NPLUG; k++)
        g_plug[k] = open_plugin(NAMES[k]);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int k = 0; k < NPLUG; k++)
        close_plugin(&g_plug[k]);
    served_free();
    return 0;
}

/* ---- descriptors ------------------------------------------------------------------ */

static void test_descriptors(void **state)
{
    (void)state;
    const uint32_t need = TT_PLUGIN_CAP_IV | TT_PLUGIN_CAP_INTERVALS | TT_PLUGIN_CAP_SAVE_LOAD |
                          TT_PLUGIN_CAP_NEEDS_OUTCOME | TT_PLUGIN_CAP_NEEDS_PROPENSITY |
                          TT_PLUGIN_CAP_NEEDS_IV_NUISANCES;
    for (int k = 0; k < NPLUG; k++) {
        const tt_plugin_descriptor *d = g_plug[k].d;
        assert_int_equal(d->capabilities & need, need);
        assert_false(d->capabilities & TT_PLUGIN_CAP_MULTI_ARM);
        assert_non_null(d->average_effect);
        assert_non_null(d->interval_method);
    }
    assert_non_null(g_plug[P_FOREST].d->average_effect_oob);
}

/* ---- recovery --------------------------------------------------------------------- */

typedef struct recovery {
    double rmse, ate_err, seconds;
} recovery;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Fit on d; theta(x)'s root mean squared error on the new rows of test
 * (the truth there: tau); the average effect's error against the mean of
 * tau over d: the linear and learner variants' average_effect on d, the
 * forest's out-of-bag LATE average (grf's recipe: the in-sample estimates
 * of an honest forest still lean on each row's own outcome). */
static recovery recover(int which, const tt_dataset *d, const tt_dataset *test)
{
    const tt_plugin_descriptor *pd = g_plug[which].d;
    tt_plugin_data v = test_iv_view(d), pv = predict_view(test);
    double t0 = now();
    void *inst = fit_ok(which, &v, 1);
    double *tau = malloc(sizeof(double) * test->n), ate, lo, hi, se;
    char err[512];
    if (pd->effect(inst, &pv, tau, err, sizeof err))
        fail_msg("%s effect: %s", NAMES[which], err);
    int rc = pd->average_effect_oob
                 ? pd->average_effect_oob(inst, 0.05, &ate, &lo, &hi, &se, err, sizeof err)
                 : pd->average_effect(inst, &v, 0.05, &ate, &lo, &hi, err, sizeof err);
    if (rc)
        fail_msg("%s average: %s", NAMES[which], err);
    double t1 = now(), sq = 0;
    for (size_t i = 0; i < test->n; i++)
        sq += (tau[i] - test->tau[i]) * (tau[i] - test->tau[i]);
    free(tau);
    pd->destroy(inst);
    assert_true(lo <= ate && ate <= hi);
    return (recovery){sqrt(sq / (double)test->n), fabs(ate - mean_tau(d)), t1 - t0};
}

/* theta(x) = 1 + 0.5 x1 with the true nuisances, the generator's x1..x5
 * all offered as effect modifiers: the linear variants and the ridge final
 * stage are correctly specified, so their error is sampling error
 * (~1/sqrt n: halving with every fourfold n); the forest's also has
 * smoothing bias, which shrinks more slowly (it is not fitted on 128,000
 * rows: several seconds on two cores). The naive contrast is far off (U
 * confounds it). */
static void test_recovery_shrinks_with_n(void **state)
{
    (void)state;
    enum { NS = 4 };
    static const size_t sizes[NS] = {2000, 8000, 32000, 128000};
    recovery rec[NPLUG][NS];
    tt_dataset *test = test_iv_data(4000, 999);
    for (int s = 0; s < NS; s++) {
        tt_dataset *d = test_iv_data(sizes[s], 7);
        serve_truth(d);
        for (int k = 0; k < NPLUG; k++) {
            if (k == P_FOREST && s == NS - 1)
                continue;
            rec[k][s] = recover(k, d, test);
            printf("%-20s n = %6zu: rmse of theta %.4f, |ate - truth| %.4f (%.2f s)\n",
                   NAMES[k], sizes[s], rec[k][s].rmse, rec[k][s].ate_err, rec[k][s].seconds);
        }
        if (s == NS - 1) {
            double sum[2] = {0}, cnt[2] = {0};
            for (size_t i = 0; i < d->n; i++) {
                sum[d->t[i]] += d->y[i];
                cnt[d->t[i]]++;
            }
            double naive = sum[1] / cnt[1] - sum[0] / cnt[0];
            printf("naive contrast %.3f, truth %.3f\n", naive, mean_tau(d));
            assert_true(fabs(naive - mean_tau(d)) > 0.5);
        }
        tt_dataset_free(d);
    }
    tt_dataset_free(test);
    for (int k = 0; k < NPLUG; k++) {
        int last = k == P_FOREST ? NS - 2 : NS - 1;
        for (int s = 1; s <= last; s++)
            assert_true(rec[k][s].rmse < rec[k][s - 1].rmse);
        assert_true(rec[k][last].ate_err < 0.05);
        /* The linear ones: under 0.1 (2 sd of theta's 0.5); the forest at
         * 32,000 rows: under 0.35. */
        assert_true(rec[k][last].rmse < (k == P_FOREST ? 0.35 : 0.1));
    }
}

/* The same with m = E[Y | x, w] cross-fitted by a ridge on [x, w] with
 * squares and products (5 folds), as the host would: the estimates stay
 * close (ortho_iv's moment is orthogonal to m; the DMLIV regressors p_Z - p
 * have mean 0 given x, so an error in m that depends on x alone averages
 * out of them too). */
static void test_recovery_with_crossfitted_outcome(void **state)
{
    (void)state;
    tt_dataset *d = test_iv_data(8000, 7), *test = test_iv_data(4000, 999);
    serve_truth(d);
    recovery exact[NPLUG];
    for (int k = 0; k < NPLUG; k++)
        exact[k] = recover(k, d, test);
    double *f = features(d);
    static const char *const keys[] = {"alpha", "poly2"};
    static const double vals[] = {1.0, 1.0};
    crossfit("ridge", keys, vals, 2, d->n, d->p_x + d->p_w, f, d->y, NULL, 5, g_nu.m);
    double mse = 0;
    for (size_t i = 0; i < d->n; i++) {
        double e = g_nu.m[i] - m_true(d->x[i], d->x[d->n + i], d->w[i]);
        mse += e * e;
    }
    printf("cross-fitted m: rmse against E[Y | x, w] %.4f\n", sqrt(mse / (double)d->n));
    for (int k = 0; k < NPLUG; k++) {
        recovery r = recover(k, d, test);
        printf("%-20s n = 8000, cross-fitted m: rmse of theta %.4f (true m: %.4f), "
               "|ate - truth| %.4f (%.4f)\n",
               NAMES[k], r.rmse, exact[k].rmse, r.ate_err, exact[k].ate_err);
        assert_true(r.rmse < 1.25 * exact[k].rmse);
        assert_true(r.ate_err < exact[k].ate_err + 0.05);
    }
    free(f);
    tt_dataset_free(d);
    tt_dataset_free(test);
}

/* ---- coverage --------------------------------------------------------------------- */

/* The average effect's 95 % interval covers the rows' mean true effect (the
 * LATE: tau does not differ by compliance type) in at least 45 of 50 seeded
 * replications, for each plugin; the forest both ways: average_effect on
 * held-out rows (LATE scores with the host's predicted nuisances) and
 * average_effect_oob on the training rows. */
static void test_average_effect_coverage(void **state)
{
    (void)state;
    enum { REPS = 50, ROWS = 2000 };
    int covered[NPLUG + 1] = {0};
    double width[NPLUG + 1] = {0};
    for (int r = 0; r < REPS; r++) {
        tt_dataset *d = test_iv_data(ROWS, 100 + (uint64_t)r);
        tt_dataset *held = test_iv_data(ROWS, 5000 + (uint64_t)r);
        serve_truth(d);
        tt_plugin_data v = test_iv_view(d), hv = test_iv_view(held);
        double truth = mean_tau(d), truth_held = mean_tau(held);
        char err[512];
        for (int k = 0; k < NPLUG; k++) {
            const tt_plugin_descriptor *pd = g_plug[k].d;
            void *inst = fit_ok(k, &v, 1 + (uint64_t)r);
            double ate, lo, hi, se;
            int slot = k;
            if (k == P_FOREST) {
                if (pd->average_effect(inst, &hv, 0.05, &ate, &lo, &hi, err, sizeof err))
                    fail_msg("forest average: %s", err);
                covered[k] += lo <= truth_held && truth_held <= hi;
                width[k] += (hi - lo) / REPS;
                if (pd->average_effect_oob(inst, 0.05, &ate, &lo, &hi, &se, err, sizeof err))
                    fail_msg("forest oob average: %s", err);
                assert_true(fabs((hi - lo) - 2 * Z975 * se) < 1e-9);
                slot = NPLUG;
            } else if (pd->average_effect(inst, &v, 0.05, &ate, &lo, &hi, err, sizeof err)) {
                fail_msg("%s average: %s", NAMES[k], err);
            }
            assert_true(lo < ate && ate < hi);
            covered[slot] += lo <= truth && truth <= hi;
            width[slot] += (hi - lo) / REPS;
            pd->destroy(inst);
        }
        tt_dataset_free(d);
        tt_dataset_free(held);
    }
    for (int k = 0; k <= NPLUG; k++) {
        printf("%-20s%s: the 95 %% interval covered the truth in %d of %d (mean width %.3f)\n",
               k == NPLUG ? NAMES[P_FOREST] : NAMES[k], k == NPLUG ? " (oob)" : "", covered[k],
               REPS, width[k]);
        assert_true(covered[k] >= 45);
    }
}

/* ---- independent references ------------------------------------------------------ */

/* Serve the truth, disturbed by smooth deterministic errors so the
 * references below work with nuisances that are not exactly right. */
static void serve_disturbed(const tt_dataset *d)
{
    serve_truth(d);
    for (size_t i = 0; i < d->n; i++) {
        double di = (double)i;
        g_nu.m[i] += 0.2 * sin(0.37 * di);
        g_nu.p[i] = fmin(fmax(g_nu.p[i] + 0.03 * cos(0.11 * di), 0.01), 0.99);
        g_nu.p0[i] = fmin(fmax(g_nu.p0[i] + 0.02 * sin(0.23 * di), 0.01), 0.99);
        g_nu.r[i] = 0.5 + 0.05 * sin(0.71 * di);
    }
}

/* ortho_iv with phi = [1] (no effect modifiers): the residual Wald ratio
 *   theta = sum Y_res Z_res / sum T_res Z_res
 * and its HC1 variance n / (n - 1) sum Z_res^2 e^2 / (sum T_res Z_res)^2,
 * e = Y_res - theta T_res; with weights, the weighted ratio. */
static void test_ortho_iv_constant_is_the_residual_wald_ratio(void **state)
{
    (void)state;
    tt_dataset *d = test_iv_data(3000, 21);
    serve_disturbed(d);
    size_t n = d->n;
    double *wt = malloc(sizeof(double) * n);
    for (int weighted = 0; weighted < 2; weighted++) {
        double syz = 0, stz = 0;
        for (size_t i = 0; i < n; i++) {
            wt[i] = weighted ? 0.5 + (double)(i % 4) * 0.25 : 1.0;
            double yr = d->y[i] - g_nu.m[i], tr = d->t[i] - g_nu.p[i], zr = d->z[i] - g_nu.r[i];
            syz += wt[i] * yr * zr;
            stz += wt[i] * tr * zr;
        }
        double theta = syz / stz, meat = 0;
        for (size_t i = 0; i < n; i++) {
            double yr = d->y[i] - g_nu.m[i], tr = d->t[i] - g_nu.p[i], zr = d->z[i] - g_nu.r[i];
            double e = yr - theta * tr;
            meat += wt[i] * wt[i] * zr * zr * e * e;
        }
        double se = sqrt((double)n / (double)(n - 1) * meat / (stz * stz));
        tt_plugin_data v = test_iv_view(d);
        v.p_x = 0;
        v.x = NULL;
        v.weight = weighted ? wt : NULL;
        void *inst = fit_ok(P_ORTHO, &v, 1);
        const tt_plugin_descriptor *pd = g_plug[P_ORTHO].d;
        tt_plugin_data pv = {.struct_size = sizeof pv, .n = 3, .n_arms = 2};
        double eff[3], lo[3], hi[3], ate, alo, ahi;
        char err[256];
        assert_int_equal(pd->effect(inst, &pv, eff, err, sizeof err), TT_OK);
        assert_int_equal(pd->effect_interval(inst, &pv, 0.05, lo, hi, err, sizeof err), TT_OK);
        assert_int_equal(pd->average_effect(inst, &pv, 0.05, &ate, &alo, &ahi, err, sizeof err),
                         TT_OK);
        printf("ortho_iv, phi = [1]%s: %.10f (se %.10f), Wald ratio %.10f (se %.10f)\n",
               weighted ? ", weighted" : "", eff[0], (hi[0] - lo[0]) / (2 * Z975), theta, se);
        for (int i = 0; i < 3; i++) {
            assert_true(fabs(eff[i] - theta) < 1e-10 * fabs(theta));
            if (!weighted) {
                assert_true(fabs((hi[i] - lo[i]) / (2 * Z975) - se) < 1e-9 * se);
                assert_true(fabs(0.5 * (hi[i] + lo[i]) - theta) < 1e-10 * fabs(theta));
            }
        }
        assert_true(fabs(ate - theta) < 1e-10 * fabs(theta));
        assert_true(fabs(ahi - hi[0]) < 1e-10 && fabs(alo - lo[0]) < 1e-10);
        pd->destroy(inst);
    }
    free(wt);
    tt_dataset_free(d);
}

/* The inverse of the k x k matrix a (column-major) by Gauss-Jordan
 * elimination with partial pivoting. */
static void invert(size_t k, const double *a, double *inv)
{
    double m[8 * 16];
    assert_true(k <= 8);
    for (size_t r = 0; r < k; r++)
        for (size_t c = 0; c < 2 * k; c++)
            m[r * 2 * k + c] = c < k ? a[c * k + r] : (c - k == r ? 1.0 : 0.0);
    for (size_t c = 0; c < k; c++) {
        size_t piv = c;
        for (size_t r = c + 1; r < k; r++)
            if (fabs(m[r * 2 * k + c]) > fabs(m[piv * 2 * k + c]))
                piv = r;
        for (size_t j = 0; j < 2 * k; j++) {
            double t = m[c * 2 * k + j];
            m[c * 2 * k + j] = m[piv * 2 * k + j];
            m[piv * 2 * k + j] = t;
        }
        double dv = m[c * 2 * k + c];
        for (size_t j = 0; j < 2 * k; j++)
            m[c * 2 * k + j] /= dv;
        for (size_t r = 0; r < k; r++) {
            if (r == c)
                continue;
            double f = m[r * 2 * k + c];
            for (size_t j = 0; j < 2 * k; j++)
                m[r * 2 * k + j] -= f * m[c * 2 * k + j];
        }
    }
    for (size_t r = 0; r < k; r++)
        for (size_t c = 0; c < k; c++)
            inv[c * k + r] = m[r * 2 * k + k + c];
}

/* dml_iv with phi = [1, x1, x2] and sample weights against weighted least
 * squares of Y_res on phi(x) (p_Z - p) computed here: beta = A^-1 b with
 * A = sum w z z', b = sum w z Y_res and A^-1 by Gauss-Jordan, and the HC1
 * sandwich n / (n - 3) A^-1 [sum w^2 e^2 z z'] A^-1; effects, intervals and
 * the average effect at a few points follow from phi. */
static void test_dml_iv_matches_least_squares_by_hand(void **state)
{
    (void)state;
    enum { D = 3, NP = 4 };
    tt_dataset *d = test_iv_data(1500, 31);
    serve_disturbed(d);
    size_t n = d->n;
    double *wt = malloc(sizeof(double) * n);
    double A[D * D] = {0}, b[D] = {0}, Ai[D * D], beta[D] = {0}, M[D * D] = {0}, V[D * D];
    for (size_t i = 0; i < n; i++) {
        wt[i] = 0.5 + (double)(i % 4) * 0.25;
        double that = (d->z[i] == 1 ? g_nu.p1[i] : g_nu.p0[i]) - g_nu.p[i];
        double z[D] = {that, d->x[i] * that, d->x[n + i] * that}, yr = d->y[i] - g_nu.m[i];
        for (int a = 0; a < D; a++) {
            b[a] += wt[i] * z[a] * yr;
            for (int c = 0; c < D; c++)
                A[c * D + a] += wt[i] * z[a] * z[c];
        }
    }
    invert(D, A, Ai);
    for (int a = 0; a < D; a++)
        for (int c = 0; c < D; c++)
            beta[a] += Ai[c * D + a] * b[c];
    for (size_t i = 0; i < n; i++) {
        double that = (d->z[i] == 1 ? g_nu.p1[i] : g_nu.p0[i]) - g_nu.p[i];
        double z[D] = {that, d->x[i] * that, d->x[n + i] * that};
        double e = d->y[i] - g_nu.m[i] - (z[0] * beta[0] + z[1] * beta[1] + z[2] * beta[2]);
        for (int a = 0; a < D; a++)
            for (int c = 0; c < D; c++)
                M[c * D + a] += wt[i] * wt[i] * e * e * z[a] * z[c];
    }
    double T[D * D] = {0};
    for (int a = 0; a < D; a++)
        for (int c = 0; c < D; c++)
            for (int j = 0; j < D; j++)
                T[c * D + a] += Ai[j * D + a] * M[c * D + j];
    for (int a = 0; a < D; a++)
        for (int c = 0; c < D; c++) {
            double s = 0;
            for (int j = 0; j < D; j++)
                s += T[j * D + a] * Ai[c * D + j];
            V[c * D + a] = s * (double)n / (double)(n - D);
        }

    tt_plugin_data v = test_iv_view(d);
    v.p_x = 2; /* x1, x2: the first two columns of the column-major x */
    v.weight = wt;
    void *inst = fit_ok(P_DMLIV, &v, 1);
    const tt_plugin_descriptor *pd = g_plug[P_DMLIV].d;
    static const double XP[NP * 2] = {0.0, 1.0, -0.7, 1.6, /* x1 */
                                      0.0, -0.5, 0.3, 2.0}; /* x2 */
    tt_plugin_data pv = {.struct_size = sizeof pv, .n = NP, .p_x = 2, .x = XP, .n_arms = 2};
    double eff[NP], lo[NP], hi[NP], ate, alo, ahi, bar[D] = {1, 0, 0};
    char err[256];
    assert_int_equal(pd->effect(inst, &pv, eff, err, sizeof err), TT_OK);
    assert_int_equal(pd->effect_interval(inst, &pv, 0.05, lo, hi, err, sizeof err), TT_OK);
    assert_int_equal(pd->average_effect(inst, &pv, 0.05, &ate, &alo, &ahi, err, sizeof err),
                     TT_OK);
    printf("dml_iv by hand: beta %.6f %.6f %.6f\n", beta[0], beta[1], beta[2]);
    for (int i = 0; i < NP; i++) {
        double phi[D] = {1, XP[i], XP[NP + i]}, want = 0, var = 0;
        for (int a = 0; a < D; a++) {
            want += phi[a] * beta[a];
            bar[a] += a ? phi[a] / NP : 0;
            for (int c = 0; c < D; c++)
                var += phi[a] * V[c * D + a] * phi[c];
        }
        if (fabs(eff[i] - want) > 1e-9 * (1 + fabs(want)))
            fail_msg("row %d: effect %.15g, by hand %.15g", i, eff[i], want);
        double half = (hi[i] - lo[i]) / 2;
        if (fabs(half - Z975 * sqrt(var)) > 1e-8 * half)
            fail_msg("row %d: half-width %.15g, by hand %.15g", i, half, Z975 * sqrt(var));
    }
    double want = 0, var = 0;
    for (int a = 0; a < D; a++) {
        want += bar[a] * beta[a];
        for (int c = 0; c < D; c++)
            var += bar[a] * V[c * D + a] * bar[c];
    }
    assert_true(fabs(ate - want) < 1e-9 * (1 + fabs(want)));
    assert_true(fabs((ahi - alo) / 2 - Z975 * sqrt(var)) < 1e-8 * sqrt(var));
    pd->destroy(inst);
    free(wt);
    tt_dataset_free(d);
}

/* ---- refusals ------------------------------------------------------------------- */

static void expect_fit_refused(int which, const tt_plugin_data *v, int status, const char *part)
{
    char err[1024];
    int rc;
    void *inst = try_fit(which, v, 1, &rc, err, sizeof err);
    if (rc != status || !strstr(err, part))
        fail_msg("%s: fit gave %d '%s', expected %d with '%s'", NAMES[which], rc, err, status,
                 part);
    /* Refused means unfitted: no effects either. */
    double out[4];
    tt_plugin_data pv = {.struct_size = sizeof pv, .n = 1, .p_x = v->p_x, .x = v->x,
                         .n_arms = 2};
    assert_int_not_equal(g_plug[which].d->effect(inst, &pv, out, err, sizeof err), TT_OK);
    g_plug[which].d->destroy(inst);
}

static void test_refusals(void **state)
{
    (void)state;
    tt_dataset *d = test_iv_data(600, 41);
    serve_truth(d);
    size_t n = d->n;
    double *z2 = malloc(sizeof(double) * n * 2);
    memcpy(z2, d->z, sizeof(double) * n);
    memcpy(z2 + n, d->z, sizeof(double) * n);
    const char *const z2_names[] = {"z", "z_again"};
    for (int k = 0; k < NPLUG; k++) {
        const tt_plugin_descriptor *pd = g_plug[k].d;
        double prm[16];
        char err[512] = "";
        void *inst = NULL;
        defaults(k, prm);
        /* K > 2 arms: at create. */
        assert_int_equal(pd->create(host_make(1), prm, 3, &inst, err, sizeof err),
                         TT_ERR_UNSUPPORTED);
        assert_null(inst);
        assert_non_null(strstr(err, "binary treatment"));

        tt_plugin_data v = test_iv_view(d);
        v.p_z = 0;
        v.z = NULL;
        expect_fit_refused(k, &v, TT_ERR_DATA, "no instrument");
        /* An older host's view (ABI 1.5: no z members at all). */
        v = test_iv_view(d);
        v.struct_size = offsetof(tt_plugin_data, p_z);
        expect_fit_refused(k, &v, TT_ERR_DATA, "ABI 1.6");
        /* Two instrument columns. */
        v = test_iv_view(d);
        v.p_z = 2;
        v.z = z2;
        v.z_names = z2_names;
        expect_fit_refused(k, &v, TT_ERR_DATA, "one binary instrument");
        /* A non-binary instrument. */
        v = test_iv_view(d);
        double *zb = malloc(sizeof(double) * n);
        memcpy(zb, d->z, sizeof(double) * n);
        zb[n / 2] = 2.0;
        v.z = zb;
        expect_fit_refused(k, &v, TT_ERR_DATA, "binary instrument is 0 or 1");
        /* An instrument that never varies. */
        for (size_t i = 0; i < n; i++)
            zb[i] = 1.0;
        expect_fit_refused(k, &v, TT_ERR_DATA, "every training row");
        free(zb);
        /* A host without the IV nuisances (the run's host today), and a
         * host of ABI 1.6: the message names the capability. */
        v = test_iv_view(d);
        g_no_iv = 1;
        expect_fit_refused(k, &v, TT_ERR_UNSUPPORTED, "TT_PLUGIN_CAP_NEEDS_IV_NUISANCES");
        g_no_iv = 0;
        {
            int rc;
            void *old = NULL;
            assert_int_equal(pd->create(host_make(1), prm, 2, &old, err, sizeof err), TT_OK);
            g_host.abi_minor = 6;
            rc = pd->fit(old, &v, err, sizeof err);
            assert_int_equal(rc, TT_ERR_UNSUPPORTED);
            assert_non_null(strstr(err, "TT_PLUGIN_CAP_NEEDS_IV_NUISANCES"));
            assert_non_null(strstr(err, "1.7"));
            pd->destroy(old);
        }
        /* Nuisances for another row count than fit() got. */
        g_wrong_n = 1;
        expect_fit_refused(k, &v, TT_ERR_INVALID, "training rows");
        g_wrong_n = 0;
        printf("%s refuses, e.g.: %s\n", NAMES[k], err);
    }
    /* The DMLIV variants regress on p_Z - p: with p_1 = p_0 everywhere there
     * is nothing to regress on - refused, never a confident 0. */
    for (size_t i = 0; i < n; i++)
        g_nu.p0[i] = g_nu.p1[i] = g_nu.p[i];
    tt_plugin_data v = test_iv_view(d);
    expect_fit_refused(P_DMLIV, &v, TT_ERR_DATA, "does not move the treatment");
    expect_fit_refused(P_NONPARAM, &v, TT_ERR_DATA, "does not move the treatment");
    free(z2);
    tt_dataset_free(d);
}

/* ---- save / load ------------------------------------------------------------------ */

/* Save, load with a fresh host, and the loaded model gives bit-identical
 * effects, intervals and average effects (and the forest its out-of-bag
 * average); a truncated stream is refused. */
static void test_save_load_bit_identical(void **state)
{
    (void)state;
    tt_dataset *d = test_iv_data(1500, 51);
    serve_truth(d);
    size_t n = d->n;
    tt_plugin_data v = test_iv_view(d), pv = predict_view(d);
    double *e1 = malloc(sizeof(double) * n * 6), *l1 = e1 + n, *h1 = e1 + 2 * n;
    double *e2 = e1 + 3 * n, *l2 = e1 + 4 * n, *h2 = e1 + 5 * n;
    for (int k = 0; k < NPLUG; k++) {
        const tt_plugin_descriptor *pd = g_plug[k].d;
        void *inst = fit_ok(k, &v, 9);
        char err[512];
        double a1[3], a2[3], o1[4], o2[4];
        assert_int_equal(pd->effect(inst, &pv, e1, err, sizeof err), TT_OK);
        assert_int_equal(pd->effect_interval(inst, &pv, 0.1, l1, h1, err, sizeof err), TT_OK);
        assert_int_equal(pd->average_effect(inst, &v, 0.1, a1, a1 + 1, a1 + 2, err, sizeof err),
                         TT_OK);
        if (pd->average_effect_oob)
            assert_int_equal(pd->average_effect_oob(inst, 0.1, o1, o1 + 1, o1 + 2, o1 + 3, err,
                                                    sizeof err),
                             TT_OK);
        membuf b = {0};
        tt_plugin_sink sink = mem_sink(&b);
        if (pd->save(inst, &sink, err, sizeof err))
            fail_msg("%s save: %s", NAMES[k], err);
        pd->destroy(inst);
        char head[80];
        snprintf(head, sizeof head, "%s 1\n", NAMES[k]);
        assert_memory_equal(b.data, head, strlen(head));
        tt_plugin_source src = mem_source(&b);
        void *loaded = NULL;
        if (pd->load(host_make(77), &src, &loaded, err, sizeof err))
            fail_msg("%s load: %s", NAMES[k], err);
        assert_int_equal(pd->effect(loaded, &pv, e2, err, sizeof err), TT_OK);
        assert_int_equal(pd->effect_interval(loaded, &pv, 0.1, l2, h2, err, sizeof err), TT_OK);
        assert_int_equal(
            pd->average_effect(loaded, &v, 0.1, a2, a2 + 1, a2 + 2, err, sizeof err), TT_OK);
        assert_memory_equal(e1, e2, sizeof(double) * n);
        assert_memory_equal(l1, l2, sizeof(double) * n);
        assert_memory_equal(h1, h2, sizeof(double) * n);
        assert_memory_equal(a1, a2, sizeof a1);
        if (pd->average_effect_oob) {
            assert_int_equal(pd->average_effect_oob(loaded, 0.1, o2, o2 + 1, o2 + 2, o2 + 3, err,
                                                    sizeof err),
                             TT_OK);
            assert_memory_equal(o1, o2, sizeof o1);
        }
        for (size_t i = 0; i < n; i++)
            assert_true(l1[i] <= e1[i] && e1[i] <= h1[i]);
        pd->destroy(loaded);
        b.len /= 2; /* truncated */
        src = mem_source(&b);
        loaded = NULL;
        assert_int_not_equal(pd->load(host_make(77), &src, &loaded, err, sizeof err), TT_OK);
        assert_null(loaded);
        free(b.data);
    }
    free(e1);
    tt_dataset_free(d);
}

/* ---- a weak instrument ------------------------------------------------------------ */

/* An instrument unrelated to T (an independent coin), with the nuisances a
 * host would fit: p and p_z by cross-fitted logistic regressions on [x, w]
 * (p_z on the rows with Z = z, predicted for all), r = 0.5 (randomised).
 * p_1 - p_0 is then estimation noise: every plugin warns, and either
 * refuses or gives an interval that says nothing - never a confident
 * number. */
static void test_weak_instrument_warns_and_widens(void **state)
{
    (void)state;
    tt_dataset *d = test_iv_data(2000, 61);
    size_t n = d->n, p = d->p_x + d->p_w;
    serve_truth(d);
    /* The intervals with the real instrument and true nuisances, for scale. */
    double strong[NPLUG];
    for (int k = 0; k < NPLUG; k++) {
        tt_plugin_data v = test_iv_view(d);
        void *inst = fit_ok(k, &v, 3);
        double ate, lo, hi;
        char err[512];
        assert_int_equal(g_plug[k].d->average_effect(inst, &v, 0.05, &ate, &lo, &hi, err,
                                                     sizeof err),
                         TT_OK);
        strong[k] = hi - lo;
        assert_int_equal(g_n_warn, 0);
        g_plug[k].d->destroy(inst);
    }
    double *coin = calloc(n, sizeof(double)), *tt = calloc(n, sizeof(double));
    unsigned char *use0 = calloc(n, 1), *use1 = calloc(n, 1);
    tt_rng rng;
    tt_rng_seed(&rng, 5, "unrelated instrument");
    for (size_t i = 0; i < n; i++) {
        coin[i] = tt_rng_uniform(&rng) < 0.5;
        tt[i] = d->t[i];
        use0[i] = coin[i] == 0;
        use1[i] = coin[i] == 1;
    }
    double *f = features(d);
    static const char *const keys[] = {"alpha"};
    static const double vals[] = {1.0};
    crossfit("logistic", keys, vals, 1, n, p, f, tt, NULL, 5, g_nu.p);
    crossfit("logistic", keys, vals, 1, n, p, f, tt, use0, 5, g_nu.p0);
    crossfit("logistic", keys, vals, 1, n, p, f, tt, use1, 5, g_nu.p1);
    double mc = 0;
    for (size_t i = 0; i < n; i++)
        mc += fabs(g_nu.p1[i] - g_nu.p0[i]) / (double)n;
    printf("unrelated instrument: mean |p_1 - p_0| = %.4f\n", mc);
    tt_plugin_data v = test_iv_view(d);
    v.z = coin;
    for (int k = 0; k < NPLUG; k++) {
        const tt_plugin_descriptor *pd = g_plug[k].d;
        char err[512];
        int rc;
        void *inst = try_fit(k, &v, 3, &rc, err, sizeof err);
        if (g_n_warn == 0 || !strstr(g_warn, "weak instrument"))
            fail_msg("%s: no weak-instrument warning (last: '%s')", NAMES[k], g_warn);
        printf("%s warns: %s\n", NAMES[k], g_warn);
        if (rc != TT_OK) {
            printf("  and refuses: %s\n", err);
            pd->destroy(inst);
            continue;
        }
        double ate, lo, hi, se;
        rc = pd->average_effect(inst, &v, 0.05, &ate, &lo, &hi, err, sizeof err);
        printf("  average effect %d: %.3g [%.3g, %.3g] %s(%.1f times as wide as with the "
               "real instrument)\n",
               rc, ate, lo, hi, rc ? err : "", (hi - lo) / strong[k]);
        assert_true(rc != TT_OK || (hi - lo > 2.0 && hi - lo > 2.5 * strong[k]));
        if (pd->average_effect_oob) {
            rc = pd->average_effect_oob(inst, 0.05, &ate, &lo, &hi, &se, err, sizeof err);
            printf("  out-of-bag average %d: %.3g [%.3g, %.3g]\n", rc, ate, lo, hi);
            assert_true(rc != TT_OK || (hi - lo > 2.0 && hi - lo > 2.5 * strong[k]));
        }
        pd->destroy(inst);
    }
    free(f), free(coin), free(tt), free(use0), free(use1);
    tt_dataset_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptors),
        cmocka_unit_test(test_recovery_shrinks_with_n),
        cmocka_unit_test(test_recovery_with_crossfitted_outcome),
        cmocka_unit_test(test_average_effect_coverage),
        cmocka_unit_test(test_ortho_iv_constant_is_the_residual_wald_ratio),
        cmocka_unit_test(test_dml_iv_matches_least_squares_by_hand),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_save_load_bit_identical),
        cmocka_unit_test(test_weak_instrument_warns_and_widens),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
