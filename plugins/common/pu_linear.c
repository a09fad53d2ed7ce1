/*
 * pu_linear.c - linear final stages: the polynomial featurizer, weighted OLS
 * with the HC1 sandwich, and the fitted effect model theta_k(x) =
 * phi(x)'beta_k with its intervals and save/load. The debiased lasso is in
 * pu_dlasso.c, the kept-column screen of both fits in pu_screen.c.
 *
 * Linear algebra goes through CBLAS/LAPACKE with 32-bit integers (the build
 * tag promises blasint=32), so every dimension handed to them is checked to
 * fit an int first. All memory comes from host->alloc and is released on
 * every path before returning.
 */
#include "pu_linear.h"

#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "pu.h"
#include "pu_screen.h"

/* A saved model larger than this many coefficients (all arms) is taken as
 * corrupt: its covariance alone would be PU_LINEAR_MAX_COEF^2 doubles
 * (512 MiB at 8192), far beyond any linear final stage we fit. */
#define PU_LINEAR_MAX_COEF 8192u
/* Effect-modifier columns a saved featurizer may claim. */
#define PU_LINEAR_MAX_PX 65536u

/* Relative pivot below which a Cholesky factor is taken as singular:
 * L_jj^2 / A_jj is 1 - R^2 of column j on the columns before it, so this
 * flags columns that are (numerically) linear combinations of the others,
 * which dpotrf alone would often let through with a tiny positive pivot. */
#define PU_COLLINEAR_TOL 1e-11

static double weight_at(const double *w, size_t i)
{
    return w ? w[i] : 1.0;
}

/* a * b without wrapping; 0 on overflow. */
static int mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

/* host->alloc of count doubles (at least one, so a 0-size request still gives
 * a pointer the caller can release); NULL on overflow or out of memory. */
static double *alloc_doubles(const tt_plugin_host *host, size_t count)
{
    size_t bytes;
    if (!mul_ok(count ? count : 1, sizeof(double), &bytes))
        return NULL;
    return host->alloc(bytes);
}

static double *alloc_doubles_zero(const tt_plugin_host *host, size_t count)
{
    if (count > SIZE_MAX / sizeof(double))
        return NULL;
    return host->alloc_zero(count ? count : 1, sizeof(double));
}

void pu_symmetrise_from_upper(double *a, size_t D)
{
    for (size_t j = 0; j < D; j++)
        for (size_t i = j + 1; i < D; i++)
            a[j * D + i] = a[i * D + j];
}

/* Average the two triangles: removes the rounding asymmetry of A B A. */
static void symmetrise_average(double *a, size_t D)
{
    for (size_t j = 0; j < D; j++)
        for (size_t i = j + 1; i < D; i++) {
            double v = 0.5 * (a[j * D + i] + a[i * D + j]);
            a[j * D + i] = v;
            a[i * D + j] = v;
        }
}

/* ---- featurizer ------------------------------------------------------------ */

size_t pu_phi_dim(const pu_phi *phi)
{
    size_t p = phi->p_x;
    size_t d = (phi->intercept ? 1u : 0u) + p;
    if (phi->poly2)
        d += p + p * (p - (p ? 1u : 0u)) / 2u;
    return d;
}

double *pu_phi_build(const tt_plugin_host *host, const pu_phi *phi, size_t n, const double *x)
{
    const size_t p = phi->p_x, d = pu_phi_dim(phi);
    size_t count;
    if (!mul_ok(n, d, &count))
        return NULL;
    double *out = alloc_doubles(host, count);
    if (!out)
        return NULL;
    size_t c = 0; /* next output column */
    if (phi->intercept) {
        for (size_t i = 0; i < n; i++)
            out[i] = 1.0;
        c++;
    }
    if (p)
        memcpy(out + c * n, x, n * p * sizeof(double));
    c += p;
    if (phi->poly2) {
        for (size_t j = 0; j < p; j++, c++)
            for (size_t i = 0; i < n; i++)
                out[c * n + i] = x[j * n + i] * x[j * n + i];
        for (size_t j = 0; j < p; j++)
            for (size_t l = j + 1; l < p; l++, c++)
                for (size_t i = 0; i < n; i++)
                    out[c * n + i] = x[j * n + i] * x[l * n + i];
    }
    return out;
}

/* ---- weighted OLS with the HC1 sandwich ------------------------------------ */

/* Shared argument checks of the two fitting functions. */
static int check_design(size_t n, size_t D, const double *w, char *err, size_t errlen)
{
    size_t nd;
    if (n > INT_MAX || D >= INT_MAX || !mul_ok(n, D + 1, &nd))
        return pu_errf(err, errlen, TT_ERR_INVALID,
                       "design of %zu rows x %zu columns is too large for 32-bit BLAS", n, D);
    if (w)
        for (size_t i = 0; i < n; i++)
            if (!(w[i] >= 0.0) || !isfinite(w[i]))
                return pu_errf(err, errlen, TT_ERR_INVALID,
                               "weight of row %zu is %g: weights must be finite and >= 0", i,
                               w[i]);
    return 0;
}

/* Cholesky factor (upper) of the D x D Gram a, in place. TT_ERR_NUMERIC
 * when a column is zero or Z'WZ is not positive definite. */
static int spd_factor(double *a, size_t D, char *err, size_t errlen)
{
    for (size_t j = 0; j < D; j++)
        if (!(a[j * D + j] > 0.0) || !isfinite(a[j * D + j]))
            return pu_errf(err, errlen, TT_ERR_NUMERIC,
                           "collinear columns: column %zu of the design is zero (or has zero "
                           "weight) so Z'WZ is singular",
                           j);
    lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)D, a, (lapack_int)D);
    if (info > 0)
        return pu_errf(err, errlen, TT_ERR_NUMERIC,
                       "collinear columns: Z'WZ is not positive definite (column %d depends on "
                       "the columns before it)",
                       (int)info - 1);
    if (info < 0)
        return pu_errf(err, errlen, TT_ERR_NUMERIC, "dpotrf rejected argument %d", (int)-info);
    return 0;
}

/* Weighted Gram A = Z'WZ (full, symmetric) into a, D x D. */
static void weighted_gram(size_t n, size_t D, const double *Z, const double *w, double *zw,
                          double *a)
{
    /* zw = diag(sqrt w) Z, so A = zw'zw (one dsyrk, no n x n weight matrix). */
    for (size_t j = 0; j < D; j++)
        for (size_t i = 0; i < n; i++)
            zw[j * n + i] = sqrt(weight_at(w, i)) * Z[j * n + i];
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)D, (int)n, 1.0, zw, (int)n, 0.0, a,
                (int)D);
    pu_symmetrise_from_upper(a, D);
}

/* Scratch of one OLS fit; released by ols_free. */
typedef struct ols_work {
    double *zw;   /* n x D: sqrt(w) Z, then the score rows w_i e_i z_i */
    double *a;    /* D x D: Z'WZ */
    double *ainv; /* D x D: its Cholesky factor, then its inverse */
    double *m;    /* D x D: the sandwich's meat */
    double *tmp;  /* D x D */
} ols_work;

static void ols_free(const tt_plugin_host *host, ols_work *o)
{
    host->release(o->zw);
    host->release(o->a);
    host->release(o->ainv);
    host->release(o->m);
    host->release(o->tmp);
}

/* beta = (Z'WZ)^-1 Z'W r and o->ainv = (Z'WZ)^-1, refusing collinear Z. */
static int ols_solve(ols_work *o, size_t n, size_t D, const double *Z, const double *r,
                     const double *w, double *beta, char *err, size_t errlen)
{
    weighted_gram(n, D, Z, w, o->zw, o->a);
    memcpy(o->ainv, o->a, D * D * sizeof(double));
    int rc = spd_factor(o->ainv, D, err, errlen);
    if (rc)
        return rc;
    /* The factor succeeded; still refuse near-exact collinearity, where the
     * pivot is rounding noise and the coefficients would be meaningless. */
    for (size_t j = 0; j < D; j++) {
        double l = o->ainv[j * D + j];
        if (l * l <= PU_COLLINEAR_TOL * o->a[j * D + j])
            return pu_errf(err, errlen, TT_ERR_NUMERIC,
                           "collinear columns: column %zu of the design is (numerically) a "
                           "linear combination of the columns before it",
                           j);
    }
    for (size_t j = 0; j < D; j++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += weight_at(w, i) * Z[j * n + i] * r[i];
        beta[j] = s;
    }
    lapack_int info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'U', (lapack_int)D, 1, o->ainv,
                                     (lapack_int)D, beta, (lapack_int)D);
    if (info == 0)
        info = LAPACKE_dpotri(LAPACK_COL_MAJOR, 'U', (lapack_int)D, o->ainv, (lapack_int)D);
    if (info != 0)
        return pu_errf(err, errlen, TT_ERR_NUMERIC,
                       "collinear columns: inverting Z'WZ failed (LAPACK info %d)", (int)info);
    pu_symmetrise_from_upper(o->ainv, D);
    return 0;
}

/* cov = n/(n-D) A^-1 M A^-1 with M = sum_i w_i^2 e_i^2 z_i z_i'. */
static void ols_sandwich(ols_work *o, size_t n, size_t D, const double *Z, const double *r,
                         const double *w, const double *beta, double *cov)
{
    /* M = G'G with row i of G = w_i e_i z_i' (zw is reused for G). */
    for (size_t i = 0; i < n; i++) {
        double fit = 0.0;
        for (size_t j = 0; j < D; j++)
            fit += Z[j * n + i] * beta[j];
        double s = weight_at(w, i) * (r[i] - fit);
        for (size_t j = 0; j < D; j++)
            o->zw[j * n + i] = s * Z[j * n + i];
    }
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)D, (int)n, 1.0, o->zw, (int)n, 0.0,
                o->m, (int)D);
    pu_symmetrise_from_upper(o->m, D);
    double scale = (double)n / (double)(n - D);
    cblas_dsymm(CblasColMajor, CblasLeft, CblasUpper, (int)D, (int)D, 1.0, o->ainv, (int)D, o->m,
                (int)D, 0.0, o->tmp, (int)D);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)D, (int)D, (int)D, scale, o->tmp,
                (int)D, o->ainv, (int)D, 0.0, cov, (int)D);
    symmetrise_average(cov, D);
}

/* OLS on a design of full column rank (after the screen). */
static int ols_full_rank(const tt_plugin_host *host, size_t n, size_t D, const double *Z,
                         const double *r, const double *w, double *beta, double *cov, char *err,
                         size_t errlen)
{
    int rc = 0;
    ols_work o = {.zw = alloc_doubles(host, n * D),
                  .a = alloc_doubles(host, D * D),
                  .ainv = alloc_doubles(host, D * D),
                  .m = alloc_doubles(host, D * D),
                  .tmp = alloc_doubles(host, D * D)};
    double *b = alloc_doubles(host, D); /* beta is written only on success */
    if (!o.zw || !o.a || !o.ainv || !o.m || !o.tmp || !b)
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory in OLS (%zu x %zu)", n, D);
    else
        rc = ols_solve(&o, n, D, Z, r, w, b, err, errlen);
    if (rc == 0) {
        ols_sandwich(&o, n, D, Z, r, w, b, cov);
        memcpy(beta, b, D * sizeof(double));
    }
    host->release(b);
    ols_free(host, &o);
    return rc;
}

int pu_ols_hc1(const tt_plugin_host *host, size_t n, size_t D, const double *Z, const double *r,
               const double *w, double *beta, double *cov, char *err, size_t errlen)
{
    int rc = check_design(n, D, w, err, errlen);
    if (rc)
        return rc;
    if (D == 0)
        return pu_errf(err, errlen, TT_ERR_INVALID, "OLS needs at least one column");
    /* Constant, duplicated and dependent columns (pu_screen.h) get
     * coefficient 0 instead of failing the fit. */
    unsigned char *keep = host->alloc(D);
    size_t m = 0;
    if (!keep)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory in OLS (%zu x %zu)", n, D);
    rc = pu_screen_columns(host, n, D, Z, w, 0, keep, &m, err, errlen);
    if (rc == 0 && m == 0)
        rc = pu_errf(err, errlen, TT_ERR_NUMERIC,
                     "collinear columns: every column of the design is zero (or has zero "
                     "weight)");
    if (rc == 0 && n <= m)
        rc = pu_errf(err, errlen, TT_ERR_NUMERIC,
                     "n rows <= D coefficients (%zu rows, %zu coefficients): the HC1 "
                     "sandwich needs more rows than coefficients",
                     n, m);
    if (rc == 0 && m == D) {
        rc = ols_full_rank(host, n, D, Z, r, w, beta, cov, err, errlen);
    } else if (rc == 0) {
        pu_screen_note(host, "OLS", D, keep, m);
        double *zk = alloc_doubles(host, n * m), *bk = alloc_doubles(host, m),
               *ck = alloc_doubles(host, m * m);
        if (!zk || !bk || !ck) {
            rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory in OLS (%zu x %zu)", n, m);
        } else {
            pu_screen_compact(n, D, Z, keep, zk);
            rc = ols_full_rank(host, n, m, zk, r, w, bk, ck, err, errlen);
            if (rc == 0)
                pu_screen_scatter(D, 0, keep, m, bk, ck, beta, cov);
        }
        host->release(zk);
        host->release(bk);
        host->release(ck);
    }
    host->release(keep);
    return rc;
}

/* ---- the fitted effect model ------------------------------------------------ */

/* Coefficients of all arms, d (K-1), overflow- and size-checked. */
static int model_size(const pu_phi *phi, int n_arms, size_t *d, size_t *total, char *err,
                      size_t errlen)
{
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, "a linear effect model needs >= 2 arms, got %d",
                       n_arms);
    if (phi->p_x > PU_LINEAR_MAX_PX)
        return pu_errf(err, errlen, TT_ERR_INVALID, "too many effect modifiers (%zu)", phi->p_x);
    *d = pu_phi_dim(phi);
    if (*d == 0)
        return pu_errf(err, errlen, TT_ERR_INVALID,
                       "the featurizer has no columns (no intercept and no effect modifiers)");
    if (!mul_ok(*d, (size_t)(n_arms - 1), total) || *total > PU_LINEAR_MAX_COEF)
        return pu_errf(err, errlen, TT_ERR_INVALID,
                       "linear effect model too large: %zu features x %d treated arms", *d,
                       n_arms - 1);
    return 0;
}

int pu_linear_init(pu_linear *m, const tt_plugin_host *host, const pu_phi *phi, int n_arms,
                   char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    size_t d = 0, total = 0; /* set by model_size; zeroed for gcc -O3 */
    int rc = model_size(phi, n_arms, &d, &total, err, errlen);
    if (rc)
        return rc;
    m->host = host;
    m->phi = *phi;
    m->n_arms = n_arms;
    m->d = d;
    m->beta = alloc_doubles_zero(host, total);
    m->cov = alloc_doubles_zero(host, total * total);
    if (!m->beta || !m->cov) {
        pu_linear_free(m);
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory for a linear model of %zu "
                       "coefficients", total);
    }
    return 0;
}

void pu_linear_free(pu_linear *m)
{
    if (!m || !m->host)
        return;
    m->host->release(m->beta);
    m->host->release(m->cov);
    m->beta = NULL;
    m->cov = NULL;
}

/* phi(rows->x) after checking the rows match the model; *phi_out NULL when
 * there are no rows. */
static int rows_phi(const pu_linear *m, const tt_plugin_data *rows, double **phi_out, char *err,
                    size_t errlen)
{
    *phi_out = NULL;
    if (rows->p_x != m->phi.p_x)
        return pu_errf(err, errlen, TT_ERR_INVALID,
                       "rows have %zu effect modifiers but the linear model was fitted on %zu",
                       rows->p_x, m->phi.p_x);
    if (rows->n == 0)
        return 0;
    if (rows->n > INT_MAX)
        return pu_errf(err, errlen, TT_ERR_INVALID, "too many rows (%zu) for 32-bit BLAS",
                       rows->n);
    *phi_out = pu_phi_build(m->host, &m->phi, rows->n, rows->x);
    if (!*phi_out)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory building phi for %zu rows",
                       rows->n);
    return 0;
}

static int check_alpha(double alpha, char *err, size_t errlen)
{
    if (!(alpha > 0.0 && alpha < 1.0))
        return pu_errf(err, errlen, TT_ERR_INVALID, "alpha must be in (0, 1), got %g", alpha);
    return 0;
}

int pu_linear_effect(const pu_linear *m, const tt_plugin_data *rows, double *out, char *err,
                     size_t errlen)
{
    double *phi;
    int rc = rows_phi(m, rows, &phi, err, errlen);
    if (rc || !phi)
        return rc;
    const int n = (int)rows->n, d = (int)m->d, k = m->n_arms - 1;
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, k, d, 1.0, phi, n, m->beta, d,
                0.0, out, n);
    m->host->release(phi);
    return 0;
}

int pu_linear_interval(const pu_linear *m, const tt_plugin_data *rows, double alpha, double *lo,
                       double *hi, char *err, size_t errlen)
{
    int rc = check_alpha(alpha, err, errlen);
    if (rc)
        return rc;
    double *phi;
    rc = rows_phi(m, rows, &phi, err, errlen);
    if (rc || !phi)
        return rc;
    const size_t n = rows->n, d = m->d, K1 = (size_t)m->n_arms - 1, ld = d * K1;
    double *t = alloc_doubles(m->host, n * d);
    if (!t) {
        m->host->release(phi);
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory for intervals of %zu rows", n);
    }
    const double z = pu_normal_quantile(1.0 - alpha / 2.0);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)K1, (int)d, 1.0, phi,
                (int)n, m->beta, (int)d, 0.0, lo, (int)n);
    for (size_t k = 0; k < K1; k++) {
        /* t = Phi V_kk; var_i = sum_j t_ij Phi_ij. */
        const double *vkk = m->cov + (k * d) * ld + k * d;
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)d, (int)d, 1.0, phi,
                    (int)n, vkk, (int)ld, 0.0, t, (int)n);
        for (size_t i = 0; i < n; i++) {
            double v = 0.0;
            for (size_t j = 0; j < d; j++)
                v += t[j * n + i] * phi[j * n + i];
            double half = z * sqrt(v > 0.0 ? v : 0.0); /* rounding can make v < 0 */
            double th = lo[k * n + i];
            lo[k * n + i] = th - half;
            hi[k * n + i] = th + half;
        }
    }
    m->host->release(t);
    m->host->release(phi);
    return 0;
}

int pu_linear_average(const pu_linear *m, const tt_plugin_data *rows, double alpha, double *ate,
                      double *lo, double *hi, char *err, size_t errlen)
{
    int rc = check_alpha(alpha, err, errlen);
    if (rc)
        return rc;
    if (rows->n == 0)
        return pu_errf(err, errlen, TT_ERR_INVALID, "average effect over zero rows");
    double *phi;
    rc = rows_phi(m, rows, &phi, err, errlen);
    if (rc)
        return rc;
    const size_t n = rows->n, d = m->d, K1 = (size_t)m->n_arms - 1, ld = d * K1;
    double *bar = alloc_doubles(m->host, d);
    if (!bar) {
        m->host->release(phi);
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory for the average effect");
    }
    pu_column_means(phi, n, d, bar);
    m->host->release(phi);
    const double z = pu_normal_quantile(1.0 - alpha / 2.0);
    for (size_t k = 0; k < K1; k++) {
        const double *b = m->beta + k * d, *vkk = m->cov + (k * d) * ld + k * d;
        double th = 0.0, v = 0.0;
        for (size_t j = 0; j < d; j++) {
            th += bar[j] * b[j];
            for (size_t l = 0; l < d; l++)
                v += bar[j] * vkk[l * ld + j] * bar[l];
        }
        double half = z * sqrt(v > 0.0 ? v : 0.0);
        ate[k] = th;
        lo[k] = th - half;
        hi[k] = th + half;
    }
    m->host->release(bar);
    return 0;
}

/* ---- save / load ------------------------------------------------------------- */

int pu_linear_save(const pu_linear *m, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    size_t total = m->d * (size_t)(m->n_arms - 1);
    if (pu_writef(sink, "pu_linear 1\n") || pu_writef(sink, "intercept %d\n", m->phi.intercept) ||
        pu_writef(sink, "poly2 %d\n", m->phi.poly2) || pu_writef(sink, "p_x %zu\n", m->phi.p_x) ||
        pu_writef(sink, "n_arms %d\n", m->n_arms) ||
        pu_write_doubles(sink, "beta", m->beta, total) ||
        pu_write_doubles(sink, "cov", m->cov, total * total))
        return pu_errf(err, errlen, TT_ERR_IO, "writing the linear model failed");
    return 0;
}

/* Reads "key v" with v in [lo, hi]. */
static int read_bounded(const tt_plugin_source *src, const char *key, long lo, long hi, long *v,
                        char *err, size_t errlen)
{
    if (pu_read_long(src, key, v) != 0 || *v < lo || *v > hi)
        return pu_errf(err, errlen, TT_ERR_PARSE,
                       "linear model: expected a line \"%s <integer in [%ld, %ld]>\"", key, lo,
                       hi);
    return 0;
}

int pu_linear_load(pu_linear *m, const tt_plugin_host *host, const tt_plugin_source *src,
                   char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    long version, intercept, poly2, p_x, n_arms;
    int rc = read_bounded(src, "pu_linear", 1, 1, &version, err, errlen);
    if (!rc)
        rc = read_bounded(src, "intercept", 0, 1, &intercept, err, errlen);
    if (!rc)
        rc = read_bounded(src, "poly2", 0, 1, &poly2, err, errlen);
    if (!rc)
        rc = read_bounded(src, "p_x", 0, PU_LINEAR_MAX_PX, &p_x, err, errlen);
    if (!rc)
        rc = read_bounded(src, "n_arms", 2, PU_LINEAR_MAX_COEF + 1, &n_arms, err, errlen);
    if (rc)
        return rc;
    pu_phi phi = {.intercept = (int)intercept, .poly2 = (int)poly2, .p_x = (size_t)p_x};
    size_t d = 0, total = 0; /* set by model_size; zeroed for gcc -O3 */
    if (model_size(&phi, (int)n_arms, &d, &total, err, errlen) != 0)
        return TT_ERR_PARSE; /* the message says what is out of range */
    m->host = host;
    m->phi = phi;
    m->n_arms = (int)n_arms;
    m->d = d;
    /* beta first: the covariance (total^2 values) is only allocated once a
     * beta line of exactly total values has confirmed the counts. */
    m->beta = alloc_doubles(host, total);
    if (!m->beta) {
        pu_linear_free(m);
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory loading a linear model");
    }
    if (pu_read_doubles(src, "beta", m->beta, total) != 0) {
        pu_linear_free(m);
        return pu_errf(err, errlen, TT_ERR_PARSE,
                       "linear model: expected a line \"beta\" with %zu values", total);
    }
    m->cov = alloc_doubles(host, total * total);
    if (!m->cov) {
        pu_linear_free(m);
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory loading a linear model");
    }
    if (pu_read_doubles(src, "cov", m->cov, total * total) != 0) {
        pu_linear_free(m);
        return pu_errf(err, errlen, TT_ERR_PARSE,
                       "linear model: expected a line \"cov\" with %zu values", total * total);
    }
    return 0;
}
