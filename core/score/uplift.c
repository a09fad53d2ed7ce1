/* uplift.c - Qini and AUUC with tie groups (uplift.h). */
#include "score/uplift.h"

#include <math.h>
#include <stdlib.h>

#include "util/err.h"
#include "util/mem.h"

typedef struct ranked {
    double v;
    size_t i;
} ranked;

/* Descending by effect; the index only makes the sort order total. Rows of
 * one group are summed together, so their order cannot matter beyond
 * rounding. */
static int by_effect_desc(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v > b->v ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

static double qini_point(double yt, double yc, double nt, double nc)
{
    return nc > 0.0 ? yt - yc * nt / nc : 0.0;
}

static double uplift_point(double k, double yt, double yc, double nt, double nc)
{
    return (nt > 0.0 && nc > 0.0) ? k * (yt / nt - yc / nc) : 0.0;
}

/* One comparison: rows r[0..m-1] (sorted), arm `arm` against control. */
static void curves(const ranked *r, size_t m, const int *t, const double *y, const double *w,
                   int arm, double *qini, double *auuc)
{
    double nt = 0.0, nc = 0.0, yt = 0.0, yc = 0.0;
    double q_prev = 0.0, g_prev = 0.0, q_area = 0.0, g_area = 0.0;
    size_t k = 0;
    while (k < m) {
        size_t end = k;
        while (end < m && r[end].v == r[k].v) {
            const size_t i = r[end].i;
            const double wi = w ? w[i] : 1.0;
            if (t[i] == arm) {
                nt += wi;
                yt += wi * y[i];
            } else {
                nc += wi;
                yc += wi * y[i];
            }
            end++;
        }
        /* Linear within the group: sum_{j=1..g} [c0 + j/g (c1 - c0)]. */
        const double g = (double)(end - k);
        const double q = qini_point(yt, yc, nt, nc);
        const double u = uplift_point((double)end, yt, yc, nt, nc);
        q_area += g * q_prev + (q - q_prev) * (g + 1.0) / 2.0;
        g_area += g * g_prev + (u - g_prev) * (g + 1.0) / 2.0;
        q_prev = q;
        g_prev = u;
        k = end;
    }
    const double fm = (double)m;
    *qini = (q_area - q_prev * (fm + 1.0) / 2.0) / fm;
    *auuc = g_prev != 0.0 ? g_area / fm / fabs(g_prev) : NAN;
}

tt_status tt_uplift_scores(size_t n, int n_arms, const int *t, const double *y,
                           const double *tau_hat, const double *weight, double *qini,
                           double *auuc, char *err, size_t errlen)
{
    *qini = *auuc = NAN;
    ranked *r = tt_malloc_array(n + 1, sizeof *r);
    if (!r)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "qini: out of memory for %zu rows", n);
    size_t n0 = 0;
    for (size_t i = 0; i < n; i++)
        n0 += t[i] == 0;
    double q_total = 0.0, a_total = 0.0;
    int q_ok = 1, a_ok = 1;
    for (int k = 1; k < n_arms; k++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (t[i] == 0 || t[i] == k)
                r[m++] = (ranked){tau_hat[(size_t)(k - 1) * n + i], i};
        const size_t nk = m - n0;
        if (nk == 0 || n0 == 0) {
            q_ok = a_ok = 0;
            break;
        }
        qsort(r, m, sizeof *r, by_effect_desc);
        double q, a;
        curves(r, m, t, y, weight, k, &q, &a);
        const double share = (double)nk / (double)(n - n0);
        q_total += share * q;
        if (isnan(a))
            a_ok = 0;
        else
            a_total += share * a;
    }
    free(r);
    if (q_ok)
        *qini = q_total;
    if (a_ok)
        *auuc = a_total;
    return TT_OK;
}
