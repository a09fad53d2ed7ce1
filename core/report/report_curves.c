/* report_curves.c - the curves the report plots: Qini curves, policy value
 * by share treated, calibration by quantile bin, histograms. The values
 * themselves come from core/score (tt_erupt, tt_policy_mean_cost); this file
 * only orders rows and walks the orders. */
#include <math.h>
#include <stdlib.h>

#include "report/report_int.h"
#include "score/policy.h"

typedef struct keyed {
    double key;
    size_t row;
} keyed;

/* Ascending by key, ties by row: a total order, so results never depend on
 * the qsort implementation. */
static int by_key_asc(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

static int by_key_desc(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* q(k) = Y_t - Y_c N_t / N_c from running sums (0 without control rows). */
static double qini_q(double yt, double yc, double nt, double nc)
{
    return nc > 0 ? yt - yc * nt / nc : 0.0;
}

tt_status tt_report_qini_curve(size_t n, const int *t, const double *y, const double *tau,
                               int arm, size_t npts, double *x, double *q, size_t *m)
{
    *m = 0;
    keyed *rows = malloc(sizeof *rows * (n + 1));
    /* Group boundaries: pos[g] rows ranked before the end of group g, val[g]
     * q there; pos[0] = 0, val[0] = 0. */
    size_t *pos = malloc(sizeof *pos * (n + 1));
    double *val = malloc(sizeof *val * (n + 1));
    if (!rows || !pos || !val) {
        free(rows), free(pos), free(val);
        return TT_ERR_NOMEM;
    }
    size_t mm = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i] == 0 || t[i] == arm)
            rows[mm++] = (keyed){tau[i], i};
    qsort(rows, mm, sizeof *rows, by_key_desc);
    double yt = 0, yc = 0, nt = 0, nc = 0;
    size_t g = 0;
    pos[0] = 0;
    val[0] = 0;
    for (size_t i = 0; i < mm;) {
        size_t j = i;
        while (j < mm && rows[j].key == rows[i].key) {
            size_t r = rows[j].row;
            if (t[r] == arm)
                yt += y[r], nt += 1;
            else
                yc += y[r], nc += 1;
            j++;
        }
        g++;
        pos[g] = j;
        val[g] = qini_q(yt, yc, nt, nc);
        i = j;
    }
    if (mm > 0) {
        /* Evaluate at k = share * m, linear inside the group holding k. */
        size_t gi = 1;
        for (size_t p = 0; p < npts; p++) {
            double share = npts > 1 ? (double)p / (double)(npts - 1) : 1.0;
            double k = share * (double)mm;
            while (gi < g && (double)pos[gi] < k)
                gi++;
            double k0 = (double)pos[gi - 1], k1 = (double)pos[gi];
            double f = k1 > k0 ? (k - k0) / (k1 - k0) : 1.0;
            x[p] = share;
            q[p] = p == 0 ? 0.0 : val[gi - 1] + f * (val[gi] - val[gi - 1]);
        }
    }
    *m = mm;
    free(rows), free(pos), free(val);
    return TT_OK;
}

tt_status tt_report_policy_curve(size_t n, int n_arms, const int *t, const double *y,
                                 const double *prop, double clip, const double *tau,
                                 const double *cost, int arm, size_t n_share,
                                 const double *share, double *value)
{
    keyed *rows = malloc(sizeof *rows * (n + 1));
    double *pi = malloc(sizeof *pi * (n * (size_t)n_arms + 1));
    if (!rows || !pi) {
        free(rows), free(pi);
        return TT_ERR_NOMEM;
    }
    double c = cost ? cost[arm] : 0.0;
    for (size_t i = 0; i < n; i++)
        rows[i] = (keyed){tau[i] - c, i};
    qsort(rows, n, sizeof *rows, by_key_desc);
    for (size_t j = 0; j < n_share; j++) {
        size_t treat = (size_t)llround(fmin(fmax(share[j], 0.0), 1.0) * (double)n);
        for (size_t i = 0; i < n * (size_t)n_arms; i++)
            pi[i] = 0.0;
        for (size_t r = 0; r < n; r++)
            pi[(size_t)(r < treat ? arm : 0) * n + rows[r].row] = 1.0;
        value[j] = tt_erupt(n, n_arms, t, y, prop, clip, pi) -
                   tt_policy_mean_cost(n, n_arms, pi, cost);
    }
    free(rows), free(pi);
    return TT_OK;
}

tt_status tt_report_calibration(size_t n, const double *tau, const double *pseudo, int bins,
                                double *tau_mean, double *pseudo_mean, double *lo, double *hi,
                                size_t *count)
{
    keyed *rows = malloc(sizeof *rows * (n + 1));
    if (!rows)
        return TT_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        rows[i] = (keyed){tau[i], i};
    qsort(rows, n, sizeof *rows, by_key_asc);
    for (int b = 0; b < bins; b++) {
        size_t from = (size_t)b * n / (size_t)bins, to = (size_t)(b + 1) * n / (size_t)bins;
        size_t m = to - from;
        count[b] = m;
        double st = 0, sp = 0;
        for (size_t r = from; r < to; r++)
            st += tau[rows[r].row], sp += pseudo[rows[r].row];
        tau_mean[b] = m ? st / (double)m : NAN;
        pseudo_mean[b] = m ? sp / (double)m : NAN;
        double ss = 0;
        for (size_t r = from; r < to; r++) {
            double d = pseudo[rows[r].row] - pseudo_mean[b];
            ss += d * d;
        }
        double se = m > 1 ? sqrt(ss / (double)(m - 1) / (double)m) : NAN;
        lo[b] = pseudo_mean[b] - TT_Z975 * se;
        hi[b] = pseudo_mean[b] + TT_Z975 * se;
    }
    free(rows);
    return TT_OK;
}

void tt_report_histogram(size_t n, const double *v, double lo, double hi, int bins,
                         size_t *counts)
{
    for (int b = 0; b < bins; b++)
        counts[b] = 0;
    double width = (hi - lo) / bins;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        long b = width > 0 ? (long)floor((v[i] - lo) / width) : 0;
        b = b < 0 ? 0 : b >= bins ? bins - 1 : b;
        counts[b]++;
    }
}
