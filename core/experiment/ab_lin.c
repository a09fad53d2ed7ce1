/*
 * ab_lin.c - Lin's (2013) regression adjustment for an experiment (abtest.h):
 * OLS with every feature centred and interacted with every treated arm, HC2
 * standard errors.
 *
 * The design is never held whole: a million rows by 2 (1 + p) columns would
 * be hundreds of megabytes. Two passes over row blocks build A'A and A'y,
 * then (with the coefficients known) the HC2 meat A' diag(e^2 / (1 - h)) A;
 * memory is O(block q + q^2).
 */
#include "experiment/abtest.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/dist.h"
#include "util/err.h"

#define LIN_BLOCK 2048
/* A column whose part not explained by the earlier columns has less than
 * this share of its own sum of squares is dropped as collinear. */
#define LIN_COLLINEAR 1e-10

typedef struct lin_design {
    size_t n, p, q;              /* rows, kept features, design columns */
    int n_arms;
    const int *t;
    const double *x;
    const size_t *feat;          /* p source columns of x */
    double *mean;                /* p pooled means */
} lin_design;

/* Rows [r0, r0 + m) of the full design into b (m x q, column-major). */
static void fill_block(const lin_design *d, size_t r0, size_t m, double *b)
{
    const size_t K = (size_t)d->n_arms, p = d->p;
    for (size_t i = 0; i < m; i++)
        b[i] = 1.0;
    for (size_t k = 1; k < K; k++)
        for (size_t i = 0; i < m; i++)
            b[k * m + i] = d->t[r0 + i] == (int)k;
    for (size_t j = 0; j < p; j++) {
        const double *xj = d->x + d->feat[j] * d->n + r0;
        double *c = b + (K + j) * m;
        for (size_t i = 0; i < m; i++)
            c[i] = xj[i] - d->mean[j];
        for (size_t k = 1; k < K; k++) {
            double *ck = b + (K + k * p + j) * m;
            for (size_t i = 0; i < m; i++)
                ck[i] = d->t[r0 + i] == (int)k ? c[i] : 0.0;
        }
    }
}

/* Columns kept of b (m x q) copied to the front, in order (r of them). */
static void compact(double *b, size_t m, size_t q, const unsigned char *keep)
{
    size_t r = 0;
    for (size_t j = 0; j < q; j++)
        if (keep[j]) {
            if (r != j)
                memmove(b + r * m, b + j * m, sizeof *b * m);
            r++;
        }
}

/* Left-looking Cholesky of g (q x q, upper triangle read) that drops every
 * column nearly a combination of the kept ones before it. */
static size_t choose_columns(size_t q, const double *g, unsigned char *keep)
{
    double *l = calloc(q * q, sizeof *l), *v = malloc(sizeof *v * q);
    size_t r = 0;
    if (!l || !v) {
        free(l);
        free(v);
        return 0;
    }
    for (size_t j = 0; j < q; j++) {
        for (size_t i = j; i < q; i++) {
            double s = g[i * q + j]; /* upper: g(j, i) at column i */
            for (size_t k = 0; k < j; k++)
                s -= l[k * q + i] * l[k * q + j];
            v[i] = s;
        }
        keep[j] = g[j * q + j] > 0 && v[j] > LIN_COLLINEAR * g[j * q + j];
        if (!keep[j])
            continue;
        double d = sqrt(v[j]);
        for (size_t i = j; i < q; i++)
            l[j * q + i] = v[i] / d;
        r++;
    }
    free(l);
    free(v);
    return r;
}

tt_status tt_ab_lin(size_t n, int n_arms, const int *t, const double *y, size_t p,
                    const double *x, double alpha, tt_ab_effect *effects, size_t *n_dropped,
                    char *err, size_t errlen)
{
    const size_t K = (size_t)n_arms;
    size_t *counts = calloc(K, sizeof *counts);
    lin_design d = {.n = n, .n_arms = n_arms, .t = t, .x = x};
    size_t *feat = malloc(sizeof *feat * (p + 1));
    double *mean = malloc(sizeof *mean * (p + 1));
    double *g = NULL, *gy = NULL, *b = NULL, *c = NULL, *meat = NULL, *tmp = NULL;
    unsigned char *keep = NULL;
    tt_status st = TT_OK;
    if (!counts || !feat || !mean) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        counts[t[i]]++;
    for (size_t k = 0; k < K; k++)
        if (counts[k] == 0) {
            st = tt_errf(err, errlen, TT_ERR_DATA, "regression adjustment: arm %zu has no rows",
                         k);
            goto out;
        }
    /* Features constant over the rows carry nothing (centred, they are 0). */
    for (size_t j = 0; j < p; j++) {
        const double *xj = x + j * n;
        double m = 0;
        int varies = 0;
        for (size_t i = 0; i < n; i++)
            m += xj[i], varies |= xj[i] != xj[0];
        if (varies)
            mean[d.p] = m / (double)n, feat[d.p++] = j;
    }
    d.feat = feat, d.mean = mean;
    const size_t q = K * (1 + d.p);
    g = calloc(q * q, sizeof *g);
    gy = calloc(q, sizeof *gy);
    b = malloc(sizeof *b * LIN_BLOCK * q);
    c = malloc(sizeof *c * LIN_BLOCK * q);
    keep = malloc(q);
    meat = calloc(q * q, sizeof *meat);
    tmp = malloc(sizeof *tmp * q * q);
    if (!g || !gy || !b || !c || !keep || !meat || !tmp) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t r0 = 0; r0 < n; r0 += LIN_BLOCK) {
        size_t m = n - r0 < LIN_BLOCK ? n - r0 : LIN_BLOCK;
        fill_block(&d, r0, m, b);
        cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)q, (int)m, 1.0, b, (int)m, 1.0,
                    g, (int)q);
        cblas_dgemv(CblasColMajor, CblasTrans, (int)m, (int)q, 1.0, b, (int)m, y + r0, 1, 1.0,
                    gy, 1);
    }
    size_t r = choose_columns(q, g, keep);
    for (size_t k = 0; k < K; k++)
        if (!keep[k]) {
            st = tt_errf(err, errlen, TT_ERR_DATA, "regression adjustment: the arm indicators "
                         "are collinear with the features");
            goto out;
        }
    if (r >= n) {
        st = tt_errf(err, errlen, TT_ERR_DATA, "regression adjustment: %zu rows for %zu "
                     "columns (arms times features); it needs more rows than columns", n, r);
        goto out;
    }
    if (n_dropped)
        *n_dropped = q - r;
    /* The kept part of A'A, inverted (r x r, both triangles). */
    size_t a = 0;
    for (size_t j = 0; j < q; j++) {
        if (!keep[j])
            continue;
        size_t i2 = 0;
        for (size_t i = 0; i <= j; i++)
            if (keep[i])
                tmp[a * r + i2++] = g[j * q + i];
        gy[a++] = gy[j];
    }
    if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)r, tmp, (lapack_int)r) != 0 ||
        LAPACKE_dpotri(LAPACK_COL_MAJOR, 'U', (lapack_int)r, tmp, (lapack_int)r) != 0) {
        st = tt_errf(err, errlen, TT_ERR_NUMERIC, "regression adjustment: the design is "
                     "singular");
        goto out;
    }
    for (size_t j = 0; j < r; j++)
        for (size_t i = j + 1; i < r; i++)
            tmp[j * r + i] = tmp[i * r + j];
    double *beta = g; /* A'A is no longer needed */
    cblas_dgemv(CblasColMajor, CblasNoTrans, (int)r, (int)r, 1.0, tmp, (int)r, gy, 1, 0.0, beta,
                1);
    /* Second pass: residuals, leverages, and the HC2 meat. */
    for (size_t r0 = 0; r0 < n; r0 += LIN_BLOCK) {
        size_t m = n - r0 < LIN_BLOCK ? n - r0 : LIN_BLOCK;
        fill_block(&d, r0, m, b);
        compact(b, m, q, keep);
        cblas_dsymm(CblasColMajor, CblasRight, CblasUpper, (int)m, (int)r, 1.0, tmp, (int)r, b,
                    (int)m, 0.0, c, (int)m);
        for (size_t i = 0; i < m; i++) {
            double fit = 0, h = 0;
            for (size_t j = 0; j < r; j++)
                fit += b[j * m + i] * beta[j], h += c[j * m + i] * b[j * m + i];
            double e = y[r0 + i] - fit;
            /* h = 1: the row alone fixes a coefficient and its residual is 0. */
            double w = 1 - h > 1e-12 ? e * e / (1 - h) : e * e;
            double s = sqrt(w);
            for (size_t j = 0; j < r; j++)
                b[j * m + i] *= s;
        }
        cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)r, (int)m, 1.0, b, (int)m, 1.0,
                    meat, (int)r);
    }
    for (size_t j = 0; j < r; j++)
        for (size_t i = j + 1; i < r; i++)
            meat[j * r + i] = meat[i * r + j];
    /* V = (A'A)^-1 meat (A'A)^-1; only the arm indicators' diagonal is read,
     * and they are the kept columns 1..K-1. */
    for (size_t k = 1; k < K; k++) {
        const double *row = tmp + k * r; /* symmetric: column k = row k */
        double v = 0;
        for (size_t j = 0; j < r; j++) {
            double s = 0;
            for (size_t i = 0; i < r; i++)
                s += meat[j * r + i] * row[i];
            v += row[j] * s;
        }
        tt_ab_effect *e = &effects[k - 1];
        *e = (tt_ab_effect){.estimate = beta[k], .se = sqrt(v), .df = (double)(n - r)};
        tt_ab_finish(e, alpha);
    }
out:
    free(counts);
    free(feat);
    free(mean);
    free(g);
    free(gy);
    free(b);
    free(c);
    free(keep);
    free(meat);
    free(tmp);
    return st;
}
