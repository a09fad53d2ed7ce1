/* rscore.c - R-score and DR pseudo-outcome MSE (rscore.h). */
#include "score/rscore.h"

#include <math.h>
#include <stdlib.h>

/* T~_ik for treated arm k (1..K-1); a continuous treatment's T - E[T | x]. */
static double t_resid(const tt_score_nuisance *nu, const int *t, size_t i, int k)
{
    if (nu->t_value)
        return nu->t_value[i] - nu->e_hat[nu->n + i];
    return (t[i] == k ? 1.0 : 0.0) - nu->e_hat[(size_t)k * nu->n + i];
}

/* dr_mse's pseudo-outcomes for a continuous treatment (rscore.h) into psi;
 * 0 when undefined (the treatment residuals are all 0). */
static int continuous_pseudo(const tt_score_nuisance *nu, const double *y, double *psi)
{
    const size_t n = nu->n;
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double tt = t_resid(nu, NULL, i, 1);
        num += (y[i] - nu->m_hat[i]) * tt;
        den += tt * tt;
    }
    if (!(den > 0.0) || !isfinite(num / den))
        return 0;
    const double theta0 = num / den, s2 = den / (double)n;
    for (size_t i = 0; i < n; i++) {
        const double tt = t_resid(nu, NULL, i, 1);
        psi[i] = theta0 + (y[i] - nu->m_hat[i] - theta0 * tt) * tt / s2;
    }
    return 1;
}

/* The continuous dr_mse's per-row terms (psi_i - tau_hat_i)^2. */
static int continuous_dr_terms(const tt_score_nuisance *nu, const double *y,
                               const double *tau_hat, double *terms)
{
    if (nu->n == 0 || !continuous_pseudo(nu, y, terms))
        return 0;
    for (size_t i = 0; i < nu->n; i++) {
        const double d = terms[i] - tau_hat[i];
        terms[i] = d * d;
    }
    return 1;
}

/* mean_i (Y~_i - sum_k c_k(i) T~_ik)^2 where c is tau (n x (K-1)) or, when
 * tau is NULL, the constants bar. */
static double r_loss(const tt_score_nuisance *nu, const int *t, const double *y,
                     const double *tau, const double *bar)
{
    const size_t n = nu->n;
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double r = y[i] - nu->m_hat[i];
        for (int k = 1; k < nu->n_arms; k++)
            r -= (tau ? tau[(size_t)(k - 1) * n + i] : bar[k - 1]) * t_resid(nu, t, i, k);
        s += r * r;
    }
    return s / (double)n;
}

/* Solve the m x m system a x = b in place (Gaussian elimination, partial
 * pivoting). Returns 0 when a pivot is negligible (singular). */
static int solve(double *a, double *b, size_t m)
{
    double scale = 0.0;
    for (size_t i = 0; i < m * m; i++)
        scale = fmax(scale, fabs(a[i]));
    for (size_t c = 0; c < m; c++) {
        size_t piv = c;
        for (size_t r = c + 1; r < m; r++)
            if (fabs(a[r * m + c]) > fabs(a[piv * m + c]))
                piv = r;
        if (!(fabs(a[piv * m + c]) > 1e-12 * scale))
            return 0;
        for (size_t j = 0; j < m; j++) {
            const double tmp = a[c * m + j];
            a[c * m + j] = a[piv * m + j];
            a[piv * m + j] = tmp;
        }
        const double tb = b[c];
        b[c] = b[piv];
        b[piv] = tb;
        for (size_t r = c + 1; r < m; r++) {
            const double f = a[r * m + c] / a[c * m + c];
            for (size_t j = c; j < m; j++)
                a[r * m + j] -= f * a[c * m + j];
            b[r] -= f * b[c];
        }
    }
    for (size_t c = m; c-- > 0;) {
        double s = b[c];
        for (size_t j = c + 1; j < m; j++)
            s -= a[c * m + j] * b[j];
        b[c] = s / a[c * m + c];
    }
    return 1;
}

/* The best constant effects tau_bar (least squares of Y~ on T~) into a new
 * array of m + m*m doubles (tau_bar first); NULL when singular or out of
 * memory. */
static double *bar_effect(const tt_score_nuisance *nu, const int *t, const double *y)
{
    const size_t n = nu->n, m = (size_t)nu->n_arms - 1;
    double *b = calloc(m * m + m, sizeof *b);
    if (!b)
        return NULL;
    double *a = b + m;
    for (size_t i = 0; i < n; i++) {
        const double yr = y[i] - nu->m_hat[i];
        for (size_t k = 0; k < m; k++) {
            const double tk = t_resid(nu, t, i, (int)k + 1);
            b[k] += tk * yr;
            for (size_t j = 0; j < m; j++)
                a[k * m + j] += tk * t_resid(nu, t, i, (int)j + 1);
        }
    }
    if (!solve(a, b, m)) {
        free(b);
        return NULL;
    }
    return b;
}

double tt_r_score(const tt_score_nuisance *nu, const int *t, const double *y,
                  const double *tau_hat)
{
    if (nu->n == 0 || nu->n_arms < 2)
        return NAN;
    double *bar = bar_effect(nu, t, y);
    if (!bar)
        return NAN;
    double score = NAN;
    const double base = r_loss(nu, t, y, NULL, bar);
    if (base > 0.0)
        score = 1.0 - r_loss(nu, t, y, tau_hat, NULL) / base;
    free(bar);
    return score;
}

/* One row's squared R-residual for tau (or the constants bar). */
static double r_row(const tt_score_nuisance *nu, const int *t, const double *y,
                    const double *tau, const double *bar, size_t i)
{
    double r = y[i] - nu->m_hat[i];
    for (int k = 1; k < nu->n_arms; k++)
        r -= (tau ? tau[(size_t)(k - 1) * nu->n + i] : bar[k - 1]) * t_resid(nu, t, i, k);
    return r * r;
}

int tt_r_score_terms(const tt_score_nuisance *nu, const int *t, const double *y,
                     const double *tau_hat, double *terms)
{
    const size_t n = nu->n;
    if (n == 0 || nu->n_arms < 2)
        return 0;
    double *bar = bar_effect(nu, t, y);
    if (!bar)
        return 0;
    double A = 0.0, B = 0.0;
    for (size_t i = 0; i < n; i++) {
        A += r_row(nu, t, y, tau_hat, NULL, i);
        B += r_row(nu, t, y, NULL, bar, i);
    }
    A /= (double)n;
    B /= (double)n;
    int ok = B > 0.0;
    /* score + psi_i, psi_i = -(a_i - (A/B) b_i) / B: the influence of row i
     * on 1 - A/B (delta method); psi sums to 0, so the terms average to the
     * score. */
    for (size_t i = 0; ok && i < n; i++)
        terms[i] = (1.0 - A / B) - (r_row(nu, t, y, tau_hat, NULL, i) -
                                    (A / B) * r_row(nu, t, y, NULL, bar, i)) / B;
    free(bar);
    return ok;
}

int tt_dr_pseudo(const tt_score_nuisance *nu, const int *t, const double *y, double clip,
                 double *out)
{
    const size_t n = nu->n;
    if (n == 0)
        return 0;
    if (nu->t_value)
        return continuous_pseudo(nu, y, out);
    const double *mu0 = nu->mu_hat, *e0 = nu->e_hat;
    for (int k = 1; k < nu->n_arms; k++) {
        const double *muk = nu->mu_hat + (size_t)k * n, *ek = nu->e_hat + (size_t)k * n;
        double *g = out + (size_t)(k - 1) * n;
        for (size_t i = 0; i < n; i++) {
            g[i] = muk[i] - mu0[i];
            if (t[i] == k)
                g[i] += (y[i] - muk[i]) / fmin(fmax(ek[i], clip), 1.0 - clip);
            else if (t[i] == 0)
                g[i] -= (y[i] - mu0[i]) / fmin(fmax(e0[i], clip), 1.0 - clip);
        }
    }
    return 1;
}

double tt_dr_mse(const tt_score_nuisance *nu, const int *t, const double *y,
                 const double *tau_hat, double clip)
{
    const size_t n = nu->n;
    if (nu->t_value) {
        double *terms = malloc(sizeof *terms * (n + 1)), v = NAN;
        if (terms && continuous_dr_terms(nu, y, tau_hat, terms)) {
            v = 0.0;
            for (size_t i = 0; i < n; i++)
                v += terms[i];
            v /= (double)n;
        }
        free(terms);
        return v;
    }
    size_t n0 = 0;
    for (size_t i = 0; i < n; i++)
        n0 += t[i] == 0;
    if (n == 0 || n0 == n)
        return NAN;
    const double *mu0 = nu->mu_hat, *e0 = nu->e_hat;
    double total = 0.0;
    for (int k = 1; k < nu->n_arms; k++) {
        const double *muk = nu->mu_hat + (size_t)k * n, *ek = nu->e_hat + (size_t)k * n;
        const double *tk = tau_hat + (size_t)(k - 1) * n;
        double s = 0.0;
        size_t nk = 0;
        for (size_t i = 0; i < n; i++) {
            double g = muk[i] - mu0[i];
            if (t[i] == k) {
                g += (y[i] - muk[i]) / fmin(fmax(ek[i], clip), 1.0 - clip);
                nk++;
            } else if (t[i] == 0) {
                g -= (y[i] - mu0[i]) / fmin(fmax(e0[i], clip), 1.0 - clip);
            }
            s += (g - tk[i]) * (g - tk[i]);
        }
        total += ((double)nk / (double)(n - n0)) * (s / (double)n);
    }
    return total;
}

int tt_dr_mse_terms(const tt_score_nuisance *nu, const int *t, const double *y,
                    const double *tau_hat, double clip, double *terms)
{
    const size_t n = nu->n;
    if (nu->t_value)
        return continuous_dr_terms(nu, y, tau_hat, terms);
    size_t n0 = 0;
    for (size_t i = 0; i < n; i++)
        n0 += t[i] == 0;
    if (n == 0 || n0 == n)
        return 0;
    for (size_t i = 0; i < n; i++)
        terms[i] = 0.0;
    const double *mu0 = nu->mu_hat, *e0 = nu->e_hat;
    for (int k = 1; k < nu->n_arms; k++) {
        const double *muk = nu->mu_hat + (size_t)k * n, *ek = nu->e_hat + (size_t)k * n;
        const double *tk = tau_hat + (size_t)(k - 1) * n;
        size_t nk = 0;
        for (size_t i = 0; i < n; i++)
            nk += t[i] == k;
        const double wk = (double)nk / (double)(n - n0);
        for (size_t i = 0; i < n; i++) {
            double g = muk[i] - mu0[i];
            if (t[i] == k)
                g += (y[i] - muk[i]) / fmin(fmax(ek[i], clip), 1.0 - clip);
            else if (t[i] == 0)
                g -= (y[i] - mu0[i]) / fmin(fmax(e0[i], clip), 1.0 - clip);
            terms[i] += wk * (g - tk[i]) * (g - tk[i]);
        }
    }
    return 1;
}

/* iv_dr_mse's pseudo-outcomes (rscore.h) into psi; 0 when undefined. */
static int iv_pseudo(const tt_score_nuisance *nu, const int *t, const double *y, double *psi)
{
    const size_t n = nu->n;
    const int cont = nu->t_value != NULL;
    if (!nu->z || !nu->r_hat || (!nu->pz_hat && !cont) || nu->n_arms != 2 || n == 0)
        return 0;
    const double *p0 = cont ? NULL : nu->pz_hat, *p1 = cont ? NULL : nu->pz_hat + n;
    double num = 0.0, den = 0.0, mean_cov = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double zt = nu->z[i] - nu->r_hat[i];
        num += (y[i] - nu->m_hat[i]) * zt;
        den += t_resid(nu, t, i, 1) * zt;
        if (!cont)
            mean_cov += nu->r_hat[i] * (1.0 - nu->r_hat[i]) * (p1[i] - p0[i]) / (double)n;
    }
    if (cont) /* no per-row compliance model: the mean of T~ Z~ stands for it */
        mean_cov = den / (double)n;
    if (den == 0.0 || mean_cov == 0.0 || !isfinite(num / den))
        return 0;
    const double theta0 = num / den, floor_cov = 0.1 * fabs(mean_cov);
    for (size_t i = 0; i < n; i++) {
        double cov = cont ? mean_cov : nu->r_hat[i] * (1.0 - nu->r_hat[i]) * (p1[i] - p0[i]);
        if (fabs(cov) < floor_cov)
            cov = copysign(floor_cov, cov != 0.0 ? cov : mean_cov);
        const double yt = y[i] - nu->m_hat[i], tt = t_resid(nu, t, i, 1);
        const double zt = nu->z[i] - nu->r_hat[i];
        psi[i] = theta0 + (yt - theta0 * tt) * zt / cov;
    }
    return 1;
}

int tt_iv_dr_mse_terms(const tt_score_nuisance *nu, const int *t, const double *y,
                       const double *tau_hat, double *terms)
{
    if (!iv_pseudo(nu, t, y, terms))
        return 0;
    for (size_t i = 0; i < nu->n; i++) {
        const double d = terms[i] - tau_hat[i];
        terms[i] = d * d;
    }
    return 1;
}

double tt_iv_dr_mse(const tt_score_nuisance *nu, const int *t, const double *y,
                    const double *tau_hat)
{
    double *terms = malloc(sizeof *terms * (nu->n + 1));
    double v = NAN;
    if (terms && tt_iv_dr_mse_terms(nu, t, y, tau_hat, terms)) {
        v = 0.0;
        for (size_t i = 0; i < nu->n; i++)
            v += terms[i];
        v /= (double)nu->n;
    }
    free(terms);
    return v;
}
