/* pu_tsls.c - two-stage least squares (pu_tsls.h has the formulas). */
#include "pu_tsls.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "pu.h"
#include "pu_linear.h"

void pu_tsls_free(const tt_plugin_host *host, pu_tsls_fit *fit)
{
    if (!fit)
        return;
    host->release(fit->beta);
    host->release(fit->cov_classical);
    host->release(fit->cov_robust);
    host->release(fit->first_stage_f);
    memset(fit, 0, sizeof *fit);
}

/* out = s * Ainv M Ainv (k x k); tmp k x k scratch. */
static void sandwich(size_t k, const double *ainv, const double *m, double s, double *tmp,
                     double *out)
{
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)k, (int)k, (int)k, 1.0, ainv,
                (int)k, m, (int)k, 0.0, tmp, (int)k);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)k, (int)k, (int)k, s, tmp,
                (int)k, ainv, (int)k, 0.0, out, (int)k);
}

/* Scratch of one fit. */
typedef struct work {
    double *zs;    /* n x q: sqrt(w) Z */
    double *es;    /* n x k_endo: sqrt(w) X_endo */
    double *ys;    /* n */
    double *zz;    /* q x q: Z'Z, then its Cholesky factor U (upper) */
    double *c;     /* q x k: U^-T Z'X, then Pi = U^-1 of it */
    double *cy;    /* q */
    double *a;     /* k x k: A, then its factor, then A^-1 */
    double *xhat;  /* n x k: Z Pi, then scaled by the residuals */
    double *meat;  /* k x k */
    double *tmp;   /* k x k */
    double *u;     /* n_clusters x k */
} work;

static void work_free(const tt_plugin_host *host, work *w)
{
    double **all[] = {&w->zs, &w->es, &w->ys, &w->zz, &w->c, &w->cy,
                      &w->a, &w->xhat, &w->meat, &w->tmp, &w->u};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        host->release(*all[i]);
        *all[i] = NULL;
    }
}

static int check_input(const pu_tsls_input *in, char *err, size_t errlen)
{
    size_t k = in->k_exo + in->k_endo, q = in->k_exo + in->k_excl;
    if (in->k_endo == 0 || in->k_excl == 0)
        return pu_errf(err, errlen, TT_ERR_INVALID, "2SLS needs an endogenous column and an "
                                                     "instrument");
    if (in->k_excl < in->k_endo)
        return pu_errf(err, errlen, TT_ERR_DATA,
                       "2SLS is not identified: %zu endogenous columns but %zu excluded "
                       "instruments (at least one per endogenous column)",
                       in->k_endo, in->k_excl);
    if (in->n <= q || in->n <= k)
        return pu_errf(err, errlen, TT_ERR_DATA, "2SLS needs more rows (%zu) than instruments "
                                                  "and regressors (%zu)", in->n, q > k ? q : k);
    for (size_t i = 0; in->weight && i < in->n; i++)
        if (!(in->weight[i] >= 0) || !isfinite(in->weight[i]))
            return pu_errf(err, errlen, TT_ERR_INVALID, "weight of row %zu is %g", i,
                           in->weight[i]);
    for (size_t i = 0; in->cluster && i < in->n; i++)
        if (in->cluster[i] < 0 || (size_t)in->cluster[i] >= in->n_clusters)
            return pu_errf(err, errlen, TT_ERR_INVALID, "cluster of row %zu is %d", i,
                           in->cluster[i]);
    if (in->cluster && in->n_clusters < 2)
        return pu_errf(err, errlen, TT_ERR_DATA, "clustered s.e. need at least 2 clusters");
    return TT_OK;
}

static int alloc_work(const tt_plugin_host *host, const pu_tsls_input *in, work *w)
{
    size_t n = in->n, k = in->k_exo + in->k_endo, q = in->k_exo + in->k_excl;
    memset(w, 0, sizeof *w);
    w->zs = host->alloc(n * q * sizeof(double));
    w->es = host->alloc(n * in->k_endo * sizeof(double));
    w->ys = host->alloc(n * sizeof(double));
    w->zz = host->alloc(q * q * sizeof(double));
    w->c = host->alloc(q * k * sizeof(double));
    w->cy = host->alloc(q * sizeof(double));
    w->a = host->alloc(k * k * sizeof(double));
    w->xhat = host->alloc(n * k * sizeof(double));
    w->meat = host->alloc_zero(k * k, sizeof(double));
    w->tmp = host->alloc(k * k * sizeof(double));
    if (in->cluster)
        w->u = host->alloc_zero(in->n_clusters * k, sizeof(double));
    return w->zs && w->es && w->ys && w->zz && w->c && w->cy && w->a && w->xhat && w->meat &&
           w->tmp && (!in->cluster || w->u);
}

/* Copies scaled by sqrt(w): Z = [X_exo, Z_excl], X_endo, y. */
static void scaled_copies(const pu_tsls_input *in, work *w)
{
    size_t n = in->n;
    for (size_t i = 0; i < n; i++) {
        double s = in->weight ? sqrt(in->weight[i]) : 1.0;
        for (size_t j = 0; j < in->k_exo; j++)
            w->zs[j * n + i] = s * in->x_exo[j * n + i];
        for (size_t j = 0; j < in->k_excl; j++)
            w->zs[(in->k_exo + j) * n + i] = s * in->z_excl[j * n + i];
        for (size_t j = 0; j < in->k_endo; j++)
            w->es[j * n + i] = s * in->x_endo[j * n + i];
        w->ys[i] = s * in->y[i];
    }
}

int pu_tsls(const tt_plugin_host *host, const pu_tsls_input *in, pu_tsls_fit *out, char *err,
            size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = check_input(in, err, errlen);
    if (rc)
        return rc;
    size_t n = in->n, ke = in->k_exo, kd = in->k_endo, k = ke + kd, q = ke + in->k_excl;
    work w;
    if (!alloc_work(host, in, &w)) {
        work_free(host, &w);
        return pu_errf(err, errlen, TT_ERR_NOMEM, "2SLS: out of memory for %zu rows", n);
    }
    out->k = k;
    out->beta = host->alloc(k * sizeof(double));
    out->cov_classical = host->alloc(k * k * sizeof(double));
    out->cov_robust = host->alloc(k * k * sizeof(double));
    out->first_stage_f = host->alloc(kd * sizeof(double));
    if (!out->beta || !out->cov_classical || !out->cov_robust || !out->first_stage_f) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "2SLS: out of memory");
        goto done;
    }
    scaled_copies(in, &w);

    /* Z'Z = U'U. */
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)q, (int)n, 1.0, w.zs, (int)n, 0.0,
                w.zz, (int)q);
    lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)q, w.zz, (lapack_int)q);
    if (info != 0) {
        rc = pu_errf(err, errlen, TT_ERR_NUMERIC,
                     "2SLS: the instruments and exogenous columns are collinear (column %d of "
                     "Z depends on the ones before it)", (int)info - 1);
        goto done;
    }
    /* C = U^-T Z'X: the exogenous columns of X are Z's first ke columns. */
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)q, (int)ke, (int)n, 1.0, w.zs,
                (int)n, w.zs, (int)n, 0.0, w.c, (int)q);
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)q, (int)kd, (int)n, 1.0, w.zs,
                (int)n, w.es, (int)n, 0.0, w.c + q * ke, (int)q);
    cblas_dgemv(CblasColMajor, CblasTrans, (int)n, (int)q, 1.0, w.zs, (int)n, w.ys, 1, 0.0, w.cy,
                1);
    cblas_dtrsm(CblasColMajor, CblasLeft, CblasUpper, CblasTrans, CblasNonUnit, (int)q, (int)k,
                1.0, w.zz, (int)q, w.c, (int)q);
    cblas_dtrsv(CblasColMajor, CblasUpper, CblasTrans, CblasNonUnit, (int)q, w.zz, (int)q, w.cy,
                1);
    /* First-stage F of each endogenous column: the part of its fit the
     * excluded instruments add is the squared norm of C's rows ke..q-1
     * (forward substitution with U' keeps the leading block's solution). */
    for (size_t j = 0; j < kd; j++) {
        const double *cj = w.c + q * (ke + j), *ej = w.es + n * j;
        double total = cblas_ddot((int)n, ej, 1, ej, 1);
        double fit_u = cblas_ddot((int)q, cj, 1, cj, 1);
        double added = cblas_ddot((int)(q - ke), cj + ke, 1, cj + ke, 1);
        double rss_u = total - fit_u;
        out->first_stage_f[j] = rss_u > 0 ? (added / (double)(q - ke)) /
                                                (rss_u / (double)(n - q))
                                          : INFINITY;
    }
    /* A = C'C, beta = A^-1 C'cy. */
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)k, (int)q, 1.0, w.c, (int)q, 0.0,
                w.a, (int)k);
    cblas_dgemv(CblasColMajor, CblasTrans, (int)q, (int)k, 1.0, w.c, (int)q, w.cy, 1, 0.0,
                out->beta, 1);
    info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)k, w.a, (lapack_int)k);
    if (info != 0) {
        rc = pu_errf(err, errlen, TT_ERR_NUMERIC,
                     "2SLS: regressor %d is not identified by the instruments (X'PzX is "
                     "singular: an instrument that does not move it, or collinear columns)",
                     (int)info - 1);
        goto done;
    }
    info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'U', (lapack_int)k, 1, w.a, (lapack_int)k, out->beta,
                          (lapack_int)k);
    if (info == 0)
        info = LAPACKE_dpotri(LAPACK_COL_MAJOR, 'U', (lapack_int)k, w.a, (lapack_int)k);
    if (info != 0) {
        rc = pu_errf(err, errlen, TT_ERR_NUMERIC, "2SLS: inverting X'PzX failed (%d)",
                     (int)info);
        goto done;
    }
    pu_symmetrise_from_upper(w.a, k);
    /* Pi = U^-1 C, Xhat = Z Pi. */
    cblas_dtrsm(CblasColMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, (int)q, (int)k,
                1.0, w.zz, (int)q, w.c, (int)q);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)k, (int)q, 1.0, w.zs,
                (int)n, w.c, (int)q, 0.0, w.xhat, (int)n);
    /* Residuals with X itself: e = y - X beta (all scaled by sqrt(w)). */
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        double fit = 0;
        for (size_t j = 0; j < ke; j++)
            fit += w.zs[j * n + i] * out->beta[j];
        for (size_t j = 0; j < kd; j++)
            fit += w.es[j * n + i] * out->beta[ke + j];
        double e = w.ys[i] - fit;
        w.ys[i] = e;
        ss += e * e;
    }
    out->s2 = ss / (double)(n - k);
    for (size_t j = 0; j < k * k; j++)
        out->cov_classical[j] = out->s2 * w.a[j];
    /* The robust meat's rows w_i e_i xhat_i: both factors already carry
     * sqrt(w_i). */
    for (size_t j = 0; j < k; j++)
        for (size_t i = 0; i < n; i++)
            w.xhat[j * n + i] *= w.ys[i];
    double factor;
    if (in->cluster) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < k; j++)
                w.u[(size_t)in->cluster[i] * k + j] += w.xhat[j * n + i];
        /* u is G x k row-major = k x G column-major: meat = u u'. */
        cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, (int)k, (int)in->n_clusters, 1.0,
                    w.u, (int)k, 0.0, w.meat, (int)k);
        double g = (double)in->n_clusters;
        factor = g / (g - 1) * (double)(n - 1) / (double)(n - k);
    } else {
        cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)k, (int)n, 1.0, w.xhat, (int)n,
                    0.0, w.meat, (int)k);
        factor = (double)n / (double)(n - k);
    }
    pu_symmetrise_from_upper(w.meat, k);
    sandwich(k, w.a, w.meat, factor, w.tmp, out->cov_robust);
done:
    work_free(host, &w);
    if (rc)
        pu_tsls_free(host, out);
    return rc;
}
