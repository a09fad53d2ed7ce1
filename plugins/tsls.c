/*
 * tsls - two-stage least squares, the textbook instrumental-variable
 * estimator (a binary or continuous treatment, one or several instruments;
 * with a continuous one theta(x) is the effect per unit of T).
 *
 * The effect model is theta(x) = phi(x)'b: a constant (effect = "constant",
 * the textbook case), linear in x ("linear") or with squares and products
 * ("poly2"). The outcome equation
 *   y = [1, x, w, phi extras] a + T phi(x)'b + e
 * has the treatment's columns T phi_j(x) as the endogenous regressors and
 * the instruments' Z_l phi_j(x) as the excluded instruments; [1, x, w] (and
 * with poly2 the squares and products of x) are exogenous controls
 * (pu_tsls.h). Every instrument column of the data is used: several
 * instruments over-identify the model, which 2SLS weights efficiently under
 * homoskedasticity. theta(x) is the effect of the treatment on the outcome
 * for the rows the instrument moves (a local average treatment effect given
 * x, under the usual IV assumptions: relevance, exclusion, monotonicity).
 *
 * Intervals: HC1 (heteroskedasticity-robust) covariance of b; the effect at
 * x has variance phi(x)'V phi(x), the average effect over rows
 * phi_bar'V phi_bar (pu_linear.h). The first-stage F statistic of the
 * instruments for T is logged, with a warning below 10 (weak instruments:
 * 2SLS is then biased towards OLS and its intervals are too narrow).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <tautune/plugin.h>

#include "common/pu.h"
#include "common/pu_linear.h"
#include "common/pu_plugin.h"
#include "common/pu_tsls.h"

#define TSLS_NAME "tsls"
#define TSLS_VERSION "1.0.0"
#define TSLS_SAVE_VERSION 1
/* Below this first-stage F the instruments are weak (Staiger and Stock 1997). */
#define TSLS_WEAK_F 10.0

static const char *const effect_models[] = {"constant", "linear", "poly2", NULL};
enum { EFFECT_CONSTANT = 0, EFFECT_LINEAR, EFFECT_POLY2 };

static const tt_plugin_param tsls_params[] = {
    {.name = "effect", .kind = TT_PARAM_CHOICE, .default_value = EFFECT_CONSTANT,
     .choices = effect_models,
     .help = "theta(x): a constant (the textbook LATE), linear in x, or with squares and "
             "products of x"},
};
#define TSLS_N_PARAMS (sizeof tsls_params / sizeof tsls_params[0])

typedef struct tsls_model {
    const tt_plugin_host *host;
    int effect;
    int fitted;
    size_t p_x;        /* effect modifiers the model was fitted on */
    pu_linear lin;     /* theta(x) = phi(x)'b with its covariance */
    double first_stage_f;
} tsls_model;

static pu_phi phi_of(int effect, size_t p_x)
{
    pu_phi phi = {.intercept = 1, .poly2 = effect == EFFECT_POLY2,
                  .p_x = effect == EFFECT_CONSTANT ? 0 : p_x};
    return phi;
}

static int tsls_create(const tt_plugin_host *host, const double *params, int n_arms,
                       void **instance, char *err, size_t errlen)
{
    int rc = pu_check_params(TSLS_NAME, tsls_params, TSLS_N_PARAMS, params, err, errlen);
    if (rc)
        return rc;
    if (n_arms != 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, "tsls: a binary treatment only (2 arms), "
                                                     "got %d", n_arms);
    tsls_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->effect = (int)params[0];
    *instance = m;
    return TT_OK;
}

static void tsls_destroy(void *instance)
{
    tsls_model *m = instance;
    if (!m)
        return;
    pu_linear_free(&m->lin);
    m->host->release(m);
}

/* The design's pieces, column-major, n rows each (host->alloc). */
typedef struct design {
    double *exo, *endo, *excl, *phi;
    size_t k_exo, k_endo, k_excl, d;
} design;

static void design_free(const tt_plugin_host *host, design *g)
{
    host->release(g->exo);
    host->release(g->endo);
    host->release(g->excl);
    host->release(g->phi);
}

/* exo = [1, x, w, phi's squares and products]; endo = T phi; excl = Z_l phi. */
static int build_design(const tsls_model *m, const tt_plugin_data *d, const pu_phi *phi,
                        design *g, char *err, size_t errlen)
{
    const tt_plugin_host *host = m->host;
    size_t n = d->n, px = d->p_x, pw = d->p_w, pz = d->p_z;
    memset(g, 0, sizeof *g);
    g->phi = pu_phi_build(host, phi, n, d->x);
    g->d = pu_phi_dim(phi);
    /* phi's own columns beyond the intercept and x (poly2): controls too. */
    size_t extra = m->effect == EFFECT_POLY2 ? g->d - 1 - px : 0;
    g->k_exo = 1 + px + pw + extra;
    g->k_endo = g->d;
    g->k_excl = pz * g->d;
    g->exo = host->alloc(n * g->k_exo * sizeof(double));
    g->endo = host->alloc(n * g->k_endo * sizeof(double));
    g->excl = host->alloc(n * g->k_excl * sizeof(double));
    if (!g->phi || !g->exo || !g->endo || !g->excl) {
        design_free(host, g);
        return pu_errf(err, errlen, TT_ERR_NOMEM, "tsls: out of memory for %zu rows", n);
    }
    for (size_t i = 0; i < n; i++)
        g->exo[i] = 1.0;
    if (px)
        memcpy(g->exo + n, d->x, n * px * sizeof(double));
    if (pw)
        memcpy(g->exo + n * (1 + px), d->w, n * pw * sizeof(double));
    if (extra)
        memcpy(g->exo + n * (1 + px + pw), g->phi + n * (1 + px), n * extra * sizeof(double));
    const double *tv = pu_t_value(d); /* a continuous treatment (years of school) */
    for (size_t j = 0; j < g->d; j++)
        for (size_t i = 0; i < n; i++)
            g->endo[j * n + i] = (tv ? tv[i] : (double)d->t[i]) * g->phi[j * n + i];
    for (size_t l = 0; l < pz; l++)
        for (size_t j = 0; j < g->d; j++)
            for (size_t i = 0; i < n; i++)
                g->excl[(l * g->d + j) * n + i] = d->z[l * n + i] * g->phi[j * n + i];
    return TT_OK;
}

static int tsls_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    tsls_model *m = instance;
    int rc = pu_check_train(TSLS_NAME, 2, d, err, errlen);
    if (rc)
        return rc;
    if (!TT_PLUGIN_DATA_HAS(d, z_names) || d->p_z == 0 || !d->z)
        return pu_errf(err, errlen, TT_ERR_DATA, "tsls: the rows carry no instrument (data.z)");
    pu_linear_free(&m->lin);
    m->fitted = 0;
    m->p_x = d->p_x;
    pu_phi phi = phi_of(m->effect, d->p_x);
    design g;
    if ((rc = build_design(m, d, &phi, &g, err, errlen)))
        return rc;
    pu_tsls_input in = {.n = d->n, .k_exo = g.k_exo, .k_endo = g.k_endo, .k_excl = g.k_excl,
                        .x_exo = g.exo, .x_endo = g.endo, .z_excl = g.excl, .y = d->y,
                        .weight = d->weight};
    pu_tsls_fit fit;
    rc = pu_tsls(m->host, &in, &fit, err, errlen);
    design_free(m->host, &g);
    if (rc)
        return rc;
    if ((rc = pu_linear_init(&m->lin, m->host, &phi, 2, err, errlen))) {
        pu_tsls_free(m->host, &fit);
        return rc;
    }
    /* theta's coefficients are the last d of beta; their robust block of V. */
    size_t k = fit.k, dd = m->lin.d, off = k - dd;
    for (size_t j = 0; j < dd; j++) {
        m->lin.beta[j] = fit.beta[off + j];
        for (size_t l = 0; l < dd; l++)
            m->lin.cov[l * dd + j] = fit.cov_robust[(off + l) * k + off + j];
    }
    /* The instruments' strength for T itself (theta's first column). */
    m->first_stage_f = fit.first_stage_f[0];
    pu_tsls_free(m->host, &fit);
    if (m->first_stage_f < TSLS_WEAK_F)
        m->host->log(m->host->host_ctx, TT_LOG_WARN,
                     "weak instrument: first-stage F = %.3g < 10; 2SLS is biased towards OLS "
                     "and its intervals are too narrow", m->first_stage_f);
    else
        m->host->log(m->host->host_ctx, TT_LOG_DEBUG, "first-stage F = %.4g",
                     m->first_stage_f);
    m->fitted = 1;
    return TT_OK;
}

/* The rows as the effect model sees them: a constant effect uses no x. */
static tt_plugin_data model_rows(const tsls_model *m, const tt_plugin_data *rows)
{
    tt_plugin_data v = *rows;
    if (m->effect == EFFECT_CONSTANT) {
        v.p_x = 0;
        v.x = NULL;
    }
    return v;
}

static int check_alpha_rows(const tsls_model *m, double alpha, const tt_plugin_data *rows,
                            char *err, size_t errlen)
{
    int rc = pu_check_alpha(alpha, err, errlen);
    return rc ? rc : pu_check_rows(TSLS_NAME, m->fitted, m->p_x, rows, err, errlen);
}

static int tsls_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                       size_t errlen)
{
    tsls_model *m = instance;
    int rc = pu_check_rows(TSLS_NAME, m->fitted, m->p_x,
                           rows, err, errlen);
    tt_plugin_data v = model_rows(m, rows);
    return rc ? rc : pu_linear_effect(&m->lin, &v, out, err, errlen);
}

static int tsls_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                         double *hi, char *err, size_t errlen)
{
    tsls_model *m = instance;
    int rc = check_alpha_rows(m, alpha, rows, err, errlen);
    tt_plugin_data v = model_rows(m, rows);
    return rc ? rc : pu_linear_interval(&m->lin, &v, alpha, lo, hi, err, errlen);
}

static int tsls_average(void *instance, const tt_plugin_data *rows, double alpha, double *ate,
                        double *lo, double *hi, char *err, size_t errlen)
{
    tsls_model *m = instance;
    int rc = check_alpha_rows(m, alpha, rows, err, errlen);
    tt_plugin_data v = model_rows(m, rows);
    return rc ? rc : pu_linear_average(&m->lin, &v, alpha, ate, lo, hi, err, errlen);
}

static int tsls_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    tsls_model *m = instance;
    if (!m->fitted)
        return pu_errf(err, errlen, TT_ERR_INVALID, "tsls: save before fit");
    int rc = pu_save_header(sink, TSLS_NAME, TSLS_SAVE_VERSION, 2, m->p_x, err, errlen);
    if (!rc && pu_writef(sink, "effect %d\nfirst_stage_f %.17g\n", m->effect,
                         m->first_stage_f) != 0)
        rc = pu_errf(err, errlen, TT_ERR_IO, "tsls: cannot write the model");
    return rc ? rc : pu_linear_save(&m->lin, sink, err, errlen);
}

static int tsls_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                     char *err, size_t errlen)
{
    int arms;
    size_t p_x;
    long effect;
    double f;
    int rc = pu_load_header(src, TSLS_NAME, TSLS_SAVE_VERSION, &arms, &p_x, err, errlen);
    if (rc)
        return rc;
    if (arms != 2 || pu_read_long(src, "effect", &effect) != 0 || effect < 0 ||
        effect > EFFECT_POLY2 || pu_read_doubles(src, "first_stage_f", &f, 1) != 0)
        return pu_errf(err, errlen, TT_ERR_PARSE, "not a tsls model (version 1)");
    tsls_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->effect = (int)effect;
    m->p_x = p_x;
    m->first_stage_f = f;
    if ((rc = pu_linear_load(&m->lin, host, src, err, errlen))) {
        host->release(m);
        return rc;
    }
    m->fitted = 1;
    *instance = m;
    return TT_OK;
}

static const tt_plugin_descriptor tsls_descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = TSLS_NAME,
    .version = TSLS_VERSION,
    .summary = "Two-stage least squares: the instruments' effect on the outcome through the "
               "treatment, theta(x) constant, linear or poly2 in x; HC1 intervals",
    .capabilities = TT_PLUGIN_CAP_IV | TT_PLUGIN_CAP_INTERVALS | TT_PLUGIN_CAP_SAVE_LOAD |
                    TT_PLUGIN_CAP_CONTINUOUS_TREATMENT,
    .params = tsls_params,
    .n_params = TSLS_N_PARAMS,
    .create = tsls_create,
    .fit = tsls_fit,
    .effect = tsls_effect,
    .effect_interval = tsls_interval,
    .save = tsls_save,
    .load = tsls_load,
    .destroy = tsls_destroy,
    .interval_method = "HC1 sandwich (2SLS)",
    .average_effect = tsls_average,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &tsls_descriptor;
}
