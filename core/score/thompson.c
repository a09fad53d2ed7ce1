/* thompson.c - exact Thompson-sampling probabilities (thompson.h). */
#include "score/thompson.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

/* Beyond |z| = 10 the standard normal holds 1.5e-23 of its mass: far below
 * the 1e-13 the integrals aim at, so the infinite range is cut there. */
#define Z_MAX 10.0
#define TOL 1e-13
/* Halvings of one segment: 2^-40 of its length is far finer than any step
 * an interval's sd can put in the integrand; past it the estimate stands. */
#define MAX_DEPTH 40

/* Gauss-Kronrod 15-point nodes on [-1, 1] (the positive half; xgk[7] = 0)
 * and weights, and the 7-point Gauss weights of the odd nodes xgk[1], [3],
 * [5] and the centre. The rule integrates polynomials up to degree 22
 * exactly, the Gauss one up to 13; their difference is the error estimate. */
static const double xgk[8] = {0.991455371120812639206854697526329,
                              0.949107912342758524526189684047851,
                              0.864864423359769072789712788640926,
                              0.741531185599394439863864773280788,
                              0.586087235467691130294144845693013,
                              0.405845151377397166906606412076961,
                              0.207784955007898467600689403773245,
                              0.0};
static const double wgk[8] = {0.022935322010529224963732008058970,
                              0.063092092629978553290700663189204,
                              0.104790010322250183839876322541518,
                              0.140653259715525918745189590510238,
                              0.169004726639267902826583426598550,
                              0.190350578064785409913256402421014,
                              0.204432940075298892414161999234649,
                              0.209482141084727828012999174891714};
static const double wg[4] = {0.129484966168869693270611432679082,
                             0.279705391489276667901467771423780,
                             0.381830050505118944950369775488975,
                             0.417959183673469387755102040816327};

static double phi_cdf(double x)
{
    return 0.5 * erfc(-x / M_SQRT2);
}

/* One row's random arms: means and sds (those with sd > 0 only). */
typedef struct row_arms {
    size_t n;
    const double *mu, *sd;
    size_t k; /* the arm whose win the integrand is for */
} row_arms;

/* phi(z) prod_{j != k} Phi((mu_k + sd_k z - mu_j) / sd_j). */
static double integrand(const row_arms *r, double z)
{
    const double u = r->mu[r->k] + r->sd[r->k] * z;
    double f = exp(-0.5 * z * z) / sqrt(2.0 * M_PI);
    for (size_t j = 0; j < r->n && f > 0.0; j++)
        if (j != r->k)
            f *= phi_cdf((u - r->mu[j]) / r->sd[j]);
    return f;
}

static double gk15(const row_arms *r, double a, double b, double *abserr)
{
    const double c = 0.5 * (a + b), h = 0.5 * (b - a);
    const double fc = integrand(r, c);
    double k15 = wgk[7] * fc, g7 = wg[3] * fc;
    for (int j = 0; j < 7; j++) {
        const double x = h * xgk[j];
        const double s = integrand(r, c - x) + integrand(r, c + x);
        k15 += wgk[j] * s;
        if (j % 2 == 1)
            g7 += wg[j / 2] * s;
    }
    *abserr = fabs((k15 - g7) * h);
    return k15 * h;
}

/* Bisect until the Kronrod-Gauss difference is within tol. */
static double adapt(const row_arms *r, double a, double b, double tol, int depth)
{
    double e;
    const double v = gk15(r, a, b, &e);
    if (e <= tol || depth >= MAX_DEPTH)
        return v;
    const double m = 0.5 * (a + b);
    return adapt(r, a, m, 0.5 * tol, depth + 1) + adapt(r, m, b, 0.5 * tol, depth + 1);
}

/* P(random arm k beats every other arm and the fixed value c). */
static double win_prob(row_arms *r, size_t k, double c, double *cuts)
{
    r->k = k;
    if (r->n == 1)
        return phi_cdf((r->mu[k] - c) / r->sd[k]);
    const double lo = fmax((c - r->mu[k]) / r->sd[k], -Z_MAX), hi = Z_MAX;
    if (!(lo < hi))
        return 0.0;
    /* Segment ends: the range, z = 0 (phi's peak) and where each other
     * arm's factor is 1/2 - its step, which can be much narrower than phi
     * when that arm's sd is much smaller than arm k's - sorted. */
    size_t nc = 0;
    cuts[nc++] = lo;
    cuts[nc++] = hi;
    if (lo < 0.0)
        cuts[nc++] = 0.0;
    for (size_t j = 0; j < r->n; j++) {
        const double z = (r->mu[j] - r->mu[k]) / r->sd[k];
        if (j != k && z > lo && z < hi)
            cuts[nc++] = z;
    }
    for (size_t i = 1; i < nc; i++)
        for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
            const double t = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
        }
    double p = 0.0;
    for (size_t i = 0; i + 1 < nc; i++)
        if (cuts[i + 1] > cuts[i])
            p += adapt(r, cuts[i], cuts[i + 1], TOL * (cuts[i + 1] - cuts[i]) / (hi - lo), 0);
    return p;
}

tt_status tt_thompson_exact(size_t n, int n_arms, const double *mu, const double *sd,
                            double *pi, double *max_defect, char *err, size_t errlen)
{
    if (n_arms < 2)
        return tt_errf(err, errlen, TT_ERR_INVALID, "thompson: %d arms (at least 2)", n_arms);
    const size_t K = (size_t)n_arms;
    for (size_t k = 1; k < K; k++)
        for (size_t i = 0; i < n; i++) {
            const double m = mu[(k - 1) * n + i], s = sd[(k - 1) * n + i];
            if (!isfinite(m) || !isfinite(s) || s < 0.0)
                return tt_errf(err, errlen, TT_ERR_DATA,
                               "thompson: row %zu, arm %zu: mean %g, sd %g", i, k, m, s);
        }
    /* Scratch: random arms' means, sds, arm numbers; K + 2 cuts. */
    double *rm = malloc(sizeof *rm * (3 * K + 2)), *rs = rm + K, *cuts = rm + 2 * K;
    size_t *arm = malloc(sizeof *arm * K);
    if (!rm || !arm) {
        free(rm);
        free(arm);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "thompson: out of memory");
    }
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        /* The best fixed arm (control at 0 first, so ties stay low). */
        size_t best_fixed = 0, nr = 0;
        double c = 0.0;
        for (size_t k = 1; k < K; k++) {
            const double m = mu[(k - 1) * n + i], s = sd[(k - 1) * n + i];
            if (s > 0.0) {
                rm[nr] = m;
                rs[nr] = s;
                arm[nr++] = k;
            } else if (m > c) {
                c = m;
                best_fixed = k;
            }
        }
        for (size_t k = 0; k < K; k++)
            pi[k * n + i] = 0.0;
        row_arms r = {.n = nr, .mu = rm, .sd = rs};
        double fixed = 1.0, sum;
        for (size_t j = 0; j < nr; j++)
            fixed *= phi_cdf((c - rm[j]) / rs[j]);
        pi[best_fixed * n + i] = fixed;
        sum = fixed;
        for (size_t j = 0; j < nr; j++) {
            const double p = win_prob(&r, j, c, cuts);
            pi[arm[j] * n + i] = p;
            sum += p;
        }
        if (!(sum > 0.5 && sum < 1.5)) { /* cannot happen for finite inputs */
            free(rm);
            free(arm);
            return tt_errf(err, errlen, TT_ERR_NUMERIC,
                           "thompson: row %zu: the probabilities sum to %g", i, sum);
        }
        if (fabs(sum - 1.0) > worst)
            worst = fabs(sum - 1.0);
        for (size_t k = 0; k < K; k++)
            pi[k * n + i] /= sum;
    }
    free(rm);
    free(arm);
    if (max_defect)
        *max_defect = worst;
    return TT_OK;
}
