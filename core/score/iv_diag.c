/* iv_diag.c - first stage, compliance, reduced form, Wald ratio and the
 * caveats of an IV problem (iv_diag.h). */
#include "score/iv_diag.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg/linalg.h"
#include "util/err.h"
#include "util/mem.h"

/* v minus its least-squares fit on [1, xw] (in place); g, rhs: scratch of
 * (p+1)^2 and p+1. Returns 0 when the Gram matrix is not positive definite. */
static int partial_out(size_t n, size_t p, const double *xw, double *v, double *g, double *rhs)
{
    char err[8];
    if (tt_linalg_weighted_gram(n, p, xw, NULL, NULL, 1, g, err, sizeof err) != TT_OK)
        return 0;
    tt_linalg_weighted_xtv(n, p, xw, NULL, v, NULL, 1, rhs);
    double rcond = 0.0;
    if (tt_linalg_cholesky_solve(p + 1, g, rhs, &rcond, err, sizeof err) != TT_OK ||
        rcond < 1e-12)
        return 0;
    for (size_t i = 0; i < n; i++) {
        double fit = rhs[0];
        for (size_t j = 0; j < p; j++)
            fit += rhs[j + 1] * xw[j * n + i];
        v[i] -= fit;
    }
    return 1;
}

/* Z's coefficient in T on [1, Z, controls], its classical s.e. and t^2. */
static int first_stage(size_t n, const double *t, const int *z, size_t p, const double *xw,
                       tt_iv_diag *d)
{
    double *tt = tt_malloc_array(n + 1, sizeof *tt), *zz = tt_malloc_array(n + 1, sizeof *zz);
    double *g = tt_malloc_array((p + 1) * (p + 1) + 1, sizeof *g);
    double *rhs = tt_malloc_array(p + 2, sizeof *rhs);
    if (!tt || !zz || !g || !rhs) {
        free(tt), free(zz), free(g), free(rhs);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        tt[i] = t[i];
        zz[i] = z[i];
    }
    d->controls = p > 0 && n >= 2 * (p + 3) && partial_out(n, p, xw, tt, g, rhs) &&
                  partial_out(n, p, xw, zz, g, rhs);
    if (!d->controls) { /* centring only */
        double mt = 0.0, mz = 0.0;
        for (size_t i = 0; i < n; i++) {
            mt += t[i];
            mz += z[i];
        }
        mt /= (double)n;
        mz /= (double)n;
        for (size_t i = 0; i < n; i++) {
            tt[i] = t[i] - mt;
            zz[i] = z[i] - mz;
        }
    }
    double szz = 0.0, szt = 0.0;
    for (size_t i = 0; i < n; i++) {
        szz += zz[i] * zz[i];
        szt += zz[i] * tt[i];
    }
    const double k = (double)(d->controls ? p + 2 : 2);
    d->fs_coef = szz > 0.0 ? szt / szz : NAN;
    double sse = 0.0;
    for (size_t i = 0; szz > 0.0 && i < n; i++) {
        const double e = tt[i] - d->fs_coef * zz[i];
        sse += e * e;
    }
    d->fs_se = szz > 0.0 && (double)n > k ? sqrt(sse / ((double)n - k) / szz) : NAN;
    d->fs_f = d->fs_se > 0.0 ? (d->fs_coef / d->fs_se) * (d->fs_coef / d->fs_se) : NAN;
    free(tt), free(zz), free(g), free(rhs);
    return 1;
}

/* Means and within-group moments of y and t for Z = 1 and Z = 0. */
typedef struct group {
    double n, my, mt, syy, stt, syt;
} group;

static void moments(size_t n, const double *y, const double *t, const int *z, group g[2])
{
    memset(g, 0, 2 * sizeof *g);
    for (size_t i = 0; i < n; i++) {
        group *a = &g[z[i] != 0];
        a->n++;
        a->my += y ? y[i] : 0.0;
        a->mt += t[i];
    }
    for (int k = 0; k < 2; k++)
        if (g[k].n > 0) {
            g[k].my /= g[k].n;
            g[k].mt /= g[k].n;
        }
    for (size_t i = 0; i < n; i++) {
        group *a = &g[z[i] != 0];
        const double dy = y ? y[i] - a->my : 0.0, dt = t[i] - a->mt;
        a->syy += dy * dy;
        a->stt += dt * dt;
        a->syt += dy * dt;
    }
}

static void wald(size_t n, const double *y, const double *t, const int *z, tt_iv_diag *d)
{
    group g[2];
    moments(n, y, t, z, g);
    const double n0 = g[0].n, n1 = g[1].n;
    d->n_z1 = (size_t)n1;
    d->compliance = g[1].mt - g[0].mt;
    d->reduced_form = g[1].my - g[0].my;
    /* Sample (n - 1) variances and covariance within each group, over n. */
    const double vy = g[1].syy / (n1 - 1) / n1 + g[0].syy / (n0 - 1) / n0;
    const double vt = g[1].stt / (n1 - 1) / n1 + g[0].stt / (n0 - 1) / n0;
    const double cyt = g[1].syt / (n1 - 1) / n1 + g[0].syt / (n0 - 1) / n0;
    d->reduced_form_se = sqrt(vy);
    d->wald = d->compliance != 0.0 ? d->reduced_form / d->compliance : NAN;
    const double w = d->wald;
    const double v = vy - 2.0 * w * cyt + w * w * vt;
    d->wald_se = isfinite(w) && v >= 0.0 ? sqrt(v) / fabs(d->compliance) : NAN;
}

typedef struct ranked {
    double c;
    size_t i;
} ranked;

static int by_compliance(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->c != y->c)
        return x->c < y->c ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int deciles(size_t n, const int *t, const int *z, const double *c, tt_iv_diag *d)
{
    ranked *r = tt_malloc_array(n + 1, sizeof *r);
    if (!r)
        return 0;
    double sum = 0.0;
    size_t thin = 0;
    for (size_t i = 0; i < n; i++) {
        r[i] = (ranked){c[i], i};
        sum += c[i];
        thin += c[i] < TT_IV_THIN_COMPLIANCE;
    }
    d->predicted_mean = sum / (double)n;
    d->share_thin = (double)thin / (double)n;
    qsort(r, n, sizeof *r, by_compliance);
    d->n_deciles = n >= TT_IV_DECILES ? TT_IV_DECILES : 0;
    for (size_t k = 0; k < d->n_deciles; k++) {
        const size_t a = k * n / TT_IV_DECILES, b = (k + 1) * n / TT_IV_DECILES;
        tt_iv_decile *q = &d->deciles[k];
        double s = 0.0, cnt[2] = {0, 0}, tr[2] = {0, 0};
        for (size_t j = a; j < b; j++) {
            const size_t i = r[j].i;
            s += r[j].c;
            cnt[z[i] != 0]++;
            tr[z[i] != 0] += t[i];
        }
        q->n = b - a;
        q->lo = r[a].c;
        q->hi = r[b - 1].c;
        q->predicted = s / (double)q->n;
        q->observed = q->f = NAN;
        if (cnt[0] > 0 && cnt[1] > 0) {
            const double p1 = tr[1] / cnt[1], p0 = tr[0] / cnt[0];
            q->observed = p1 - p0;
            const double se = sqrt(p1 * (1 - p1) / cnt[1] + p0 * (1 - p0) / cnt[0]);
            q->f = se > 0.0 ? (q->observed / se) * (q->observed / se) : NAN;
        }
        d->thin |= q->predicted < TT_IV_THIN_COMPLIANCE;
    }
    free(r);
    return 1;
}

tt_status tt_iv_diag_compute(size_t n, const double *y, const double *t, const int *z, size_t p,
                             const double *xw, size_t cr_n, const int *cr_t, const int *cr_z,
                             const double *compliance, tt_iv_diag *out, char *err,
                             size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    out->predicted_mean = out->share_thin = NAN;
    size_t ones = 0;
    for (size_t i = 0; i < n; i++)
        ones += z[i] != 0;
    if (ones == 0 || ones == n || n < 4)
        return tt_errf(err, errlen, TT_ERR_DATA,
                       "the instrument takes one value on all %zu rows: nothing identifies an "
                       "effect", n);
    if (tt_linalg_check_dims(n, p + 1, err, errlen) != TT_OK)
        p = 0; /* too wide for the BLAS: the first stage without controls */
    if (!first_stage(n, t, z, p, xw, out))
        return tt_errf(err, errlen, TT_ERR_NOMEM, "IV diagnostics: out of memory");
    wald(n, y, t, z, out);
    if (compliance && cr_n > 0 && !deciles(cr_n, cr_t, cr_z, compliance, out))
        return tt_errf(err, errlen, TT_ERR_NOMEM, "IV diagnostics: out of memory");
    out->weak = !(out->fs_f >= TT_IV_WEAK_F);
    return TT_OK;
}
