/*
 * energy.c - the energy score (METRICS.md, "energy"), exact and blocked.
 *
 * Points are stored row-major (n x d, d = p + 1), grouped by arm so each arm
 * is one contiguous slab. Pairwise sums run over tiles of TILE x TILE points:
 * the column tile is transposed into a d x TILE scratch, so the inner loop
 * runs over TILE contiguous doubles per coordinate and vectorises; squared
 * distances build up in a TILE-long accumulator and are square-rooted once.
 * Memory beyond the points is O(d * TILE). Within-sample sums visit only
 * tiles on or above the diagonal and double the result (d(a,a') symmetric,
 * diagonal 0). Tile totals are added with compensation, so 10^8 and more
 * terms keep full precision.
 */
#include "score/energy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"

/* 128 points x 21 coordinates of the transposed tile is ~21 KiB: it and the
 * row being processed stay in L1. */
#define TILE 128

typedef struct ksum { /* Neumaier compensated sum */
    double s, c;
} ksum;

static void ksum_add(ksum *k, double v)
{
    const double t = k->s + v;
    if (fabs(k->s) >= fabs(v))
        k->c += (k->s - t) + v;
    else
        k->c += (v - t) + k->s;
    k->s = t;
}

/* bt[k * TILE + j] = coordinate k of point j of the m points at b. */
static void transpose_tile(const double *b, size_t m, size_t d, double *bt)
{
    for (size_t j = 0; j < m; j++)
        for (size_t k = 0; k < d; k++)
            bt[k * TILE + j] = b[j * d + k];
}

/* Sum of d(a_i, b_j) over the ma x mb tile; with upper != 0 the two tiles are
 * the same and only pairs j > i count. */
static double tile_sum(const double *a, size_t ma, const double *restrict bt, size_t mb,
                       size_t d, int upper, double *restrict acc)
{
    double total = 0.0;
    for (size_t i = 0; i < ma; i++) {
        const double *ai = a + i * d;
        const size_t j0 = upper ? i + 1 : 0;
        if (j0 >= mb)
            break;
        const size_t m = mb - j0;
        for (size_t j = 0; j < m; j++)
            acc[j] = 0.0;
        for (size_t k = 0; k < d; k++) {
            const double aik = ai[k];
            const double *restrict bk = bt + k * TILE + j0;
            for (size_t j = 0; j < m; j++) {
                const double diff = aik - bk[j];
                acc[j] += diff * diff;
            }
        }
        /* Four partial sums: independent sqrt chains overlap in the pipeline. */
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        size_t j = 0;
        for (; j + 4 <= m; j += 4) {
            s0 += sqrt(acc[j]);
            s1 += sqrt(acc[j + 1]);
            s2 += sqrt(acc[j + 2]);
            s3 += sqrt(acc[j + 3]);
        }
        for (; j < m; j++)
            s0 += sqrt(acc[j]);
        total += (s0 + s1) + (s2 + s3);
    }
    return total;
}

/* sum_{a in A, b in B} d(a, b). work: d * TILE + TILE doubles. */
static double cross_sum(const double *a, size_t na, const double *b, size_t nb, size_t d,
                        double *work)
{
    double *bt = work, *acc = work + d * TILE;
    ksum total = {0.0, 0.0};
    for (size_t jb = 0; jb < nb; jb += TILE) {
        const size_t mb = nb - jb < TILE ? nb - jb : TILE;
        transpose_tile(b + jb * d, mb, d, bt);
        for (size_t ib = 0; ib < na; ib += TILE) {
            const size_t ma = na - ib < TILE ? na - ib : TILE;
            ksum_add(&total, tile_sum(a + ib * d, ma, bt, mb, d, 0, acc));
        }
    }
    return total.s + total.c;
}

/* sum_{a, a' in A} d(a, a') over ordered pairs (a V-statistic numerator). */
static double self_sum(const double *a, size_t na, size_t d, double *work)
{
    double *bt = work, *acc = work + d * TILE;
    ksum total = {0.0, 0.0};
    for (size_t jb = 0; jb < na; jb += TILE) {
        const size_t mb = na - jb < TILE ? na - jb : TILE;
        transpose_tile(a + jb * d, mb, d, bt);
        for (size_t ib = 0; ib <= jb; ib += TILE) {
            const size_t ma = na - ib < TILE ? na - ib : TILE;
            ksum_add(&total, tile_sum(a + ib * d, ma, bt, mb, d, ib == jb, acc));
        }
    }
    return 2.0 * (total.s + total.c);
}

/* E from its three sums. E >= 0 is a theorem; a negative value can only be
 * rounding residue of near-identical samples, so it is reported as 0. */
static double energy_from_sums(double cross, double self_a, size_t na, double self_b, size_t nb)
{
    const double fa = (double)na, fb = (double)nb;
    const double e = 2.0 * cross / (fa * fb) - self_a / (fa * fa) - self_b / (fb * fb);
    return e > 0.0 ? e : 0.0;
}

double tt_energy_distance(const double *a, size_t n_a, const double *b, size_t n_b, size_t d)
{
    if (n_a == 0 || n_b == 0)
        return NAN;
    double *work = tt_malloc_array(d * TILE + TILE, sizeof *work);
    if (!work)
        return NAN;
    const double cross = cross_sum(a, n_a, b, n_b, d, work);
    const double sa = self_sum(a, n_a, d, work);
    const double sb = self_sum(b, n_b, d, work);
    free(work);
    return energy_from_sums(cross, sa, n_a, sb, n_b);
}

/* Mean and population sd of one column; a constant column (max == min) gets
 * scale 1, so rounding noise in its centred values is never blown up. */
static void centre_scale(size_t n, const double *v, double *mean, double *scale)
{
    double s = 0.0, lo = v[0], hi = v[0];
    for (size_t i = 0; i < n; i++) {
        s += v[i];
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    const double m = s / (double)n;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - m) * (v[i] - m);
    const double sd = sqrt(ss / (double)n);
    *mean = m;
    *scale = (hi > lo && sd > 0.0) ? sd : 1.0;
}

static tt_status validate(size_t n, size_t p, const double *x, const double *y, const int *t,
                          int n_arms, const double *tau_hat, size_t *count,
                          char *err, size_t errlen)
{
    if (n_arms < 2)
        return tt_errf(err, errlen, TT_ERR_INVALID, "energy: need at least 2 arms, got %d",
                       n_arms);
    if (n > 0 && (!y || !t || !tau_hat || (p > 0 && !x)))
        return tt_errf(err, errlen, TT_ERR_INVALID, "energy: x, y, t or tau_hat is NULL");
    for (size_t i = 0; i < n; i++) {
        if (t[i] < 0 || t[i] >= n_arms)
            return tt_errf(err, errlen, TT_ERR_INVALID,
                           "energy: row %zu has arm %d, outside 0..%d", i, t[i], n_arms - 1);
        count[t[i]]++;
        if (!isfinite(y[i]))
            return tt_errf(err, errlen, TT_ERR_DATA, "energy: y at row %zu is not finite", i);
    }
    for (int k = 0; k < n_arms; k++)
        if (count[k] == 0)
            return tt_errf(err, errlen, TT_ERR_DATA, "energy: arm %d has no validation rows", k);
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < n; i++)
            if (!isfinite(x[j * n + i]))
                return tt_errf(err, errlen, TT_ERR_DATA,
                               "energy: x at row %zu, column %zu is not finite", i, j);
    for (int k = 1; k < n_arms; k++)
        for (size_t i = 0; i < n; i++)
            if (!isfinite(tau_hat[(size_t)(k - 1) * n + i]))
                return tt_errf(err, errlen, TT_ERR_NUMERIC,
                               "energy: tau_hat of arm %d at row %zu is not finite", k, i);
    return TT_OK;
}

tt_status tt_energy_score(size_t n, size_t p, const double *x, const double *y, const int *t,
                          int n_arms, const double *tau_hat, int standardize, double *out,
                          char *err, size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "energy: out is NULL");
    *out = NAN;
    const size_t d = p + 1;
    size_t *count = NULL, *start = NULL, *fill = NULL;
    double *z = NULL, *mean = NULL, *scale = NULL, *work = NULL;
    tt_status st = TT_OK;
    if (n_arms >= 2) {
        count = calloc((size_t)n_arms, sizeof *count);
        start = tt_malloc_array((size_t)n_arms, sizeof *start);
        fill = tt_malloc_array((size_t)n_arms, sizeof *fill);
        if (!count || !start || !fill) {
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "energy: no memory for %d arms", n_arms);
            goto done;
        }
    }
    st = validate(n, p, x, y, t, n_arms, tau_hat, count, err, errlen);
    if (st != TT_OK)
        goto done;

    z = tt_malloc_array(n, d * sizeof *z);
    mean = tt_malloc_array(d, sizeof *mean);
    scale = tt_malloc_array(d, sizeof *scale);
    work = tt_malloc_array(d * TILE + TILE, sizeof *work);
    if (!z || !mean || !scale || !work) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "energy: no memory for %zu x %zu points", n, d);
        goto done;
    }
    for (size_t j = 0; j < d; j++) {
        mean[j] = 0.0;
        scale[j] = 1.0;
    }
    /* The outcome component is scaled by the observed y, not by y - tau_hat,
     * so every candidate is measured in the same units. */
    if (standardize) {
        for (size_t j = 0; j < p; j++)
            centre_scale(n, x + j * n, &mean[j], &scale[j]);
        centre_scale(n, y, &mean[p], &scale[p]);
    }

    /* Counting sort by arm, stable, so each arm is one contiguous slab. */
    size_t s = 0;
    for (int k = 0; k < n_arms; k++) {
        start[k] = fill[k] = s;
        s += count[k];
    }
    for (size_t i = 0; i < n; i++) {
        const int k = t[i];
        double *zi = z + fill[k]++ * d;
        for (size_t j = 0; j < p; j++)
            zi[j] = (x[j * n + i] - mean[j]) / scale[j];
        const double y0 = k == 0 ? y[i] : y[i] - tau_hat[(size_t)(k - 1) * n + i];
        zi[p] = (y0 - mean[p]) / scale[p];
    }

    const double *z0 = z + start[0] * d;
    const double self0 = self_sum(z0, count[0], d, work);
    const double n_treated = (double)(n - count[0]);
    double score = 0.0;
    for (int k = 1; k < n_arms; k++) {
        const double *zk = z + start[k] * d;
        const double cross = cross_sum(zk, count[k], z0, count[0], d, work);
        const double selfk = self_sum(zk, count[k], d, work);
        const double e = energy_from_sums(cross, selfk, count[k], self0, count[0]);
        score += ((double)count[k] / n_treated) * e;
    }
    *out = score;

done:
    free(count);
    free(start);
    free(fill);
    free(z);
    free(mean);
    free(scale);
    free(work);
    return st;
}
