/* pu_nuis.c - the host's cached nuisances (ABI 1.1) in the shapes estimators use. */
#include "pu_nuis.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "pu.h"

static const char *const kind_names[] = {"propensity", "outcome", "per-arm outcome",
                                         "instrument propensity",
                                         "treatment-given-instrument", "treatment mean"};
static const char *const kind_caps[] = {"TT_PLUGIN_CAP_NEEDS_PROPENSITY",
                                        "TT_PLUGIN_CAP_NEEDS_OUTCOME",
                                        "TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES",
                                        "TT_PLUGIN_CAP_NEEDS_IV_NUISANCES",
                                        "TT_PLUGIN_CAP_NEEDS_IV_NUISANCES",
                                        "TT_PLUGIN_CAP_NEEDS_PROPENSITY"};

/* The nuisance callbacks were added in ABI 1.1: an older host's table ends
 * before them, so struct_size is checked before the pointers are read. */
static int check_host(const tt_plugin_host *host, char *err, size_t errlen)
{
    size_t need = offsetof(tt_plugin_host, nuisance_predict) + sizeof host->nuisance_predict;
    if (host->abi_minor < 1 || host->struct_size < need)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       "the host serves no nuisance models (plugin ABI 1.1 needed, host has "
                       "1.%u)",
                       (unsigned)host->abi_minor);
    if (!host->nuisance_oof || !host->nuisance_predict)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       "the host table has no nuisance_oof / nuisance_predict callbacks");
    return TT_OK;
}

/* Rewrites the host's "unsupported" message so the plugin author sees what
 * to declare; other failures (bad rows, out of memory) pass through. */
static int nuis_failed(int rc, tt_nuisance_kind kind, const char *host_msg, char *err,
                       size_t errlen)
{
    if (rc != TT_ERR_UNSUPPORTED)
        return rc;
    char copy[512];
    snprintf(copy, sizeof copy, "%s", host_msg);
    return pu_errf(err, errlen, rc, "the host has no %s model: declare %s (%s)", kind_names[kind],
                   kind_caps[kind], copy);
}

/* The host's out-of-fold values for (kind, arm), checked against n. */
static int get_oof(const tt_plugin_host *host, tt_nuisance_kind kind, int arm, size_t n,
                   const double **values, size_t *width, char *err, size_t errlen)
{
    int rc = check_host(host, err, errlen);
    if (rc != TT_OK)
        return rc;
    size_t got_n = 0;
    *values = NULL;
    *width = 0;
    rc = host->nuisance_oof(host->host_ctx, kind, arm, values, &got_n, width, err, errlen);
    if (rc != TT_OK)
        return nuis_failed(rc, kind, err && errlen ? err : "", err, errlen);
    if (got_n != n)
        return pu_errf(err, errlen, TT_ERR_INVALID,
                       "the %s nuisance covers %zu training rows, the plugin has %zu",
                       kind_names[kind], got_n, n);
    if (!*values && n > 0)
        return pu_errf(err, errlen, TT_ERR_INVALID, "the host gave no %s values",
                       kind_names[kind]);
    return TT_OK;
}

/* Fills out (n x K) from the host's n x width propensities: width 1 on two
 * arms is P(T = 1), expanded to [1 - e, e]; width K is taken as is. */
static int expand_propensity(const double *src, size_t n, size_t width, int n_arms, double clip,
                             double *out, char *err, size_t errlen)
{
    size_t K = (size_t)n_arms;
    if (width == 1 && n_arms == 2) {
        for (size_t i = 0; i < n; i++) {
            out[i] = 1.0 - src[i];
            out[n + i] = src[i];
        }
    } else if (width == K) {
        memcpy(out, src, sizeof *out * n * K);
    } else {
        return pu_errf(err, errlen, TT_ERR_INVALID,
                       "the host's propensity has %zu columns; %d arms need %s", width, n_arms,
                       n_arms == 2 ? "1 or 2" : "one per arm");
    }
    /* Clipping bounds whatever the model gave (the contract: every value);
     * unclipped values must be probabilities, and NaN never passes. */
    for (size_t i = 0; i < n * K; i++) {
        if (isnan(out[i]) || (clip == 0.0 && !(out[i] >= 0.0 && out[i] <= 1.0)))
            return pu_errf(err, errlen, TT_ERR_NUMERIC,
                           "propensity of row %zu, arm %zu is %g, not a probability", i % n,
                           i / n, out[i]);
        if (clip > 0.0)
            out[i] = fmin(fmax(out[i], clip), 1.0 - clip);
    }
    return TT_OK;
}

static int check_args(int n_arms, double clip, char *err, size_t errlen)
{
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, "need at least 2 arms, got %d", n_arms);
    if (!(clip >= 0.0 && clip < 0.5))
        return pu_errf(err, errlen, TT_ERR_INVALID, "propensity clip %g is outside [0, 0.5)",
                       clip);
    return TT_OK;
}

static double *alloc_block(const tt_plugin_host *host, size_t n, size_t width)
{
    return host->alloc(sizeof(double) * (n * width + 1));
}

int pu_nuis_propensity_oof(const tt_plugin_host *host, int n_arms, size_t n, double clip,
                           double **out, char *err, size_t errlen)
{
    *out = NULL;
    int rc = check_args(n_arms, clip, err, errlen);
    const double *v;
    size_t width;
    if (rc == TT_OK)
        rc = get_oof(host, TT_NUISANCE_KIND_PROPENSITY, -1, n, &v, &width, err, errlen);
    if (rc != TT_OK)
        return rc;
    double *e = alloc_block(host, n, (size_t)n_arms);
    if (!e)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    rc = expand_propensity(v, n, width, n_arms, clip, e, err, errlen);
    if (rc != TT_OK) {
        host->release(e);
        return rc;
    }
    *out = e;
    return TT_OK;
}

int pu_nuis_propensity_predict(const tt_plugin_host *host, int n_arms,
                               const tt_plugin_data *rows, double clip, double **out, char *err,
                               size_t errlen)
{
    *out = NULL;
    int rc = check_args(n_arms, clip, err, errlen);
    if (rc == TT_OK)
        rc = check_host(host, err, errlen);
    if (rc != TT_OK)
        return rc;
    /* predict does not report its width; the out-of-fold result of the same
     * model does (and costs nothing: the host hands back a pointer). */
    const double *oof;
    size_t oof_n, width;
    rc = host->nuisance_oof(host->host_ctx, TT_NUISANCE_KIND_PROPENSITY, -1, &oof, &oof_n,
                            &width, err, errlen);
    if (rc != TT_OK)
        return nuis_failed(rc, TT_NUISANCE_KIND_PROPENSITY, err && errlen ? err : "", err,
                           errlen);
    size_t n = rows->n, K = (size_t)n_arms;
    if (width != 1 && width != K)
        return expand_propensity(NULL, 0, width, n_arms, clip, NULL, err, errlen);
    double *raw = alloc_block(host, n, width);
    double *e = alloc_block(host, n, K);
    if (!raw || !e) {
        host->release(raw);
        host->release(e);
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    rc = host->nuisance_predict(host->host_ctx, TT_NUISANCE_KIND_PROPENSITY, -1, rows, raw, err,
                                errlen);
    if (rc == TT_OK)
        rc = expand_propensity(raw, n, width, n_arms, clip, e, err, errlen);
    host->release(raw);
    if (rc != TT_OK) {
        host->release(e);
        return rc;
    }
    *out = e;
    return TT_OK;
}

int pu_nuis_arm_outcomes_oof(const tt_plugin_host *host, int n_arms, size_t n, double **out,
                             char *err, size_t errlen)
{
    *out = NULL;
    int rc = check_args(n_arms, 0.0, err, errlen);
    if (rc != TT_OK)
        return rc;
    double *mu = alloc_block(host, n, (size_t)n_arms);
    if (!mu)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    for (int k = 0; k < n_arms && rc == TT_OK; k++) {
        const double *v;
        size_t width;
        rc = get_oof(host, TT_NUISANCE_KIND_ARM_OUTCOME, k, n, &v, &width, err, errlen);
        if (rc == TT_OK && width != 1)
            rc = pu_errf(err, errlen, TT_ERR_INVALID,
                         "the outcome model of arm %d has %zu columns, expected 1", k, width);
        if (rc == TT_OK && n)
            memcpy(mu + (size_t)k * n, v, sizeof *mu * n);
    }
    if (rc != TT_OK) {
        host->release(mu);
        return rc;
    }
    *out = mu;
    return TT_OK;
}

int pu_nuis_arm_outcomes_predict(const tt_plugin_host *host, int n_arms,
                                 const tt_plugin_data *rows, double **out, char *err,
                                 size_t errlen)
{
    *out = NULL;
    int rc = check_args(n_arms, 0.0, err, errlen);
    if (rc == TT_OK)
        rc = check_host(host, err, errlen);
    if (rc != TT_OK)
        return rc;
    size_t n = rows->n;
    double *mu = alloc_block(host, n, (size_t)n_arms);
    if (!mu)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    for (int k = 0; k < n_arms && rc == TT_OK; k++) {
        rc = host->nuisance_predict(host->host_ctx, TT_NUISANCE_KIND_ARM_OUTCOME, k, rows,
                                    mu + (size_t)k * n, err, errlen);
        if (rc != TT_OK)
            rc = nuis_failed(rc, TT_NUISANCE_KIND_ARM_OUTCOME, err && errlen ? err : "", err,
                             errlen);
    }
    if (rc != TT_OK) {
        host->release(mu);
        return rc;
    }
    *out = mu;
    return TT_OK;
}

int pu_nuis_outcome_oof(const tt_plugin_host *host, size_t n, double **out, char *err,
                        size_t errlen)
{
    *out = NULL;
    const double *v;
    size_t width;
    int rc = get_oof(host, TT_NUISANCE_KIND_OUTCOME, -1, n, &v, &width, err, errlen);
    if (rc == TT_OK && width != 1)
        rc = pu_errf(err, errlen, TT_ERR_INVALID, "the outcome model has %zu columns, expected 1",
                     width);
    if (rc != TT_OK)
        return rc;
    double *m = alloc_block(host, n, 1);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (n)
        memcpy(m, v, sizeof *m * n);
    *out = m;
    return TT_OK;
}

/* ---- ABI 1.8: E[T | x, w] ------------------------------------------------ */

int pu_nuis_treatment_mean_oof(const tt_plugin_host *host, size_t n, double **out, char *err,
                               size_t errlen)
{
    *out = NULL;
    if (host->abi_minor < 8)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED, "the host serves no treatment mean "
                       "(plugin ABI 1.8 needed, host has 1.%u)", (unsigned)host->abi_minor);
    const double *v;
    size_t width;
    int rc = get_oof(host, TT_NUISANCE_KIND_TREATMENT_MEAN, -1, n, &v, &width, err, errlen);
    if (rc == TT_OK && width != 1)
        rc = pu_errf(err, errlen, TT_ERR_INVALID, "the treatment mean has %zu columns, "
                     "expected 1", width);
    if (rc != TT_OK)
        return rc;
    double *e = alloc_block(host, n, 1);
    if (!e)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (n)
        memcpy(e, v, sizeof *e * n);
    *out = e;
    return TT_OK;
}

int pu_nuis_treatment_mean_predict(const tt_plugin_host *host, const tt_plugin_data *rows,
                                   double **out, char *err, size_t errlen)
{
    *out = NULL;
    if (host->abi_minor < 8)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED, "the host serves no treatment mean "
                       "(plugin ABI 1.8 needed, host has 1.%u)", (unsigned)host->abi_minor);
    int rc = check_host(host, err, errlen);
    if (rc != TT_OK)
        return rc;
    double *e = alloc_block(host, rows->n, 1);
    if (!e)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    rc = host->nuisance_predict(host->host_ctx, TT_NUISANCE_KIND_TREATMENT_MEAN, -1, rows, e,
                                err, errlen);
    if (rc != TT_OK) {
        host->release(e);
        return nuis_failed(rc, TT_NUISANCE_KIND_TREATMENT_MEAN, err && errlen ? err : "", err,
                           errlen);
    }
    *out = e;
    return TT_OK;
}

/* ---- ABI 1.7: instrumental-variable nuisances ---------------------------- */

static int check_iv_host(const tt_plugin_host *host, char *err, size_t errlen)
{
    int rc = check_host(host, err, errlen);
    if (rc == TT_OK && host->abi_minor < 7)
        rc = pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                     "the host serves no instrumental-variable nuisances (plugin ABI 1.7 "
                     "needed, host has 1.%u)",
                     (unsigned)host->abi_minor);
    return rc;
}

/* Every value a probability (NaN never passes); clip > 0 bounds them. */
static int probabilities(double *v, size_t n, double clip, const char *what, char *err,
                         size_t errlen)
{
    if (!(clip >= 0.0 && clip < 0.5))
        return pu_errf(err, errlen, TT_ERR_INVALID, "%s clip %g is outside [0, 0.5)", what,
                       clip);
    for (size_t i = 0; i < n; i++) {
        if (!(v[i] >= 0.0 && v[i] <= 1.0) && !(clip > 0.0 && !isnan(v[i])))
            return pu_errf(err, errlen, TT_ERR_NUMERIC, "%s of row %zu is %g, not a probability",
                           what, i, v[i]);
        if (clip > 0.0)
            v[i] = fmin(fmax(v[i], clip), 1.0 - clip);
    }
    return TT_OK;
}

/* One width-1 IV nuisance, out of fold, copied into a new block. */
static int iv_oof(const tt_plugin_host *host, tt_nuisance_kind kind, int arm, size_t n,
                  double clip, double **out, char *err, size_t errlen)
{
    *out = NULL;
    int rc = check_iv_host(host, err, errlen);
    const double *v = NULL;
    size_t width = 0;
    if (rc == TT_OK)
        rc = get_oof(host, kind, arm, n, &v, &width, err, errlen);
    if (rc == TT_OK && width != 1)
        rc = pu_errf(err, errlen, TT_ERR_INVALID, "the %s nuisance has %zu columns, expected 1",
                     kind_names[kind], width);
    if (rc != TT_OK)
        return rc;
    double *o = alloc_block(host, n, 1);
    if (!o)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (n)
        memcpy(o, v, sizeof *o * n);
    rc = probabilities(o, n, clip, kind_names[kind], err, errlen);
    if (rc != TT_OK) {
        host->release(o);
        return rc;
    }
    *out = o;
    return TT_OK;
}

static int iv_predict(const tt_plugin_host *host, tt_nuisance_kind kind, int arm,
                      const tt_plugin_data *rows, double clip, double **out, char *err,
                      size_t errlen)
{
    *out = NULL;
    int rc = check_iv_host(host, err, errlen);
    if (rc != TT_OK)
        return rc;
    double *o = alloc_block(host, rows->n, 1);
    if (!o)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    rc = host->nuisance_predict(host->host_ctx, kind, arm, rows, o, err, errlen);
    if (rc != TT_OK)
        rc = nuis_failed(rc, kind, err && errlen ? err : "", err, errlen);
    if (rc == TT_OK)
        rc = probabilities(o, rows->n, clip, kind_names[kind], err, errlen);
    if (rc != TT_OK) {
        host->release(o);
        return rc;
    }
    *out = o;
    return TT_OK;
}

static int check_z(int z, char *err, size_t errlen)
{
    return z == 0 || z == 1 ? TT_OK
                            : pu_errf(err, errlen, TT_ERR_INVALID,
                                      "instrument value %d: a binary instrument is 0 or 1", z);
}

int pu_nuis_instrument_oof(const tt_plugin_host *host, size_t n, double clip, double **out,
                           char *err, size_t errlen)
{
    return iv_oof(host, TT_NUISANCE_KIND_INSTRUMENT, -1, n, clip, out, err, errlen);
}

int pu_nuis_treatment_given_z_oof(const tt_plugin_host *host, int z, size_t n, double **out,
                                  char *err, size_t errlen)
{
    *out = NULL;
    int rc = check_z(z, err, errlen);
    return rc != TT_OK ? rc
                       : iv_oof(host, TT_NUISANCE_KIND_TREATMENT_GIVEN_Z, z, n, 0.0, out, err,
                                errlen);
}

int pu_nuis_compliance_oof(const tt_plugin_host *host, size_t n, double **out, char *err,
                           size_t errlen)
{
    double *p0 = NULL, *p1 = NULL;
    int rc = pu_nuis_treatment_given_z_oof(host, 0, n, &p0, err, errlen);
    if (rc == TT_OK)
        rc = pu_nuis_treatment_given_z_oof(host, 1, n, &p1, err, errlen);
    if (rc == TT_OK)
        for (size_t i = 0; i < n; i++)
            p1[i] -= p0[i];
    host->release(p0);
    if (rc != TT_OK) {
        host->release(p1);
        p1 = NULL;
    }
    *out = p1;
    return rc;
}

int pu_nuis_instrument_predict(const tt_plugin_host *host, const tt_plugin_data *rows,
                               double clip, double **out, char *err, size_t errlen)
{
    return iv_predict(host, TT_NUISANCE_KIND_INSTRUMENT, -1, rows, clip, out, err, errlen);
}

int pu_nuis_treatment_given_z_predict(const tt_plugin_host *host, int z,
                                      const tt_plugin_data *rows, double **out, char *err,
                                      size_t errlen)
{
    *out = NULL;
    int rc = check_z(z, err, errlen);
    return rc != TT_OK ? rc
                       : iv_predict(host, TT_NUISANCE_KIND_TREATMENT_GIVEN_Z, z, rows, 0.0, out,
                                    err, errlen);
}
