/*
 * ra_learner.c - the regression-adjusted learner (RA-learner, Curth & van der
 * Schaar 2021), multi-arm.
 *
 * Fit. From the host's cached cross-fitted arm-outcome models mu_k (their
 * out-of-fold values on the training rows, so no row's pseudo-outcome uses a
 * model that saw that row), the pseudo-outcome of treated arm k vs control is
 *   R_k,i = Y_i - mu_0(x_i, w_i)     on rows with t_i = k,
 *   R_k,i = mu_k(x_i, w_i) - Y_i     on rows with t_i = 0,
 * and rows of other arms take no part in arm k's regression. Each observed
 * outcome stands in for its own potential outcome and the model fills in the
 * missing one, so E[R_k | x, t in {0, k}] = tau_k(x) whenever mu_0 and mu_k
 * are right (whatever the propensity; unlike dr it never divides by one, so
 * it stays stable under poor overlap, at the price of no double robustness).
 * It is the X-learner's imputation with ONE final regression on the pooled
 * arm-k and control rows instead of two blended by the propensity.
 *
 * The final stage is the kit's (pu_final, PU_FINAL_LEARNER): a "final_" slot
 * learner regressing R_k on x per arm, restricted by a row mask to the rows
 * of arms k and 0. Intervals: the kit's bootstrap of that final stage
 * (resamples stratified by arm, nuisances held fixed, as dr does), with the
 * run's intervals.resamples replicas (pu_boot_resamples).
 *
 * Sample weights (train->weight) become the final regression's weights; the
 * nuisances were already fitted by the host with them.
 *
 * Saved form: "ra_learner 1", "arms K", "p_x P", then pu_final's own lines
 * (the effect needs no nuisance at predict time, so nothing else is kept).
 */
#include <stddef.h>
#include <string.h>

#include <tautune/plugin.h>

#include "common/pu.h"
#include "common/pu_final.h"
#include "common/pu_nuis.h"
#include "common/pu_plugin.h"

#define RA_NAME "ra_learner"
#define RA_VERSION "1.0.0"
#define RA_SAVE_VERSION 1

enum { P_SLOT = 0, RA_N_PARAMS = P_SLOT + PU_SLOT_N };
static const tt_plugin_param ra_params[] = {
    PU_SLOT_PARAMS("final", "the final model"),
};
/* Each slot parameter counts only under the learners that read it. */
static const tt_plugin_condition ra_conditions[] = {
    PU_SLOT_CONDITIONS("final"),
};

_Static_assert(sizeof ra_params / sizeof ra_params[0] == RA_N_PARAMS,
               "schema and parameter indices disagree");

typedef struct ra_model {
    const tt_plugin_host *host;
    int n_arms;
    double params[RA_N_PARAMS]; /* as given to create (unused after load) */
    size_t p_x;                 /* effect modifiers seen by fit */
    pu_final *final;            /* NULL until fitted */
} ra_model;

static void ra_destroy(void *instance)
{
    ra_model *m = instance;
    if (!m)
        return;
    pu_final_free(m->final);
    m->host->release(m);
}

static int ra_create(const tt_plugin_host *host, const double *params, int n_arms,
                     void **instance, char *err, size_t errlen)
{
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, RA_NAME ": need at least 2 arms, got %d",
                       n_arms);
    int rc = pu_check_params(RA_NAME, ra_params, RA_N_PARAMS, params, err, errlen);
    if (rc)
        return rc;
    ra_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->n_arms = n_arms;
    memcpy(m->params, params, sizeof m->params);
    *instance = m;
    return TT_OK;
}

/* Every arm must have a row: the control rows feed every arm's regression
 * and arm k's rows are the other half of its own. An empty arm would give a
 * one-sided regression that estimates nothing, so it is refused, with the
 * message the meta-learners give. */
static int ra_check_arms(int n_arms, size_t n, const int *t, char *err, size_t errlen)
{
    for (int k = 0; k < n_arms; k++) {
        size_t i = 0;
        while (i < n && t[i] != k)
            i++;
        if (i == n)
            return pu_errf(err, errlen, TT_ERR_DATA, RA_NAME ": arm %d has no training rows", k);
    }
    return TT_OK;
}

/* R (n x (K-1), column-major) and its row mask from mu (n x K): column k-1
 * holds arm k's pseudo-outcomes on arm-k and control rows, 0 (masked out)
 * elsewhere. */
static void ra_pseudo_outcomes(size_t n, int n_arms, const int *t, const double *y,
                               const double *mu, double *r, unsigned char *mask)
{
    for (int k = 1; k < n_arms; k++) {
        const double *muk = mu + (size_t)k * n;
        double *rk = r + (size_t)(k - 1) * n;
        unsigned char *mk = mask + (size_t)(k - 1) * n;
        for (size_t i = 0; i < n; i++) {
            mk[i] = t[i] == k || t[i] == 0;
            rk[i] = t[i] == k ? y[i] - mu[i] : t[i] == 0 ? muk[i] - y[i] : 0.0;
        }
    }
}

/* The sample weights repeated for every arm's regression. */
static double *ra_weights(const tt_plugin_host *h, const tt_plugin_data *d, int n_arms)
{
    size_t n = d->n, cols = (size_t)n_arms - 1;
    double *w = h->alloc(sizeof *w * n * cols);
    for (size_t c = 0; w && c < cols; c++)
        memcpy(w + c * n, d->weight, sizeof *w * n);
    return w;
}

static int ra_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    ra_model *m = instance;
    const tt_plugin_host *h = m->host;
    int rc = pu_check_train(RA_NAME, m->n_arms, d, err, errlen);
    if (rc == TT_OK)
        rc = ra_check_arms(m->n_arms, d->n, d->t, err, errlen);
    if (rc)
        return rc;
    size_t n = d->n, cols = (size_t)m->n_arms - 1;
    double *mu = NULL, *r = NULL, *w = NULL;
    unsigned char *mask = NULL;
    rc = pu_nuis_arm_outcomes_oof(h, m->n_arms, n, &mu, err, errlen);
    if (rc == TT_OK) {
        r = h->alloc(sizeof *r * n * cols);
        mask = h->alloc(n * cols);
        w = d->weight ? ra_weights(h, d, m->n_arms) : NULL;
        if (!r || !mask || (d->weight && !w))
            rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    if (rc == TT_OK) {
        ra_pseudo_outcomes(n, m->n_arms, d->t, d->y, mu, r, mask);
        pu_final_spec spec = {.kind = PU_FINAL_LEARNER, .resamples = pu_boot_resamples(h)};
        pu_slot_read(m->params, P_SLOT, &spec.slot);
        pu_final_free(m->final);
        m->final = NULL;
        m->p_x = d->p_x;
        rc = pu_final_new(h, &spec, m->n_arms, &m->final, err, errlen);
        if (rc == TT_OK)
            rc = pu_final_fit(m->final, n, d->p_x, d->x, d->t, r, w, mask, err, errlen);
        if (rc) { /* never leave a half-fitted final stage behind */
            pu_final_free(m->final);
            m->final = NULL;
        }
    }
    h->release(mu);
    h->release(r);
    h->release(mask);
    h->release(w);
    return rc;
}

static int ra_check_rows(const ra_model *m, const tt_plugin_data *rows, char *err, size_t errlen)
{
    return pu_check_rows(RA_NAME, m->final != NULL, m->p_x, rows, err, errlen);
}

static int ra_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                     size_t errlen)
{
    ra_model *m = instance;
    int rc = ra_check_rows(m, rows, err, errlen);
    return rc ? rc : pu_final_effect(m->final, rows, out, err, errlen);
}

static int ra_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                       double *hi, char *err, size_t errlen)
{
    ra_model *m = instance;
    int rc = ra_check_rows(m, rows, err, errlen);
    if (rc == TT_OK)
        rc = pu_check_alpha(alpha, err, errlen);
    return rc ? rc : pu_final_interval(m->final, rows, alpha, lo, hi, err, errlen);
}

static int ra_average(void *instance, const tt_plugin_data *rows, double alpha, double *ate,
                      double *lo, double *hi, char *err, size_t errlen)
{
    ra_model *m = instance;
    int rc = ra_check_rows(m, rows, err, errlen);
    if (rc == TT_OK)
        rc = pu_check_alpha(alpha, err, errlen);
    return rc ? rc : pu_final_average(m->final, rows, alpha, ate, lo, hi, err, errlen);
}

static int ra_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    ra_model *m = instance;
    if (!m->final)
        return pu_errf(err, errlen, TT_ERR_INVALID, RA_NAME ": not fitted");
    int rc = pu_save_header(sink, RA_NAME, RA_SAVE_VERSION, m->n_arms, m->p_x, err, errlen);
    return rc ? rc : pu_final_save(m->final, sink, err, errlen);
}

static int ra_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                   char *err, size_t errlen)
{
    int arms;
    size_t p_x;
    int rc = pu_load_header(src, RA_NAME, RA_SAVE_VERSION, &arms, &p_x, err, errlen);
    if (rc)
        return rc;
    ra_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->n_arms = arms;
    m->p_x = p_x;
    rc = pu_final_load(host, src, &m->final, err, errlen);
    if (rc) {
        ra_destroy(m);
        return rc;
    }
    *instance = m;
    return TT_OK;
}

static const tt_plugin_descriptor ra_descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = RA_NAME,
    .version = RA_VERSION,
    .summary = "Regression-adjusted pseudo-outcomes (Y - mu_0 on treated rows, mu_k - Y on "
               "control rows) regressed on x by any learner; bootstrap intervals",
    .capabilities = TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_INTERVALS |
                    TT_PLUGIN_CAP_SAVE_LOAD | TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES,
    .params = ra_params,
    .n_params = RA_N_PARAMS,
    .conditions = ra_conditions,
    .n_conditions = sizeof ra_conditions / sizeof ra_conditions[0],
    .create = ra_create,
    .fit = ra_fit,
    .effect = ra_effect,
    .effect_interval = ra_interval,
    .save = ra_save,
    .load = ra_load,
    .destroy = ra_destroy,
    .interval_method = "bootstrap (normal) of the final stage",
    .average_effect = ra_average,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &ra_descriptor;
}
