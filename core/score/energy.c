/*
 * energy.c - the energy scores (METRICS.md: energy, psw_energy, and the IV
 * variant), exact. The pairwise sums are energy_pairs.c's blocked,
 * multithreaded kernel; this file builds the points, groups and weights.
 *
 * Points are stored row-major (n x d, d = p + 1), grouped so each group (an
 * arm, or an instrument value for IV) is one contiguous slab. Memory beyond
 * the points is O(d * TILE) per thread.
 */
#include "score/energy.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "score/energy_pairs.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/rng.h"

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
    tt_pair_sum sums[3] = {
        {.a = a, .na = n_a, .b = b, .nb = n_b},
        {.a = a, .na = n_a, .self = 1},
        {.a = b, .na = n_b, .self = 1},
    };
    if (tt_pair_sums(sums, 3, d, 0) != TT_OK)
        return NAN;
    return energy_from_sums(sums[0].result, sums[1].result, n_a, sums[2].result, n_b);
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

/* What one call scores: groups are the arms, or the instrument values (IV). */
typedef struct problem {
    size_t n, p;
    const double *x, *y, *tau_hat;
    const int *t, *group;   /* group == t unless IV */
    int n_arms, n_groups;
    const double *prop;     /* n x n_groups, indexed by group; NULL: unweighted */
    double clip;
    int standardize, n_threads;
    size_t max_rows;
    uint64_t subsample_seed;
    const char *name;       /* for messages */
    const char *unit;       /* "arm" or "instrument value" */
} problem;

static tt_status validate(const problem *pb, size_t *count, char *err, size_t errlen)
{
    const size_t n = pb->n, p = pb->p;
    if (pb->n_arms < 2)
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: need at least 2 arms, got %d", pb->name,
                       pb->n_arms);
    if (pb->n_groups < 2)
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: need at least 2 %ss, got %d", pb->name,
                       pb->unit, pb->n_groups);
    if (n > 0 && (!pb->y || !pb->t || !pb->group || !pb->tau_hat || (p > 0 && !pb->x)))
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: x, y, t or tau_hat is NULL", pb->name);
    for (size_t i = 0; i < n; i++) {
        if (pb->t[i] < 0 || pb->t[i] >= pb->n_arms)
            return tt_errf(err, errlen, TT_ERR_INVALID, "%s: row %zu has arm %d, outside 0..%d",
                           pb->name, i, pb->t[i], pb->n_arms - 1);
        if (pb->group[i] < 0 || pb->group[i] >= pb->n_groups)
            return tt_errf(err, errlen, TT_ERR_INVALID, "%s: row %zu has %s %d, outside 0..%d",
                           pb->name, i, pb->unit, pb->group[i], pb->n_groups - 1);
        count[pb->group[i]]++;
        if (!isfinite(pb->y[i]))
            return tt_errf(err, errlen, TT_ERR_DATA, "%s: y at row %zu is not finite", pb->name,
                           i);
    }
    for (int k = 0; k < pb->n_groups; k++)
        if (count[k] == 0)
            return tt_errf(err, errlen, TT_ERR_DATA, "%s: %s %d has no validation rows", pb->name,
                           pb->unit, k);
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < n; i++)
            if (!isfinite(pb->x[j * n + i]))
                return tt_errf(err, errlen, TT_ERR_DATA,
                               "%s: x at row %zu, column %zu is not finite", pb->name, i, j);
    for (int k = 1; k < pb->n_arms; k++)
        for (size_t i = 0; i < n; i++)
            if (!isfinite(pb->tau_hat[(size_t)(k - 1) * n + i]))
                return tt_errf(err, errlen, TT_ERR_NUMERIC,
                               "%s: tau_hat of arm %d at row %zu is not finite", pb->name, k, i);
    if (pb->prop) {
        if (!(pb->clip >= 0.0 && pb->clip < 0.5))
            return tt_errf(err, errlen, TT_ERR_INVALID, "%s: clip %g outside [0, 0.5)", pb->name,
                           pb->clip);
        for (size_t i = 0; i < n; i++) {
            const double e = pb->prop[(size_t)pb->group[i] * n + i];
            if (!(e >= 0.0 && e <= 1.0) || (pb->clip == 0.0 && e == 0.0))
                return tt_errf(err, errlen, TT_ERR_DATA,
                               "%s: propensity of row %zu's %s is %g, not in (0, 1]", pb->name,
                               i, pb->unit, e);
        }
    }
    return TT_OK;
}

/* score = sum_{g >= 1} n_g / (n - n_0) E(group g, group 0), with E weighted
 * by u_i = 1 / clip(prop[g_i * n + i]) normalised within the group when prop
 * is set. */
static tt_status score_impl(const problem *pb, double *out, char *err, size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: out is NULL", pb->name);
    *out = NAN;
    const size_t n = pb->n, p = pb->p, d = p + 1;
    const int G = pb->n_groups;
    size_t *count = NULL, *start = NULL, *fill = NULL;
    double *z = NULL, *u = NULL, *mean = NULL, *scale = NULL, *grp_w = NULL;
    unsigned char *keep = NULL; /* NULL: every row */
    tt_pair_sum *sums = NULL;
    tt_status st = TT_OK;
    if (G >= 2) {
        count = calloc((size_t)G, sizeof *count);
        start = tt_malloc_array((size_t)G, sizeof *start);
        fill = tt_malloc_array((size_t)G, sizeof *fill);
        grp_w = calloc((size_t)G, sizeof *grp_w);
        sums = tt_malloc_array(2 * (size_t)G, sizeof *sums);
        if (!count || !start || !fill || !grp_w || !sums) {
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "%s: no memory for %d %ss", pb->name, G,
                         pb->unit);
            goto done;
        }
    }
    st = validate(pb, count, err, errlen);
    if (st != TT_OK)
        goto done;
    if (pb->max_rows > 0 && n > pb->max_rows) {
        size_t kept;
        keep = malloc(n);
        if (!keep) {
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "%s: out of memory", pb->name);
            goto done;
        }
        st = tt_energy_subsample(n, pb->group, G, pb->max_rows, pb->subsample_seed, keep, &kept);
        if (st != TT_OK) {
            st = tt_errf(err, errlen, st, "%s: cannot draw the subsample", pb->name);
            goto done;
        }
        for (int k = 0; k < G; k++)
            count[k] = 0;
        for (size_t i = 0; i < n; i++)
            count[pb->group[i]] += keep[i];
    }

    z = tt_malloc_array(n, d * sizeof *z);
    u = pb->prop ? tt_malloc_array(n + 1, sizeof *u) : NULL;
    mean = tt_malloc_array(d, sizeof *mean);
    scale = tt_malloc_array(d, sizeof *scale);
    if (!z || !mean || !scale || (pb->prop && !u)) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "%s: no memory for %zu x %zu points", pb->name,
                     n, d);
        goto done;
    }
    for (size_t j = 0; j < d; j++) {
        mean[j] = 0.0;
        scale[j] = 1.0;
    }
    /* The outcome component is scaled by the observed y, not by y - tau_hat,
     * so every candidate is measured in the same units. */
    if (pb->standardize) {
        for (size_t j = 0; j < p; j++)
            centre_scale(n, pb->x + j * n, &mean[j], &scale[j]);
        centre_scale(n, pb->y, &mean[p], &scale[p]);
    }

    /* Counting sort by group, stable, so each group is one contiguous slab. */
    size_t s = 0;
    for (int k = 0; k < G; k++) {
        start[k] = fill[k] = s;
        s += count[k];
    }
    for (size_t i = 0; i < n; i++) {
        if (keep && !keep[i])
            continue;
        const int k = pb->group[i], a = pb->t[i];
        const size_t at = fill[k]++;
        double *zi = z + at * d;
        for (size_t j = 0; j < p; j++)
            zi[j] = (pb->x[j * n + i] - mean[j]) / scale[j];
        const double y0 = a == 0 ? pb->y[i] : pb->y[i] - pb->tau_hat[(size_t)(a - 1) * n + i];
        zi[p] = (y0 - mean[p]) / scale[p];
        if (u) {
            double e = pb->prop[(size_t)k * n + i];
            e = e < pb->clip ? pb->clip : e > 1.0 - pb->clip ? 1.0 - pb->clip : e;
            u[at] = 1.0 / e;
            grp_w[k] += u[at];
        }
    }
    if (u)
        for (int k = 0; k < G; k++)
            for (size_t i = start[k]; i < start[k] + count[k]; i++)
                u[i] /= grp_w[k];

    /* One job for all sums, so the threads stay busy across groups. Sum 0:
     * self of group 0; sums 2k-1, 2k: cross(k, 0) and self(k). */
    const double *z0 = z + start[0] * d, *u0 = u ? u + start[0] : NULL;
    sums[0] = (tt_pair_sum){.a = z0, .wa = u0, .na = count[0], .self = 1};
    for (int k = 1; k < G; k++) {
        const double *zk = z + start[k] * d, *uk = u ? u + start[k] : NULL;
        sums[2 * k - 1] = (tt_pair_sum){.a = zk, .wa = uk, .na = count[k], .b = z0, .wb = u0,
                                        .nb = count[0]};
        sums[2 * k] = (tt_pair_sum){.a = zk, .wa = uk, .na = count[k], .self = 1};
    }
    if (tt_pair_sums(sums, 2 * (size_t)G - 1, d, pb->n_threads) != TT_OK) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "%s: no memory for the pair sums", pb->name);
        goto done;
    }
    const double self0 = sums[0].result, n_rest = (double)(s - count[0]);
    double score = 0.0;
    for (int k = 1; k < G; k++) {
        const double cross = sums[2 * k - 1].result, selfk = sums[2 * k].result;
        double e;
        if (u) { /* normalised weights: the sums are already the means */
            e = 2.0 * cross - selfk - self0;
            e = e > 0.0 ? e : 0.0;
        } else {
            e = energy_from_sums(cross, selfk, count[k], self0, count[0]);
        }
        score += ((double)count[k] / n_rest) * e;
    }
    *out = score;

done:
    free(keep);
    free(count);
    free(start);
    free(fill);
    free(grp_w);
    free(sums);
    free(z);
    free(u);
    free(mean);
    free(scale);
    return st;
}

void tt_energy_opts_init(tt_energy_opts *opts)
{
    opts->standardize = 1;
    opts->propensity = NULL;
    opts->clip = 0.05;
    opts->n_threads = 0;
    opts->max_rows = 0;
    opts->subsample_seed = 0;
}

tt_status tt_energy_subsample(size_t n, const int *group, int n_groups, size_t max_rows,
                              uint64_t seed, unsigned char *keep, size_t *kept)
{
    *kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (group[i] < 0 || group[i] >= n_groups)
            return TT_ERR_INVALID;
        keep[i] = 1;
    }
    if (max_rows == 0 || n <= max_rows) {
        *kept = n;
        return TT_OK;
    }
    size_t *idx = tt_malloc_array(n, sizeof *idx);
    if (!idx)
        return TT_ERR_NOMEM;
    tt_rng rng;
    tt_rng_seed(&rng, seed, "score:energy_subsample");
    for (int g = 0; g < n_groups; g++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (group[i] == g)
                idx[m++] = i;
        size_t take = (size_t)llround((double)m * (double)max_rows / (double)n);
        const size_t floor_rows = m < 2 ? m : 2; /* an arm keeps a distance to itself */
        take = take < floor_rows ? floor_rows : take > m ? m : take;
        tt_rng_shuffle_size(&rng, idx, m);
        for (size_t j = take; j < m; j++)
            keep[idx[j]] = 0;
        *kept += take;
    }
    free(idx);
    return TT_OK;
}

tt_status tt_energy_score_ex(size_t n, size_t p, const double *x, const double *y, const int *t,
                             int n_arms, const double *tau_hat, const tt_energy_opts *opts,
                             double *out, char *err, size_t errlen)
{
    const problem pb = {n, p, x, y, tau_hat, t, t, n_arms, n_arms, opts->propensity, opts->clip,
                        opts->standardize, opts->n_threads, opts->max_rows,
                        opts->subsample_seed, opts->propensity ? "psw_energy" : "energy", "arm"};
    return score_impl(&pb, out, err, errlen);
}

tt_status tt_energy_score(size_t n, size_t p, const double *x, const double *y, const int *t,
                          int n_arms, const double *tau_hat, int standardize, double *out,
                          char *err, size_t errlen)
{
    tt_energy_opts o;
    tt_energy_opts_init(&o);
    o.standardize = standardize;
    return tt_energy_score_ex(n, p, x, y, t, n_arms, tau_hat, &o, out, err, errlen);
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
    tt_energy_opts o;
    tt_energy_opts_init(&o);
    o.standardize = standardize;
    o.propensity = propensity;
    o.clip = clip;
    return tt_energy_score_ex(n, p, x, y, t, n_arms, tau_hat, &o, out, err, errlen);
}

tt_status tt_iv_energy_score(size_t n, size_t p, const double *x, const double *y, const int *t,
                             int n_arms, const double *tau_hat, const int *z, int n_z,
                             const tt_energy_opts *opts, double *out, char *err, size_t errlen)
{
    const problem pb = {n, p, x, y, tau_hat, t, z, n_arms, n_z, opts->propensity, opts->clip,
                        opts->standardize, opts->n_threads, opts->max_rows,
                        opts->subsample_seed, "iv_energy", "instrument value"};
    return score_impl(&pb, out, err, errlen);
}
