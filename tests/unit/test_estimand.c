/* test_estimand.c - the doubly robust ATE, ATT, ATC and overlap averages
 * (score/estimand.h): exact closed forms, coverage with the true nuisances,
 * the continuous treatment's residual-on-residual average, refusals. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "score/estimand.h"
#include "util/rng.h"

/* x ~ N(0, 1), e = sigma(0.8 x) (binary), tau(x) = 1 + x, mu_0 = x,
 * Y = mu_T + noise * N(0, 1). e and mu are the truth (n x 2 each). */
typedef struct sim {
    size_t n;
    int *t;
    double *y, *e, *mu, *tau, *x;
} sim;

static sim simulate(size_t n, uint64_t seed, double noise, double slope)
{
    sim s = {n, malloc(n * sizeof(int)), malloc(n * sizeof(double)),
             malloc(2 * n * sizeof(double)), malloc(2 * n * sizeof(double)),
             malloc(n * sizeof(double)), malloc(n * sizeof(double))};
    tt_rng r;
    tt_rng_seed(&r, seed, "estimand");
    for (size_t i = 0; i < n; i++) {
        double x = tt_rng_normal(&r), p = 1.0 / (1.0 + exp(-slope * x));
        s.x[i] = x;
        s.e[n + i] = p, s.e[i] = 1.0 - p;
        s.t[i] = tt_rng_uniform(&r) < p;
        s.tau[i] = 1.0 + x;
        s.mu[i] = x, s.mu[n + i] = x + s.tau[i];
        s.y[i] = s.mu[(size_t)s.t[i] * n + i] + noise * tt_rng_normal(&r);
    }
    return s;
}

static void drop(sim *s)
{
    free(s->t), free(s->y), free(s->e), free(s->mu), free(s->tau), free(s->x);
}

/* The sample estimand: mean tau over the rows it targets (overlap: e(1-e)
 * weighted). */
static double target(const sim *s, tt_estimand which)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < s->n; i++) {
        double w = which == TT_ESTIMAND_ATE ? 1.0
                   : which == TT_ESTIMAND_ATT ? s->t[i] == 1
                   : which == TT_ESTIMAND_ATC ? s->t[i] == 0
                                              : s->e[s->n + i] * s->e[i];
        num += w * s->tau[i];
        den += w;
    }
    return num / den;
}

/* Noise-free outcomes and the true mu: every correction term is 0, so each
 * estimand is exactly the mean of tau over its rows. */
static void test_closed_form(void **state)
{
    (void)state;
    sim s = simulate(500, 1, 0.0, 0.8);
    char err[256];
    for (int w = TT_ESTIMAND_ATE; w <= TT_ESTIMAND_OVERLAP; w++) {
        tt_estimand_value v;
        assert_int_equal(tt_estimand_aipw((tt_estimand)w, s.n, 2, s.t, s.y, s.e, s.mu, NULL,
                                          0.0, 0.05, &v, err, sizeof err),
                         TT_OK);
        assert_true(fabs(v.estimate - target(&s, (tt_estimand)w)) < 1e-12);
        assert_true(v.se >= 0.0 && v.lo <= v.estimate && v.estimate <= v.hi);
    }
    drop(&s);
}

/* With every propensity equal, the overlap weights are constant: overlap = ATE. */
static void test_overlap_equals_ate_when_randomised(void **state)
{
    (void)state;
    sim s = simulate(800, 2, 1.0, 0.0);
    char err[256];
    tt_estimand_value a, o;
    assert_int_equal(tt_estimand_aipw(TT_ESTIMAND_ATE, s.n, 2, s.t, s.y, s.e, s.mu, NULL, 0.0,
                                      0.05, &a, err, sizeof err), TT_OK);
    assert_int_equal(tt_estimand_aipw(TT_ESTIMAND_OVERLAP, s.n, 2, s.t, s.y, s.e, s.mu, NULL,
                                      0.0, 0.05, &o, err, sizeof err), TT_OK);
    assert_true(fabs(a.estimate - o.estimate) < 1e-12);
    assert_true(fabs(a.se - o.se) < 1e-12);
    drop(&s);
}

/* Sample weights of 2 are the rows twice. */
static void test_weights_are_copies(void **state)
{
    (void)state;
    sim s = simulate(300, 3, 1.0, 0.8), d = simulate(600, 3, 1.0, 0.8);
    size_t n = s.n;
    for (size_t i = 0; i < 2 * n; i++) {
        size_t j = i % n;
        d.t[i] = s.t[j], d.y[i] = s.y[j];
        for (int k = 0; k < 2; k++)
            d.e[(size_t)k * 2 * n + i] = s.e[(size_t)k * n + j],
                              d.mu[(size_t)k * 2 * n + i] = s.mu[(size_t)k * n + j];
    }
    double *w = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++)
        w[i] = 2.0;
    char err[256];
    for (int which = TT_ESTIMAND_ATE; which <= TT_ESTIMAND_OVERLAP; which++) {
        tt_estimand_value a, b;
        assert_int_equal(tt_estimand_aipw((tt_estimand)which, n, 2, s.t, s.y, s.e, s.mu, w,
                                          0.01, 0.05, &a, err, sizeof err), TT_OK);
        assert_int_equal(tt_estimand_aipw((tt_estimand)which, 2 * n, 2, d.t, d.y, d.e, d.mu,
                                          NULL, 0.01, 0.05, &b, err, sizeof err), TT_OK);
        assert_true(fabs(a.estimate - b.estimate) < 1e-10);
        assert_true(fabs(a.se - b.se) < 1e-10);
    }
    free(w);
    drop(&s);
    drop(&d);
}

/* With the true nuisances and noisy outcomes, each 95 % interval covers its
 * sample estimand in about 95 % of 300 replications (binomial: 95 % +- 2.5 %
 * at 2 s.e.; accept 90-99 %). */
static void test_coverage(void **state)
{
    (void)state;
    const int reps = 300;
    int cover[4] = {0};
    char err[256];
    for (int r = 0; r < reps; r++) {
        sim s = simulate(1000, 100 + (uint64_t)r, 1.0, 0.8);
        for (int w = TT_ESTIMAND_ATE; w <= TT_ESTIMAND_OVERLAP; w++) {
            tt_estimand_value v;
            assert_int_equal(tt_estimand_aipw((tt_estimand)w, s.n, 2, s.t, s.y, s.e, s.mu,
                                              NULL, 0.01, 0.05, &v, err, sizeof err), TT_OK);
            double truth = target(&s, (tt_estimand)w);
            cover[w] += v.lo <= truth && truth <= v.hi;
        }
        drop(&s);
    }
    for (int w = 0; w < 4; w++) {
        printf("%-8s covered %d/%d\n", tt_estimand_name((tt_estimand)w), cover[w], reps);
        assert_true(cover[w] >= 0.90 * reps && cover[w] <= 0.99 * reps);
    }
}

/* Three arms: each treated arm's ATE and ATT against its own closed form. */
static void test_multi_arm(void **state)
{
    (void)state;
    size_t n = 600;
    int *t = malloc(n * sizeof(int));
    double *y = malloc(n * sizeof(double)), *e = malloc(3 * n * sizeof(double));
    double *mu = malloc(3 * n * sizeof(double));
    tt_rng r;
    tt_rng_seed(&r, 4, "three");
    double att_truth[3] = {0}, cnt[3] = {0};
    for (size_t i = 0; i < n; i++) {
        double x = tt_rng_normal(&r);
        e[i] = 0.5, e[n + i] = 0.3, e[2 * n + i] = 0.2;
        double u = tt_rng_uniform(&r);
        t[i] = u < 0.5 ? 0 : u < 0.8 ? 1 : 2;
        for (int k = 0; k < 3; k++)
            mu[(size_t)k * n + i] = x + k * (1.0 + x);
        y[i] = mu[(size_t)t[i] * n + i];
        att_truth[t[i]] += t[i] * (1.0 + x);
        cnt[t[i]]++;
    }
    tt_estimand_value v[2];
    char err[256];
    assert_int_equal(tt_estimand_aipw(TT_ESTIMAND_ATT, n, 3, t, y, e, mu, NULL, 0.0, 0.05, v,
                                      err, sizeof err), TT_OK);
    assert_true(fabs(v[0].estimate - att_truth[1] / cnt[1]) < 1e-12);
    assert_true(fabs(v[1].estimate - att_truth[2] / cnt[2]) < 1e-12);
    /* An empty arm is refused by name. */
    for (size_t i = 0; i < n; i++)
        if (t[i] == 2)
            t[i] = 1;
    assert_int_equal(tt_estimand_aipw(TT_ESTIMAND_ATE, n, 3, t, y, e, mu, NULL, 0.0, 0.05, v,
                                      err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "arm 2 has no rows"));
    free(t), free(y), free(e), free(mu);
}

/* Continuous: the residual-on-residual slope and its HC0 s.e., by hand. */
static void test_continuous(void **state)
{
    (void)state;
    size_t n = 400;
    double *t = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double));
    double *m = malloc(n * sizeof(double)), *e = malloc(n * sizeof(double));
    tt_rng r;
    tt_rng_seed(&r, 5, "cont");
    for (size_t i = 0; i < n; i++) {
        double x = tt_rng_normal(&r);
        e[i] = 0.5 * x;
        t[i] = e[i] + tt_rng_normal(&r);
        m[i] = x - 1.5 * e[i];
        y[i] = x - 1.5 * t[i] + (1 + fabs(x)) * tt_rng_normal(&r);
    }
    double stt = 0, sty = 0;
    for (size_t i = 0; i < n; i++)
        stt += (t[i] - e[i]) * (t[i] - e[i]), sty += (t[i] - e[i]) * (y[i] - m[i]);
    double b = sty / stt, meat = 0;
    for (size_t i = 0; i < n; i++) {
        double u = (y[i] - m[i] - b * (t[i] - e[i])) * (t[i] - e[i]);
        meat += u * u;
    }
    tt_estimand_value v;
    char err[256];
    assert_int_equal(tt_estimand_continuous(TT_ESTIMAND_ATE, n, t, y, m, e, NULL, 0.05, &v, err,
                                            sizeof err), TT_OK);
    assert_true(fabs(v.estimate - b) < 1e-12);
    assert_true(fabs(v.se - sqrt(meat) / stt) < 1e-12);
    assert_true(fabs(v.estimate + 1.5) < 4 * v.se);
    assert_int_equal(tt_estimand_continuous(TT_ESTIMAND_ATT, n, t, y, m, e, NULL, 0.05, &v, err,
                                            sizeof err), TT_ERR_INVALID);
    assert_non_null(strstr(err, "only \"ate\""));
    free(t), free(y), free(m), free(e);
}

static void test_names_and_errors(void **state)
{
    (void)state;
    assert_int_equal(tt_estimand_parse("att"), TT_ESTIMAND_ATT);
    assert_int_equal(tt_estimand_parse("overlap"), TT_ESTIMAND_OVERLAP);
    assert_int_equal(tt_estimand_parse("ATE"), -1);
    assert_string_equal(tt_estimand_name(TT_ESTIMAND_ATC), "atc");
    sim s = simulate(50, 6, 1.0, 0.8);
    char err[256];
    tt_estimand_value v;
    s.y[7] = NAN;
    assert_int_equal(tt_estimand_aipw(TT_ESTIMAND_ATE, s.n, 2, s.t, s.y, s.e, s.mu, NULL, 0.0,
                                      0.05, &v, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "row 7"));
    assert_int_equal(tt_estimand_aipw(TT_ESTIMAND_ATE, s.n, 2, s.t, s.y, s.e, s.mu, NULL, 0.6,
                                      0.05, &v, err, sizeof err), TT_ERR_INVALID);
    drop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_form),
        cmocka_unit_test(test_overlap_equals_ate_when_randomised),
        cmocka_unit_test(test_weights_are_copies),
        cmocka_unit_test(test_coverage),
        cmocka_unit_test(test_multi_arm),
        cmocka_unit_test(test_continuous),
        cmocka_unit_test(test_names_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
