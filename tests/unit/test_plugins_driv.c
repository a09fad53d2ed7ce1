/* test_plugins_driv.c - the doubly robust IV family (driv, driv_linear,
 * driv_sparse_linear, driv_intent_to_treat), loaded from their shared
 * objects and driven through the ABI with a host table whose nuisances are
 * served from arrays this file fills (the run's host does not serve the IV
 * nuisances yet).
 *
 * Data: the `iv` generator (gen.h): Z ~ Bernoulli(1/2), an unobserved U
 * confounding T and Y, P(T = 1 | x, Z) = Phi((-0.5 + 1.5 Z + 0.5 x1) / sqrt 2),
 * tau = 1 + 0.5 x1, Y = x2 + w1 + tau T + U + N(0, 1). The true nuisances:
 * r = 1/2, p_z from that formula, p = (p_0 + p_1) / 2 and
 * m = E[Y | x, w] = x2 + w1 + tau(x) p(x) (E[U | x, w] = 0); m is also
 * cross-fitted here by the core's ridge (misspecified: tau p is not linear).
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

#include "data/gen.h"
#include "plugin/host.h"
#include "test_memstream.h"
#include "test_open_plugin.h"
#include "test_iv_data.h"

enum { NV = 4 };
static const char *const VARIANTS[NV] = {"driv", "driv_linear", "driv_sparse_linear",
                                         "driv_intent_to_treat"};
#define Z975 1.959963984540054

/* ---- the host: nuisances from arrays, warnings captured ------------------- */

typedef struct nuis {
    size_t n;
    double *m, *p, *r, *p0, *p1;
    int iv_unsupported; /* answer the IV kinds as a host without them would */
} nuis;

static nuis g_nu;
static tt_plugin_host g_host;
static tt_host_ctx g_ctx;
static int g_warns;
static char g_warn[1024];

static int fake_oof(void *host_ctx, tt_nuisance_kind kind, int arm, const double **values,
                    size_t *n, size_t *width, char *err, size_t errlen)
{
    (void)host_ctx;
    *n = g_nu.n;
    *width = 1;
    int iv = kind == TT_NUISANCE_KIND_INSTRUMENT || kind == TT_NUISANCE_KIND_TREATMENT_GIVEN_Z;
    if (iv && g_nu.iv_unsupported) {
        snprintf(err, errlen, "no instrument nuisances in this run");
        return TT_ERR_UNSUPPORTED;
    }
    switch (kind) {
    case TT_NUISANCE_KIND_PROPENSITY: *values = g_nu.p; break;
    case TT_NUISANCE_KIND_OUTCOME: *values = g_nu.m; break;
    case TT_NUISANCE_KIND_INSTRUMENT: *values = g_nu.r; break;
    case TT_NUISANCE_KIND_TREATMENT_GIVEN_Z: *values = arm ? g_nu.p1 : g_nu.p0; break;
    default:
        snprintf(err, errlen, "kind %d not served", (int)kind);
        return TT_ERR_UNSUPPORTED;
    }
    return TT_OK;
}

static void capture_log(void *host_ctx, tt_log_level level, const char *fmt, ...)
{
    (void)host_ctx;
    if (level != TT_LOG_WARN)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_warn, sizeof g_warn, fmt, ap);
    va_end(ap);
    g_warns++;
}

static const tt_plugin_host *host_make(uint64_t seed)
{
    memset(&g_ctx, 0, sizeof g_ctx);
    g_ctx.plugin_name = "test";
    tt_host_services_init(&g_host, &g_ctx, seed);
    g_host.nuisance_oof = fake_oof;
    g_host.log = capture_log;
    return &g_host;
}

static void nuis_free(void)
{
    free(g_nu.m), free(g_nu.p), free(g_nu.r), free(g_nu.p0), free(g_nu.p1);
    memset(&g_nu, 0, sizeof g_nu);
}

static void nuis_alloc(size_t n)
{
    nuis_free();
    g_nu.n = n;
    g_nu.m = calloc(n, sizeof(double));
    g_nu.p = calloc(n, sizeof(double));
    g_nu.r = calloc(n, sizeof(double));
    g_nu.p0 = calloc(n, sizeof(double));
    g_nu.p1 = calloc(n, sizeof(double));
}

/* ---- data ------------------------------------------------------------------ */

static double Phi(double t)
{
    return 0.5 * erfc(-t / sqrt(2.0));
}

static double mean_tau(const tt_dataset *d)
{
    double s = 0;
    for (size_t i = 0; i < d->n; i++)
        s += d->tau[i];
    return s / (double)d->n;
}

/* E[Y | x, w] cross-fitted by the core's ridge on [x, w] over 2 folds
 * (i % 2), through the host's learner services. */
static void ridge_oof(const tt_dataset *d, double *out)
{
    size_t n = d->n, p = d->p_x + d->p_w;
    double *xs[2], *ys[2];
    size_t cnt[2] = {(n + 1) / 2, n / 2};
    for (int f = 0; f < 2; f++) {
        xs[f] = malloc(sizeof(double) * cnt[f] * p);
        ys[f] = malloc(sizeof(double) * cnt[f]);
        for (size_t i = (size_t)f, r = 0; i < n; i += 2, r++) {
            for (size_t j = 0; j < p; j++)
                xs[f][j * cnt[f] + r] = j < d->p_x ? d->x[j * n + i] : d->w[(j - d->p_x) * n + i];
            ys[f][r] = d->y[i];
        }
    }
    char err[256];
    for (int f = 0; f < 2; f++) {
        tt_learner *l = NULL;
        double *pred = malloc(sizeof(double) * cnt[1 - f]);
        if (g_host.learner_create(g_host.host_ctx, "ridge", NULL, NULL, 0, &l, err, sizeof err) ||
            g_host.learner_fit(l, cnt[f], p, xs[f], ys[f], NULL, err, sizeof err) ||
            g_host.learner_predict(l, cnt[1 - f], p, xs[1 - f], pred, err, sizeof err))
            fail_msg("ridge: %s", err);
        for (size_t i = (size_t)(1 - f), r = 0; i < n; i += 2, r++)
            out[i] = pred[r];
        g_host.learner_destroy(l);
        free(pred);
    }
    for (int f = 0; f < 2; f++)
        free(xs[f]), free(ys[f]);
}

typedef enum { M_EXACT, M_RIDGE, M_SHIFTED } m_kind;

/* The generator's true nuisances (r = 1/2), with m exact, ridge-fitted, or
 * exact + 2 + x1 (wrong). Checks p_z against the generator's own e_1. */
static void true_nuis(const tt_dataset *d, m_kind mk)
{
    size_t n = d->n;
    nuis_alloc(n);
    for (size_t i = 0; i < n; i++) {
        double x1 = d->x[i], x2 = d->x[n + i], w1 = d->w[i];
        g_nu.p0[i] = Phi((-0.5 + 0.5 * x1) / sqrt(2.0));
        g_nu.p1[i] = Phi((1.0 + 0.5 * x1) / sqrt(2.0));
        g_nu.p[i] = 0.5 * (g_nu.p0[i] + g_nu.p1[i]);
        g_nu.r[i] = 0.5;
        g_nu.m[i] = x2 + w1 + d->tau[i] * g_nu.p[i] + (mk == M_SHIFTED ? 2.0 + x1 : 0.0);
        double e1 = d->z[i] == 1.0 ? g_nu.p1[i] : g_nu.p0[i];
        if (fabs(e1 - d->true_propensity[n + i]) > 1e-12)
            fail_msg("row %zu: P(T = 1 | x, Z) %.17g, the generator's %.17g", i, e1,
                     d->true_propensity[n + i]);
    }
    if (mk == M_RIDGE)
        ridge_oof(d, g_nu.m);
}

/* ---- plugins ----------------------------------------------------------------- */

/* Schema defaults with some entries overridden by name (NULL-terminated). */
static void params_for(const tt_plugin_descriptor *d, double *v, const char *name, ...)
{
    for (size_t i = 0; i < d->n_params; i++)
        v[i] = d->params[i].default_value;
    va_list ap;
    va_start(ap, name);
    for (; name; name = va_arg(ap, const char *)) {
        double value = va_arg(ap, double);
        size_t i = 0;
        while (i < d->n_params && strcmp(d->params[i].name, name) != 0)
            i++;
        if (i == d->n_params)
            fail_msg("%s has no parameter %s", d->name, name);
        v[i] = value;
    }
    va_end(ap);
}

static void *fit_or_fail(const plugin *p, const double *prm, const tt_plugin_data *v)
{
    char err[512] = "";
    void *inst = NULL;
    if (p->d->create(&g_host, prm, 2, &inst, err, sizeof err))
        fail_msg("%s create: %s", p->d->name, err);
    if (p->d->fit(inst, v, err, sizeof err))
        fail_msg("%s fit: %s", p->d->name, err);
    return inst;
}

/* RMSE of theta(x) against the truth on the data's rows, and the average
 * effect with its 95 % interval. */
static double rmse_and_average(const plugin *p, void *inst, const tt_dataset *d, double *ate,
                               double *lo, double *hi)
{
    tt_plugin_data v = test_iv_view(d);
    double *tau = malloc(sizeof(double) * d->n), se = 0;
    char err[256];
    if (p->d->effect(inst, &v, tau, err, sizeof err) ||
        p->d->average_effect(inst, &v, 0.05, ate, lo, hi, err, sizeof err))
        fail_msg("%s: %s", p->d->name, err);
    for (size_t i = 0; i < d->n; i++)
        se += (tau[i] - d->tau[i]) * (tau[i] - d->tau[i]);
    free(tau);
    return sqrt(se / (double)d->n);
}

/* ---- recovery ---------------------------------------------------------------- */

/* theta(x) on the iv data with the ridge-fitted m: every variant (and
 * driv_linear with projection) gets theta to a few hundredths at 200,000
 * rows, better than at 5,000, and the average effect near the truth (within
 * 3 standard errors, and 0.05) - where the naive contrast is far off. */
static void test_recovers_theta(void **state)
{
    (void)state;
    const size_t sizes[2] = {5000, 200000};
    double rmse[NV + 1][2], gap[NV + 1][2], se[NV + 1][2];
    for (int s = 0; s < 2; s++) {
        host_make(1);
        tt_dataset *d = test_iv_data(sizes[s], 11 + (uint64_t)s);
        true_nuis(d, M_RIDGE);
        double truth = mean_tau(d);
        if (s == 1) {
            double sy[2] = {0}, c[2] = {0};
            for (size_t i = 0; i < d->n; i++)
                sy[d->t[i]] += d->y[i], c[d->t[i]]++;
            assert_true(fabs(sy[1] / c[1] - sy[0] / c[0] - truth) > 0.5);
        }
        for (int v = 0; v <= NV; v++) {
            plugin p = open_plugin(VARIANTS[v < NV ? v : 1]);
            double prm[32], ate, lo, hi;
            if (v == NV)
                params_for(p.d, prm, "projection", 1.0, NULL);
            else
                params_for(p.d, prm, NULL);
            tt_plugin_data tr = test_iv_view(d);
            void *inst = fit_or_fail(&p, prm, &tr);
            rmse[v][s] = rmse_and_average(&p, inst, d, &ate, &lo, &hi);
            gap[v][s] = ate - truth;
            se[v][s] = (hi - lo) / (2 * Z975);
            printf("%-22s%s n %6zu: rmse(theta) %.4f, average %.4f [%.4f, %.4f], truth %.4f\n",
                   VARIANTS[v < NV ? v : 1], v == NV ? "+proj" : "     ", d->n, rmse[v][s], ate,
                   lo, hi, truth);
            p.d->destroy(inst);
            close_plugin(&p);
        }
        nuis_free();
        tt_dataset_free(d);
    }
    for (int v = 0; v <= NV; v++) {
        assert_true(rmse[v][1] < 0.05);
        assert_true(rmse[v][1] < 0.5 * rmse[v][0]);
        assert_true(fabs(gap[v][1]) < 3 * se[v][1] && fabs(gap[v][1]) < 0.05);
    }
}

/* ---- double robustness ------------------------------------------------------- */

/* driv_linear with the preliminary model given (driv, dmliv or zero):
 * RMSE of theta(x) on the rows, the average effect and its standard error. */
static double linear_average(const char *prel, const tt_dataset *d, double *rmse, double *se)
{
    plugin p = open_plugin("driv_linear");
    double prm[16], ate, lo, hi;
    params_for(p.d, prm, "prel_cate_approach", strcmp(prel, "driv") == 0 ? 0.0
                                               : strcmp(prel, "dmliv") == 0 ? 1.0 : 2.0, NULL);
    tt_plugin_data tr = test_iv_view(d);
    void *inst = fit_or_fail(&p, prm, &tr);
    *rmse = rmse_and_average(&p, inst, d, &ate, &lo, &hi);
    *se = (hi - lo) / (2 * Z975);
    p.d->destroy(inst);
    close_plugin(&p);
    return ate;
}

/* Either side suffices (200,000 rows). (a) m wrong by 2 + x1 and the
 * preliminary effect wrong (zero), or fitted with that m (driv), while r
 * and the compliance are right: theta recovered, the average within 3
 * standard errors. (b) r wrong (0.2 for 0.5, so cov is off by 0.16 / 0.25),
 * m, p and the preliminary (dmliv, which does not use r) right: recovered;
 * the pseudo-outcome without the preliminary's augmentation (zero:
 * Yr Zr / cov) is off by the factor 0.25 / 0.16 on the same data. */
static void test_double_robustness(void **state)
{
    (void)state;
    host_make(2);
    tt_dataset *d = test_iv_data(200000, 21);
    double truth = mean_tau(d), rmse, ate, se;

    true_nuis(d, M_SHIFTED);
    for (int c = 0; c < 2; c++) {
        const char *prel = c ? "driv" : "zero";
        ate = linear_average(prel, d, &rmse, &se);
        printf("wrong m, prel %-5s: rmse %.4f, average %.4f (s.e. %.4f; truth %.4f)\n", prel,
               rmse, ate, se, truth);
        assert_true(rmse < 0.15);
        assert_true(fabs(ate - truth) < 3 * se && se < 0.05);
    }

    true_nuis(d, M_EXACT);
    for (size_t i = 0; i < d->n; i++)
        g_nu.r[i] = 0.2;
    ate = linear_average("dmliv", d, &rmse, &se);
    printf("wrong r, prel dmliv: rmse %.4f, average %.4f (s.e. %.4f; truth %.4f)\n", rmse, ate,
           se, truth);
    assert_true(rmse < 0.1);
    assert_true(fabs(ate - truth) < 3 * se && se < 0.05);
    ate = linear_average("zero", d, &rmse, &se);
    printf("wrong r, prel zero : rmse %.4f, average %.4f (s.e. %.4f; truth %.4f, x 1.5625 = "
           "%.4f)\n", rmse, ate, se, truth, truth * 0.25 / 0.16);
    assert_true(ate - truth > 0.3);
    nuis_free();
    tt_dataset_free(d);
}

/* ---- coverage ------------------------------------------------------------------ */

/* Each variant's (and driv_linear's with projection) 95 % interval of the
 * average effect covers the rows' mean true effect in at least 45 of 50
 * seeded replications of 2,000 rows. */
static void test_average_effect_covers(void **state)
{
    (void)state;
    enum { REPS = 50 };
    int covered[NV + 1] = {0};
    plugin ps[NV];
    for (int v = 0; v < NV; v++)
        ps[v] = open_plugin(VARIANTS[v]);
    for (int r = 0; r < REPS; r++) {
        host_make(1000 + (uint64_t)r);
        tt_dataset *d = test_iv_data(2000, 100 + (uint64_t)r);
        true_nuis(d, M_EXACT);
        double truth = mean_tau(d);
        for (int v = 0; v <= NV; v++) {
            const plugin *p = &ps[v < NV ? v : 1];
            double prm[32], ate, lo, hi;
            if (v == NV)
                params_for(p->d, prm, "projection", 1.0, NULL);
            else
                params_for(p->d, prm, NULL);
            tt_plugin_data tr = test_iv_view(d);
            void *inst = fit_or_fail(p, prm, &tr);
            char err[256];
            if (p->d->average_effect(inst, &tr, 0.05, &ate, &lo, &hi, err, sizeof err))
                fail_msg("%s: %s", p->d->name, err);
            assert_true(lo < ate && ate < hi);
            covered[v] += lo <= truth && truth <= hi;
            p->d->destroy(inst);
        }
        nuis_free();
        tt_dataset_free(d);
    }
    for (int v = 0; v <= NV; v++) {
        printf("%s%s: the average effect's interval covered the truth in %d of %d\n",
               VARIANTS[v < NV ? v : 1], v == NV ? " (projection)" : "", covered[v], REPS);
        assert_true(covered[v] >= 45);
    }
    for (int v = 0; v < NV; v++)
        close_plugin(&ps[v]);
}

/* ---- an independent reference: phi = [1] by hand ------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The documented folds: Fisher-Yates from seed ^ "driv_fol", perm[j] -> j % K. */
static void folds(uint64_t seed, size_t n, int K, int *fold)
{
    size_t *perm = malloc(sizeof *perm * n);
    uint64_t s = seed ^ 0x647269765f666f6cull;
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t j = n - 1; j >= 1; j--) {
        size_t k = (size_t)(splitmix64(&s) % (uint64_t)(j + 1)), t = perm[j];
        perm[j] = perm[k];
        perm[k] = t;
    }
    for (size_t j = 0; j < n; j++)
        fold[perm[j]] = (int)(j % (size_t)K);
    free(perm);
}

typedef struct ref_case {
    int itt, prel, projection, reweight, weighted;
    double clip;
} ref_case;

/* The average (= the constant effect) and its HC1 interval, computed here
 * from the formulas of driv.c's header, on nuisances unlike the truth (r
 * varies, p is not the mixture of p_0 and p_1) so every term counts. */
static void by_hand(const ref_case *c, const tt_dataset *d, const double *wt, uint64_t seed,
                    double *ate, double *lo, double *hi)
{
    size_t n = d->n;
    double *yr = malloc(sizeof(double) * n * 7), *tr = yr + n, *zr = yr + 2 * n,
           *cov = yr + 3 * n, *a = yr + 4 * n, *th = yr + 5 * n, *om = yr + 6 * n;
    double rbar = 0, sw = 0;
    for (size_t i = 0; i < n; i++)
        rbar += wt[i] * d->z[i], sw += wt[i];
    rbar /= sw;
    for (size_t i = 0; i < n; i++) {
        double r = c->itt ? rbar : g_nu.r[i], p0 = g_nu.p0[i], p1 = g_nu.p1[i];
        double p = c->itt ? r * p1 + (1 - r) * p0 : g_nu.p[i];
        double pz = d->z[i] == 1.0 ? p1 : p0;
        yr[i] = d->y[i] - g_nu.m[i];
        tr[i] = d->t[i] - p;
        zr[i] = c->projection ? pz - p : d->z[i] - r;
        double cv = c->projection ? r * (p1 - p) * (p1 - p) + (1 - r) * (p0 - p) * (p0 - p)
                                  : r * (1 - r) * (p1 - p0);
        if (fabs(cv) < c->clip)
            cv = cv < 0 ? -c->clip : c->clip;
        cov[i] = cv;
        a[i] = pz - p;
    }
    int K = c->itt ? 3 : 2, *fold = malloc(sizeof(int) * n);
    folds(seed, n, K, fold);
    for (int k = 0; k < K; k++) {
        double num = 0, den = 0;
        for (size_t i = 0; i < n; i++) {
            if (fold[i] == k)
                continue;
            if (c->prel == 0) /* driv: Yr Zr on cov */
                num += wt[i] * cov[i] * yr[i] * zr[i], den += wt[i] * cov[i] * cov[i];
            else if (c->prel == 1) /* dmliv: Yr on p_Z - p */
                num += wt[i] * a[i] * yr[i], den += wt[i] * a[i] * a[i];
        }
        for (size_t i = 0; i < n; i++)
            if (fold[i] == k)
                th[i] = c->prel == 2 ? 0.0 : num / den;
    }
    double sum_w = 0, sum_wpsi = 0;
    for (size_t i = 0; i < n; i++) {
        double psi = th[i] + (yr[i] - th[i] * tr[i]) * zr[i] / cov[i];
        om[i] = wt[i] * (c->reweight ? cov[i] * cov[i] : 1.0);
        yr[i] = psi; /* reuse */
        sum_w += om[i];
        sum_wpsi += om[i] * psi;
    }
    double b = sum_wpsi / sum_w, meat = 0;
    for (size_t i = 0; i < n; i++)
        meat += om[i] * om[i] * (yr[i] - b) * (yr[i] - b);
    double se = sqrt((double)n / (double)(n - 1) * meat) / sum_w;
    *ate = b;
    *lo = b - Z975 * se;
    *hi = b + Z975 * se;
    free(yr);
    free(fold);
}

/* driv_linear and driv_intent_to_treat with phi = [1] (rows without effect
 * modifiers): the effect is the weighted mean pseudo-outcome and its HC1
 * standard error sqrt(n / (n - 1) sum w_i^2 e_i^2) / sum w_i - for every
 * preliminary model (cross-fitted on the documented folds), projection,
 * the cov^2 weights, sample weights and clipping. */
static void test_phi_one_matches_by_hand(void **state)
{
    (void)state;
    static const ref_case cases[] = {
        {0, 2, 0, 0, 0, 0.02}, {0, 0, 0, 0, 1, 0.05}, {0, 1, 1, 1, 0, 1e-3},
        {0, 0, 1, 1, 1, 0.01}, {0, 1, 0, 0, 1, 0.03}, {1, 0, 0, 0, 0, 1e-3},
        {1, 1, 0, 1, 1, 0.03}, {1, 2, 0, 0, 1, 0.05},
    };
    const uint64_t seed = 77;
    host_make(seed);
    tt_dataset *d = test_iv_data(400, 5);
    size_t n = d->n;
    true_nuis(d, M_EXACT);
    double *wt = malloc(sizeof(double) * n), *ones = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++) {
        double di = (double)i;
        g_nu.r[i] = 0.5 + 0.4 * sin(1.7 * di);
        g_nu.p[i] += 0.03 * cos(di);
        g_nu.m[i] += 0.2 * sin(0.3 * di);
        wt[i] = 0.5 + 0.25 * (double)(i % 4);
        ones[i] = 1.0;
    }
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const ref_case *rc = &cases[c];
        plugin p = open_plugin(rc->itt ? "driv_intent_to_treat" : "driv_linear");
        double prm[16];
        if (rc->itt)
            params_for(p.d, prm, "prel_cate_approach", (double)rc->prel, "opt_reweighted",
                       (double)rc->reweight, "cov_clip", rc->clip, NULL);
        else
            params_for(p.d, prm, "prel_cate_approach", (double)rc->prel, "opt_reweighted",
                       (double)rc->reweight, "cov_clip", rc->clip, "projection",
                       (double)rc->projection, NULL);
        tt_plugin_data tr = test_iv_view(d);
        tr.p_x = 0;
        tr.x = NULL;
        tr.weight = rc->weighted ? wt : NULL;
        void *inst = fit_or_fail(&p, prm, &tr);
        double ate, lo, hi, want, wlo, whi, eff, elo, ehi;
        char err[256];
        tt_plugin_data one = {.struct_size = sizeof one, .n = 1, .n_arms = 2};
        assert_int_equal(p.d->average_effect(inst, &tr, 0.05, &ate, &lo, &hi, err, sizeof err), 0);
        assert_int_equal(p.d->effect(inst, &one, &eff, err, sizeof err), 0);
        assert_int_equal(p.d->effect_interval(inst, &one, 0.05, &elo, &ehi, err, sizeof err), 0);
        by_hand(rc, d, rc->weighted ? wt : ones, seed, &want, &wlo, &whi);
        printf("%s prel %d proj %d rw %d w %d clip %g: %.6f [%.6f, %.6f], by hand %.6f [%.6f, "
               "%.6f]\n", p.d->name, rc->prel, rc->projection, rc->reweight, rc->weighted,
               rc->clip, ate, lo, hi, want, wlo, whi);
        const double got[6] = {ate, lo, hi, eff, elo, ehi}, ref[6] = {want, wlo, whi,
                                                                      want, wlo, whi};
        for (int j = 0; j < 6; j++)
            if (!(fabs(got[j] - ref[j]) <= 1e-9 * (1 + fabs(ref[j]))))
                fail_msg("case %zu value %d: %.17g, by hand %.17g", c, j, got[j], ref[j]);
        p.d->destroy(inst);
        close_plugin(&p);
    }
    free(wt);
    free(ones);
    nuis_free();
    tt_dataset_free(d);
}

/* ---- refusals ------------------------------------------------------------------ */

static void expect_fit_error(const plugin *p, const tt_plugin_data *v, int status,
                             const char *needle)
{
    char err[512] = "";
    void *inst = NULL;
    double prm[32];
    params_for(p->d, prm, NULL);
    assert_int_equal(p->d->create(&g_host, prm, 2, &inst, err, sizeof err), TT_OK);
    int rc = p->d->fit(inst, v, err, sizeof err);
    if (rc != status || !strstr(err, needle))
        fail_msg("%s: fit gave %d '%s', expected %d with '%s'", p->d->name, rc, err, status,
                 needle);
    double out;
    tt_plugin_data one = {.struct_size = sizeof one, .n = 1, .p_x = v->p_x, .x = v->x,
                          .n_arms = 2};
    assert_int_not_equal(p->d->effect(inst, &one, &out, err, sizeof err), TT_OK);
    p->d->destroy(inst);
}

static void test_refusals(void **state)
{
    (void)state;
    tt_dataset *d = test_iv_data(300, 3);
    size_t n = d->n;
    double *z2 = malloc(sizeof(double) * n * 2), *zc = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++)
        z2[i] = zc[i] = d->z[i], z2[n + i] = 1.0 - d->z[i];
    for (int v = 0; v < NV; v++) {
        plugin p = open_plugin(VARIANTS[v]);
        assert_true(p.d->capabilities & TT_PLUGIN_CAP_IV);
        assert_true(p.d->capabilities & TT_PLUGIN_CAP_NEEDS_IV_NUISANCES);
        assert_true(p.d->capabilities & TT_PLUGIN_CAP_NEEDS_OUTCOME);
        assert_false(p.d->capabilities & TT_PLUGIN_CAP_MULTI_ARM);
        double prm[32];
        char err[512] = "";
        void *inst = NULL;
        params_for(p.d, prm, NULL);
        host_make(1);
        true_nuis(d, M_EXACT);
        /* K > 2 */
        assert_int_equal(p.d->create(&g_host, prm, 3, &inst, err, sizeof err),
                         TT_ERR_UNSUPPORTED);
        assert_null(inst);
        assert_non_null(strstr(err, "binary treatment"));
        /* An older host (ABI 1.6): no IV nuisances. */
        g_host.abi_minor = 6;
        assert_int_equal(p.d->create(&g_host, prm, 2, &inst, err, sizeof err),
                         TT_ERR_UNSUPPORTED);
        assert_non_null(strstr(err, "TT_PLUGIN_CAP_NEEDS_IV_NUISANCES"));
        assert_non_null(strstr(err, "ABI 1.7"));
        /* ... also when the table turns out older at fit time (the kit's check). */
        host_make(1);
        assert_int_equal(p.d->create(&g_host, prm, 2, &inst, err, sizeof err), TT_OK);
        g_host.abi_minor = 6;
        tt_plugin_data tr = test_iv_view(d);
        assert_int_equal(p.d->fit(inst, &tr, err, sizeof err), TT_ERR_UNSUPPORTED);
        assert_non_null(strstr(err, "ABI 1.7"));
        p.d->destroy(inst);
        host_make(1);
        /* A run without the IV nuisances: the message names the capability. */
        g_nu.iv_unsupported = 1;
        expect_fit_error(&p, &tr, TT_ERR_UNSUPPORTED, "TT_PLUGIN_CAP_NEEDS_IV_NUISANCES");
        g_nu.iv_unsupported = 0;
        /* No instrument; an older host's view without the z members. */
        tr.p_z = 0;
        tr.z = NULL;
        expect_fit_error(&p, &tr, TT_ERR_DATA, "no instrument");
        tr = test_iv_view(d);
        tr.struct_size = offsetof(tt_plugin_data, p_z);
        expect_fit_error(&p, &tr, TT_ERR_DATA, "no instrument");
        /* Two instrument columns. */
        tr = test_iv_view(d);
        tr.p_z = 2;
        tr.z = z2;
        expect_fit_error(&p, &tr, TT_ERR_DATA, "one binary instrument");
        /* Non-binary and constant instruments. */
        tr = test_iv_view(d);
        tr.z = zc;
        zc[7] = 0.5;
        expect_fit_error(&p, &tr, TT_ERR_DATA, "binary (0/1)");
        for (size_t i = 0; i < n; i++)
            zc[i] = 1.0;
        expect_fit_error(&p, &tr, TT_ERR_DATA, "is 1 on every");
        memcpy(zc, d->z, sizeof(double) * n);
        /* The nuisances cover other rows than fit() got. */
        g_nu.n = n + 1;
        tr = test_iv_view(d);
        expect_fit_error(&p, &tr, TT_ERR_INVALID, "training rows");
        g_nu.n = n;
        close_plugin(&p);
    }
    free(z2);
    free(zc);
    nuis_free();
    tt_dataset_free(d);
}

/* ---- save / load ---------------------------------------------------------------- */

/* Every variant (driv_linear also with projection and poly2): the loaded
 * model's effects, intervals and average effect are bit-identical; the same
 * seed refits to the same model; a truncated stream is refused. */
static void test_save_load_bit_identical(void **state)
{
    (void)state;
    tt_dataset *d = test_iv_data(1500, 6);
    enum { NR = 40 };
    double *xr = malloc(sizeof(double) * NR * d->p_x);
    for (size_t j = 0; j < d->p_x; j++)
        memcpy(xr + j * NR, d->x + j * d->n, sizeof(double) * NR);
    tt_plugin_data rows = (tt_plugin_data){.struct_size = sizeof rows, .n = NR, .p_x = d->p_x, .x = xr,
                            .n_arms = 2};
    for (int v = 0; v <= NV; v++) {
        plugin p = open_plugin(VARIANTS[v < NV ? v : 1]);
        double prm[32];
        if (v == NV)
            params_for(p.d, prm, "projection", 1.0, "featurizer", 1.0, NULL);
        else
            params_for(p.d, prm, NULL);
        host_make(42);
        true_nuis(d, M_EXACT);
        tt_plugin_data tr = test_iv_view(d);
        void *inst = fit_or_fail(&p, prm, &tr), *again = fit_or_fail(&p, prm, &tr);
        double e[3][NR], l[3][NR], h[3][NR], a[3], al[3], ah[3];
        void *insts[3] = {inst, again, NULL};
        char err[256];
        membuf b = {0};
        tt_plugin_sink sink = mem_sink(&b);
        if (p.d->save(inst, &sink, err, sizeof err))
            fail_msg("%s save: %s", p.d->name, err);
        char head[80];
        snprintf(head, sizeof head, "%s 1\n", p.d->name);
        assert_memory_equal(b.data, head, strlen(head));
        tt_plugin_source src = mem_source(&b);
        /* The loaded model gets a table of its own (another seed): the two
         * fitted instances keep theirs, whose lazy bootstrap uses seed 42. */
        tt_host_ctx ctx_b = {.plugin_name = "loaded"};
        tt_plugin_host host_b;
        tt_host_services_init(&host_b, &ctx_b, 7);
        if (p.d->load(&host_b, &src, &insts[2], err, sizeof err))
            fail_msg("%s load: %s", p.d->name, err);
        for (int k = 0; k < 3; k++) {
            assert_int_equal(p.d->effect(insts[k], &rows, e[k], err, sizeof err), 0);
            assert_int_equal(p.d->effect_interval(insts[k], &rows, 0.1, l[k], h[k], err,
                                                  sizeof err), 0);
            assert_int_equal(p.d->average_effect(insts[k], &rows, 0.1, &a[k], &al[k], &ah[k],
                                                 err, sizeof err), 0);
        }
        for (int k = 1; k < 3; k++) {
            assert_memory_equal(e[0], e[k], sizeof e[0]);
            assert_memory_equal(l[0], l[k], sizeof l[0]);
            assert_memory_equal(h[0], h[k], sizeof h[0]);
            assert_memory_equal(&a[0], &a[k], sizeof a[0]);
            assert_memory_equal(&al[0], &al[k], sizeof al[0]);
            assert_memory_equal(&ah[0], &ah[k], sizeof ah[0]);
        }
        for (int i = 0; i < NR; i++)
            assert_true(l[0][i] <= e[0][i] && e[0][i] <= h[0][i]);
        b.len /= 2;
        src = mem_source(&b);
        void *bad = NULL;
        assert_int_not_equal(p.d->load(&host_b, &src, &bad, err, sizeof err), 0);
        assert_null(bad);
        free(b.data);
        for (int k = 0; k < 3; k++)
            p.d->destroy(insts[k]);
        close_plugin(&p);
    }
    free(xr);
    nuis_free();
    tt_dataset_free(d);
}

/* ---- a weak instrument ------------------------------------------------------------ */

/* An instrument unrelated to T (a coin; the host's p_1 and p_0 agree up to
 * noise of 0.005): every variant warns through the host's log and its
 * average effect's interval is very wide - more than 10 times that of the
 * real instrument on the same rows, which fits without a warning. */
static void test_weak_instrument(void **state)
{
    (void)state;
    tt_dataset *d = test_iv_data(3000, 8);
    size_t n = d->n;
    double *coin = malloc(sizeof(double) * n);
    uint64_t s = 99;
    for (size_t i = 0; i < n; i++)
        coin[i] = (double)(splitmix64(&s) >> 63);
    for (int v = 0; v < NV; v++) {
        plugin p = open_plugin(VARIANTS[v]);
        double prm[32], width[2];
        params_for(p.d, prm, NULL);
        for (int weak = 0; weak < 2; weak++) {
            host_make(5);
            true_nuis(d, M_EXACT);
            tt_plugin_data tr = test_iv_view(d);
            if (weak) {
                tr.z = coin;
                for (size_t i = 0; i < n; i++) {
                    g_nu.p0[i] = g_nu.p1[i] = g_nu.p[i];
                    g_nu.p1[i] += 0.005 * sin(0.9 * (double)i);
                }
            }
            g_warns = 0;
            void *inst = fit_or_fail(&p, prm, &tr);
            double ate, lo, hi;
            char err[256];
            assert_int_equal(p.d->average_effect(inst, &tr, 0.05, &ate, &lo, &hi, err,
                                                 sizeof err), 0);
            width[weak] = hi - lo;
            printf("%-20s %s instrument: %d warning(s), average %.4g [%.4g, %.4g]%s%s\n",
                   p.d->name, weak ? "unrelated" : "real", g_warns, ate, lo, hi,
                   g_warns ? "\n  " : "", g_warns ? g_warn : "");
            if (weak) {
                assert_true(g_warns >= 1);
                assert_non_null(strstr(g_warn, "weak instrument"));
            } else {
                assert_int_equal(g_warns, 0);
            }
            p.d->destroy(inst);
        }
        assert_true(width[1] > 10 * width[0]);
        assert_true(width[1] > 5.0);
        close_plugin(&p);
    }
    free(coin);
    nuis_free();
    tt_dataset_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phi_one_matches_by_hand),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_save_load_bit_identical),
        cmocka_unit_test(test_weak_instrument),
        cmocka_unit_test(test_double_robustness),
        cmocka_unit_test(test_recovers_theta),
        cmocka_unit_test(test_average_effect_covers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
