/*
 * abtest.c - the per-arm and per-comparison statistics of abtest.h that need
 * one pass over the rows: arm summaries, Welch, CUPED, AIPW, Hajek, the
 * sample-ratio check and the multiple-comparison correction. Lin's
 * regression is in ab_lin.c, the design value in ab_design.c.
 */
#include "experiment/abtest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/dist.h"

const char *tt_ab_correction_name(tt_ab_correction c)
{
    return c == TT_AB_HOLM ? "holm" : c == TT_AB_BONFERRONI ? "bonferroni" : "none";
}

void tt_ab_arm_stats(size_t n, int n_arms, const int *t, const double *y, tt_ab_arm *arms)
{
    /* Two passes (mean, then squares about it): one-pass sums lose digits
     * when the mean is large against the spread. */
    double *sum = calloc((size_t)n_arms * 2, sizeof *sum);
    if (!sum) {
        for (int k = 0; k < n_arms; k++)
            arms[k] = (tt_ab_arm){0, NAN, NAN, NAN};
        return;
    }
    double *ss = sum + n_arms;
    for (int k = 0; k < n_arms; k++)
        arms[k].n = 0;
    for (size_t i = 0; i < n; i++)
        arms[t[i]].n++, sum[t[i]] += y[i];
    for (int k = 0; k < n_arms; k++)
        arms[k].mean = arms[k].n ? sum[k] / (double)arms[k].n : NAN;
    for (size_t i = 0; i < n; i++) {
        double d = y[i] - arms[t[i]].mean;
        ss[t[i]] += d * d;
    }
    for (int k = 0; k < n_arms; k++) {
        double m = (double)arms[k].n;
        arms[k].sd = m >= 2 ? sqrt(ss[k] / (m - 1)) : NAN;
        arms[k].se = m >= 2 ? arms[k].sd / sqrt(m) : NAN;
    }
    free(sum);
}

void tt_ab_finish(tt_ab_effect *e, double alpha)
{
    double q = tt_student_t_isf(alpha / 2, e->df);
    e->lo = e->estimate - q * e->se;
    e->hi = e->estimate + q * e->se;
    e->p = e->se > 0 ? 2 * tt_student_t_sf(fabs(e->estimate) / e->se, e->df)
                     : (e->estimate == 0 ? 1.0 : 0.0);
    if (e->p > 1)
        e->p = 1;
    e->p_adj = e->p;
}

tt_ab_effect tt_ab_welch(const tt_ab_arm *a, const tt_ab_arm *b, double alpha)
{
    tt_ab_effect e = {.estimate = NAN, .se = NAN, .lo = NAN, .hi = NAN, .df = NAN, .p = NAN,
                      .p_adj = NAN};
    if (a->n < 2 || b->n < 2)
        return e;
    double va = a->sd * a->sd / (double)a->n, vb = b->sd * b->sd / (double)b->n;
    e.estimate = b->mean - a->mean;
    e.se = sqrt(va + vb);
    double den = va * va / (double)(a->n - 1) + vb * vb / (double)(b->n - 1);
    /* Both arms constant: no spread, the normal is as good as any t. */
    e.df = den > 0 ? (va + vb) * (va + vb) / den : INFINITY;
    tt_ab_finish(&e, alpha);
    return e;
}

double tt_ab_cuped_theta(size_t n, const double *y, const double *x)
{
    double my = 0, mx = 0, sxy = 0, sxx = 0;
    for (size_t i = 0; i < n; i++)
        my += y[i], mx += x[i];
    my /= (double)n, mx /= (double)n;
    for (size_t i = 0; i < n; i++)
        sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
    return sxx > 0 ? sxy / sxx : NAN;
}

void tt_ab_cuped_adjust(size_t n, const double *y, const double *x, double theta,
                        double *y_adj)
{
    double mx = 0;
    for (size_t i = 0; i < n; i++)
        mx += x[i];
    mx /= (double)n;
    for (size_t i = 0; i < n; i++)
        y_adj[i] = y[i] - theta * (x[i] - mx);
}

/* Mean and s.e. (sd / sqrt(n), sd with n - 1) of d[0..n-1] as a normal
 * effect. */
static tt_ab_effect mean_effect(size_t n, const double *d, double alpha)
{
    double m = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        m += d[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (d[i] - m) * (d[i] - m);
    tt_ab_effect e = {.estimate = m, .se = n > 1 ? sqrt(ss / (double)(n - 1) / (double)n) : NAN,
                      .df = INFINITY};
    tt_ab_finish(&e, alpha);
    return e;
}

void tt_ab_aipw(size_t n, int n_arms, const int *t, const double *y, const double *mu,
                const double *e, double alpha, tt_ab_effect *effects)
{
    double *d = malloc(sizeof *d * (n ? n : 1));
    for (int k = 1; k < n_arms; k++) {
        if (!d) {
            effects[k - 1] = (tt_ab_effect){NAN, NAN, NAN, NAN, NAN, NAN, NAN};
            continue;
        }
        const double *mk = mu + (size_t)k * n, *m0 = mu, *ek = e + (size_t)k * n, *e0 = e;
        for (size_t i = 0; i < n; i++) {
            double pk = mk[i] + (t[i] == k ? (y[i] - mk[i]) / ek[i] : 0.0);
            double p0 = m0[i] + (t[i] == 0 ? (y[i] - m0[i]) / e0[i] : 0.0);
            d[i] = pk - p0;
        }
        effects[k - 1] = mean_effect(n, d, alpha);
    }
    free(d);
}

void tt_ab_hajek(size_t n, int n_arms, const int *t, const double *y, const double *e,
                 double alpha, double *means, tt_ab_effect *effects)
{
    /* m_k = A_k / B_k with A_k = mean(1{T=k} Y / e_k), B_k = mean(1{T=k} / e_k);
     * its influence function is 1{T=k} (Y - m_k) / (e_k B_k). */
    double *wsum = calloc((size_t)n_arms * 2, sizeof *wsum);
    double *d = malloc(sizeof *d * (n ? n : 1));
    if (!wsum || !d) {
        for (int k = 0; k < n_arms; k++)
            means[k] = NAN;
        for (int k = 1; k < n_arms; k++)
            effects[k - 1] = (tt_ab_effect){NAN, NAN, NAN, NAN, NAN, NAN, NAN};
        free(wsum);
        free(d);
        return;
    }
    double *wy = wsum + n_arms;
    for (size_t i = 0; i < n; i++) {
        double w = 1.0 / e[(size_t)t[i] * n + i];
        wsum[t[i]] += w, wy[t[i]] += w * y[i];
    }
    for (int k = 0; k < n_arms; k++)
        means[k] = wsum[k] > 0 ? wy[k] / wsum[k] : NAN;
    for (int k = 1; k < n_arms; k++) {
        double bk = wsum[k] / (double)n, b0 = wsum[0] / (double)n;
        for (size_t i = 0; i < n; i++) {
            double v = 0;
            if (t[i] == k)
                v = (y[i] - means[k]) / (e[(size_t)k * n + i] * bk);
            else if (t[i] == 0)
                v = -(y[i] - means[0]) / (e[i] * b0);
            d[i] = v;
        }
        tt_ab_effect ef = mean_effect(n, d, alpha);
        ef.estimate = means[k] - means[0]; /* the influence values average to 0 */
        tt_ab_finish(&ef, alpha);
        effects[k - 1] = ef;
    }
    free(wsum);
    free(d);
}

tt_ab_srm tt_ab_srm_test(int n_arms, const size_t *counts, const double *expected)
{
    tt_ab_srm s = {.chi2 = 0, .df = n_arms - 1};
    for (int k = 0; k < n_arms; k++) {
        double d = (double)counts[k] - expected[k];
        s.chi2 += expected[k] > 0 ? d * d / expected[k] : (counts[k] ? INFINITY : 0);
    }
    s.p = isfinite(s.chi2) ? tt_chi2_sf(s.chi2, s.df) : 0.0;
    s.flagged = s.p < TT_AB_SRM_ALPHA;
    return s;
}

static int by_p(const void *a, const void *b)
{
    const tt_ab_effect *x = *(tt_ab_effect *const *)a, *y = *(tt_ab_effect *const *)b;
    /* NaN p-values last, so they never lower the others' steps. */
    int nx = isnan(x->p), ny = isnan(y->p);
    if (nx || ny)
        return nx - ny;
    return (x->p > y->p) - (x->p < y->p);
}

void tt_ab_correct(tt_ab_effect *effects, size_t m, tt_ab_correction c, double alpha)
{
    for (size_t j = 0; j < m; j++)
        effects[j].p_adj = effects[j].p;
    if (c == TT_AB_NONE || m < 2)
        return;
    if (c == TT_AB_BONFERRONI) {
        for (size_t j = 0; j < m; j++) {
            tt_ab_effect *e = &effects[j];
            e->p_adj = fmin(1.0, e->p * (double)m);
            double q = tt_student_t_isf(alpha / (2 * (double)m), e->df);
            e->lo = e->estimate - q * e->se;
            e->hi = e->estimate + q * e->se;
        }
        return;
    }
    /* Holm: the j-th smallest p times (m - j), running maximum, capped at 1. */
    tt_ab_effect **order = malloc(sizeof *order * m);
    if (!order) {
        for (size_t j = 0; j < m; j++)
            effects[j].p_adj = fmin(1.0, effects[j].p * (double)m); /* Bonferroni bounds Holm */
        return;
    }
    for (size_t j = 0; j < m; j++)
        order[j] = &effects[j];
    qsort(order, m, sizeof *order, by_p);
    double run = 0;
    for (size_t j = 0; j < m; j++) {
        double v = fmin(1.0, order[j]->p * (double)(m - j));
        if (isnan(v)) {
            order[j]->p_adj = NAN;
            continue;
        }
        run = fmax(run, v);
        order[j]->p_adj = run;
    }
    free(order);
}
