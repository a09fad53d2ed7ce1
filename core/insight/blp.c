/*
 * blp.c - least squares with sandwich standard errors, the best linear
 * projection and the calibration test (see blp.h).
 *
 * One QR factorisation does all the work. With the weighted design
 * A~ = diag(sqrt w) A, scaled to unit columns (A~ = Q R D, D the column
 * norms), everything the sandwich needs is in Q and R:
 *   (A'WA)^-1          = D^-1 R^-1 R^-T D^-1
 *   h_ii               = |Q_i|^2                    (row i of the thin Q)
 *   V = G^-1 M G^-1    = D^-1 R^-1 [sum_i d_i Q_i' Q_i] R^-T D^-1,
 * with d_i = w_i e_i^2 (HC0, HC1) or w_i e_i^2 / (1 - h_ii)^2 (HC3), because
 * G^-1 sqrt(w_i) a_i = D^-1 R^-1 Q_i'. The normal equations are never
 * formed, so the condition number is not squared.
 */
#include "insight/blp.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linalg/linalg.h"
#include "util/dist.h"
#include "util/err.h"
#include "util/mem.h"

/* An equilibrated (unit-length) column that keeps less than this length once
 * the columns before it are projected out (|R_jj|: the sine of its angle to
 * their span) is taken to be a linear combination of them. Exact duplicates
 * land near 1e-16; genuinely distinct regressors far above. */
#define COLLINEAR_TOL 1e-10
/* The equilibrated R's reciprocal condition number below which the design is
 * refused as a whole: the coefficients would keep fewer than ~4 digits. */
#define RCOND_MIN 1e-12
/* HC3 divides by 1 - h_ii: a leverage this close to 1 means the row alone
 * fixes a coefficient and the correction is meaningless. */
#define LEVERAGE_MAX (1.0 - 1e-10)

const char *tt_hc_name(tt_hc_type hc)
{
    switch (hc) {
    case TT_HC0:
        return "HC0";
    case TT_HC1:
        return "HC1";
    case TT_HC3:
        return "HC3";
    }
    return "?";
}

void tt_ols_result_free(tt_ols_result *r)
{
    if (!r)
        return;
    free(r->coef); /* the block that also holds se, t, p and vcov */
    memset(r, 0, sizeof *r);
}

/* ---- least squares with a sandwich --------------------------------------- */

static void label(char *buf, size_t len, const char *const *names, size_t j)
{
    if (names && names[j])
        snprintf(buf, len, "'%s'", names[j]);
    else
        snprintf(buf, len, "%zu", j);
}

static tt_status lapack_status(lapack_int info, const char *what, char *err, size_t errlen)
{
    if (info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for LAPACK %s workspace", what);
    return tt_errf(err, errlen, TT_ERR_NUMERIC, "LAPACK %s failed (info %d)", what, (int)info);
}

/* The whole fit. row_id (n, may be NULL) maps design rows to the caller's
 * row numbers for messages. Validation of values is the callers' (they name
 * rows and columns in their own terms). */
static tt_status ols_fit(size_t n, size_t q, const double *a, const double *y, const double *w,
                         const char *const *names, const size_t *row_id, tt_hc_type hc,
                         tt_ols_result *out, char *err, size_t errlen)
{
    tt_status st = tt_linalg_check_dims(n, q, err, errlen);
    if (st != TT_OK)
        return st;
    size_t n_pos = 0;
    for (size_t i = 0; i < n; i++)
        n_pos += !w || w[i] > 0.0;
    if (n_pos <= q)
        return tt_errf(err, errlen, TT_ERR_DATA,
                       "%zu rows of positive weight for %zu regressors: least squares needs "
                       "more rows than regressors",
                       n_pos, q);

    double *qa = tt_malloc_array(n * q, sizeof *qa);    /* A~, then Q */
    double *col = tt_malloc_array(2 * n, sizeof *col);  /* sqrt(w), then residuals */
    double *small = tt_malloc_array(q * (2 * q + 3), sizeof *small);
    double *block = tt_malloc_array(q * (q + 4), sizeof *block);
    if (!qa || !col || !small || !block) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for a %zu x %zu least-squares fit", n,
                     q);
        goto done;
    }
    double *sw = col, *e = col + n;
    double *r = small, *s = small + q * q, *norm = s + q * q, *tau = norm + q, *c = tau + q;
    char lab[96];

    for (size_t i = 0; i < n; i++)
        sw[i] = w ? sqrt(w[i]) : 1.0;
    for (size_t j = 0; j < q; j++) {
        const double *aj = a + j * n;
        double *dj = qa + j * n;
        for (size_t i = 0; i < n; i++)
            dj[i] = sw[i] * aj[i];
        norm[j] = cblas_dnrm2((int)n, dj, 1); /* scaled: no overflow for huge values */
        if (norm[j] == 0.0) {
            label(lab, sizeof lab, names, j);
            st = tt_errf(err, errlen, TT_ERR_NUMERIC,
                         "the design is singular: regressor %s is zero on every row of "
                         "positive weight",
                         lab);
            goto done;
        }
        cblas_dscal((int)n, 1.0 / norm[j], dj, 1);
    }

    const lapack_int ln = (lapack_int)n, lq = (lapack_int)q;
    lapack_int info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, ln, lq, qa, ln, tau);
    if (info != 0) {
        st = lapack_status(info, "dgeqrf", err, errlen);
        goto done;
    }
    for (size_t j = 0; j < q; j++)
        for (size_t i = 0; i < q; i++)
            r[j * q + i] = i <= j ? qa[j * n + i] : 0.0;
    for (size_t j = 1; j < q; j++) {
        if (fabs(r[j * q + j]) < COLLINEAR_TOL) {
            label(lab, sizeof lab, names, j);
            st = tt_errf(err, errlen, TT_ERR_NUMERIC,
                         "the design is singular: regressor %s is (numerically) a linear "
                         "combination of the regressors before it; drop it or the columns it "
                         "repeats",
                         lab);
            goto done;
        }
    }
    double rcond = 0.0;
    info = LAPACKE_dtrcon(LAPACK_COL_MAJOR, '1', 'U', 'N', lq, r, lq, &rcond);
    if (info != 0) {
        st = lapack_status(info, "dtrcon", err, errlen);
        goto done;
    }
    if (rcond < RCOND_MIN) {
        st = tt_errf(err, errlen, TT_ERR_NUMERIC,
                     "the design is numerically singular (reciprocal condition %.3g with "
                     "columns scaled to unit length): some regressors are nearly collinear",
                     rcond);
        goto done;
    }
    info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, ln, lq, lq, qa, ln, tau);
    if (info != 0) {
        st = lapack_status(info, "dorgqr", err, errlen);
        goto done;
    }

    /* Coefficients: R (D b) = Q' sqrt(W) y. */
    for (size_t i = 0; i < n; i++)
        e[i] = sw[i] * y[i];
    cblas_dgemv(CblasColMajor, CblasTrans, (int)n, (int)q, 1.0, qa, (int)n, e, 1, 0.0, c, 1);
    cblas_dtrsv(CblasColMajor, CblasUpper, CblasNoTrans, CblasNonUnit, (int)q, r, (int)q, c, 1);

    out->coef = block;
    out->se = block + q;
    out->t = block + 2 * q;
    out->p = block + 3 * q;
    out->vcov = block + 4 * q;
    block = NULL;
    for (size_t j = 0; j < q; j++)
        out->coef[j] = c[j] / norm[j];

    /* Residuals on the original scale, from the data rather than from Q. */
    memcpy(e, y, n * sizeof *e);
    cblas_dgemv(CblasColMajor, CblasNoTrans, (int)n, (int)q, -1.0, a, (int)n, out->coef, 1, 1.0,
                e, 1);

    /* Row i of Q scaled by sqrt(d_i) = sqrt(w_i) |e_i| [/ (1 - h_ii)]; rows of
     * weight 0 are zero in Q already and stay so. */
    double max_h = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (sw[i] == 0.0)
            continue;
        double h = 0.0;
        for (size_t j = 0; j < q; j++)
            h += qa[j * n + i] * qa[j * n + i];
        if (h > max_h)
            max_h = h;
        double f = sw[i] * fabs(e[i]);
        if (hc == TT_HC3) {
            if (h > LEVERAGE_MAX) {
                st = tt_errf(err, errlen, TT_ERR_NUMERIC,
                             "row %zu has leverage %.12g: it alone fixes a coefficient, so HC3 "
                             "(which divides by 1 - leverage) is undefined; use HC0 or HC1, "
                             "or drop the row",
                             row_id ? row_id[i] : i, h);
                goto done;
            }
            f /= 1.0 - h;
        }
        for (size_t j = 0; j < q; j++)
            qa[j * n + i] *= f;
    }
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)q, (int)n, 1.0, qa, (int)n, 0.0, s,
                (int)q);
    for (size_t j = 0; j < q; j++)
        for (size_t i = j + 1; i < q; i++)
            s[j * q + i] = s[i * q + j];

    /* R^-1 S R^-T in place of S, with R^-1 from the triangle in r. */
    info = LAPACKE_dtrtri(LAPACK_COL_MAJOR, 'U', 'N', lq, r, lq);
    if (info != 0) {
        st = lapack_status(info, "dtrtri", err, errlen);
        goto done;
    }
    cblas_dtrmm(CblasColMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, (int)q, (int)q,
                1.0, r, (int)q, s, (int)q);
    cblas_dtrmm(CblasColMajor, CblasRight, CblasUpper, CblasTrans, CblasNonUnit, (int)q, (int)q,
                1.0, r, (int)q, s, (int)q);

    const double dof = (double)(n_pos - q);
    const double adj = hc == TT_HC1 ? (double)n_pos / dof : 1.0;
    for (size_t j = 0; j < q; j++)
        for (size_t k = 0; k < q; k++) {
            /* average the two triangles: the products above are symmetric
             * only up to rounding */
            const double v = 0.5 * (s[k * q + j] + s[j * q + k]);
            out->vcov[k * q + j] = adj * v / (norm[j] * norm[k]);
        }
    for (size_t j = 0; j < q; j++) {
        out->se[j] = sqrt(out->vcov[j * q + j]);
        out->t[j] = out->coef[j] / out->se[j];
        out->p[j] = 2.0 * tt_student_t_sf(fabs(out->t[j]), dof); /* = the two-sided tail */
    }
    out->n = n_pos;
    out->q = q;
    out->df = dof;
    out->hc = hc;
    out->max_leverage = max_h;

done:
    if (st != TT_OK)
        tt_ols_result_free(out);
    free(qa);
    free(col);
    free(small);
    free(block);
    return st;
}

static int hc_known(tt_hc_type hc)
{
    return hc == TT_HC0 || hc == TT_HC1 || hc == TT_HC3;
}

tt_status tt_ols_hc(size_t n, size_t q, const double *a, const double *y, const double *w,
                    const char *const *names, tt_hc_type hc, tt_ols_result *out, char *err,
                    size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_ols_hc: out is NULL");
    memset(out, 0, sizeof *out);
    if (q == 0 || !a || !y)
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "tt_ols_hc: needs at least one regressor and the arrays a and y");
    if (!hc_known(hc))
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_ols_hc: unknown sandwich type %d",
                       (int)hc);
    char lab[96];
    for (size_t i = 0; i < n; i++) {
        if (w && !isfinite(w[i]))
            return tt_errf(err, errlen, TT_ERR_DATA, "tt_ols_hc: weight at row %zu is %g", i,
                           w[i]);
        if (w && w[i] < 0.0)
            return tt_errf(err, errlen, TT_ERR_INVALID,
                           "tt_ols_hc: weight at row %zu is %g; weights must be >= 0", i, w[i]);
        if (!isfinite(y[i]))
            return tt_errf(err, errlen, TT_ERR_DATA, "tt_ols_hc: y at row %zu is %g", i, y[i]);
    }
    for (size_t j = 0; j < q; j++)
        for (size_t i = 0; i < n; i++)
            if (!isfinite(a[j * n + i])) {
                label(lab, sizeof lab, names, j);
                return tt_errf(err, errlen, TT_ERR_DATA, "tt_ols_hc: regressor %s at row %zu is %g",
                               lab, i, a[j * n + i]);
            }
    tt_status st = ols_fit(n, q, a, y, w, names, NULL, hc, out, err, errlen);
    if (st != TT_OK)
        tt_err_prefix(err, errlen, "tt_ols_hc");
    return st;
}

/* ---- best linear projection ---------------------------------------------- */

tt_status tt_blp_fit(const tt_blp_input *in, tt_ols_result *out, char *err, size_t errlen)
{
    if (!out || !in)
        return tt_errf(err, errlen, TT_ERR_INVALID, "blp: input or output is NULL");
    memset(out, 0, sizeof *out);
    if (!in->gamma || (in->p > 0 && !in->x) || (in->cols && in->n_cols > 0 && in->p == 0))
        return tt_errf(err, errlen, TT_ERR_INVALID, "blp: the scores gamma (and x when p > 0) "
                                                    "are required");
    if (!hc_known(in->hc))
        return tt_errf(err, errlen, TT_ERR_INVALID, "blp: unknown sandwich type %d",
                       (int)in->hc);
    const size_t n = in->n, p = in->p;
    const size_t k = in->cols ? in->n_cols : p;
    const size_t m = in->rows ? in->n_rows : n;
    if (m == 0)
        return tt_errf(err, errlen, TT_ERR_DATA, "blp: no rows");
    for (size_t c = 0; c < k; c++)
        if (in->cols && in->cols[c] >= p)
            return tt_errf(err, errlen, TT_ERR_INVALID,
                           "blp: cols[%zu] = %zu is not a column of x (p = %zu)", c,
                           in->cols[c], p);
    for (size_t r = 0; r < m; r++)
        if (in->rows && in->rows[r] >= n)
            return tt_errf(err, errlen, TT_ERR_INVALID,
                           "blp: rows[%zu] = %zu is not a row of x (n = %zu)", r, in->rows[r], n);

    /* Values, named in the caller's rows and columns. */
    for (size_t r = 0; r < m; r++) {
        const size_t i = in->rows ? in->rows[r] : r;
        if (!isfinite(in->gamma[i]))
            return tt_errf(err, errlen, TT_ERR_DATA, "blp: the score gamma at row %zu is %g", i,
                           in->gamma[i]);
        if (in->w && !isfinite(in->w[i]))
            return tt_errf(err, errlen, TT_ERR_DATA, "blp: weight at row %zu is %g", i,
                           in->w[i]);
        if (in->w && in->w[i] < 0.0)
            return tt_errf(err, errlen, TT_ERR_INVALID,
                           "blp: weight at row %zu is %g; weights must be >= 0", i, in->w[i]);
    }
    for (size_t c = 0; c < k; c++) {
        const size_t j = in->cols ? in->cols[c] : c;
        const double *xj = in->x + j * n;
        for (size_t r = 0; r < m; r++) {
            const size_t i = in->rows ? in->rows[r] : r;
            if (!isfinite(xj[i])) {
                if (in->names && in->names[j])
                    return tt_errf(err, errlen, TT_ERR_DATA,
                                   "blp: x at row %zu, column %zu ('%s') is %g", i, j,
                                   in->names[j], xj[i]);
                return tt_errf(err, errlen, TT_ERR_DATA, "blp: x at row %zu, column %zu is %g",
                               i, j, xj[i]);
            }
        }
    }

    const size_t q = k + 1;
    tt_status st = TT_OK;
    double *a = tt_malloc_array(m * q, sizeof *a);
    double *yv = tt_malloc_array(m, sizeof *yv);
    double *wv = in->w ? tt_malloc_array(m, sizeof *wv) : NULL;
    size_t *row_id = tt_malloc_array(m, sizeof *row_id);
    const char **dn = tt_malloc_array(q, sizeof *dn);
    char(*gen)[32] = tt_malloc_array(q, sizeof *gen);
    if (!a || !yv || (in->w && !wv) || !row_id || !dn || !gen) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "blp: no memory for a %zu x %zu design", m, q);
        goto done;
    }
    dn[0] = "intercept";
    for (size_t c = 0; c < k; c++) {
        const size_t j = in->cols ? in->cols[c] : c;
        if (in->names && in->names[j]) {
            dn[c + 1] = in->names[j];
        } else {
            snprintf(gen[c + 1], sizeof gen[c + 1], "column %zu of x", j);
            dn[c + 1] = gen[c + 1];
        }
    }
    for (size_t r = 0; r < m; r++) {
        const size_t i = in->rows ? in->rows[r] : r;
        row_id[r] = i;
        a[r] = 1.0;
        yv[r] = in->gamma[i];
        if (wv)
            wv[r] = in->w[i];
    }
    for (size_t c = 0; c < k; c++) {
        const size_t j = in->cols ? in->cols[c] : c;
        const double *xj = in->x + j * n;
        double *ac = a + (c + 1) * m;
        for (size_t r = 0; r < m; r++)
            ac[r] = xj[row_id[r]];
    }
    st = ols_fit(m, q, a, yv, wv, dn, row_id, in->hc, out, err, errlen);
    if (st != TT_OK)
        tt_err_prefix(err, errlen, "blp");

done:
    free(a);
    free(yv);
    free(wv);
    free(row_id);
    free(dn);
    free(gen);
    return st;
}

/* ---- calibration test ---------------------------------------------------- */

tt_status tt_calibration_test(const tt_calibration_input *in, tt_calibration *out, char *err,
                              size_t errlen)
{
    if (!out || !in)
        return tt_errf(err, errlen, TT_ERR_INVALID, "calibration: input or output is NULL");
    memset(out, 0, sizeof *out);
    if (!in->y || !in->t || !in->m_hat || !in->e_hat || !in->tau_hat)
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "calibration: y, t, m_hat, e_hat and tau_hat are all required");
    if (!hc_known(in->hc))
        return tt_errf(err, errlen, TT_ERR_INVALID, "calibration: unknown sandwich type %d",
                       (int)in->hc);
    const size_t n = in->n;
    const size_t m = in->rows ? in->n_rows : n;
    if (m == 0)
        return tt_errf(err, errlen, TT_ERR_DATA, "calibration: no rows");
    const struct {
        const char *name;
        const double *v;
    } cols[] = {{"y", in->y},         {"t", in->t},           {"m_hat", in->m_hat},
                {"e_hat", in->e_hat}, {"tau_hat", in->tau_hat}, {"weight", in->w}};
    for (size_t r = 0; r < m; r++) {
        if (in->rows && in->rows[r] >= n)
            return tt_errf(err, errlen, TT_ERR_INVALID,
                           "calibration: rows[%zu] = %zu is not a row (n = %zu)", r, in->rows[r],
                           n);
        const size_t i = in->rows ? in->rows[r] : r;
        for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
            if (cols[c].v && !isfinite(cols[c].v[i]))
                return tt_errf(err, errlen, TT_ERR_DATA, "calibration: %s at row %zu is %g",
                               cols[c].name, i, cols[c].v[i]);
        if (in->w && in->w[i] < 0.0)
            return tt_errf(err, errlen, TT_ERR_INVALID,
                           "calibration: weight at row %zu is %g; weights must be >= 0", i,
                           in->w[i]);
    }

    /* tau_bar over the rows that take part, weighted as the regression is. */
    double sw = 0.0, swt = 0.0, lo = INFINITY, hi = -INFINITY;
    for (size_t r = 0; r < m; r++) {
        const size_t i = in->rows ? in->rows[r] : r;
        const double wi = in->w ? in->w[i] : 1.0;
        if (wi <= 0.0)
            continue;
        sw += wi;
        swt += wi * in->tau_hat[i];
        lo = fmin(lo, in->tau_hat[i]);
        hi = fmax(hi, in->tau_hat[i]);
    }
    if (sw <= 0.0)
        return tt_errf(err, errlen, TT_ERR_DATA, "calibration: no row has positive weight");
    if (lo == hi)
        return tt_errf(err, errlen, TT_ERR_DATA,
                       "calibration: the effect estimates are all %g over the rows used, so the "
                       "differential regressor is zero: there is no heterogeneity to test",
                       lo);
    const double tau_bar = swt / sw;
    if (tau_bar == 0.0)
        return tt_errf(err, errlen, TT_ERR_DATA,
                       "calibration: the mean effect estimate is exactly 0, so the mean "
                       "regressor vanishes");

    tt_status st = TT_OK;
    tt_ols_result fit = {0};
    double *a = tt_malloc_array(2 * m, sizeof *a);
    double *dy = tt_malloc_array(m, sizeof *dy);
    double *wv = in->w ? tt_malloc_array(m, sizeof *wv) : NULL;
    size_t *row_id = tt_malloc_array(m, sizeof *row_id);
    if (!a || !dy || (in->w && !wv) || !row_id) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "calibration: no memory for %zu rows", m);
        goto done;
    }
    for (size_t r = 0; r < m; r++) {
        const size_t i = in->rows ? in->rows[r] : r;
        const double dt = in->t[i] - in->e_hat[i];
        row_id[r] = i;
        dy[r] = in->y[i] - in->m_hat[i];
        a[r] = tau_bar * dt;
        a[m + r] = (in->tau_hat[i] - tau_bar) * dt;
        if (wv)
            wv[r] = in->w[i];
    }
    static const char *const names[] = {"mean prediction", "differential prediction"};
    st = ols_fit(m, 2, a, dy, wv, names, row_id, in->hc, &fit, err, errlen);
    if (st != TT_OK) {
        tt_err_prefix(err, errlen, "calibration");
        goto done;
    }
    out->n = fit.n;
    out->df = fit.df;
    out->hc = in->hc;
    out->tau_bar = tau_bar;
    out->mean_coef = fit.coef[0];
    out->mean_se = fit.se[0];
    out->mean_t = fit.t[0];
    out->mean_p = tt_student_t_sf(fit.t[0], fit.df);
    out->diff_coef = fit.coef[1];
    out->diff_se = fit.se[1];
    out->diff_t = fit.t[1];
    out->diff_p = tt_student_t_sf(fit.t[1], fit.df);

done:
    tt_ols_result_free(&fit);
    free(a);
    free(dy);
    free(wv);
    free(row_id);
    return st;
}

/* ---- sentences ----------------------------------------------------------- */

/* "= 0.27", "= 0.004", "= 0.00001" (one significant digit below 0.001),
 * "< 0.000001". */
static void fmt_p(double p, char *buf, size_t len)
{
    if (isnan(p)) {
        snprintf(buf, len, "= NaN");
    } else if (p < 1e-6) {
        snprintf(buf, len, "< 0.000001");
    } else if (p < 0.001) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%.0e", p); /* one significant digit, rounded */
        const double r = strtod(tmp, NULL);
        snprintf(buf, len, "= %.*f", (int)-floor(log10(r) + 1e-9), r);
    } else if (p < 0.1) {
        snprintf(buf, len, "= %.3f", p);
    } else {
        snprintf(buf, len, "= %.2f", p);
    }
}

/* Two decimals, or two significant digits for small magnitudes. */
static void fmt_num(double v, char *buf, size_t len)
{
    if (v != 0.0 && fabs(v) < 0.1)
        snprintf(buf, len, "%.2g", v);
    else
        snprintf(buf, len, "%.2f", v);
}

size_t tt_calibration_sentence(const tt_calibration *c, tt_calibration_term term, double alpha,
                               char *buf, size_t buflen)
{
    if (!(alpha > 0.0 && alpha < 1.0))
        alpha = 0.05;
    const int mean = term == TT_CALIBRATION_MEAN;
    const double coef = mean ? c->mean_coef : c->diff_coef;
    const double se = mean ? c->mean_se : c->diff_se;
    const double p0 = mean ? c->mean_p : c->diff_p;
    /* two-sided test of coef = 1 */
    const double p1 = 2.0 * tt_student_t_sf(fabs((coef - 1.0) / se), c->df);
    char cs[32], ss[32], ps[32], p1s[32];
    fmt_num(coef, cs, sizeof cs);
    fmt_num(se, ss, sizeof ss);
    fmt_p(p0, ps, sizeof ps);
    fmt_p(p1, p1s, sizeof p1s);
    int len;
    if (mean) {
        if (!(p0 < alpha))
            len = snprintf(buf, buflen,
                           "The data cannot confirm the average effect: the mean-prediction "
                           "coefficient %s (s.e. %s) does not reject 'no average effect' (p %s).",
                           cs, ss, ps);
        else if (!(p1 < alpha))
            len = snprintf(buf, buflen,
                           "The average of the effect estimates looks right: the mean-prediction "
                           "coefficient %s (s.e. %s) is consistent with 1 (p %s against 1).",
                           cs, ss, p1s);
        else
            len = snprintf(buf, buflen,
                           "The average of the effect estimates looks too %s: the "
                           "mean-prediction coefficient %s (s.e. %s) is %s 1 (p %s against 1); "
                           "the data suggest an average effect nearer %.4g than %.4g.",
                           coef < 1.0 ? "large" : "small", cs, ss,
                           coef < 1.0 ? "below" : "above", p1s, coef * c->tau_bar, c->tau_bar);
    } else {
        if (!(p0 < alpha))
            len = snprintf(buf, buflen,
                           "The data do not show that the effect varies: the differential "
                           "coefficient %s (s.e. %s) does not reject 'no heterogeneity' (p %s); "
                           "differences between the rows' estimates may be noise.",
                           cs, ss, ps);
        else if (!(p1 < alpha))
            len = snprintf(buf, buflen,
                           "The effect estimates vary for a reason: the differential coefficient "
                           "%s (s.e. %s) rejects 'no heterogeneity' at p %s, and is consistent "
                           "with 1, so the spread of the estimates is about right.",
                           cs, ss, ps);
        else
            len = snprintf(buf, buflen,
                           "The effect estimates vary for a reason: the differential coefficient "
                           "%s (s.e. %s) rejects 'no heterogeneity' at p %s, but is %s 1 (p %s "
                           "against 1), so the estimates %s how much the effect varies.",
                           cs, ss, ps, coef < 1.0 ? "below" : "above", p1s,
                           coef < 1.0 ? "exaggerate" : "understate");
    }
    return len < 0 ? 0 : (size_t)len;
}

tt_status tt_ols_wald(const tt_ols_result *r, size_t from, double *stat, double *df, double *p,
                      char *err, size_t errlen)
{
    if (!r || !r->coef || !r->vcov || from >= r->q || !stat || !df || !p)
        return tt_errf(err, errlen, TT_ERR_INVALID, "wald: no coefficients to test");
    const size_t m = r->q - from, q = r->q;
    double *a = malloc(sizeof *a * (m * m + m + 1));
    if (!a)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "wald: out of memory");
    double *b = a + m * m;
    for (size_t i = 0; i < m; i++) {
        b[i] = r->coef[from + i];
        for (size_t j = 0; j < m; j++)
            a[j * m + i] = r->vcov[(from + j) * q + from + i];
    }
    /* V x = b by Cholesky (V is a covariance: symmetric, positive definite
     * unless singular). */
    lapack_int info = LAPACKE_dposv(LAPACK_COL_MAJOR, 'L', (lapack_int)m, 1, a, (lapack_int)m,
                                    b, (lapack_int)m);
    if (info != 0) {
        free(a);
        return tt_errf(err, errlen, TT_ERR_NUMERIC, "wald: the coefficients' covariance is "
                       "singular or not positive definite");
    }
    double w = 0.0;
    for (size_t i = 0; i < m; i++)
        w += r->coef[from + i] * b[i];
    free(a);
    *stat = w;
    *df = (double)m;
    *p = tt_chi2_sf(w, (double)m);
    return TT_OK;
}
