/*
 * transformed_outcome - regress the transformed outcome on x (binary only):
 *   Y* = Y (T - e) / (e (1 - e)),  e = P(T = 1 | x, w) clipped to [clip, 1 - clip],
 * whose conditional mean given (x, w) is tau(x, w) when e is right; a slot
 * learner fitted to Y* on x then estimates tau(x). Y* is very noisy (it is
 * the weakest of the catalogue, kept as a reference point), so a strongly
 * regularised final model is the usual choice. e is the host's out-of-fold
 * propensity. Intervals: bootstrap of the final model (pu_final, kind
 * PU_FINAL_LEARNER), with the transformed outcomes held fixed; the replica
 * count is the run's intervals.resamples (pu_boot_resamples).
 */
#include <stdlib.h>
#include <string.h>

#include <tautune/plugin.h>

#include "common/pu.h"
#include "common/pu_final.h"
#include "common/pu_nuis.h"
#include "common/pu_slot.h"

enum { P_CLIP, P_FINAL, P_COUNT = P_FINAL + PU_SLOT_N };

static const tt_plugin_param to_params[] = {
    [P_CLIP] = {.name = "clip", .kind = TT_PARAM_REAL, .lo = 0.01, .hi = 0.2,
                .default_value = 0.05, .help = "propensities are clipped into [clip, 1 - clip]"},
    PU_SLOT_PARAMS("final", "the final model"),
};

/* Each slot parameter counts only under the learners that read it. */
static const tt_plugin_condition to_conditions[] = {
    PU_SLOT_CONDITIONS("final"),
};

typedef struct to_model {
    const tt_plugin_host *host;
    double clip;
    pu_final_spec spec;
    pu_final *final;
} to_model;

static void to_destroy(void *instance)
{
    to_model *m = instance;
    if (!m)
        return;
    pu_final_free(m->final);
    m->host->release(m);
}

static int to_create(const tt_plugin_host *host, const double *params, int n_arms,
                     void **instance, char *err, size_t errlen)
{
    if (n_arms != 2)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       "transformed_outcome handles 2 arms; this problem has %d", n_arms);
    if (host->abi_minor < 1 || !host->nuisance_oof)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       "transformed_outcome needs the host's propensities (plugin ABI 1.1 or "
                       "newer)");
    to_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->clip = params[P_CLIP];
    m->spec.kind = PU_FINAL_LEARNER;
    pu_slot_read(params, P_FINAL, &m->spec.slot);
    m->spec.resamples = pu_boot_resamples(host);
    *instance = m;
    return TT_OK;
}

static int to_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    to_model *m = instance;
    const tt_plugin_host *h = m->host;
    if (d->n_arms != 2)
        return pu_errf(err, errlen, TT_ERR_INVALID,
                       "transformed_outcome handles 2 arms; this problem has %d", d->n_arms);
    double *e = NULL;
    int rc = pu_nuis_propensity_oof(h, 2, d->n, m->clip, &e, err, errlen);
    if (rc != TT_OK)
        return rc;
    double *target = h->alloc(sizeof *target * (d->n + 1));
    if (!target) {
        h->release(e);
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    const double *e1 = e + d->n; /* column 1: P(T = 1) */
    for (size_t i = 0; i < d->n; i++)
        target[i] = d->y[i] * ((double)d->t[i] - e1[i]) / (e1[i] * (1.0 - e1[i]));
    pu_final_free(m->final);
    m->final = NULL;
    rc = pu_final_new(h, &m->spec, 2, &m->final, err, errlen);
    if (rc == TT_OK)
        rc = pu_final_fit(m->final, d->n, d->p_x, d->x, d->t, target, d->weight, NULL, err,
                          errlen);
    h->release(target);
    h->release(e);
    return rc;
}

static int to_check(const to_model *m, char *err, size_t errlen)
{
    return m->final ? TT_OK
                    : pu_errf(err, errlen, TT_ERR_INVALID, "transformed_outcome is not fitted");
}

static int to_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                     size_t errlen)
{
    to_model *m = instance;
    int rc = to_check(m, err, errlen);
    return rc ? rc : pu_final_effect(m->final, rows, out, err, errlen);
}

static int to_interval(void *instance, const tt_plugin_data *rows, double alpha, double *lo,
                       double *hi, char *err, size_t errlen)
{
    to_model *m = instance;
    int rc = to_check(m, err, errlen);
    return rc ? rc : pu_final_interval(m->final, rows, alpha, lo, hi, err, errlen);
}

static int to_average(void *instance, const tt_plugin_data *rows, double alpha, double *ate,
                      double *lo, double *hi, char *err, size_t errlen)
{
    to_model *m = instance;
    int rc = to_check(m, err, errlen);
    return rc ? rc : pu_final_average(m->final, rows, alpha, ate, lo, hi, err, errlen);
}

static int to_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    to_model *m = instance;
    int rc = to_check(m, err, errlen);
    if (rc)
        return rc;
    if (pu_writef(sink, "transformed_outcome 1\n") != 0 ||
        pu_write_doubles(sink, "clip", &m->clip, 1) != 0)
        return pu_errf(err, errlen, TT_ERR_IO, "cannot write the model");
    return pu_final_save(m->final, sink, err, errlen);
}

static int to_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                   char *err, size_t errlen)
{
    char line[64];
    if (pu_read_line(src, line, sizeof line) != 0 || strcmp(line, "transformed_outcome 1") != 0)
        return pu_errf(err, errlen, TT_ERR_PARSE, "not a transformed_outcome model (version 1)");
    to_model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->host = host;
    m->spec.kind = PU_FINAL_LEARNER;
    int rc = TT_OK;
    if (pu_read_doubles(src, "clip", &m->clip, 1) != 0)
        rc = pu_errf(err, errlen, TT_ERR_PARSE, "transformed_outcome model: bad clip line");
    if (rc == TT_OK)
        rc = pu_final_load(host, src, &m->final, err, errlen);
    if (rc != TT_OK) {
        to_destroy(m);
        return rc;
    }
    *instance = m;
    return TT_OK;
}

static const tt_plugin_descriptor to_descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = "transformed_outcome",
    .version = "1.0.0",
    .summary = "A learner regressing Y (T - e) / (e (1 - e)) on x; binary treatment",
    .capabilities = TT_PLUGIN_CAP_INTERVALS | TT_PLUGIN_CAP_SAVE_LOAD |
                    TT_PLUGIN_CAP_NEEDS_PROPENSITY,
    .params = to_params,
    .n_params = P_COUNT,
    .conditions = to_conditions,
    .n_conditions = sizeof to_conditions / sizeof to_conditions[0],
    .create = to_create,
    .fit = to_fit,
    .effect = to_effect,
    .effect_interval = to_interval,
    .save = to_save,
    .load = to_load,
    .destroy = to_destroy,
    .interval_method = "bootstrap (normal) of the final model",
    .average_effect = to_average,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &to_descriptor;
}
