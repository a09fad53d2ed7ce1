/* test_scores_uplift.c - Qini and AUUC against a naive O(n^2) reference that
 * recomputes every prefix explicitly, plus hand-worked cases. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "score/uplift.h"
#include "util/rng.h"

/* Curves at prefix length k of the sorted rows ord[], recomputed from scratch. */
static void prefix(const size_t *ord, size_t k, const int *t, const double *y, const double *w,
                   int arm, double *q, double *g)
{
    double nt = 0, nc = 0, yt = 0, yc = 0;
    for (size_t j = 0; j < k; j++) {
        const size_t i = ord[j];
        const double wi = w ? w[i] : 1.0;
        if (t[i] == arm)
            nt += wi, yt += wi * y[i];
        else
            nc += wi, yc += wi * y[i];
    }
    *q = nc > 0 ? yt - yc * nt / nc : 0.0;
    *g = (nt > 0 && nc > 0) ? (double)k * (yt / nt - yc / nc) : 0.0;
}

/* One arm against control, rows with t in {0, arm}. */
static void naive_pair(size_t n, const int *t, const double *y, const double *tau,
                       const double *w, int arm, double *qini, double *auuc)
{
    size_t *ord = malloc(n * sizeof *ord), m = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i] == 0 || t[i] == arm)
            ord[m++] = i;
    /* Selection sort, descending by tau. */
    for (size_t a = 0; a < m; a++)
        for (size_t b = a + 1; b < m; b++)
            if (tau[ord[b]] > tau[ord[a]]) {
                const size_t tmp = ord[a];
                ord[a] = ord[b];
                ord[b] = tmp;
            }
    double *q = calloc(m + 1, sizeof *q), *g = calloc(m + 1, sizeof *g);
    for (size_t k = 1; k <= m; k++) {
        /* The group holding position k: [b0, b1) in 0-based sorted positions. */
        size_t b0 = k - 1, b1 = k;
        while (b0 > 0 && tau[ord[b0 - 1]] == tau[ord[k - 1]])
            b0--;
        while (b1 < m && tau[ord[b1]] == tau[ord[k - 1]])
            b1++;
        double q0, g0, q1, g1;
        prefix(ord, b0, t, y, w, arm, &q0, &g0);
        prefix(ord, b1, t, y, w, arm, &q1, &g1);
        const double f = (double)(k - b0) / (double)(b1 - b0);
        q[k] = q0 + f * (q1 - q0);
        g[k] = g0 + f * (g1 - g0);
    }
    double qs = 0, gs = 0;
    for (size_t k = 1; k <= m; k++) {
        qs += q[k] - (double)k / (double)m * q[m];
        gs += g[k];
    }
    *qini = qs / (double)m;
    *auuc = g[m] != 0 ? gs / (double)m / fabs(g[m]) : NAN;
    free(ord), free(q), free(g);
}

static void naive(size_t n, int K, const int *t, const double *y, const double *tau,
                  const double *w, double *qini, double *auuc)
{
    double n0 = 0;
    for (size_t i = 0; i < n; i++)
        n0 += t[i] == 0;
    *qini = *auuc = 0;
    for (int k = 1; k < K; k++) {
        double nk = 0, q, a;
        for (size_t i = 0; i < n; i++)
            nk += t[i] == k;
        naive_pair(n, t, y, tau + (size_t)(k - 1) * n, w, k, &q, &a);
        *qini += nk / ((double)n - n0) * q;
        *auuc += nk / ((double)n - n0) * a;
    }
}

static void test_hand_cases(void **state)
{
    (void)state;
    const int t[] = {1, 0, 1, 0};
    double q, a;
    const double tau[] = {3, 2, 1, 0}, y1[] = {1, 0, 0, 1}, y2[] = {1, 0, 0, 0};
    assert_int_equal(tt_uplift_scores(4, 2, t, y1, tau, NULL, &q, &a, NULL, 0), TT_OK);
    assert_float_equal(q, 0.5, 1e-15);
    assert_true(isnan(a)); /* g(n) = 0 */
    assert_int_equal(tt_uplift_scores(4, 2, t, y2, tau, NULL, &q, &a, NULL, 0), TT_OK);
    assert_float_equal(q, 0.125, 1e-15);
    assert_float_equal(a, 0.6875, 1e-15);
    /* Ties: {0, 1} and {2, 3} are groups, curves linear inside. */
    const double tied[] = {1, 1, 0, 0};
    assert_int_equal(tt_uplift_scores(4, 2, t, y2, tied, NULL, &q, &a, NULL, 0), TT_OK);
    assert_float_equal(q, 0.25, 1e-15);
    assert_float_equal(a, 0.875, 1e-15);
}

static void random_case(size_t n, int K, int levels, int weighted, uint64_t seed)
{
    tt_rng r;
    tt_rng_seed(&r, seed, "uplift");
    int *t = malloc(n * sizeof *t);
    double *y = malloc(n * sizeof *y), *w = malloc(n * sizeof *w);
    double *tau = malloc(n * (size_t)(K - 1) * sizeof *tau);
    for (size_t i = 0; i < n; i++) {
        t[i] = (int)(i % (size_t)K);
        y[i] = tt_rng_normal(&r) + 0.3 * t[i];
        w[i] = 1.0 + 4.0 * tt_rng_uniform(&r);
    }
    for (size_t i = 0; i < n * (size_t)(K - 1); i++)
        tau[i] = levels ? (double)tt_rng_below(&r, (uint64_t)levels) : tt_rng_normal(&r);
    double q, a, nq, na;
    assert_int_equal(
        tt_uplift_scores(n, K, t, y, tau, weighted ? w : NULL, &q, &a, NULL, 0), TT_OK);
    naive(n, K, t, y, tau, weighted ? w : NULL, &nq, &na);
    assert_float_equal(q, nq, 1e-10 * fmax(1, fabs(nq)));
    assert_float_equal(a, na, 1e-10 * fmax(1, fabs(na)));

    /* Row order does not matter: reverse-shuffle every array alike. */
    size_t *perm = malloc(n * sizeof *perm);
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    tt_rng_shuffle_size(&r, perm, n);
    int *t2 = malloc(n * sizeof *t2);
    double *y2 = malloc(n * sizeof *y2), *w2 = malloc(n * sizeof *w2);
    double *tau2 = malloc(n * (size_t)(K - 1) * sizeof *tau2);
    for (size_t i = 0; i < n; i++) {
        t2[i] = t[perm[i]], y2[i] = y[perm[i]], w2[i] = w[perm[i]];
        for (int k = 0; k < K - 1; k++)
            tau2[(size_t)k * n + i] = tau[(size_t)k * n + perm[i]];
    }
    double q2, a2;
    assert_int_equal(
        tt_uplift_scores(n, K, t2, y2, tau2, weighted ? w2 : NULL, &q2, &a2, NULL, 0), TT_OK);
    assert_float_equal(q2, q, 1e-12 * fmax(1, fabs(q)));
    assert_float_equal(a2, a, 1e-12 * fmax(1, fabs(a)));
    free(t), free(y), free(w), free(tau), free(perm), free(t2), free(y2), free(w2), free(tau2);
}

static void test_random_vs_naive(void **state)
{
    (void)state;
    random_case(257, 2, 0, 0, 1);   /* distinct */
    random_case(300, 2, 7, 0, 2);   /* heavy ties */
    random_case(300, 2, 7, 1, 3);   /* ties, IPW weights */
    random_case(331, 3, 5, 0, 4);   /* each arm vs control */
    random_case(200, 4, 0, 1, 5);
}

/* A constant tau_hat is one group: the Qini curve is the random line. */
static void test_constant_effect(void **state)
{
    (void)state;
    const size_t n = 1000;
    int *t = malloc(n * sizeof *t);
    double *y = malloc(n * sizeof *y), *tau = malloc(n * sizeof *tau);
    tt_rng r;
    tt_rng_seed(&r, 8, "const");
    for (size_t i = 0; i < n; i++) {
        t[i] = (int)tt_rng_below(&r, 2);
        y[i] = tt_rng_normal(&r) + t[i];
        tau[i] = 0.7;
    }
    double q, a;
    assert_int_equal(tt_uplift_scores(n, 2, t, y, tau, NULL, &q, &a, NULL, 0), TT_OK);
    assert_float_equal(q, 0.0, 1e-12);
    /* auuc of a straight uplift line: (n + 1) / (2n) times the sign of g(n). */
    assert_float_equal(fabs(a), (double)(n + 1) / (2.0 * (double)n), 1e-12);
    free(t), free(y), free(tau);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_cases),
        cmocka_unit_test(test_random_vs_naive),
        cmocka_unit_test(test_constant_effect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
