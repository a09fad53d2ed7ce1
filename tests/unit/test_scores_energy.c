/* test_scores_energy.c - threaded energy kernel, psw/IV variants, against
 * deliberately naive O(n^2) references. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "score/energy.h"
#include "score/energy_pairs.h"
#include "util/rng.h"

static double dist(const double *a, const double *b, size_t d)
{
    double s = 0.0;
    for (size_t k = 0; k < d; k++)
        s += (a[k] - b[k]) * (a[k] - b[k]);
    return sqrt(s);
}

/* Weighted E between groups ga and gb of rows (z row-major, u weights that
 * already sum to 1 in each group, or NULL for 1/|group|). */
static double naive_e(const double *z, const double *u, const int *g, size_t n, size_t d, int ga,
                      int gb)
{
    double na = 0.0, nb = 0.0;
    for (size_t i = 0; i < n; i++) {
        na += g[i] == ga;
        nb += g[i] == gb;
    }
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            const double wi = u ? u[i] : 1.0 / (g[i] == ga ? na : nb);
            const double wj = u ? u[j] : 1.0 / (g[j] == ga ? na : nb);
            const double dij = dist(z + i * d, z + j * d, d);
            if (g[i] == ga && g[j] == gb)
                ab += wi * wj * dij;
            if (g[i] == ga && g[j] == ga)
                aa += wi * wj * dij;
            if (g[i] == gb && g[j] == gb)
                bb += wi * wj * dij;
        }
    return 2.0 * ab - aa - bb;
}

/* Score over groups g (arms or instrument values) of the points
 * (x, y - tau_{t}), unstandardised, weighted by 1/clip(prop[g*n+i]) when
 * prop is set. */
static double naive_score(size_t n, size_t p, const double *x, const double *y, const int *t,
                          const double *tau, const int *g, int G, const double *prop, double clip)
{
    const size_t d = p + 1;
    double *z = malloc(n * d * sizeof *z), *u = prop ? malloc(n * sizeof *u) : NULL;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < p; j++)
            z[i * d + j] = x[j * n + i];
        z[i * d + p] = t[i] ? y[i] - tau[(size_t)(t[i] - 1) * n + i] : y[i];
    }
    if (u) {
        for (int k = 0; k < G; k++) {
            double s = 0.0;
            for (size_t i = 0; i < n; i++)
                if (g[i] == k) {
                    double e = prop[(size_t)k * n + i];
                    e = e < clip ? clip : e > 1 - clip ? 1 - clip : e;
                    u[i] = 1.0 / e;
                    s += u[i];
                }
            for (size_t i = 0; i < n; i++)
                if (g[i] == k)
                    u[i] /= s;
        }
    }
    double n0 = 0.0, score = 0.0;
    for (size_t i = 0; i < n; i++)
        n0 += g[i] == 0;
    for (int k = 1; k < G; k++) {
        double nk = 0.0;
        for (size_t i = 0; i < n; i++)
            nk += g[i] == k;
        score += nk / ((double)n - n0) * naive_e(z, u, g, n, d, k, 0);
    }
    free(z);
    free(u);
    return score;
}

typedef struct data {
    size_t n, p;
    int K;
    double *x, *y, *tau, *prop;
    int *t, *z;
} data;

static data make(size_t n, size_t p, int K, uint64_t seed)
{
    data D = {n, p, K, malloc(n * p * sizeof(double) + 8), malloc(n * sizeof(double)),
              malloc(n * (size_t)(K - 1) * sizeof(double)), malloc(n * (size_t)K * sizeof(double)),
              malloc(n * sizeof(int)), malloc(n * sizeof(int))};
    tt_rng r;
    tt_rng_seed(&r, seed, "test");
    for (size_t i = 0; i < n * p; i++)
        D.x[i] = tt_rng_normal(&r);
    for (size_t i = 0; i < n; i++) {
        D.t[i] = (int)(i % (size_t)K); /* every arm present */
        D.z[i] = (int)tt_rng_below(&r, 3);
        D.y[i] = tt_rng_normal(&r) + D.t[i];
        double s = 0.0;
        for (int k = 0; k < K; k++)
            s += (D.prop[(size_t)k * n + i] = 0.02 + tt_rng_uniform(&r));
        for (int k = 0; k < K; k++)
            D.prop[(size_t)k * n + i] /= s;
    }
    D.z[0] = 0, D.z[1] = 1, D.z[2] = 2;
    for (size_t i = 0; i < n * (size_t)(K - 1); i++)
        D.tau[i] = 0.5 + 0.3 * tt_rng_normal(&r);
    return D;
}

static void drop(data *D)
{
    free(D->x), free(D->y), free(D->tau), free(D->prop), free(D->t), free(D->z);
}

static void assert_rel(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol * fmax(1.0, fabs(want))))
        fail_msg("got %.17g, want %.17g", got, want);
}

static void test_energy_and_psw_match_naive(void **state)
{
    (void)state;
    for (int K = 2; K <= 3; K++) {
        data D = make(301, 3, K, 11 + (uint64_t)K);
        tt_energy_opts o;
        tt_energy_opts_init(&o);
        o.standardize = 0;
        double v;
        assert_int_equal(tt_energy_score_ex(D.n, D.p, D.x, D.y, D.t, K, D.tau, &o, &v, NULL, 0),
                         TT_OK);
        assert_rel(v, naive_score(D.n, D.p, D.x, D.y, D.t, D.tau, D.t, K, NULL, 0), 1e-12);
        o.propensity = D.prop;
        o.clip = 0.1;
        assert_int_equal(tt_energy_score_ex(D.n, D.p, D.x, D.y, D.t, K, D.tau, &o, &v, NULL, 0),
                         TT_OK);
        assert_rel(v, naive_score(D.n, D.p, D.x, D.y, D.t, D.tau, D.t, K, D.prop, 0.1), 1e-12);
        drop(&D);
    }
}

/* Bit-identical for any thread count: fixed tiles, fixed-order reduction.
 * 3,000 rows is above the threshold where threads start. */
static void test_threads_deterministic(void **state)
{
    (void)state;
    data D = make(3000, 4, 3, 5);
    tt_energy_opts o;
    tt_energy_opts_init(&o);
    double ref = NAN;
    for (int th = 1; th <= 5; th++) {
        for (int rep = 0; rep < 2; rep++) {
            double v;
            o.n_threads = th;
            assert_int_equal(
                tt_energy_score_ex(D.n, D.p, D.x, D.y, D.t, 3, D.tau, &o, &v, NULL, 0), TT_OK);
            if (th == 1 && rep == 0)
                ref = v;
            assert_memory_equal(&v, &ref, sizeof v);
        }
    }
    drop(&D);
}

/* The kernel against explicit loops, on sizes that straddle tile edges. */
static void test_pair_sums_naive(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 2, 3, 127, 128, 129, 300};
    tt_rng r;
    tt_rng_seed(&r, 3, "pairs");
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        const size_t na = sizes[s], nb = sizes[(s + 3) % 7], d = 1 + s % 4;
        double *a = malloc(na * d * sizeof *a), *b = malloc(nb * d * sizeof *b);
        double *wa = malloc(na * sizeof *wa), *wb = malloc(nb * sizeof *wb);
        for (size_t i = 0; i < na * d; i++)
            a[i] = tt_rng_normal(&r);
        for (size_t i = 0; i < nb * d; i++)
            b[i] = tt_rng_normal(&r);
        for (size_t i = 0; i < na; i++)
            wa[i] = tt_rng_uniform(&r);
        for (size_t i = 0; i < nb; i++)
            wb[i] = tt_rng_uniform(&r);
        tt_pair_sum sums[3] = {{.a = a, .wa = wa, .na = na, .b = b, .wb = wb, .nb = nb},
                               {.a = a, .na = na, .self = 1},
                               {.a = b, .wa = wb, .na = nb, .self = 1}};
        assert_int_equal(tt_pair_sums(sums, 3, d, 2), TT_OK);
        double c = 0.0, sa = 0.0, sb = 0.0;
        for (size_t i = 0; i < na; i++)
            for (size_t j = 0; j < nb; j++)
                c += wa[i] * wb[j] * dist(a + i * d, b + j * d, d);
        for (size_t i = 0; i < na; i++)
            for (size_t j = 0; j < na; j++)
                sa += dist(a + i * d, a + j * d, d);
        for (size_t i = 0; i < nb; i++)
            for (size_t j = 0; j < nb; j++)
                sb += wb[i] * wb[j] * dist(b + i * d, b + j * d, d);
        assert_rel(sums[0].result, c, 1e-12);
        assert_rel(sums[1].result, sa, 1e-12);
        assert_rel(sums[2].result, sb, 1e-12);
        free(a), free(b), free(wa), free(wb);
    }
}

/* METRICS.md: with constant propensities psw_energy equals energy. */
static void test_psw_equals_energy_constant_propensity(void **state)
{
    (void)state;
    for (int K = 2; K <= 4; K++) {
        data D = make(500, 2, K, 40 + (uint64_t)K);
        for (int k = 0; k < K; k++)
            for (size_t i = 0; i < D.n; i++)
                D.prop[(size_t)k * D.n + i] = 1.0 / K;
        double e, w;
        assert_int_equal(tt_energy_score(D.n, D.p, D.x, D.y, D.t, K, D.tau, 1, &e, NULL, 0),
                         TT_OK);
        assert_int_equal(
            tt_psw_energy_score(D.n, D.p, D.x, D.y, D.t, K, D.tau, D.prop, 0.05, 1, &w, NULL, 0),
            TT_OK);
        assert_rel(w, e, 1e-12);
        drop(&D);
    }
}

static void test_iv_energy_naive(void **state)
{
    (void)state;
    data D = make(240, 2, 2, 9);
    tt_energy_opts o;
    tt_energy_opts_init(&o);
    o.standardize = 0;
    double v;
    assert_int_equal(
        tt_iv_energy_score(D.n, D.p, D.x, D.y, D.t, 2, D.tau, D.z, 3, &o, &v, NULL, 0), TT_OK);
    assert_rel(v, naive_score(D.n, D.p, D.x, D.y, D.t, D.tau, D.z, 3, NULL, 0), 1e-12);
    /* Instrument propensities weight the groups as psw does the arms. */
    o.propensity = D.prop; /* n x 2 is not n x 3: use the first 2 groups only */
    for (size_t i = 0; i < D.n; i++)
        D.z[i] = D.z[i] == 2 ? 1 : D.z[i];
    o.clip = 0.05;
    assert_int_equal(
        tt_iv_energy_score(D.n, D.p, D.x, D.y, D.t, 2, D.tau, D.z, 2, &o, &v, NULL, 0), TT_OK);
    assert_rel(v, naive_score(D.n, D.p, D.x, D.y, D.t, D.tau, D.z, 2, D.prop, 0.05), 1e-12);
    /* A missing instrument value is a data error. */
    char err[256] = "";
    for (size_t i = 0; i < D.n; i++)
        D.z[i] = 0;
    assert_int_equal(
        tt_iv_energy_score(D.n, D.p, D.x, D.y, D.t, 2, D.tau, D.z, 2, &o, &v, err, sizeof err),
        TT_ERR_DATA);
    assert_non_null(strstr(err, "instrument value 1"));
    drop(&D);
}

/* A hand-worked case: p = 0, arm 0 at {0, 2}, arm 1 de-treated to {1, 3}:
 * cross = (1+3+1+1)/4 = 1.5, self0 = (2+2)/4 = 1, self1 = 1 -> E = 1. */
static void test_hand_case(void **state)
{
    (void)state;
    const double y[] = {0, 2, 2, 4}, tau[] = {1, 1, 1, 1};
    const int t[] = {0, 0, 1, 1};
    double v;
    assert_int_equal(tt_energy_score(4, 0, NULL, y, t, 2, tau, 0, &v, NULL, 0), TT_OK);
    assert_rel(v, 1.0, 1e-15);
    const double d0[] = {0, 2}, d1[] = {1, 3};
    assert_rel(tt_energy_distance(d1, 2, d0, 2, 1), 1.0, 1e-15);
}

/* The documented subsample: the exact score of the kept rows (constants from
 * all rows, so compared unstandardised), stratified, seeded. */
static void test_subsample(void **state)
{
    (void)state;
    data D = make(2000, 2, 3, 21);
    tt_energy_opts o;
    tt_energy_opts_init(&o);
    o.standardize = 0;
    o.propensity = D.prop;
    double exact, sub, again;
    assert_int_equal(tt_energy_score_ex(D.n, D.p, D.x, D.y, D.t, 3, D.tau, &o, &exact, NULL, 0),
                     TT_OK);
    o.max_rows = D.n; /* not above the limit: every row */
    assert_int_equal(tt_energy_score_ex(D.n, D.p, D.x, D.y, D.t, 3, D.tau, &o, &sub, NULL, 0),
                     TT_OK);
    assert_memory_equal(&sub, &exact, sizeof sub);

    o.max_rows = 500;
    o.subsample_seed = 4;
    unsigned char *keep = malloc(D.n);
    size_t kept;
    assert_int_equal(tt_energy_subsample(D.n, D.t, 3, 500, 4, keep, &kept), TT_OK);
    assert_true(kept >= 498 && kept <= 502);
    size_t per[3] = {0}, all[3] = {0};
    for (size_t i = 0; i < D.n; i++) {
        all[D.t[i]]++;
        per[D.t[i]] += keep[i];
    }
    for (int k = 0; k < 3; k++)
        assert_true(per[k] * 4 + 4 >= all[k] && per[k] * 4 <= all[k] + 4);
    assert_int_equal(tt_energy_score_ex(D.n, D.p, D.x, D.y, D.t, 3, D.tau, &o, &sub, NULL, 0),
                     TT_OK);
    assert_int_equal(tt_energy_score_ex(D.n, D.p, D.x, D.y, D.t, 3, D.tau, &o, &again, NULL, 0),
                     TT_OK);
    assert_memory_equal(&sub, &again, sizeof sub);
    /* The kept rows, copied out, scored exactly and naively. */
    data S = make(kept, 2, 3, 1);
    size_t r = 0;
    for (size_t i = 0; i < D.n; i++) {
        if (!keep[i])
            continue;
        for (size_t j = 0; j < 2; j++)
            S.x[j * kept + r] = D.x[j * D.n + i];
        S.y[r] = D.y[i], S.t[r] = D.t[i];
        for (int k = 0; k < 3; k++)
            S.prop[(size_t)k * kept + r] = D.prop[(size_t)k * D.n + i];
        for (int k = 0; k < 2; k++)
            S.tau[(size_t)k * kept + r] = D.tau[(size_t)k * D.n + i];
        r++;
    }
    assert_rel(sub, naive_score(kept, 2, S.x, S.y, S.t, S.tau, S.t, 3, S.prop, 0.05), 1e-12);
    o.subsample_seed = 5; /* another seed, other rows */
    assert_int_equal(tt_energy_score_ex(D.n, D.p, D.x, D.y, D.t, 3, D.tau, &o, &again, NULL, 0),
                     TT_OK);
    assert_true(again != sub);
    free(keep);
    drop(&S);
    drop(&D);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_energy_and_psw_match_naive),
        cmocka_unit_test(test_threads_deterministic),
        cmocka_unit_test(test_pair_sums_naive),
        cmocka_unit_test(test_psw_equals_energy_constant_propensity),
        cmocka_unit_test(test_iv_energy_naive),
        cmocka_unit_test(test_hand_case),
        cmocka_unit_test(test_subsample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
