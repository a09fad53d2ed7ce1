/* rscore.c - R-score and DR pseudo-outcome MSE (rscore.h). */
#include "score/rscore.h"

#include <math.h>
#include <stdlib.h>

/* T~_ik for treated arm k (1..K-1). */
static double t_resid(const tt_score_nuisance *nu, const int *t, size_t i, int k)
{
    return (t[i] == k ? 1.0 : 0.0) - nu->e_hat[(size_t)k * nu->n + i];
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

double tt_r_score(const tt_score_nuisance *nu, const int *t, const double *y,
                  const double *tau_hat)
{
    const size_t n = nu->n, m = (size_t)nu->n_arms - 1;
    if (n == 0 || m == 0)
        return NAN;
    double *a = calloc(m * m + m, sizeof *a);
    if (!a)
        return NAN;
    double *b = a + m * m;
    for (size_t i = 0; i < n; i++) {
        const double yr = y[i] - nu->m_hat[i];
        for (size_t k = 0; k < m; k++) {
            const double tk = t_resid(nu, t, i, (int)k + 1);
            b[k] += tk * yr;
            for (size_t j = 0; j < m; j++)
                a[k * m + j] += tk * t_resid(nu, t, i, (int)j + 1);
        }
    }
    double score = NAN;
    if (solve(a, b, m)) {
        const double base = r_loss(nu, t, y, NULL, b);
        if (base > 0.0)
            score = 1.0 - r_loss(nu, t, y, tau_hat, NULL) / base;
    }
    free(a);
    return score;
}

double tt_dr_mse(const tt_score_nuisance *nu, const int *t, const double *y,
                 const double *tau_hat, double clip)
{
    const size_t n = nu->n;
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
