/*
 * dr.c - the doubly robust learners: dr, dr_linear, dr_sparse_linear and
 * dr_forest.
 *
 * One source, built once per variant (PU_DR_LEARNER / PU_DR_LINEAR /
 * PU_DR_SPARSE / PU_DR_FOREST); each build is its own shared object with its
 * own name.
 *
 * Fit. From the host's cached cross-fitted nuisances (propensities e_k
 * clipped into [min_propensity, 1 - min_propensity], arm outcomes mu_k), the
 * pseudo-outcome of each treated arm k on EVERY training row i is
 *   Gamma_k,i = mu_k - mu_0 + 1{t_i = k}(Y_i - mu_k)/e_k - 1{t_i = 0}(Y_i - mu_0)/e_0
 * (all nuisances at row i). Its conditional mean given x is tau_k(x) when
 * either the propensities or the outcome models are right. The final stage
 * (pu_final, one struct for every variant) regresses Gamma_k on x:
 *   dr                a slot learner, bootstrap intervals of the final stage;
 *   dr_linear         OLS on phi(x), HC1 sandwich intervals;
 *   dr_sparse_linear  debiased lasso on phi(x), debiased-lasso intervals;
 *   dr_forest         a regression forest of the host (ABI 1.3) per arm,
 *                     intervals from its little-bags variance; the average
 *                     effect's interval is the mean of the row bounds
 *                     (conservative: the forest gives no covariance).
 * The nuisances are taken as fixed: intervals cover the final stage only
 * (as in EconML's DRLearner).
 *
 * Sample weights (train->weight) become the final regression's weights for
 * every arm; the nuisances were already fitted by the host with them.
 * dr's bootstrap replicas: the run's intervals.resamples (pu_boot_resamples),
 * a setting of the run rather than a hyperparameter.
 *
 * A new variant (dr_forest, say) is one more block in "Variants" below: a
 * name, a summary, the interval text, the final kind, its schema (starting
 * with min_propensity) and dr_read_spec, which fills a pu_final_spec from
 * the params. Nothing else in this file knows which variant it is.
 *
 * Saved form: "<name> 1", "arms K", "p_x P", then pu_final's own lines.
 */
#include <stddef.h>
#include <string.h>

#include <tautune/plugin.h>

#include "common/pu.h"
#include "common/pu_final_model.h"
#include "common/pu_nuis.h"
#include "common/pu_plugin.h"

#define DR_VERSION "1.0.0"
#define DR_SAVE_VERSION 1

/* ---- Variants --------------------------------------------------------------- */

/* Every variant's schema starts with min_propensity (index 0). */
enum { P_MIN_PROPENSITY = 0 };

#define DR_MIN_PROPENSITY_PARAM                                                              \
    [P_MIN_PROPENSITY] = {.name = "min_propensity", .kind = TT_PARAM_LOG_REAL, .lo = 1e-6,    \
                          .hi = 0.1, .default_value = 0.01,                                  \
                          .help = "propensities are clipped into [m, 1 - m] before dividing"}

#if defined(PU_DR_LEARNER)

#define DR_NAME "dr"
#define DR_SUMMARY "Doubly robust pseudo-outcome regressed on x by any learner; bootstrap intervals"
#define DR_INTERVALS "bootstrap (normal)"
enum { P_SLOT = 1, DR_N_PARAMS = P_SLOT + PU_SLOT_N };
static const tt_plugin_param dr_params[] = {
    DR_MIN_PROPENSITY_PARAM,
    PU_SLOT_PARAMS("final", "the final model"),
};
/* Each slot parameter counts only under the learners that read it. */
static const tt_plugin_condition dr_conditions[] = {
    PU_SLOT_CONDITIONS("final"),
};
#define DR_HAS_CONDITIONS 1

static void dr_read_spec(const tt_plugin_host *h, const double *params, size_t p_x,
                         pu_final_spec *spec)
{
    (void)p_x;
    spec->kind = PU_FINAL_LEARNER;
    pu_slot_read(params, P_SLOT, &spec->slot);
    spec->resamples = pu_boot_resamples(h);
}

#elif defined(PU_DR_LINEAR)

#define DR_NAME "dr_linear"
#define DR_SUMMARY "Doubly robust pseudo-outcome, OLS on phi(x); HC1 sandwich intervals"
#define DR_INTERVALS "HC1 sandwich"
enum { P_INTERCEPT = 1, P_FEATURIZER, DR_N_PARAMS };
static const tt_plugin_param dr_params[] = {
    DR_MIN_PROPENSITY_PARAM,
    [P_INTERCEPT] = PU_PHI_INTERCEPT_PARAM,
    [P_FEATURIZER] = PU_PHI_FEATURIZER_PARAM,
};

static void dr_read_spec(const tt_plugin_host *h, const double *params, size_t p_x,
                         pu_final_spec *spec)
{
    (void)h;
    spec->kind = PU_FINAL_LINEAR;
    spec->phi.intercept = params[P_INTERCEPT] != 0;
    spec->phi.poly2 = params[P_FEATURIZER] == 1;
    spec->phi.p_x = p_x;
}

#elif defined(PU_DR_SPARSE)

#define DR_NAME "dr_sparse_linear"
#define DR_SUMMARY "Doubly robust pseudo-outcome, debiased lasso on phi(x); debiased-lasso intervals"
#define DR_INTERVALS "debiased lasso"
enum { P_FEATURIZER = 1, DR_N_PARAMS };
static const tt_plugin_param dr_params[] = {
    DR_MIN_PROPENSITY_PARAM,
    [P_FEATURIZER] = PU_PHI_FEATURIZER_PARAM,
};

/* The lasso fits its own unpenalised intercept: the cate intercept is always on. */
static void dr_read_spec(const tt_plugin_host *h, const double *params, size_t p_x,
                         pu_final_spec *spec)
{
    (void)h;
    spec->kind = PU_FINAL_SPARSE;
    spec->phi.intercept = 1;
    spec->phi.poly2 = params[P_FEATURIZER] == 1;
    spec->phi.p_x = p_x;
}

#elif defined(PU_DR_FOREST)

#define DR_NAME "dr_forest"
#define DR_SUMMARY "Doubly robust pseudo-outcome regressed on x by a regression forest; forest-variance intervals"
#define DR_INTERVALS "forest variance (little bags)"
#define DR_AVERAGE "mean of the forest-variance row intervals (conservative)"
#define DR_NEEDS_FORESTS 1
enum { P_FOREST = 1, DR_N_PARAMS = P_FOREST + PU_FOREST_N };
static const tt_plugin_param dr_params[] = {
    DR_MIN_PROPENSITY_PARAM,
    /* Leaves of 20: the pseudo-outcomes are far noisier than outcomes (at 5
     * the forest's CATE error on 20k rows was 11-12 efficiency-bound standard
     * errors; at 20, 8-9). */
    PU_FOREST_PARAMS(200, 20, 0.5, 0),
};

static void dr_read_spec(const tt_plugin_host *h, const double *params, size_t p_x,
                         pu_final_spec *spec)
{
    (void)h;
    (void)p_x;
    spec->kind = PU_FINAL_FOREST;
    pu_forest_read(params, P_FOREST, &spec->forest);
}

#else
#error "build dr.c with one of PU_DR_LEARNER, PU_DR_LINEAR, PU_DR_SPARSE, PU_DR_FOREST"
#endif

#ifndef DR_NEEDS_FORESTS
#define DR_NEEDS_FORESTS 0
#endif

_Static_assert(sizeof dr_params / sizeof dr_params[0] == DR_N_PARAMS,
               "schema and parameter indices disagree");

/* ---- the model: one final stage (pu_final_model.h) ---------------------- */

_Static_assert(DR_N_PARAMS <= PU_FINAL_MODEL_MAX_PARAMS, "too many parameters");

static int dr_create(const tt_plugin_host *host, const double *params, int n_arms,
                     void **instance, char *err, size_t errlen)
{
    if (DR_NEEDS_FORESTS && n_arms >= 2) {
        int rc = pu_check_params(DR_NAME, dr_params, DR_N_PARAMS, params, err, errlen);
        if (rc == TT_OK)
            rc = pu_forest_check_host(host, DR_NAME, err, errlen);
        if (rc)
            return rc;
    }
    return pu_final_model_create(host, DR_NAME, DR_SAVE_VERSION, dr_params, DR_N_PARAMS, params,
                                 n_arms, instance, err, errlen);
}

/* Gamma (n x (K-1), column-major) from the nuisances: e and mu are n x K. */
static void dr_pseudo_outcomes(size_t n, int n_arms, const int *t, const double *y,
                               const double *e, const double *mu, double *gamma)
{
    for (int k = 1; k < n_arms; k++) {
        const double *ek = e + (size_t)k * n, *muk = mu + (size_t)k * n;
        double *g = gamma + (size_t)(k - 1) * n;
        for (size_t i = 0; i < n; i++) {
            g[i] = muk[i] - mu[i];
            if (t[i] == k)
                g[i] += (y[i] - muk[i]) / ek[i];
            else if (t[i] == 0)
                g[i] -= (y[i] - mu[i]) / e[i];
        }
    }
}

/* Weights for every arm's regression: the sample weights repeated, or NULL. */
static double *dr_weights(const tt_plugin_host *h, const tt_plugin_data *d, int n_arms)
{
    size_t n = d->n, cols = (size_t)n_arms - 1;
    double *w = h->alloc(sizeof *w * n * cols);
    for (size_t c = 0; w && c < cols; c++)
        memcpy(w + c * n, d->weight, sizeof *w * n);
    return w;
}

static int dr_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    pu_final_model *m = instance;
    const tt_plugin_host *h = m->host;
    int rc = pu_check_train(DR_NAME, m->n_arms, d, err, errlen);
    if (rc)
        return rc;
    size_t n = d->n, cols = (size_t)m->n_arms - 1;
    double *e = NULL, *mu = NULL, *gamma = NULL, *w = NULL;
    rc = pu_nuis_propensity_oof(h, m->n_arms, n, m->params[P_MIN_PROPENSITY], &e, err, errlen);
    if (rc == TT_OK)
        rc = pu_nuis_arm_outcomes_oof(h, m->n_arms, n, &mu, err, errlen);
    if (rc == TT_OK) {
        gamma = h->alloc(sizeof *gamma * n * cols);
        w = d->weight ? dr_weights(h, d, m->n_arms) : NULL;
        if (!gamma || (d->weight && !w))
            rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    if (rc == TT_OK) {
        dr_pseudo_outcomes(n, m->n_arms, d->t, d->y, e, mu, gamma);
        pu_final_spec spec = {0};
        dr_read_spec(h, m->params, d->p_x, &spec);
        pu_final_free(m->final);
        m->final = NULL;
        m->p_x = d->p_x;
        rc = pu_final_new(h, &spec, m->n_arms, &m->final, err, errlen);
        if (rc == TT_OK)
            rc = pu_final_fit(m->final, n, d->p_x, d->x, d->t, gamma, w, NULL, err, errlen);
        if (rc) { /* never leave a half-fitted final stage behind */
            pu_final_free(m->final);
            m->final = NULL;
        }
    }
    h->release(e);
    h->release(mu);
    h->release(gamma);
    h->release(w);
    return rc;
}

static int dr_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                   char *err, size_t errlen)
{
    return pu_final_model_load(host, DR_NAME, DR_SAVE_VERSION, src, instance, err, errlen);
}

#if defined(PU_DR_FOREST)
static int dr_importance(void *instance, double *out, size_t p, char *err, size_t errlen)
{
    pu_final_model *m = instance;
    return pu_final_importance(m->final, out, p, err, errlen);
}
#endif

static const tt_plugin_descriptor dr_descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = DR_NAME,
    .version = DR_VERSION,
    .summary = DR_SUMMARY,
    .capabilities = TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_INTERVALS |
                    TT_PLUGIN_CAP_SAVE_LOAD | TT_PLUGIN_CAP_NEEDS_PROPENSITY |
                    TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES,
    .params = dr_params,
    .n_params = DR_N_PARAMS,
#ifdef DR_HAS_CONDITIONS
    .conditions = dr_conditions,
    .n_conditions = sizeof dr_conditions / sizeof dr_conditions[0],
#endif
    .create = dr_create,
    .fit = dr_fit,
    .effect = pu_final_model_effect,
    .effect_interval = pu_final_model_interval,
    .save = pu_final_model_save,
    .load = dr_load,
    .destroy = pu_final_model_destroy,
    .interval_method = DR_INTERVALS,
    .average_effect = pu_final_model_average,
#ifdef DR_AVERAGE
    .average_method = DR_AVERAGE,
#endif
#if defined(PU_DR_FOREST)
    .variable_importance = dr_importance,
    .variable_importance_method = PU_FOREST_IMPORTANCE_METHOD,
#endif
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &dr_descriptor;
}
