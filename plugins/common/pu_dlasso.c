/*
 * pu_dlasso.c - the debiased (desparsified) lasso of pu_linear.h.
 *
 * b_j = beta_j + zr_j'W(r - 1 b0 - Z beta) / (zr_j'W Z_j) with zr_j a
 * "nodewise" residual of column j on the other columns. The original
 * recipe fits one cross-validated lasso of Z_j on Z_-j per column; on poly2
 * designs (231 columns at 20 features) that is 231 cross-validated lassos,
 * each forming its own Gram matrix, and took minutes. Here every zr_j comes
 * from one regularised inverse of the centred weighted Gram matrix G:
 *   Theta = (G + lambda diag(G))^-1,  zr_j = Zc Theta_.j / Theta_jj,
 * which is exactly the residual of a ridge regression of Z_j on Z_-j with
 * penalty lambda diag(G)_-j (block inversion of G + lambda diag(G)). Cost:
 * one O(n D^2) Gram, one O(D^3) inverse and one O(n D^2) product.
 *
 * lambda = PU_DL_RIDGE_C (pu_linear.h) sqrt(log(m + 1) / n), m the kept
 * columns, on the relative scale of diag(G) (the sqrt(log p / n) rate of
 * nodewise penalties, van de Geer et al. 2014). It only stabilises: the debiasing bias is
 * zr_j'W Z_-j (beta_-j - beta_hat_-j) / den, and zr_j'W Z_-j = lambda W
 * diag(G)_-j gamma_j by the ridge's first-order condition, so a small lambda
 * keeps it small, while lambda -> 0 gives OLS on [1, Z] exactly. Dropped
 * collinear columns (pu_screen.h) keep G well conditioned.
 *
 * The variance is the sandwich of the same influence functions,
 * psi_ij = w_i zr_ij e_i / den_j, HC1-scaled, as before.
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

static double weight_at(const double *w, size_t i)
{
    return w ? w[i] : 1.0;
}

/* Scratch of one fit; every pointer is released by dl_free. */
typedef struct dl_work {
    const tt_plugin_host *host;
    tt_learner *lasso;
    unsigned char *keep; /* D: the screen's kept columns */
    double *zk;          /* n x m: the kept columns (NULL: Z itself) */
    double *zc;          /* n x m: kept columns minus their weighted means */
    double *zr;          /* n x m: sqrt(w) zc, then the nodewise residuals */
    double *g;           /* m x m: centred Gram, then Theta */
    double *probe;       /* (m + 1) x m probe rows for the lasso coefficients */
    double *pred;        /* max(n, m + 1) predictions */
    double *e;           /* n lasso residuals */
    double *psi;         /* n x (m + 1) influence functions */
    double *zbar;        /* m weighted means */
    double *bk, *ck;     /* m + 1 coefficients, (m + 1)^2 covariance */
} dl_work;

static void dl_free(dl_work *s)
{
    const tt_plugin_host *h = s->host;
    h->learner_destroy(s->lasso);
    void *p[] = {s->keep, s->zk, s->zc, s->zr, s->g, s->probe, s->pred, s->e, s->psi,
                 s->zbar, s->bk, s->ck};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        h->release(p[i]);
}

static double *alloc_n(const tt_plugin_host *h, size_t a, size_t b)
{
    if (b && a > SIZE_MAX / sizeof(double) / b)
        return NULL;
    size_t c = a * b;
    return h->alloc(sizeof(double) * (c ? c : 1));
}

static int dl_alloc(dl_work *s, size_t n, size_t m)
{
    const tt_plugin_host *h = s->host;
    s->zc = alloc_n(h, n, m);
    s->zr = alloc_n(h, n, m);
    s->g = alloc_n(h, m, m);
    s->probe = alloc_n(h, m + 1, m);
    s->pred = alloc_n(h, n > m + 1 ? n : m + 1, 1);
    s->e = alloc_n(h, n, 1);
    s->psi = alloc_n(h, n, m + 1);
    s->zbar = alloc_n(h, m, 1);
    s->bk = alloc_n(h, m + 1, 1);
    s->ck = alloc_n(h, m + 1, m + 1);
    return s->zc && s->zr && s->g && s->probe && s->pred && s->e && s->psi && s->zbar &&
           s->bk && s->ck;
}

/* The host lasso (alpha by cross-validation) of r on x (n x m), then its
 * coefficients: it is affine in its input, so b0 = f(0), b_j = f(e_j) - b0
 * from one predict call on m + 1 probe rows. */
static int lasso_step(dl_work *s, size_t n, size_t m, const double *x, const double *r,
                      const double *w, char *err, size_t errlen)
{
    const tt_plugin_host *h = s->host;
    /* Inference needs the coefficients to a few digits, not the core's
     * default 1e-10 sweep tolerance. The path stops at 1 % of the largest
     * penalty: below it, on designs about as wide as they are long (poly2 on
     * IHDP: 523 rows, 330 columns) coordinate descent needed thousands of
     * sweeps per penalty, and the debiasing step corrects the shrinkage. */
    static const char *const keys[] = {"tol", "n_alphas", "eps"};
    static const double values[] = {1e-7, 50, 1e-2};
    int rc = h->learner_create(h->host_ctx, "lasso", keys, values, 3, &s->lasso, err, errlen);
    if (rc == 0)
        rc = h->learner_fit(s->lasso, n, m, x, r, w, err, errlen);
    if (rc)
        return rc;
    const size_t q = m + 1;
    memset(s->probe, 0, q * m * sizeof(double));
    for (size_t j = 0; j < m; j++)
        s->probe[j * q + j + 1] = 1.0;
    rc = h->learner_predict(s->lasso, q, m, s->probe, s->pred, err, errlen);
    if (rc)
        return rc;
    s->bk[0] = s->pred[0];
    for (size_t j = 0; j < m; j++)
        s->bk[j + 1] = s->pred[j + 1] - s->pred[0];
    return 0;
}

/* zr = Zc Theta diag(1 / Theta_jj) with Theta = (G + lambda diag G)^-1, G
 * the centred weighted Gram / W. Fills zbar and zc on the way. */
static int nodewise_residuals(dl_work *s, size_t n, size_t m, const double *x, const double *w,
                              double W, char *err, size_t errlen)
{
    for (size_t j = 0; j < m; j++) {
        const double *col = x + j * n;
        double mean = 0.0;
        for (size_t i = 0; i < n; i++)
            mean += weight_at(w, i) * col[i];
        s->zbar[j] = mean / W;
        for (size_t i = 0; i < n; i++) {
            s->zc[j * n + i] = col[i] - s->zbar[j];
            s->zr[j * n + i] = sqrt(weight_at(w, i)) * s->zc[j * n + i];
        }
    }
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)m, (int)n, 1.0 / W, s->zr, (int)n,
                0.0, s->g, (int)m);
    const double lambda = PU_DL_RIDGE_C * sqrt(log((double)m + 1.0) / (double)n);
    for (size_t j = 0; j < m; j++)
        s->g[j * m + j] *= 1.0 + lambda;
    lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)m, s->g, (lapack_int)m);
    if (info == 0)
        info = LAPACKE_dpotri(LAPACK_COL_MAJOR, 'U', (lapack_int)m, s->g, (lapack_int)m);
    if (info != 0)
        return pu_errf(err, errlen, TT_ERR_NUMERIC,
                       "debiased lasso: the regularised Gram matrix is singular (LAPACK info "
                       "%d)",
                       (int)info);
    /* Full symmetric Theta, each column divided by its diagonal. */
    for (size_t j = 0; j < m; j++)
        for (size_t i = j + 1; i < m; i++)
            s->g[j * m + i] = s->g[i * m + j];
    for (size_t j = 0; j < m; j++) {
        const double d = s->g[j * m + j];
        for (size_t i = 0; i < m; i++)
            s->g[j * m + i] /= d;
    }
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)m, (int)m, 1.0, s->zc,
                (int)n, s->g, (int)m, 0.0, s->zr, (int)n);
    return 0;
}

/* One-step debiasing of every column and the influence functions. */
static int debias(dl_work *s, size_t n, size_t m, const double *w, char *err, size_t errlen)
{
    for (size_t j = 0; j < m; j++) {
        const double *zr = s->zr + j * n, *zc = s->zc + j * n;
        double den = 0.0, num = 0.0, ss = 0.0;
        for (size_t i = 0; i < n; i++) {
            double wi = weight_at(w, i);
            den += wi * zr[i] * zc[i];
            num += wi * zr[i] * s->e[i];
            ss += wi * zc[i] * zc[i];
        }
        /* den / ss is 1 - R^2 of column j on the others; the screen removed
         * the columns where it vanishes, so this is a guard, not a path. */
        if (!(ss > 0.0) || !(den > 1e-10 * ss) || !isfinite(den))
            return pu_errf(err, errlen, TT_ERR_NUMERIC,
                           "debiased lasso: column %zu has no variation apart from the other "
                           "columns (zr'WZ = %g)",
                           j, den);
        s->bk[j + 1] += num / den;
        double *psi = s->psi + (j + 1) * n;
        for (size_t i = 0; i < n; i++)
            psi[i] = weight_at(w, i) * zr[i] * s->e[i] / den;
    }
    return 0;
}

/* Checks of the arguments; W: the weight total. */
static int check_args(size_t n, size_t D, const double *w, double *W, char *err, size_t errlen)
{
    if (n > INT_MAX || D >= INT_MAX - 1 || (D && n > SIZE_MAX / sizeof(double) / (D + 1)))
        return pu_errf(err, errlen, TT_ERR_INVALID,
                       "design of %zu rows x %zu columns is too large for 32-bit BLAS", n, D);
    *W = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!(weight_at(w, i) >= 0.0) || !isfinite(weight_at(w, i)))
            return pu_errf(err, errlen, TT_ERR_INVALID,
                           "weight of row %zu is %g: weights must be finite and >= 0", i, w[i]);
        *W += weight_at(w, i);
    }
    if (n <= D + 1)
        return pu_errf(err, errlen, TT_ERR_NUMERIC,
                       "n rows <= D coefficients (%zu rows, %zu coefficients with the "
                       "intercept): the debiased lasso needs more rows than coefficients",
                       n, D + 1);
    if (!(*W > 0.0))
        return pu_errf(err, errlen, TT_ERR_INVALID, "debiased lasso: the weights sum to zero");
    return 0;
}

/* The fit on the m kept columns x: s->bk (m + 1) and s->ck ((m + 1)^2). */
static int fit_kept(dl_work *s, size_t n, size_t m, const double *x, const double *r,
                    const double *w, double W, char *err, size_t errlen)
{
    const tt_plugin_host *h = s->host;
    int rc = 0;
    if (m > 0) {
        rc = lasso_step(s, n, m, x, r, w, err, errlen);
    } else {
        double b0 = 0.0;
        for (size_t i = 0; i < n; i++)
            b0 += weight_at(w, i) * r[i];
        s->bk[0] = b0 / W;
    }
    if (rc == 0 && h->should_stop && h->should_stop(h->host_ctx))
        rc = pu_errf(err, errlen, TT_ERR_STOPPED, "debiased lasso stopped by the host");
    if (rc == 0 && m > 0)
        rc = nodewise_residuals(s, n, m, x, w, W, err, errlen);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        double fit = s->bk[0];
        for (size_t j = 0; j < m; j++)
            fit += x[j * n + i] * s->bk[1 + j];
        s->e[i] = r[i] - fit;
    }
    if ((rc = debias(s, n, m, w, err, errlen)) != 0)
        return rc;
    /* Intercept: weighted mean of r - Z b; its influence is the mean's own
     * minus zbar' times the slopes'. */
    double c0 = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = r[i];
        for (size_t j = 0; j < m; j++)
            v -= x[j * n + i] * s->bk[1 + j];
        c0 += weight_at(w, i) * v;
    }
    s->bk[0] = c0 / W;
    for (size_t i = 0; i < n; i++) {
        double v = weight_at(w, i) * s->e[i] / W;
        for (size_t j = 0; j < m; j++)
            v -= s->zbar[j] * s->psi[(j + 1) * n + i];
        s->psi[i] = v;
    }
    /* cov = n/(n - m - 1) Psi'Psi. */
    const size_t q = m + 1;
    const double scale = (double)n / (double)(n - q);
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)q, (int)n, scale, s->psi, (int)n,
                0.0, s->ck, (int)q);
    for (size_t j = 0; j < q; j++)
        for (size_t i = j + 1; i < q; i++)
            s->ck[j * q + i] = s->ck[i * q + j];
    return 0;
}

int pu_debiased_lasso(const tt_plugin_host *host, size_t n, size_t D, const double *Z,
                      const double *r, const double *w, double *beta, double *cov, char *err,
                      size_t errlen)
{
    double W = 0.0;
    int rc = check_args(n, D, w, &W, err, errlen);
    if (rc)
        return rc;
    dl_work s = {.host = host};
    size_t m = 0;
    s.keep = host->alloc(D + 1);
    if (!s.keep) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory in the debiased lasso");
        goto done;
    }
    if ((rc = pu_screen_columns(host, n, D, Z, w, 1, s.keep, &m, err, errlen)) != 0)
        goto done;
    pu_screen_note(host, "debiased lasso", D, s.keep, m);
    const double *x = Z;
    if (m < D) {
        if (!(s.zk = alloc_n(host, n, m))) {
            rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory in the debiased lasso");
            goto done;
        }
        pu_screen_compact(n, D, Z, s.keep, s.zk);
        x = s.zk;
    }
    if (!dl_alloc(&s, n, m)) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory in the debiased lasso (%zu x %zu)",
                     n, m);
        goto done;
    }
    if ((rc = fit_kept(&s, n, m, x, r, w, W, err, errlen)) == 0)
        pu_screen_scatter(D, 1, s.keep, m, s.bk, s.ck, beta, cov);
done:
    dl_free(&s);
    return rc;
}
