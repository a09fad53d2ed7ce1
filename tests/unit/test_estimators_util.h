/*
 * test_estimators_util.h - shared harness of the estimator tests
 * (test_estimators.c, test_estimators_closed.c, test_estimators_coverage.c).
 *
 * It plays the program's part around a plugin:
 *   1. synthetic data from a seeded RNG with known effects (et_generate);
 *   2. the run's nuisance models, built exactly as core/cli/run_nuisance.c
 *      builds them: a tt_nuisance_engine on the training rows with features
 *      [x, w], tt_nuisance_select for the propensity, the outcome and every
 *      arm's outcome, and a tt_host_nuisances pointing at the chosen results
 *      (et_nuis_build);
 *   3. a host table (tt_host_services_init) whose ctx carries those nuisances
 *      and the plugin's own capabilities, an instance created with the
 *      schema's default parameters and fitted on the training rows
 *      (et_fit); effects, intervals and averages on other rows.
 * Plugins are loaded by name from the build's plugin folder through the
 * registry, as the program loads them; a plugin that is not built is a test
 * failure (never a skip).
 *
 * Everything here is static (inline, so a file that does not use a helper
 * gets no unused-function warning). Ownership: every et_* object owns what it
 * allocates and has a matching _free; failures go through CMocka's asserts.
 * Include after <cmocka.h>.
 */
#ifndef TT_TEST_ESTIMATORS_UTIL_H
#define TT_TEST_ESTIMATORS_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nuisance/nuisance.h"
#include "plugin/host.h"
#include "plugin/registry.h"
#include "util/rng.h"

#ifndef TT_PLUGIN_BUILD_DIR
#define TT_PLUGIN_BUILD_DIR "plugins"
#endif

#define ET_MAX_ARMS 3
#define ET_ALPHA 0.05 /* every interval in these tests is a 95% one */

/* ---- registry ------------------------------------------------------------ */

/* Every plugin of the build folder. Rejected files are skipped by the
 * registry (and the tests asking for them fail with "not built"). */
static inline tt_registry *et_registry_load(void)
{
    char err[1024];
    tt_registry *reg = tt_registry_new();
    if (!reg || tt_registry_load_dir(reg, TT_PLUGIN_BUILD_DIR, NULL, NULL, NULL, err,
                                     sizeof err) != TT_OK) {
        fprintf(stderr, "cannot load %s: %s\n", TT_PLUGIN_BUILD_DIR, reg ? err : "no memory");
        tt_registry_free(reg);
        return NULL;
    }
    return reg;
}

static inline const tt_plugin_descriptor *et_plugin(const tt_registry *reg, const char *name)
{
    const tt_plugin_entry *e = reg ? tt_registry_find(reg, name) : NULL;
    if (!e)
        fail_msg("plugin %s is not in %s (not built yet, or rejected by the registry)", name,
                 TT_PLUGIN_BUILD_DIR);
    return e->desc;
}

/* ---- parameters ---------------------------------------------------------- */

/* The schema's defaults (what the searcher tries first). out has at least
 * desc->n_params + 1 slots so a plugin without parameters still gets a
 * valid pointer. */
static inline double *et_default_params(const tt_plugin_descriptor *desc)
{
    double *p = calloc(desc->n_params + 1, sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < desc->n_params; i++)
        p[i] = desc->params[i].default_value;
    return p;
}

static inline const tt_plugin_param *et_param(const tt_plugin_descriptor *desc, const char *name,
                                              size_t *index)
{
    for (size_t i = 0; i < desc->n_params; i++)
        if (strcmp(desc->params[i].name, name) == 0) {
            *index = i;
            return &desc->params[i];
        }
    return NULL;
}

/* Set a parameter by name; a CHOICE takes the index of choice. Fails the
 * test if the schema has no such entry or choice. */
static inline void et_set_param(const tt_plugin_descriptor *desc, double *params,
                                const char *name, double value, const char *choice)
{
    size_t i = 0;
    const tt_plugin_param *p = et_param(desc, name, &i);
    if (!p)
        fail_msg("%s has no parameter %s", desc->name, name);
    if (choice) {
        assert_int_equal(p->kind, TT_PARAM_CHOICE);
        for (size_t c = 0; p->choices[c]; c++)
            if (strcmp(p->choices[c], choice) == 0) {
                params[i] = (double)c;
                return;
            }
        fail_msg("%s: parameter %s has no choice %s", desc->name, name, choice);
    }
    params[i] = value;
}

/* ---- synthetic data ---------------------------------------------------- */

typedef enum et_tau {
    ET_TAU_CONSTANT = 0, /* tau_1 = 2 (3 arms: tau_2 = -1) */
    ET_TAU_LINEAR        /* tau_1 = 1 + x1 (3 arms: tau_2 = -0.5 + 2 x2) */
} et_tau;

typedef struct et_dgp {
    int n_arms;     /* 2 or 3 */
    et_tau tau;
    int randomized; /* 1: P(T = k) = 1/K whatever x, w; 0: confounded */
} et_dgp;

/* n rows, column-major. p_x = 2 effect modifiers (x1, x2), p_w = 2 common
 * causes (w1, w2), all independent N(0, 1).
 *   Y = 1 + x1 + 0.5 x2 + w1 - 0.5 w2 + tau_T(x) + eps,  eps ~ N(0, 1),
 *   P(T = k | x, w) = softmax_k(s) with s_0 = 0,
 *     s_1 = 0.6 x1 + 0.6 w1,   s_2 = -0.6 x2 + 0.6 w2   (confounded),
 *     s = 0                                            (randomized).
 * Both the effect modifier x1 and the hidden-from-the-effect w1 drive both
 * treatment and outcome, so a naive comparison is biased (checked by
 * test_estimators.c), while every arm's outcome E[Y | x, w, T = k] is linear
 * in (x, w) and the propensity is exactly a (multinomial) logistic model in
 * (x, w). tau holds the true effects (n x (K-1)); prop the true P(T = k)
 * (n x K). */
typedef struct et_data {
    size_t n, p_x, p_w;
    int n_arms;
    double *x, *w, *y, *tau, *prop;
    int32_t *t;
} et_data;

static inline double et_true_tau(et_tau tau, int arm, double x1, double x2)
{
    if (tau == ET_TAU_CONSTANT)
        return arm == 1 ? 2.0 : -1.0;
    return arm == 1 ? 1.0 + x1 : -0.5 + 2.0 * x2;
}

static inline void et_data_free(et_data *d)
{
    free(d->x);
    free(d->w);
    free(d->y);
    free(d->tau);
    free(d->prop);
    free(d->t);
    memset(d, 0, sizeof *d);
}

static inline void et_generate(const et_dgp *g, size_t n, uint64_t seed, const char *stream,
                               et_data *d)
{
    size_t k_arms = (size_t)g->n_arms;
    *d = (et_data){.n = n, .p_x = 2, .p_w = 2, .n_arms = g->n_arms};
    d->x = malloc(sizeof(double) * 2 * n);
    d->w = malloc(sizeof(double) * 2 * n);
    d->y = malloc(sizeof(double) * n);
    d->tau = malloc(sizeof(double) * (k_arms - 1) * n);
    d->prop = malloc(sizeof(double) * k_arms * n);
    d->t = malloc(sizeof(int32_t) * n);
    assert_true(d->x && d->w && d->y && d->tau && d->prop && d->t);
    tt_rng rng;
    tt_rng_seed(&rng, seed, stream);
    for (size_t i = 0; i < n; i++) {
        double x1 = tt_rng_normal(&rng), x2 = tt_rng_normal(&rng);
        double w1 = tt_rng_normal(&rng), w2 = tt_rng_normal(&rng);
        double s[ET_MAX_ARMS] = {0, 0.6 * x1 + 0.6 * w1, -0.6 * x2 + 0.6 * w2};
        double z = 0, e[ET_MAX_ARMS];
        for (size_t k = 0; k < k_arms; k++)
            z += e[k] = g->randomized ? 1.0 : exp(s[k]);
        for (size_t k = 0; k < k_arms; k++) {
            e[k] /= z;
            d->prop[k * n + i] = e[k];
        }
        /* The arm: the first k whose cumulative probability exceeds u. */
        double u = tt_rng_uniform(&rng), cum = 0;
        int arm = g->n_arms - 1;
        for (size_t k = 0; k + 1 < k_arms; k++) {
            cum += e[k];
            if (u < cum) {
                arm = (int)k;
                break;
            }
        }
        double y = 1 + x1 + 0.5 * x2 + w1 - 0.5 * w2 + tt_rng_normal(&rng);
        for (int k = 1; k < g->n_arms; k++)
            d->tau[(size_t)(k - 1) * n + i] = et_true_tau(g->tau, k, x1, x2);
        if (arm > 0)
            y += d->tau[(size_t)(arm - 1) * n + i];
        d->x[i] = x1;
        d->x[n + i] = x2;
        d->w[i] = w1;
        d->w[n + i] = w2;
        d->y[i] = y;
        d->t[i] = arm;
    }
}

/* The plugin's view of d; with_outcomes = 0 gives rows to predict (no t, y). */
static inline tt_plugin_data et_view(const et_data *d, int with_outcomes)
{
    return (tt_plugin_data){.struct_size = sizeof(tt_plugin_data), .n = d->n, .p_x = d->p_x,
                            .p_w = d->p_w, .x = d->x, .w = d->w,
                            .t = with_outcomes ? d->t : NULL,
                            .y = with_outcomes ? d->y : NULL, .n_arms = d->n_arms};
}

/* Mean of column arm-1 of a n x (K-1) array. */
static inline double et_col_mean(const double *v, size_t n, int arm)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[(size_t)(arm - 1) * n + i];
    return s / (double)n;
}

/* The semiparametric efficiency bound's standard error of arm k's average
 * effect versus arm 0 with unit noise, from the TRUE propensities:
 * sqrt(mean_i [1/e_k(i) + 1/e_0(i)] / n) (Hahn 1998; the var(tau(X)) part of
 * the bound is left out because the tests compare with the sample average of
 * tau over the rows, not the population one). The oracle that knows
 * E[Y | x, w, T] up to its coefficients and fits it by OLS reaches this
 * asymptotically; the tolerances of test_estimators.c are multiples of it. */
static inline double et_ate_se_bound(const et_data *d, int arm)
{
    double s = 0;
    for (size_t i = 0; i < d->n; i++)
        s += 1.0 / d->prop[(size_t)arm * d->n + i] + 1.0 / d->prop[i];
    return sqrt(s / (double)d->n / (double)d->n);
}

/* Standard error of the Horvitz-Thompson estimator of arm k's average effect
 * with the TRUE propensities, from the sample: sd(psi) / sqrt(n) with
 * psi_i = 1{T_i = k} Y_i / e_k(i) - 1{T_i = 0} Y_i / e_0(i). The least
 * efficient of the standard unbiased estimators (it ignores the outcome model
 * entirely), so a generous yardstick for estimators of the average alone. */
static inline double et_ht_se(const et_data *d, int arm)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < d->n; i++) {
        double psi = 0;
        if (d->t[i] == arm)
            psi = d->y[i] / d->prop[(size_t)arm * d->n + i];
        else if (d->t[i] == 0)
            psi = -d->y[i] / d->prop[i];
        s += psi;
        s2 += psi * psi;
    }
    double n = (double)d->n, var = (s2 - s * s / n) / (n - 1);
    return sqrt(var / n);
}

/* Standard deviation of arm k's true effect over the rows. */
static inline double et_tau_sd(const et_data *d, int arm)
{
    double m = et_col_mean(d->tau, d->n, arm), s = 0;
    for (size_t i = 0; i < d->n; i++) {
        double v = d->tau[(size_t)(arm - 1) * d->n + i] - m;
        s += v * v;
    }
    return sqrt(s / (double)d->n);
}

/* ---- the run's nuisances ----------------------------------------------- */

typedef struct et_nuis {
    double *features; /* [x, w] of the training rows, n x (p_x + p_w) */
    tt_nuisance_data nd;
    tt_nuisance_engine *engine;
    const tt_nuisance_result *arm_outcome[ET_MAX_ARMS];
    tt_host_nuisances nu;
} et_nuis;

/* Fixed candidates for the linear DGP above: logistic regression for the
 * propensity (exactly the softmax/logit model that generated T) and ridge
 * for the outcomes (every E[Y | x, w, T = k] is linear in (x, w), so ridge is
 * correctly specified for the arm outcomes; the marginal m(x, w) = mu_0 +
 * sum_k e_k tau_k is not linear under confounding, but the DML moment stays
 * unbiased for any m when e is right - Neyman orthogonality - so a linear m
 * costs only efficiency). Both at alpha = 1, which at n >= 1000 shrinks the
 * coefficients by O(1/n). The default candidates (forests, gbm) would only
 * add run time on this data: use them with defaults = 1. */
static const tt_nuisance_spec et_prop_spec = {"logistic", 1, {"alpha"}, {1.0}};
static const tt_nuisance_spec et_outcome_spec = {"ridge", 1, {"alpha"}, {1.0}};

/* Same sequence as tt_run_fit_nuisances: engine on [x, w], then select the
 * propensity, the outcome and each arm's outcome. The nuisance seed is
 * derived from seed as the program does. nu stays valid until et_nuis_free. */
static inline int et_nuis_build(et_nuis *s, const et_data *tr, uint64_t seed, int defaults,
                                char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    size_t n = tr->n, p = tr->p_x + tr->p_w;
    s->features = malloc(sizeof(double) * n * p);
    if (!s->features) {
        snprintf(err, errlen, "out of memory");
        return TT_ERR_NOMEM;
    }
    memcpy(s->features, tr->x, sizeof(double) * n * tr->p_x);
    memcpy(s->features + n * tr->p_x, tr->w, sizeof(double) * n * tr->p_w);
    s->nd = (tt_nuisance_data){.n = n, .p = p, .x = s->features, .y = tr->y, .arm = tr->t,
                               .n_arms = (size_t)tr->n_arms};
    tt_status st = tt_nuisance_engine_new(&s->nd, 5, tt_rng_derive(seed, "nuisance"), &s->engine,
                                          err, errlen);
    const tt_nuisance_result *prop = NULL, *m = NULL;
    const tt_nuisance_spec *pc = defaults ? NULL : &et_prop_spec;
    const tt_nuisance_spec *oc = defaults ? NULL : &et_outcome_spec;
    size_t nc = defaults ? 0 : 1;
    /* Generous selection time: every candidate is evaluated. */
    if (st == TT_OK)
        st = tt_nuisance_select(s->engine, TT_NUISANCE_PROPENSITY, -1, pc, nc, &prop, err,
                                errlen);
    if (st == TT_OK)
        st = tt_nuisance_select(s->engine, TT_NUISANCE_OUTCOME, -1, oc, nc, &m, err, errlen);
    for (int k = 0; st == TT_OK && k < tr->n_arms; k++)
        st = tt_nuisance_select(s->engine, TT_NUISANCE_ARM_OUTCOME, k, oc, nc,
                                &s->arm_outcome[k], err, errlen);
    s->nu = (tt_host_nuisances){.propensity = prop, .outcome = m, .arm_outcome = s->arm_outcome,
                                .n_arms = tr->n_arms, .p_x = tr->p_x, .p_w = tr->p_w};
    return (int)st;
}

static inline void et_nuis_free(et_nuis *s)
{
    tt_nuisance_engine_free(s->engine);
    free(s->features);
    memset(s, 0, sizeof *s);
}

/* ---- a fitted plugin instance -------------------------------------------- */

/* The host table and its ctx live here, on the heap, because the table must
 * outlive the instance and keeps a pointer to the ctx. */
typedef struct et_run {
    const tt_plugin_descriptor *desc;
    tt_host_ctx ctx;
    tt_plugin_host host;
    void *inst;
} et_run;

/* A host table for desc with the run's nuisances (nu may be NULL). */
static inline et_run *et_run_new(const tt_plugin_descriptor *desc, const tt_host_nuisances *nu,
                                 uint64_t seed)
{
    et_run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->desc = desc;
    r->ctx = (tt_host_ctx){.plugin_name = desc->name, .nuisances = nu,
                           .capabilities = desc->capabilities};
    tt_host_services_init(&r->host, &r->ctx, seed);
    return r;
}

static inline void et_run_free(et_run *r)
{
    if (!r)
        return;
    r->desc->destroy(r->inst);
    free(r);
}

/* create(params or the defaults) + fit on train; fails the test on error. */
static inline et_run *et_fit(const tt_plugin_descriptor *desc, const double *params,
                             const tt_host_nuisances *nu, const et_data *train, uint64_t seed)
{
    et_run *r = et_run_new(desc, nu, seed);
    double *defaults = params ? NULL : et_default_params(desc);
    char err[1024] = "";
    int rc = desc->create(&r->host, params ? params : defaults, train->n_arms, &r->inst, err,
                          sizeof err);
    free(defaults);
    if (rc != TT_OK)
        fail_msg("%s create (%d arms): %s", desc->name, train->n_arms, err);
    tt_plugin_data v = et_view(train, 1);
    rc = desc->fit(r->inst, &v, err, sizeof err);
    if (rc != TT_OK)
        fail_msg("%s fit: %s", desc->name, err);
    return r;
}

/* Effects / intervals / averages on rows; arrays n x (K-1) (K-1 for averages)
 * allocated here, freed by the caller. Intervals and averages are NULL when
 * the plugin has none. */
typedef struct et_pred {
    size_t n;
    int k1; /* K - 1 */
    double *effect, *lo, *hi;
    double *ate, *ate_lo, *ate_hi;
} et_pred;

static inline void et_pred_free(et_pred *p)
{
    free(p->effect);
    free(p->lo);
    free(p->hi);
    free(p->ate);
    free(p->ate_lo);
    free(p->ate_hi);
    memset(p, 0, sizeof *p);
}

static inline et_pred et_predict(const et_run *r, const tt_plugin_data *rows)
{
    const tt_plugin_descriptor *desc = r->desc;
    et_pred p = {.n = rows->n, .k1 = rows->n_arms - 1};
    size_t cells = rows->n * (size_t)p.k1;
    char err[1024] = "";
    p.effect = calloc(cells, sizeof(double));
    assert_non_null(p.effect);
    if (desc->effect(r->inst, rows, p.effect, err, sizeof err) != TT_OK)
        fail_msg("%s effect: %s", desc->name, err);
    if ((desc->capabilities & TT_PLUGIN_CAP_INTERVALS) && desc->effect_interval) {
        p.lo = calloc(cells, sizeof(double));
        p.hi = calloc(cells, sizeof(double));
        assert_true(p.lo && p.hi);
        if (desc->effect_interval(r->inst, rows, ET_ALPHA, p.lo, p.hi, err, sizeof err) != TT_OK)
            fail_msg("%s effect_interval: %s", desc->name, err);
    }
    tt_plugin_average_fn avg = tt_plugin_average_effect(desc);
    if (avg) {
        p.ate = calloc((size_t)p.k1, sizeof(double));
        p.ate_lo = calloc((size_t)p.k1, sizeof(double));
        p.ate_hi = calloc((size_t)p.k1, sizeof(double));
        assert_true(p.ate && p.ate_lo && p.ate_hi);
        if (avg(r->inst, rows, ET_ALPHA, p.ate, p.ate_lo, p.ate_hi, err, sizeof err) != TT_OK)
            fail_msg("%s average_effect: %s", desc->name, err);
    }
    return p;
}

/* Bitwise equality of two predictions (same arrays present). */
static inline void et_pred_assert_identical(const et_pred *a, const et_pred *b, const char *what)
{
    size_t cells = a->n * (size_t)a->k1, k1 = (size_t)a->k1;
    assert_int_equal(a->n, b->n);
    if (memcmp(a->effect, b->effect, cells * sizeof(double)) != 0)
        fail_msg("%s: effects differ", what);
    assert_true(!a->lo == !b->lo && !a->ate == !b->ate);
    if (a->lo && (memcmp(a->lo, b->lo, cells * sizeof(double)) != 0 ||
                  memcmp(a->hi, b->hi, cells * sizeof(double)) != 0))
        fail_msg("%s: intervals differ", what);
    if (a->ate && (memcmp(a->ate, b->ate, k1 * sizeof(double)) != 0 ||
                   memcmp(a->ate_lo, b->ate_lo, k1 * sizeof(double)) != 0 ||
                   memcmp(a->ate_hi, b->ate_hi, k1 * sizeof(double)) != 0))
        fail_msg("%s: average effects differ", what);
}

/* ---- in-memory byte stream for save / load ------------------------------ */

typedef struct et_stream {
    char *buf;
    size_t len, pos;
} et_stream;

static inline int et_stream_write(void *ctx, const void *bytes, size_t len)
{
    et_stream *s = ctx;
    char *b = realloc(s->buf, s->len + len + 1);
    if (!b)
        return -1;
    s->buf = b;
    memcpy(s->buf + s->len, bytes, len);
    s->len += len;
    return 0;
}

static inline int et_stream_read(void *ctx, void *bytes, size_t len)
{
    et_stream *s = ctx;
    if (len > s->len - s->pos)
        return -1;
    memcpy(bytes, s->buf + s->pos, len);
    s->pos += len;
    return 0;
}

#endif
