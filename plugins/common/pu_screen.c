/*
 * pu_screen.c - the kept-column screen of the linear final stages
 * (pu_screen.h): a weighted Gram matrix, then a Cholesky factor grown one
 * column at a time that refuses columns adding no new direction.
 */
#include "pu_screen.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pu.h"

static double weight_at(const double *w, size_t i)
{
    return w ? w[i] : 1.0;
}

/* Column j takes one value on every row of positive weight (an exact test:
 * a centred constant is rounding noise, not reliably zero). */
static int is_constant(size_t n, const double *col, const double *w)
{
    int seen = 0;
    double first = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!(weight_at(w, i) > 0.0))
            continue;
        if (!seen) {
            first = col[i];
            seen = 1;
        } else if (col[i] != first) {
            return 0;
        }
    }
    return 1;
}

/* g = Zs'Zs, D x D upper triangle, with Zs = sqrt(w) (Z - centre * mean). */
static int gram(const tt_plugin_host *host, size_t n, size_t D, const double *Z, const double *w,
                int centre, double *g)
{
    double *zs = host->alloc(sizeof *zs * (n * D + 1));
    if (!zs)
        return -1;
    double W = 0.0;
    for (size_t i = 0; i < n; i++)
        W += weight_at(w, i);
    for (size_t j = 0; j < D; j++) {
        const double *col = Z + j * n;
        double m = 0.0;
        if (centre && W > 0.0) {
            for (size_t i = 0; i < n; i++)
                m += weight_at(w, i) * col[i];
            m /= W;
        }
        for (size_t i = 0; i < n; i++)
            zs[j * n + i] = sqrt(weight_at(w, i)) * (col[i] - m);
    }
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)D, (int)n, 1.0, zs, (int)n, 0.0, g,
                (int)D);
    host->release(zs);
    return 0;
}

int pu_screen_columns(const tt_plugin_host *host, size_t n, size_t D, const double *Z,
                      const double *w, int centre, unsigned char *keep, size_t *n_keep,
                      char *err, size_t errlen)
{
    *n_keep = 0;
    if (D == 0)
        return 0;
    if (n > INT_MAX || D > INT_MAX || n > SIZE_MAX / sizeof(double) / D ||
        D > SIZE_MAX / sizeof(double) / D)
        return pu_errf(err, errlen, TT_ERR_INVALID,
                       "design of %zu rows x %zu columns is too large for 32-bit BLAS", n, D);
    double *g = host->alloc(sizeof *g * D * D);
    /* r: the factor of the kept columns' Gram, column-major with leading
     * dimension D (kept column a occupies column a); idx: their indices. */
    double *r = host->alloc(sizeof *r * D * D);
    size_t *idx = host->alloc(sizeof *idx * D);
    double *t = host->alloc(sizeof *t * D);
    int rc = 0;
    if (!g || !r || !idx || !t || gram(host, n, D, Z, w, centre, g) != 0) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory screening a %zu x %zu design",
                     n, D);
        goto done;
    }
    size_t m = 0;
    for (size_t j = 0; j < D; j++) {
        const double gjj = g[j * D + j];
        keep[j] = 0;
        if (!(gjj > 0.0) || !isfinite(gjj) || (centre && is_constant(n, Z + j * n, w)))
            continue;
        /* Solve R't = g[kept, j]; then gjj - t't is the squared residual of
         * column j on the kept columns (1 - R^2 after dividing by gjj). */
        double res = gjj;
        for (size_t a = 0; a < m; a++) {
            double s = g[j * D + idx[a]]; /* upper triangle: idx[a] < j */
            for (size_t b = 0; b < a; b++)
                s -= r[a * D + b] * t[b];
            t[a] = s / r[a * D + a];
            res -= t[a] * t[a];
        }
        if (!(res > PU_SCREEN_TOL * gjj))
            continue;
        for (size_t a = 0; a < m; a++)
            r[m * D + a] = t[a];
        r[m * D + m] = sqrt(res);
        idx[m++] = j;
        keep[j] = 1;
    }
    *n_keep = m;
done:
    host->release(g);
    host->release(r);
    host->release(idx);
    host->release(t);
    return rc;
}

void pu_screen_compact(size_t n, size_t D, const double *Z, const unsigned char *keep,
                       double *out)
{
    for (size_t j = 0, o = 0; j < D; j++)
        if (keep[j])
            memcpy(out + (o++) * n, Z + j * n, n * sizeof *out);
}

void pu_screen_scatter(size_t D, size_t lead, const unsigned char *keep, size_t n_keep,
                       const double *beta_k, const double *cov_k, double *beta, double *cov)
{
    const size_t q = lead + D, qk = lead + n_keep;
    /* Walk the full and the kept index sets together (ka, kb: kept index). */
    memset(beta, 0, q * sizeof *beta);
    memset(cov, 0, q * q * sizeof *cov);
    for (size_t a = 0, ka = 0; a < q; a++) {
        if (a >= lead && !keep[a - lead])
            continue;
        beta[a] = beta_k[ka];
        for (size_t b = 0, kb = 0; b < q; b++) {
            if (b >= lead && !keep[b - lead])
                continue;
            cov[b * q + a] = cov_k[kb * qk + ka];
            kb++;
        }
        ka++;
    }
}

void pu_screen_note(const tt_plugin_host *host, const char *what, size_t D,
                    const unsigned char *keep, size_t n_keep)
{
    if (n_keep == D || !host->log)
        return;
    /* Name the first few dropped columns; the count says the rest. */
    char list[160];
    size_t used = 0, shown = 0;
    list[0] = '\0';
    for (size_t j = 0; j < D && shown < 8; j++) {
        if (keep[j])
            continue;
        int k = snprintf(list + used, sizeof list - used, "%s%zu", shown ? ", " : "", j);
        if (k < 0 || (size_t)k >= sizeof list - used)
            break;
        used += (size_t)k;
        shown++;
    }
    host->log(host->host_ctx, TT_LOG_INFO,
              "%s: dropped %zu of %zu design columns that are constant or linear combinations "
              "of earlier ones (coefficient 0): %s%s",
              what, D - n_keep, D, list, D - n_keep > shown ? ", ..." : "");
}
