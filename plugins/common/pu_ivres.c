/* pu_ivres.c - residuals, strength and LATE scores of the IV plugins (pu_ivres.h). */
#include "pu_ivres.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pu.h"
#include "pu_aipw.h"
#include "pu_nuis.h"

int pu_iv_check_arms(const char *name, int n_arms, char *err, size_t errlen)
{
    if (n_arms != 2)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       "%s handles a binary treatment only (2 arms), the problem has %d: its "
                       "nuisances P(T = 1 | x, w, Z = z) and the Wald-type moments are for one "
                       "treatment column",
                       name, n_arms);
    return TT_OK;
}

int pu_iv_check_instrument(const char *name, const tt_plugin_data *d, char *err, size_t errlen)
{
    if (!TT_PLUGIN_DATA_HAS(d, z_names))
        return pu_errf(err, errlen, TT_ERR_DATA,
                       "%s: the rows carry no instrument (the host's data view predates plugin "
                       "ABI 1.6, which added data.z)",
                       name);
    if (d->p_z == 0 || !d->z)
        return pu_errf(err, errlen, TT_ERR_DATA, "%s: the rows carry no instrument (data.z)",
                       name);
    if (d->p_z > 1)
        return pu_errf(err, errlen, TT_ERR_DATA,
                       "%s uses one binary instrument; the data have %zu instrument columns "
                       "(tsls takes several)",
                       name, d->p_z);
    for (size_t i = 0; i < d->n; i++) {
        double z = d->z[i];
        if (z != 0.0 && z != 1.0)
            return pu_errf(err, errlen, TT_ERR_DATA,
                           "%s: instrument %s of row %zu is %g; a binary instrument is 0 or 1 "
                           "(tsls takes other instruments)",
                           name, d->z_names && d->z_names[0] ? d->z_names[0] : "z", i, z);
    }
    return TT_OK;
}

void pu_iv_res_free(const tt_plugin_host *host, pu_iv_res *r)
{
    if (!r)
        return;
    double **all[] = {&r->yres, &r->tres, &r->zres, &r->that, &r->comp};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        host->release(*all[i]);
        *all[i] = NULL;
    }
}

/* The kit's nuisance messages name the nuisance; this says who needed it
 * and which capability serves it (the host may simply not have the IV
 * nuisances for this run). */
static int nuisance_failed(int rc, const char *name, char *err, size_t errlen)
{
    char copy[400];
    snprintf(copy, sizeof copy, "%s", err && errlen ? err : "");
    if (rc == TT_ERR_UNSUPPORTED)
        return pu_errf(err, errlen, rc,
                       "%s needs the host's instrumental-variable nuisances P(Z = 1 | x, w) and "
                       "P(T = 1 | x, w, Z = z) (capability TT_PLUGIN_CAP_NEEDS_IV_NUISANCES) "
                       "besides E[Y | x, w] and P(T = 1 | x, w): %s",
                       name, copy);
    return pu_errf(err, errlen, rc, "%s: %s", name, copy);
}

double pu_iv_first_stage_f(size_t n, const double *tres, const double *zres,
                           const double *weight)
{
    double szz = 0, stz = 0, stt = 0;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        double w = weight ? weight[i] : 1.0;
        szz += w * zres[i] * zres[i];
        stz += w * tres[i] * zres[i];
        stt += w * tres[i] * tres[i];
        used += w != 0;
    }
    if (!(szz > 0) || used < 2)
        return 0.0;
    double explained = stz * stz / szz, rss = stt - explained;
    /* RSS by the difference can round below 0 when Z explains T exactly. */
    return rss > 0 ? explained / (rss / (double)(used - 1)) : INFINITY;
}

int pu_iv_residuals(const tt_plugin_host *host, const char *name, const tt_plugin_data *d,
                    pu_iv_res *out, char *err, size_t errlen)
{
    size_t n = d->n, ones = 0;
    memset(out, 0, sizeof *out);
    out->n = n;
    for (size_t i = 0; i < n; i++)
        ones += d->z[i] == 1.0;
    if (ones == 0 || ones == n)
        return pu_errf(err, errlen, TT_ERR_DATA,
                       "%s: the instrument is %s on every training row, so it identifies "
                       "nothing",
                       name, ones ? "1" : "0");
    double *p = NULL, *p0 = NULL;
    /* yres holds m, zres r and that p_1 until the loop below turns them
     * into Y - m, Z - r and p_Z - p; p is n x 2 ([1 - p, p]). */
    int rc = pu_nuis_outcome_oof(host, n, &out->yres, err, errlen);
    if (rc == TT_OK)
        rc = pu_nuis_propensity_oof(host, 2, n, 0.0, &p, err, errlen);
    if (rc == TT_OK)
        rc = pu_nuis_instrument_oof(host, n, 0.0, &out->zres, err, errlen);
    if (rc == TT_OK)
        rc = pu_nuis_treatment_given_z_oof(host, 0, n, &p0, err, errlen);
    if (rc == TT_OK)
        rc = pu_nuis_treatment_given_z_oof(host, 1, n, &out->that, err, errlen);
    if (rc != TT_OK)
        rc = nuisance_failed(rc, name, err, errlen);
    if (rc == TT_OK && (!(out->tres = host->alloc(sizeof(double) * (n + 1))) ||
                        !(out->comp = host->alloc(sizeof(double) * (n + 1)))))
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    double sw = 0, scomp = 0, szres = 0;
    for (size_t i = 0; rc == TT_OK && i < n; i++) {
        double pi = p[n + i], p1 = out->that[i], z = d->z[i];
        double w = d->weight ? d->weight[i] : 1.0;
        out->yres[i] = d->y[i] - out->yres[i];
        out->tres[i] = (double)d->t[i] - pi;
        out->zres[i] = z - out->zres[i];
        out->comp[i] = p1 - p0[i];
        out->that[i] = (z == 1.0 ? p1 : p0[i]) - pi;
        sw += w;
        scomp += w * fabs(out->comp[i]);
        szres += fabs(out->zres[i]);
    }
    host->release(p);
    host->release(p0);
    if (rc == TT_OK && szres == 0)
        rc = pu_errf(err, errlen, TT_ERR_DATA,
                     "%s: Z = P(Z = 1 | x, w) on every row: the instrument has no variation "
                     "of its own, so no effect is identified",
                     name);
    if (rc != TT_OK) {
        pu_iv_res_free(host, out);
        return rc;
    }
    out->mean_abs_comp = sw > 0 ? scomp / sw : 0.0;
    out->first_stage_f = pu_iv_first_stage_f(n, out->tres, out->zres, d->weight);
    return TT_OK;
}

void pu_iv_log_strength(const tt_plugin_host *host, const char *name, const pu_iv_res *r)
{
    if (r->first_stage_f < PU_IV_WEAK_F)
        host->log(host->host_ctx, TT_LOG_WARN,
                  "%s: weak instrument: first-stage F of T - p on Z - r = %.3g < %g (mean "
                  "|P(T = 1 | Z = 1) - P(T = 1 | Z = 0)| = %.3g); the estimates are biased and "
                  "their intervals unreliable",
                  name, r->first_stage_f, PU_IV_WEAK_F, r->mean_abs_comp);
    else
        host->log(host->host_ctx, TT_LOG_DEBUG,
                  "%s: first-stage F = %.4g, mean |compliance| = %.3g", name, r->first_stage_f,
                  r->mean_abs_comp);
}

int pu_iv_late_average(const tt_plugin_host *host, const char *name, size_t n,
                       const double *tau, const double *yres, const double *tres,
                       const double *z, const double *zres, const double *comp,
                       const double *weight, double *ate, double *se, char *err, size_t errlen)
{
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        used += !weight || weight[i] != 0;
    if (used < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID,
                       "%s: the LATE average needs at least 2 rows, got %zu", name, used);
    double *score = host->alloc(sizeof *score * n);
    if (!score)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        double r = fmin(fmax(z[i] - zres[i], PU_IV_R_CLIP), 1.0 - PU_IV_R_CLIP);
        double c = comp[i];
        if (!(fabs(c) >= PU_IV_COMP_FLOOR))
            c = c < 0 ? -PU_IV_COMP_FLOOR : PU_IV_COMP_FLOOR;
        score[i] = tau[i] + (z[i] - r) / (r * (1.0 - r)) / c * (yres[i] - tau[i] * tres[i]);
    }
    pu_aipw_mean_se(n, score, weight, ate, se);
    host->release(score);
    if (!isfinite(*ate) || !isfinite(*se))
        return pu_errf(err, errlen, TT_ERR_NUMERIC, "%s: the LATE average is not finite", name);
    return TT_OK;
}

int pu_iv_rows_have_late(const tt_plugin_data *rows)
{
    return rows->t && rows->y && TT_PLUGIN_DATA_HAS(rows, z_names) && rows->p_z > 0 && rows->z;
}

int pu_iv_late_predict(const tt_plugin_host *host, const char *name, const tt_plugin_data *rows,
                       const double *tau, double *ate, double *se, char *err, size_t errlen)
{
    size_t n = rows->n;
    int rc = pu_iv_check_instrument(name, rows, err, errlen);
    for (size_t i = 0; rc == TT_OK && i < n; i++)
        if ((rows->t[i] != 0 && rows->t[i] != 1) || !isfinite(rows->y[i]))
            rc = pu_errf(err, errlen, TT_ERR_DATA, "%s: row %zu has arm %d, outcome %g", name, i,
                         rows->t[i], rows->y[i]);
    if (rc != TT_OK)
        return rc;
    if (host->abi_minor < 1 || !host->nuisance_predict)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       "%s: the LATE average needs the host's nuisance models", name);
    /* m becomes Y - m, e's column 1 T - p, r Z - r and p1 the compliance. */
    double *m = host->alloc(sizeof *m * (n + 1)), *e = NULL, *r = NULL, *p0 = NULL, *p1 = NULL;
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    rc = host->nuisance_predict(host->host_ctx, TT_NUISANCE_KIND_OUTCOME, 0, rows, m, err,
                                errlen);
    if (rc == TT_OK)
        rc = pu_nuis_propensity_predict(host, 2, rows, 0.0, &e, err, errlen);
    if (rc == TT_OK)
        rc = pu_nuis_instrument_predict(host, rows, PU_IV_R_CLIP, &r, err, errlen);
    if (rc == TT_OK)
        rc = pu_nuis_treatment_given_z_predict(host, 0, rows, &p0, err, errlen);
    if (rc == TT_OK)
        rc = pu_nuis_treatment_given_z_predict(host, 1, rows, &p1, err, errlen);
    if (rc != TT_OK)
        rc = nuisance_failed(rc, name, err, errlen);
    for (size_t i = 0; rc == TT_OK && i < n; i++) {
        m[i] = rows->y[i] - m[i];
        e[n + i] = (double)rows->t[i] - e[n + i];
        r[i] = rows->z[i] - r[i];
        p1[i] -= p0[i];
    }
    if (rc == TT_OK)
        rc = pu_iv_late_average(host, name, n, tau, m, e + n, rows->z, r, p1, NULL, ate, se,
                                err, errlen);
    host->release(m);
    host->release(e);
    host->release(r);
    host->release(p0);
    host->release(p1);
    return rc;
}
