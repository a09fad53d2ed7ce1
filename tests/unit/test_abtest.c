/* test_abtest.c - experiment/abtest.h: Welch, CUPED and Lin's regression
 * against statsmodels 0.13.5 on tests/fixtures/data/abtest_small.csv (the
 * numbers tests/bench/abtest_reference.py prints; rerun it to check them),
 * Holm and the sample-ratio chi-square against statsmodels/scipy, CUPED's
 * variance reduction against 1 - rho^2 by Monte Carlo, AIPW and Hajek
 * against brute-force sums, Lin dropping a collinear interaction, and the
 * design value's bootstrap interval covering a known answer. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "data/csv.h"
#include "experiment/abtest.h"
#include "util/rng.h"

#define FIXTURE TT_SOURCE_DIR "/tests/fixtures/data/abtest_small.csv"

static void close_rel(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol * fabs(want)))
        fail_msg("%s: %.15g, reference %.15g", what, got, want);
}

/* Reference rows: estimate, se, lo, hi, df, p. */
static void check_effect(const tt_ab_effect *e, const double *ref, double tol, const char *what)
{
    char w[128];
    const char *names[] = {"estimate", "se", "lo", "hi", "df", "p"};
    const double got[] = {e->estimate, e->se, e->lo, e->hi, e->df, e->p};
    for (int j = 0; j < 6; j++) {
        snprintf(w, sizeof w, "%s %s", what, names[j]);
        close_rel(got[j], ref[j], tol, w);
    }
}

typedef struct fixture {
    tt_csv_table *tab;
    size_t n;
    int t[300];
    double x[600];
} fixture;

static void load(fixture *f)
{
    char err[512];
    if (tt_csv_read(FIXTURE, &f->tab, err, sizeof err) != TT_OK)
        fail_msg("%s", err);
    f->n = f->tab->n_rows;
    assert_int_equal(f->n, 300);
    for (size_t i = 0; i < f->n; i++) {
        f->t[i] = (int)f->tab->cols[0].num[i];
        f->x[i] = f->tab->cols[1].num[i];
        f->x[300 + i] = f->tab->cols[2].num[i];
    }
}

static void test_welch_cuped_lin(void **state)
{
    (void)state;
    static const double welch[2][6] = {
        {0.40637887526881711, 0.22931993878191967, -0.046178049083600958, 0.85893579962123612,
         176.78210141975759, 0.078099757568254477},
        {-0.052279076550868497, 0.29973154764211912, -0.64921995410127553, 0.54466180099953854,
         76.207110341760298, 0.86199819965253632}};
    static const double cuped[2][6] = {
        {0.35571187508309654, 0.13353251545104969, 0.092325472390113017, 0.6190982777760814,
         191.16032544655499, 0.0083844327274853071},
        {0.012633269612416953, 0.23236352588517195, -0.45134597496564094, 0.47661251419047529,
         65.61739538192866, 0.95680672711428538}};
    static const double lin[2][6] = {
        {0.27424935978261961, 0.18374361809189568, -0.087385560260758666, 0.63588427982599782,
         291, 0.13663434108464542},
        {-0.092518097345006975, 0.28556821700527479, -0.65455905635117773, 0.4695228616611638,
         291, 0.74618668621405848}};
    fixture f;
    load(&f);
    const double *pre = f.tab->cols[3].num, *y = f.tab->cols[4].num;
    tt_ab_arm arms[3];
    tt_ab_arm_stats(f.n, 3, f.t, y, arms);
    assert_int_equal(arms[0].n, 155);
    for (int k = 1; k < 3; k++) {
        tt_ab_effect e = tt_ab_welch(&arms[0], &arms[k], 0.05);
        check_effect(&e, welch[k - 1], 1e-9, "welch");
    }
    double theta = tt_ab_cuped_theta(f.n, y, pre);
    close_rel(theta, 0.89478088253070187, 1e-12, "cuped theta");
    double adj[300];
    tt_ab_cuped_adjust(f.n, y, pre, theta, adj);
    tt_ab_arm_stats(f.n, 3, f.t, adj, arms);
    for (int k = 1; k < 3; k++) {
        tt_ab_effect e = tt_ab_welch(&arms[0], &arms[k], 0.05);
        check_effect(&e, cuped[k - 1], 1e-9, "cuped");
    }
    tt_ab_effect eff[2];
    size_t dropped = 99;
    char err[256];
    assert_int_equal(tt_ab_lin(f.n, 3, f.t, y, 2, f.x, 0.05, eff, &dropped, err, sizeof err),
                     TT_OK);
    assert_int_equal(dropped, 0);
    for (int k = 0; k < 2; k++)
        check_effect(&eff[k], lin[k], 1e-8, "lin");
    tt_csv_free(f.tab);
}

/* A feature constant within arm 2 makes its interaction a multiple of the
 * arm-2 indicator: the column is dropped and the effects equal the fit
 * without that interaction (the same feature, centred, shifts nothing). */
static void test_lin_collinear(void **state)
{
    (void)state;
    fixture f;
    load(&f);
    const double *y = f.tab->cols[4].num;
    double x3[900];
    for (size_t i = 0; i < f.n; i++) {
        x3[i] = f.x[i];
        x3[300 + i] = f.x[300 + i];
        x3[600 + i] = f.t[i] == 2 ? 1.0 : f.x[i] * f.x[i]; /* constant in arm 2 */
    }
    tt_ab_effect a[2];
    size_t dropped = 0;
    char err[256];
    assert_int_equal(tt_ab_lin(f.n, 3, f.t, y, 3, x3, 0.05, a, &dropped, err, sizeof err), TT_OK);
    assert_int_equal(dropped, 1);
    assert_true(isfinite(a[0].se) && isfinite(a[1].se));
    /* A constant feature is dropped before the fit: the same as without it. */
    double x4[900], *c = x4 + 600;
    for (size_t i = 0; i < 600; i++)
        x4[i] = f.x[i];
    for (size_t i = 0; i < f.n; i++)
        c[i] = 3.0;
    tt_ab_effect b[2], ref[2];
    assert_int_equal(tt_ab_lin(f.n, 3, f.t, y, 3, x4, 0.05, b, &dropped, err, sizeof err), TT_OK);
    assert_int_equal(tt_ab_lin(f.n, 3, f.t, y, 2, f.x, 0.05, ref, NULL, err, sizeof err), TT_OK);
    for (int k = 0; k < 2; k++) {
        close_rel(b[k].estimate, ref[k].estimate, 1e-12, "constant feature: estimate");
        close_rel(b[k].se, ref[k].se, 1e-12, "constant feature: se");
    }
    /* An arm without rows is an error, not a number. */
    int t0[300];
    for (size_t i = 0; i < f.n; i++)
        t0[i] = f.t[i] == 2 ? 1 : f.t[i];
    assert_int_equal(tt_ab_lin(f.n, 3, t0, y, 2, f.x, 0.05, a, NULL, err, sizeof err),
                     TT_ERR_DATA);
    tt_csv_free(f.tab);
}

static void test_holm_bonferroni(void **state)
{
    (void)state;
    tt_ab_effect e[4];
    const double ps[4] = {0.01, 0.04, 0.03, 0.2};
    const double holm[4] = {0.04, 0.09, 0.09, 0.2}; /* statsmodels multipletests */
    for (int i = 0; i < 4; i++)
        e[i] = (tt_ab_effect){.estimate = 1, .se = 1, .df = INFINITY, .p = ps[i]};
    tt_ab_correct(e, 4, TT_AB_HOLM, 0.05);
    for (int i = 0; i < 4; i++)
        close_rel(e[i].p_adj, holm[i], 1e-12, "holm");
    tt_ab_correct(e, 4, TT_AB_BONFERRONI, 0.05);
    close_rel(e[0].p_adj, 0.04, 1e-12, "bonferroni");
    close_rel(e[3].p_adj, 0.8, 1e-12, "bonferroni");
    /* Intervals at alpha / 4: z_{1 - 0.05/8} = 2.4977054744123. */
    close_rel(e[1].hi - e[1].estimate, 2.4977054744123, 1e-9, "bonferroni interval");
}

static void test_srm(void **state)
{
    (void)state;
    size_t c1[2] = {52000, 48000}, c2[2] = {50100, 49900};
    double exp[2] = {50000, 50000};
    tt_ab_srm a = tt_ab_srm_test(2, c1, exp), b = tt_ab_srm_test(2, c2, exp);
    close_rel(a.chi2, 160, 1e-12, "srm chi2");
    close_rel(a.p, 1.1314837902433038e-36, 1e-8, "srm p (scipy)");
    assert_true(a.flagged);
    close_rel(b.p, 0.52708925686553809, 1e-10, "srm p 50.1/49.9 (scipy)");
    assert_false(b.flagged);
}

/* Over many experiments with pre ~ rho-correlated with y, the variance of
 * the CUPED estimate over that of the plain difference is 1 - rho^2. */
static void test_cuped_reduction(void **state)
{
    (void)state;
    const double rho = 0.6;
    enum { N = 400, REPS = 2000 };
    static int t[N];
    static double y[N], x[N], adj[N];
    tt_rng rng;
    tt_rng_seed(&rng, 5, "test:cuped");
    double s1 = 0, s1s = 0, s2 = 0, s2s = 0;
    for (int r = 0; r < REPS; r++) {
        for (int i = 0; i < N; i++) {
            t[i] = i % 2;
            x[i] = tt_rng_normal(&rng);
            y[i] = rho * x[i] + sqrt(1 - rho * rho) * tt_rng_normal(&rng) + 0.1 * t[i];
        }
        tt_ab_arm arms[2];
        tt_ab_arm_stats(N, 2, t, y, arms);
        double d1 = tt_ab_welch(&arms[0], &arms[1], 0.05).estimate;
        tt_ab_cuped_adjust(N, y, x, tt_ab_cuped_theta(N, y, x), adj);
        tt_ab_arm_stats(N, 2, t, adj, arms);
        double d2 = tt_ab_welch(&arms[0], &arms[1], 0.05).estimate;
        s1 += d1, s1s += d1 * d1, s2 += d2, s2s += d2 * d2;
    }
    double v1 = s1s / REPS - (s1 / REPS) * (s1 / REPS), v2 = s2s / REPS - (s2 / REPS) * (s2 / REPS);
    /* The ratio of two variances over 2000 replications: about 4 % relative
     * error (sd of a variance ~ sqrt(2 / R)); allow 10 %. */
    double ratio = v2 / v1;
    print_message("CUPED variance ratio %.4f (1 - rho^2 = %.4f)\n", ratio, 1 - rho * rho);
    if (!(fabs(ratio - (1 - rho * rho)) < 0.1 * (1 - rho * rho)))
        fail_msg("CUPED variance ratio %.4f, expected 1 - rho^2 = %.4f", ratio, 1 - rho * rho);
}

/* AIPW and Hajek against the sums written out. */
static void test_aipw_hajek_brute(void **state)
{
    (void)state;
    enum { N = 7 };
    const int t[N] = {0, 1, 1, 0, 2, 2, 0};
    const double y[N] = {1, 3, 2.5, 0.5, 4, 1, 2};
    double mu[3 * N], e[3 * N];
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 3; k++) {
            mu[k * N + i] = 0.3 * k + 0.1 * i;
            e[k * N + i] = k == 0 ? 0.5 : 0.25 + 0.01 * (k == 1 ? i : -i);
        }
    tt_ab_effect a[2];
    tt_ab_aipw(N, 3, t, y, mu, e, 0.05, a);
    for (int k = 1; k < 3; k++) {
        double sum = 0;
        for (int i = 0; i < N; i++) {
            double pk = mu[k * N + i] + (t[i] == k) * (y[i] - mu[k * N + i]) / e[k * N + i];
            double p0 = mu[i] + (t[i] == 0) * (y[i] - mu[i]) / e[i];
            sum += pk - p0;
        }
        close_rel(a[k - 1].estimate, sum / N, 1e-12, "aipw");
    }
    double means[3];
    tt_ab_hajek(N, 3, t, y, e, 0.05, means, a);
    double num = 0, den = 0;
    for (int i = 0; i < N; i++)
        if (t[i] == 1)
            num += y[i] / e[N + i], den += 1 / e[N + i];
    close_rel(means[1], num / den, 1e-12, "hajek mean arm 1");
    close_rel(a[0].estimate, means[1] - means[0], 1e-12, "hajek effect");
    assert_true(a[0].se > 0 && a[0].lo < a[0].estimate && a[0].hi > a[0].estimate);
}

/* Rows assigned with P(T = 1 | x) = 0.2 + 0.6 1{x > 0}; Y = 1 + x + 2 T x +
 * noise. The 95 % intervals of the design value and of the uplift cover
 * their known values (below) in at least 45 of 50 seeds. */
static void test_design_value_coverage(void **state)
{
    (void)state;
    enum { N = 2000, SEEDS = 50 };
    static int t[N];
    static double y[N], e[2 * N];
    const double pi[2] = {0.5, 0.5};
    int covered = 0, covered_uplift = 0;
    /* E[Y | design] = 1 + E[x] + 2 * 0.5 E[x] = 1; actual uplift E[2 T x] =
     * 2 E[x p(x)] = 2 * 0.6 E[x 1{x > 0}] = 1.2 / sqrt(2 pi). */
    const double truth = 1.0, uplift = 1.2 / sqrt(2 * M_PI);
    for (int s = 0; s < SEEDS; s++) {
        tt_rng rng;
        tt_rng_seed(&rng, (uint64_t)s, "test:design");
        for (int i = 0; i < N; i++) {
            double x = tt_rng_normal(&rng), p1 = x > 0 ? 0.8 : 0.2;
            t[i] = tt_rng_uniform(&rng) < p1;
            e[i] = 1 - p1, e[N + i] = p1;
            y[i] = 1 + x + 2 * t[i] * x + tt_rng_normal(&rng);
        }
        tt_ab_design_value dv;
        char err[256];
        assert_int_equal(tt_ab_design_value_of(N, 2, t, y, e, pi, 0.05, 300, (uint64_t)s, &dv,
                                               err, sizeof err), TT_OK);
        covered += dv.lo <= truth && truth <= dv.hi;
        covered_uplift += dv.uplift_lo <= uplift && uplift <= dv.uplift_hi;
    }
    print_message("design value covered in %d / %d seeds, uplift in %d\n", covered, SEEDS,
                  covered_uplift);
    if (covered < 45 || covered_uplift < 45)
        fail_msg("coverage over %d seeds: value %d, uplift %d (want >= 45)", SEEDS, covered,
                 covered_uplift);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_welch_cuped_lin),   cmocka_unit_test(test_lin_collinear),
        cmocka_unit_test(test_holm_bonferroni),   cmocka_unit_test(test_srm),
        cmocka_unit_test(test_cuped_reduction),   cmocka_unit_test(test_aipw_hajek_brute),
        cmocka_unit_test(test_design_value_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
