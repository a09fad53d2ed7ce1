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
#include "common/pu_final_model.h"
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

_Static_assert(RA_N_PARAMS <= PU_FINAL_MODEL_MAX_PARAMS, "too many parameters");

static int ra_create(const tt_plugin_host *host, const double *params, int n_arms,
                     void **instance, char *err, size_t errlen)
{
    return pu_final_model_create(host, RA_NAME, RA_SAVE_VERSION, ra_params, RA_N_PARAMS, params,
                                 n_arms, instance, err, errlen);
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
    pu_final_model *m = instance;
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

static int ra_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                   char *err, size_t errlen)
{
    return pu_final_model_load(host, RA_NAME, RA_SAVE_VERSION, src, instance, err, errlen);
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
    .effect = pu_final_model_effect,
    .effect_interval = pu_final_model_interval,
    .save = pu_final_model_save,
    .load = ra_load,
    .destroy = pu_final_model_destroy,
    .interval_method = "bootstrap (normal) of the final stage",
    .average_effect = pu_final_model_average,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &ra_descriptor;
}
