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
#include <stdint.h>
#include <stdlib.h>

#include "util/err.h"
#include "util/mem.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* Two doubles, one SSE2/NEON register. Written out rather than left to the
 * auto-vectoriser because the default build (-O2) uses GCC's cheapest cost
 * model, which leaves much of this loop scalar. */
typedef double v2d __attribute__((vector_size(16)));

/* bt[k * TILE + j] = coordinate k of point j of the m points at b; an odd m
 * gets a zero column so the last vector lane holds finite numbers. */
static void transpose_tile(const double *b, size_t m, size_t d, double *bt)
{
    for (size_t j = 0; j < m; j++)
        for (size_t k = 0; k < d; k++)
            bt[k * TILE + j] = b[j * d + k];
    if (m % 2)
        for (size_t k = 0; k < d; k++)
            bt[k * TILE + m] = 0.0;
}

/* sum_{j0 <= j < m} sqrt(acc[j]). The SSE2 square root skips the errno
 * check that a libm sqrt call keeps under default flags. Fixed grouping, so
 * the result does not depend on anything but the inputs. */
static double sum_sqrt(const double *acc, size_t j0, size_t m)
{
    size_t j = j0;
    double s = 0.0;
#if defined(__SSE2__)
    __m128d s0 = _mm_setzero_pd(), s1 = _mm_setzero_pd();
    for (; j + 4 <= m; j += 4) {
        s0 = _mm_add_pd(s0, _mm_sqrt_pd(_mm_loadu_pd(acc + j)));
        s1 = _mm_add_pd(s1, _mm_sqrt_pd(_mm_loadu_pd(acc + j + 2)));
    }
    s0 = _mm_add_pd(s0, s1);
    double lanes[2];
    _mm_storeu_pd(lanes, s0);
    s = lanes[0] + lanes[1];
#endif
    for (; j < m; j++)
        s += sqrt(acc[j]);
    return s;
}

/* sum_{j0 <= j < m} wb[j] sqrt(acc[j]), for the weighted (psw) score. */
static double weighted_sum_sqrt(const double *acc, const double *wb, size_t j0, size_t m)
{
    double s = 0.0;
    for (size_t j = j0; j < m; j++)
        s += wb[j] * sqrt(acc[j]);
    return s;
}

/* Sum of wa_i wb_j d(a_i, b_j) over the ma x mb tile (weights 1 when wa/wb
 * are NULL; both NULL or both set); with upper != 0 the two tiles are the
 * same and only pairs j > i count. acc: TILE doubles, 16-byte aligned, as is
 * bt (TILE is even). */
static double tile_sum(const double *a, const double *wa, size_t ma, const double *bt,
                       const double *wb, size_t mb, size_t d, int upper, double *acc)
{
    v2d *vacc = (v2d *)acc;
    const size_t nv = (mb + 1) / 2;
    double total = 0.0;
    for (size_t i = 0; i < ma; i++) {
        const double *ai = a + i * d;
        const size_t j0 = upper ? i + 1 : 0;
        if (j0 >= mb)
            break;
        const size_t v0 = j0 / 2; /* whole vectors; lanes below j0 are ignored */
        for (size_t v = v0; v < nv; v++)
            vacc[v] = (v2d){0.0, 0.0};
        for (size_t k = 0; k < d; k++) {
            const v2d aik = {ai[k], ai[k]};
            const v2d *bk = (const v2d *)(bt + k * TILE);
            for (size_t v = v0; v < nv; v++) {
                const v2d diff = aik - bk[v];
                vacc[v] += diff * diff;
            }
        }
        total += wa ? wa[i] * weighted_sum_sqrt(acc, wb, j0, mb) : sum_sqrt(acc, j0, mb);
    }
    return total;
}

/* sum_{a in A, b in B} wa_a wb_b d(a, b) (weights 1 when NULL). work: d * TILE
 * + TILE doubles. */
static double cross_sum(const double *a, const double *wa, size_t na, const double *b,
                        const double *wb, size_t nb, size_t d, double *work)
{
    double *bt = work, *acc = work + d * TILE;
    ksum total = {0.0, 0.0};
    for (size_t jb = 0; jb < nb; jb += TILE) {
        const size_t mb = nb - jb < TILE ? nb - jb : TILE;
        transpose_tile(b + jb * d, mb, d, bt);
        for (size_t ib = 0; ib < na; ib += TILE) {
            const size_t ma = na - ib < TILE ? na - ib : TILE;
            ksum_add(&total, tile_sum(a + ib * d, wa ? wa + ib : NULL, ma, bt,
                                      wb ? wb + jb : NULL, mb, d, 0, acc));
        }
    }
    return total.s + total.c;
}

/* sum_{a, a' in A} w_a w_a' d(a, a') over ordered pairs (a V-statistic
 * numerator; weights 1 when w is NULL). */
static double self_sum(const double *a, const double *w, size_t na, size_t d, double *work)
{
    double *bt = work, *acc = work + d * TILE;
    ksum total = {0.0, 0.0};
    for (size_t jb = 0; jb < na; jb += TILE) {
        const size_t mb = na - jb < TILE ? na - jb : TILE;
        transpose_tile(a + jb * d, mb, d, bt);
        for (size_t ib = 0; ib <= jb; ib += TILE) {
            const size_t ma = na - ib < TILE ? na - ib : TILE;
            ksum_add(&total, tile_sum(a + ib * d, w ? w + ib : NULL, ma, bt, w ? w + jb : NULL,
                                      mb, d, ib == jb, acc));
        }
    }
    return 2.0 * (total.s + total.c);
}

/* Scratch for the pair sums: a d x TILE transposed tile and TILE
 * accumulators, aligned for the vector loads. */
static double *alloc_work(size_t d)
{
    if (d > (SIZE_MAX / sizeof(double) - TILE) / TILE - 1)
        return NULL;
    return aligned_alloc(64, ((d + 1) * TILE * sizeof(double) + 63) / 64 * 64);
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
    double *work = alloc_work(d);
    if (!work)
        return NAN;
    const double cross = cross_sum(a, NULL, n_a, b, NULL, n_b, d, work);
    const double sa = self_sum(a, NULL, n_a, d, work);
    const double sb = self_sum(b, NULL, n_b, d, work);
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

/* Both scores: prop == NULL gives the plain energy score; otherwise each row
 * carries u_i = 1 / clip(prop[t_i * n + i]), normalised within its arm. */
static tt_status score_impl(size_t n, size_t p, const double *x, const double *y, const int *t,
                            int n_arms, const double *tau_hat, const double *prop, double clip,
                            int standardize, double *out, char *err, size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "energy: out is NULL");
    *out = NAN;
    const size_t d = p + 1;
    size_t *count = NULL, *start = NULL, *fill = NULL;
    double *z = NULL, *u = NULL, *mean = NULL, *scale = NULL, *work = NULL, *arm_w = NULL;
    tt_status st = TT_OK;
    if (n_arms >= 2) {
        count = calloc((size_t)n_arms, sizeof *count);
        start = tt_malloc_array((size_t)n_arms, sizeof *start);
        fill = tt_malloc_array((size_t)n_arms, sizeof *fill);
        arm_w = calloc((size_t)n_arms, sizeof *arm_w);
        if (!count || !start || !fill || !arm_w) {
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "energy: no memory for %d arms", n_arms);
            goto done;
        }
    }
    st = validate(n, p, x, y, t, n_arms, tau_hat, count, err, errlen);
    if (st != TT_OK)
        goto done;
    if (prop) {
        if (!(clip >= 0.0 && clip < 0.5)) {
            st = tt_errf(err, errlen, TT_ERR_INVALID, "psw_energy: clip %g outside [0, 0.5)", clip);
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            const double e = prop[(size_t)t[i] * n + i];
            if (!(e >= 0.0 && e <= 1.0) || (clip == 0.0 && e == 0.0)) {
                st = tt_errf(err, errlen, TT_ERR_DATA,
                             "psw_energy: propensity of row %zu's arm is %g, not in (0, 1]", i, e);
                goto done;
            }
        }
    }

    z = tt_malloc_array(n, d * sizeof *z);
    u = prop ? tt_malloc_array(n + 1, sizeof *u) : NULL;
    mean = tt_malloc_array(d, sizeof *mean);
    scale = tt_malloc_array(d, sizeof *scale);
    work = alloc_work(d);
    if (!z || !mean || !scale || !work || (prop && !u)) {
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
        const size_t at = fill[k]++;
        double *zi = z + at * d;
        for (size_t j = 0; j < p; j++)
            zi[j] = (x[j * n + i] - mean[j]) / scale[j];
        const double y0 = k == 0 ? y[i] : y[i] - tau_hat[(size_t)(k - 1) * n + i];
        zi[p] = (y0 - mean[p]) / scale[p];
        if (u) {
            double e = prop[(size_t)k * n + i];
            e = e < clip ? clip : e > 1.0 - clip ? 1.0 - clip : e;
            u[at] = 1.0 / e;
            arm_w[k] += u[at];
        }
    }
    if (u)
        for (int k = 0; k < n_arms; k++)
            for (size_t i = start[k]; i < start[k] + count[k]; i++)
                u[i] /= arm_w[k];

    const double *z0 = z + start[0] * d, *u0 = u ? u + start[0] : NULL;
    const double self0 = self_sum(z0, u0, count[0], d, work);
    const double n_treated = (double)(n - count[0]);
    double score = 0.0;
    for (int k = 1; k < n_arms; k++) {
        const double *zk = z + start[k] * d, *uk = u ? u + start[k] : NULL;
        const double cross = cross_sum(zk, uk, count[k], z0, u0, count[0], d, work);
        const double selfk = self_sum(zk, uk, count[k], d, work);
        double e;
        if (u) { /* normalised weights: the sums are already the means */
            e = 2.0 * cross - selfk - self0;
            e = e > 0.0 ? e : 0.0;
        } else {
            e = energy_from_sums(cross, selfk, count[k], self0, count[0]);
        }
        score += ((double)count[k] / n_treated) * e;
    }
    *out = score;

done:
    free(count);
    free(start);
    free(fill);
    free(arm_w);
    free(z);
    free(u);
    free(mean);
    free(scale);
    free(work);
    return st;
}

tt_status tt_energy_score(size_t n, size_t p, const double *x, const double *y, const int *t,
                          int n_arms, const double *tau_hat, int standardize, double *out,
                          char *err, size_t errlen)
{
    return score_impl(n, p, x, y, t, n_arms, tau_hat, NULL, 0.0, standardize, out, err, errlen);
}

tt_status tt_psw_energy_score(size_t n, size_t p, const double *x, const double *y, const int *t,
                              int n_arms, const double *tau_hat, const double *propensity,
                              double clip, int standardize, double *out, char *err, size_t errlen)
{
    if (!propensity) {
        if (out)
            *out = NAN;
        return tt_errf(err, errlen, TT_ERR_INVALID, "psw_energy: no propensities");
    }
    return score_impl(n, p, x, y, t, n_arms, tau_hat, propensity, clip, standardize, out, err,
                      errlen);
}
