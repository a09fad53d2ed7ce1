/* test_insight_blp.c - least squares with sandwich standard errors, the best
 * linear projection and the calibration test (insight/blp.h).
 *
 * The main reference is written here by another method: the normal
 * equations X'WX b = X'Wy solved by Gauss-Jordan elimination with partial
 * pivoting, leverages h_ii = w_i x_i' (X'WX)^-1 x_i and the meat of the
 * sandwich by explicit loops (blp.c uses a QR factorisation and never forms
 * X'WX). A second, fixed check holds numbers printed by numpy/scipy
 * (tests/bench/insight_reference.py fixed, SVD least squares) for datasets
 * rebuilt here from the same integer formulas, whose values are exact binary
 * fractions, so both sides start from the same doubles.
 *
 * The calibration test's size and power are checked by simulation: a
 * randomised experiment, a 2-fold cross-fitted T-learner by least squares,
 * 50 seeds with and 50 without heterogeneity. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "insight/blp.h"
#include "util/rng.h"

#define QMAX 8

/* ---- the by-hand reference ----------------------------------------------- */

/* Invert the q x q matrix m (row-major) in place by Gauss-Jordan elimination
 * on [m | I] with partial pivoting. 0 on success, -1 when singular. */
static int gauss_jordan_inverse(size_t q, double m[QMAX][QMAX])
{
    double aug[QMAX][2 * QMAX];
    for (size_t i = 0; i < q; i++)
        for (size_t j = 0; j < 2 * q; j++)
            aug[i][j] = j < q ? m[i][j] : (j - q == i ? 1.0 : 0.0);
    for (size_t c = 0; c < q; c++) {
        size_t piv = c;
        for (size_t r = c + 1; r < q; r++)
            if (fabs(aug[r][c]) > fabs(aug[piv][c]))
                piv = r;
        if (aug[piv][c] == 0.0)
            return -1;
        if (piv != c)
            for (size_t j = 0; j < 2 * q; j++) {
                double t = aug[c][j];
                aug[c][j] = aug[piv][j];
                aug[piv][j] = t;
            }
        const double d = aug[c][c];
        for (size_t j = 0; j < 2 * q; j++)
            aug[c][j] /= d;
        for (size_t r = 0; r < q; r++) {
            if (r == c)
                continue;
            const double f = aug[r][c];
            for (size_t j = 0; j < 2 * q; j++)
                aug[r][j] -= f * aug[c][j];
        }
    }
    for (size_t i = 0; i < q; i++)
        for (size_t j = 0; j < q; j++)
            m[i][j] = aug[i][q + j];
    return 0;
}

typedef struct ref_fit {
    double coef[QMAX];
    double se[4][QMAX]; /* indexed by tt_hc_type: 0, 1, 3 */
    double df;
} ref_fit;

/* a: n x q column-major; w NULL or n weights >= 0 (weight-0 rows drop out). */
static void ref_ols(size_t n, size_t q, const double *a, const double *y, const double *w,
                    ref_fit *out)
{
    assert_true(q <= QMAX);
    double g[QMAX][QMAX] = {{0}}, b[QMAX] = {0};
    size_t n_pos = 0;
    for (size_t i = 0; i < n; i++) {
        const double wi = w ? w[i] : 1.0;
        if (wi <= 0.0)
            continue;
        n_pos++;
        for (size_t j = 0; j < q; j++) {
            b[j] += wi * a[j * n + i] * y[i];
            for (size_t k = 0; k < q; k++)
                g[j][k] += wi * a[j * n + i] * a[k * n + i];
        }
    }
    assert_int_equal(gauss_jordan_inverse(q, g), 0); /* g is now (X'WX)^-1 */
    for (size_t j = 0; j < q; j++) {
        out->coef[j] = 0.0;
        for (size_t k = 0; k < q; k++)
            out->coef[j] += g[j][k] * b[k];
    }
    const tt_hc_type types[3] = {TT_HC0, TT_HC1, TT_HC3};
    for (int t = 0; t < 3; t++) {
        double meat[QMAX][QMAX] = {{0}};
        for (size_t i = 0; i < n; i++) {
            const double wi = w ? w[i] : 1.0;
            if (wi <= 0.0)
                continue;
            double e = y[i], h = 0.0;
            for (size_t j = 0; j < q; j++)
                e -= a[j * n + i] * out->coef[j];
            for (size_t j = 0; j < q; j++)
                for (size_t k = 0; k < q; k++)
                    h += a[j * n + i] * g[j][k] * a[k * n + i];
            h *= wi;
            double u = wi * e;
            if (types[t] == TT_HC3)
                u /= 1.0 - h;
            for (size_t j = 0; j < q; j++)
                for (size_t k = 0; k < q; k++)
                    meat[j][k] += u * u * a[j * n + i] * a[k * n + i];
        }
        for (size_t j = 0; j < q; j++) {
            double v = 0.0; /* (G^-1 M G^-1)_jj */
            for (size_t k = 0; k < q; k++)
                for (size_t l = 0; l < q; l++)
                    v += g[j][k] * meat[k][l] * g[l][j];
            if (types[t] == TT_HC1)
                v *= (double)n_pos / (double)(n_pos - q);
            out->se[types[t]][j] = sqrt(v);
        }
    }
    out->df = (double)(n_pos - q);
}

static double max_diff = 0.0; /* largest |ours - by-hand| seen, printed at the end */
static double max_diff_numpy = 0.0;

static void check_close(double got, double want, double tol, double *track)
{
    const double d = fabs(got - want);
    if (d > *track)
        *track = d;
    if (!(d <= tol))
        fail_msg("got %.17g, want %.17g (diff %.3g > %.3g)", got, want, d, tol);
}

/* ---- fixed datasets (same formulas as insight_reference.py) -------------- */

enum { NB = 97, NC = 120 };

static void fixed_blp_data(double *x /* NB x 3 */, double *gamma, double *w)
{
    for (long i = 0; i < NB; i++) {
        const double x1 = (double)((i * 37 + 11) % 101) / 8.0 - 6.0;
        const double x2 = (double)((i * i * 13 + 5 * i + 3) % 89) / 16.0 - 2.75;
        const double x3 = (double)((i * 53) % 17) / 4.0;
        const double u = (double)((i * i * 7 + i * 29 + 17) % 103 - 51) / 32.0;
        x[i] = x1;
        x[NB + i] = x2;
        x[2 * NB + i] = x3;
        gamma[i] = 1.0 + 0.5 * x1 - 0.25 * x2 + 0.125 * x3 + u * (1.0 + fabs(x1) / 4.0);
        w[i] = 1.0 + (double)(i % 5) / 4.0;
    }
}

static void fixed_calibration_data(double *y, double *t, double *m, double *e, double *tau)
{
    for (long i = 0; i < NC; i++) {
        t[i] = (i * 31 + 7) % 11 < 5 ? 1.0 : 0.0;
        e[i] = 0.25 + (double)((i * 17) % 9) / 16.0;
        tau[i] = 0.5 + (double)((i * 23 + 3) % 13) / 8.0;
        m[i] = (double)((i * 41) % 29) / 8.0 - 1.5;
        const double u = (double)((i * i * 5 + i * 3 + 1) % 37 - 18) / 16.0;
        y[i] = m[i] + (t[i] - e[i]) * (0.25 + 0.75 * tau[i]) + u;
    }
}

/* ---- Student t tail ------------------------------------------------------ */

static void test_t_tail(void **state)
{
    (void)state;
    /* scipy.stats.t.sf (insight_reference.py tsf) */
    static const double cases[][3] = {
        {0.5, 1, 0.35241638234956679},
        {2.0, 3, 0.069662984279421553},
        {-1.3, 7.5, 0.88393661059219575},
        {2.5, 30, 0.009057824534033353},
        {4.0, 95, 6.2674745100003103e-05},
        {-3.0, 1000, 0.99861664547788087},
        {12.0, 200, 1.2110680026233301e-25},
        {1.0, 1000000.0, 0.15865537491678905},
        {5.0, 1000000.0, 2.8669989354453655e-07},
        {37.0, 2000, 4.7266985211022214e-229},
    };
    double worst = 0.0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const double got = tt_student_t_sf(cases[k][0], cases[k][1]);
        const double rel = fabs(got - cases[k][2]) / cases[k][2];
        if (rel > worst)
            worst = rel;
        if (!(rel < 1e-10))
            fail_msg("t = %g, df = %g: got %.17g, scipy %.17g", cases[k][0], cases[k][1], got,
                     cases[k][2]);
    }
    printf("student t tail: worst relative difference from scipy %.3g\n", worst);
    assert_true(fabs(tt_student_t_sf(1.96, INFINITY) - 0.5 * erfc(1.96 / sqrt(2.0))) < 1e-16);
    assert_true(tt_student_t_sf(0.0, 5) == 0.5);
    assert_true(tt_student_t_sf(INFINITY, 5) == 0.0);
    assert_true(tt_student_t_sf(-INFINITY, 5) == 1.0);
    assert_true(isnan(tt_student_t_sf(NAN, 5)));
    /* symmetry */
    assert_true(fabs(tt_student_t_sf(-2.2, 17) + tt_student_t_sf(2.2, 17) - 1.0) < 1e-15);
}

/* ---- least squares against the by-hand reference ------------------------- */

static void check_against_ref(const tt_ols_result *r, const ref_fit *ref, tt_hc_type hc,
                              double tol)
{
    assert_true(r->df == ref->df);
    for (size_t j = 0; j < r->q; j++) {
        check_close(r->coef[j], ref->coef[j], tol, &max_diff);
        check_close(r->se[j], ref->se[hc][j], tol, &max_diff);
        check_close(r->t[j], r->coef[j] / r->se[j], 1e-12, &max_diff);
    }
}

static void test_ols_by_hand(void **state)
{
    (void)state;
    enum { N = 300, Q = 5 };
    double *a = malloc(N * Q * sizeof *a), *y = malloc(N * sizeof *y), *w = malloc(N * sizeof *w);
    tt_rng rng;
    tt_rng_seed(&rng, 7, "ols-by-hand");
    for (size_t i = 0; i < N; i++) {
        a[i] = 1.0;
        for (size_t j = 1; j < Q; j++)
            a[j * N + i] = tt_rng_normal(&rng) * (double)j + 0.3 * (double)j;
        /* heteroskedastic noise, so the HC types really differ */
        y[i] = 0.5 + a[N + i] - 0.2 * a[2 * N + i] +
               (1.0 + fabs(a[N + i])) * tt_rng_normal(&rng);
        w[i] = i % 17 == 0 ? 0.0 : 0.5 + tt_rng_uniform(&rng); /* some rows drop out */
    }
    const tt_hc_type types[3] = {TT_HC0, TT_HC1, TT_HC3};
    char err[256];
    for (int weighted = 0; weighted < 2; weighted++) {
        ref_fit ref;
        ref_ols(N, Q, a, y, weighted ? w : NULL, &ref);
        for (int t = 0; t < 3; t++) {
            tt_ols_result r;
            assert_int_equal(tt_ols_hc(N, Q, a, y, weighted ? w : NULL, NULL, types[t], &r, err,
                                       sizeof err),
                             TT_OK);
            assert_int_equal(r.n, weighted ? N - (N + 16) / 17 : N);
            check_against_ref(&r, &ref, types[t], 1e-8);
            /* two-sided p from the t statistic and df */
            for (size_t j = 0; j < Q; j++)
                assert_true(fabs(r.p[j] - 2.0 * tt_student_t_sf(fabs(r.t[j]), r.df)) < 1e-15);
            /* vcov symmetric, its diagonal the squared s.e. */
            for (size_t j = 0; j < Q; j++)
                for (size_t k = 0; k < Q; k++)
                    assert_true(r.vcov[j * Q + k] == r.vcov[k * Q + j]);
            tt_ols_result_free(&r);
            tt_ols_result_free(&r); /* idempotent */
        }
    }
    /* Zero-weight rows are the same as leaving them out. */
    tt_ols_result r1, r2;
    assert_int_equal(tt_ols_hc(N, Q, a, y, w, NULL, TT_HC3, &r1, err, sizeof err), TT_OK);
    size_t m = 0;
    double *a2 = malloc(N * Q * sizeof *a2), *y2 = malloc(N * sizeof *y2),
           *w2 = malloc(N * sizeof *w2);
    for (size_t i = 0; i < N; i++)
        if (w[i] > 0.0) {
            y2[m] = y[i];
            w2[m] = w[i];
            m++;
        }
    for (size_t j = 0; j < Q; j++) {
        size_t k = 0;
        for (size_t i = 0; i < N; i++)
            if (w[i] > 0.0)
                a2[j * m + k++] = a[j * N + i];
    }
    assert_int_equal(tt_ols_hc(m, Q, a2, y2, w2, NULL, TT_HC3, &r2, err, sizeof err), TT_OK);
    for (size_t j = 0; j < Q; j++) {
        assert_true(fabs(r1.coef[j] - r2.coef[j]) < 1e-12);
        assert_true(fabs(r1.se[j] - r2.se[j]) < 1e-12);
    }
    tt_ols_result_free(&r1);
    tt_ols_result_free(&r2);
    free(a2);
    free(y2);
    free(w2);
    free(a);
    free(y);
    free(w);
}

/* ---- best linear projection ---------------------------------------------- */

/* numpy/scipy (insight_reference.py fixed): coef, se HC0, HC1, HC3, p HC3. */
static const double np_blp_unw[4][5] = {
    {0.70184920528909167, 0.31896149584220218, 0.32574867077357489, 0.33514510924181107,
     0.038965367062369673},
    {0.45471128965164787, 0.061682288639683676, 0.062994824756494677, 0.065012517135514467,
     4.0186780221797278e-10},
    {-0.32462834058220497, 0.10376580793892229, 0.10597383837380936, 0.10982818189505725,
     0.003951727181318484},
    {0.10174354689447146, 0.14207422935375938, 0.14509742387859625, 0.15010693141608292,
     0.49957686987354588},
};
static const double np_blp_w[4][5] = {
    {0.68283340886264943, 0.32282204943202997, 0.32969137300167928, 0.34121631014082887,
     0.048288262957390742},
    {0.47870011781095667, 0.062222418891010232, 0.063546448428027966, 0.065931280425687536,
     1.1506103099007531e-10},
    {-0.32967604804881562, 0.10351416945019588, 0.10571684527499768, 0.11011043646678371,
     0.0035268500620225943},
    {0.072937400384160911, 0.14411820161832553, 0.14718488978579741, 0.15306145351871506,
     0.63481908330573567},
};
static const double np_blp_sub[3][5] = {
    {0.73618970166549069, 0.36332609095674945, 0.37201240319342399, 0.38425302237692888,
     0.059991874169239061},
    {0.14385009820941635, 0.15648260179157256, 0.16022374995736891, 0.16741660959586771,
     0.39352128128211294},
    {0.35094553379231874, 0.069658427427336897, 0.071323804248902972, 0.074211236810015055,
     1.3442761885372838e-05},
};

static void check_numpy(const tt_ols_result *r, const double (*np)[5], tt_hc_type hc)
{
    const int col = hc == TT_HC0 ? 1 : hc == TT_HC1 ? 2 : 3;
    for (size_t j = 0; j < r->q; j++) {
        check_close(r->coef[j], np[j][0], 1e-10, &max_diff_numpy);
        check_close(r->se[j], np[j][col], 1e-10, &max_diff_numpy);
        if (hc == TT_HC3) /* p-values: relative, they span many decades */
            assert_true(fabs(r->p[j] - np[j][4]) <= 1e-9 * np[j][4]);
    }
}

static void test_blp_fixed(void **state)
{
    (void)state;
    double x[NB * 3], gamma[NB], w[NB];
    fixed_blp_data(x, gamma, w);
    const tt_hc_type types[3] = {TT_HC0, TT_HC1, TT_HC3};
    char err[256];

    /* by hand: design [1, x] over all rows, then a subset with two columns */
    double a[NB * 4];
    for (size_t i = 0; i < NB; i++) {
        a[i] = 1.0;
        for (size_t j = 0; j < 3; j++)
            a[(j + 1) * NB + i] = x[j * NB + i];
    }
    size_t rows[NB], m = 0;
    for (size_t i = 0; i < NB; i++)
        if (i % 3 != 1)
            rows[m++] = i;
    const size_t cols[2] = {2, 0};
    double as[NB * 3], gs[NB], ws[NB];
    for (size_t r = 0; r < m; r++) {
        as[r] = 1.0;
        as[m + r] = x[2 * NB + rows[r]];
        as[2 * m + r] = x[rows[r]];
        gs[r] = gamma[rows[r]];
        ws[r] = w[rows[r]];
    }
    ref_fit ref_unw, ref_w, ref_sub;
    ref_ols(NB, 4, a, gamma, NULL, &ref_unw);
    ref_ols(NB, 4, a, gamma, w, &ref_w);
    ref_ols(m, 3, as, gs, ws, &ref_sub);

    for (int t = 0; t < 3; t++) {
        tt_ols_result r;
        tt_blp_input in = {.n = NB, .p = 3, .x = x, .gamma = gamma, .hc = types[t]};
        assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_OK);
        assert_int_equal(r.q, 4);
        check_against_ref(&r, &ref_unw, types[t], 1e-8);
        check_numpy(&r, np_blp_unw, types[t]);
        tt_ols_result_free(&r);

        in.w = w;
        assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_OK);
        check_against_ref(&r, &ref_w, types[t], 1e-8);
        check_numpy(&r, np_blp_w, types[t]);
        tt_ols_result_free(&r);

        in.rows = rows;
        in.n_rows = m;
        in.cols = cols;
        in.n_cols = 2;
        assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_OK);
        assert_int_equal(r.n, m);
        assert_int_equal(r.q, 3);
        check_against_ref(&r, &ref_sub, types[t], 1e-8);
        check_numpy(&r, np_blp_sub, types[t]);
        tt_ols_result_free(&r);
    }
    /* grf's default */
    assert_int_equal(TT_HC_DEFAULT, TT_HC3);
    assert_string_equal(tt_hc_name(TT_HC3), "HC3");
}

/* Intercept only (p = 0): the weighted mean of Gamma with its robust s.e. */
static void test_blp_intercept_only(void **state)
{
    (void)state;
    double x[NB * 3], gamma[NB], w[NB];
    fixed_blp_data(x, gamma, w);
    char err[256];
    tt_ols_result r;
    tt_blp_input in = {.n = NB, .p = 0, .x = NULL, .gamma = gamma, .hc = TT_HC0};
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_OK);
    double mean = 0.0, ss = 0.0;
    for (size_t i = 0; i < NB; i++)
        mean += gamma[i] / NB;
    for (size_t i = 0; i < NB; i++)
        ss += (gamma[i] - mean) * (gamma[i] - mean);
    assert_int_equal(r.q, 1);
    check_close(r.coef[0], mean, 1e-12, &max_diff);
    check_close(r.se[0], sqrt(ss) / NB, 1e-12, &max_diff);
    tt_ols_result_free(&r);
    /* HC3 with h_ii = 1/n: each residual divided by (1 - 1/n) */
    in.hc = TT_HC3;
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_OK);
    check_close(r.se[0], sqrt(ss) / NB / (1.0 - 1.0 / NB), 1e-12, &max_diff);
    check_close(r.max_leverage, 1.0 / NB, 1e-15, &max_diff);
    tt_ols_result_free(&r);
}

/* Regressors on wildly different scales: the fit is equivariant (coef and
 * s.e. scale by 1/c), which the equilibrated QR keeps to many digits where
 * normal equations (condition number squared, ~1e24 here) would not. */
static void test_blp_scaling(void **state)
{
    (void)state;
    double x[NB * 3], gamma[NB], w[NB], xs[NB * 3];
    fixed_blp_data(x, gamma, w);
    const double scale[3] = {1e6, 1e-6, 1.0};
    for (size_t j = 0; j < 3; j++)
        for (size_t i = 0; i < NB; i++)
            xs[j * NB + i] = x[j * NB + i] * scale[j];
    char err[256];
    tt_ols_result r, rs;
    tt_blp_input in = {.n = NB, .p = 3, .x = x, .gamma = gamma, .w = w, .hc = TT_HC3};
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_OK);
    in.x = xs;
    assert_int_equal(tt_blp_fit(&in, &rs, err, sizeof err), TT_OK);
    for (size_t j = 0; j < 4; j++) {
        const double c = j == 0 ? 1.0 : scale[j - 1];
        assert_true(fabs(rs.coef[j] * c - r.coef[j]) <= 1e-10 * fabs(r.coef[j]));
        assert_true(fabs(rs.se[j] * c - r.se[j]) <= 1e-10 * r.se[j]);
        assert_true(fabs(rs.t[j] - r.t[j]) <= 1e-9 * fabs(r.t[j]));
    }
    tt_ols_result_free(&r);
    tt_ols_result_free(&rs);
}

/* ---- calibration test ---------------------------------------------------- */

static void calibration_by_hand(size_t n, const double *y, const double *t, const double *m,
                                const double *e, const double *tau, ref_fit *ref,
                                double *tau_bar)
{
    double *a = malloc(2 * n * sizeof *a), *dy = malloc(n * sizeof *dy);
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += tau[i];
    *tau_bar = s / (double)n;
    for (size_t i = 0; i < n; i++) {
        a[i] = *tau_bar * (t[i] - e[i]);
        a[n + i] = (tau[i] - *tau_bar) * (t[i] - e[i]);
        dy[i] = y[i] - m[i];
    }
    ref_ols(n, 2, a, dy, NULL, ref);
    free(a);
    free(dy);
}

static void test_calibration_fixed(void **state)
{
    (void)state;
    double y[NC], t[NC], m[NC], e[NC], tau[NC];
    fixed_calibration_data(y, t, m, e, tau);
    ref_fit ref;
    double tau_bar;
    calibration_by_hand(NC, y, t, m, e, tau, &ref, &tau_bar);
    /* numpy/scipy (insight_reference.py fixed) */
    const double np_tau_bar = 1.2447916666666667;
    const double np_coef[2] = {1.0681454168327389, 0.70945844494476629};
    const double np_se[3][2] = {{0.085221606399550995, 0.21551065510889325},
                                {0.085940788824138942, 0.21732934266964038},
                                {0.087191860132444468, 0.22275266666006668}};
    const double np_p1_hc3[2] = {4.5826856593509407e-23, 0.00092607910658709658};
    const tt_hc_type types[3] = {TT_HC0, TT_HC1, TT_HC3};
    char err[256];
    for (int k = 0; k < 3; k++) {
        tt_calibration c;
        tt_calibration_input in = {.n = NC, .y = y, .t = t, .m_hat = m, .e_hat = e,
                                   .tau_hat = tau, .hc = types[k]};
        assert_int_equal(tt_calibration_test(&in, &c, err, sizeof err), TT_OK);
        assert_int_equal(c.n, NC);
        assert_true(c.df == NC - 2);
        check_close(c.tau_bar, tau_bar, 1e-14, &max_diff);
        check_close(c.mean_coef, ref.coef[0], 1e-8, &max_diff);
        check_close(c.diff_coef, ref.coef[1], 1e-8, &max_diff);
        check_close(c.mean_se, ref.se[types[k]][0], 1e-8, &max_diff);
        check_close(c.diff_se, ref.se[types[k]][1], 1e-8, &max_diff);
        check_close(c.tau_bar, np_tau_bar, 1e-14, &max_diff_numpy);
        check_close(c.mean_coef, np_coef[0], 1e-10, &max_diff_numpy);
        check_close(c.diff_coef, np_coef[1], 1e-10, &max_diff_numpy);
        check_close(c.mean_se, np_se[k][0], 1e-10, &max_diff_numpy);
        check_close(c.diff_se, np_se[k][1], 1e-10, &max_diff_numpy);
        /* one-sided p for H0: coef <= 0 */
        assert_true(c.mean_p == tt_student_t_sf(c.mean_t, c.df));
        assert_true(c.diff_p == tt_student_t_sf(c.diff_t, c.df));
        if (types[k] == TT_HC3) {
            assert_true(fabs(c.mean_p - np_p1_hc3[0]) <= 1e-9 * np_p1_hc3[0]);
            assert_true(fabs(c.diff_p - np_p1_hc3[1]) <= 1e-9 * np_p1_hc3[1]);
        }
    }
    /* Weighted (some rows at weight 0): tau_bar and the fit both weighted. */
    {
        double w[NC], a[2 * NC], dy[NC], sw = 0.0, swt = 0.0;
        for (size_t i = 0; i < NC; i++) {
            w[i] = i % 10 == 3 ? 0.0 : 1.0 + (double)(i % 3) / 2.0;
            sw += w[i];
            swt += w[i] * tau[i];
        }
        const double tb = swt / sw;
        for (size_t i = 0; i < NC; i++) {
            a[i] = tb * (t[i] - e[i]);
            a[NC + i] = (tau[i] - tb) * (t[i] - e[i]);
            dy[i] = y[i] - m[i];
        }
        ref_fit rw;
        ref_ols(NC, 2, a, dy, w, &rw);
        for (int k = 0; k < 3; k++) {
            tt_calibration c;
            tt_calibration_input in = {.n = NC, .y = y, .t = t, .m_hat = m, .e_hat = e,
                                       .tau_hat = tau, .w = w, .hc = types[k]};
            assert_int_equal(tt_calibration_test(&in, &c, err, sizeof err), TT_OK);
            assert_int_equal(c.n, NC - NC / 10);
            check_close(c.tau_bar, tb, 1e-14, &max_diff);
            check_close(c.mean_coef, rw.coef[0], 1e-8, &max_diff);
            check_close(c.diff_coef, rw.coef[1], 1e-8, &max_diff);
            check_close(c.mean_se, rw.se[types[k]][0], 1e-8, &max_diff);
            check_close(c.diff_se, rw.se[types[k]][1], 1e-8, &max_diff);
        }
    }
    /* A subset: the same as the by-hand fit on those rows, tau_bar over them. */
    size_t rows[NC], nr = 0;
    double ys[NC], ts[NC], ms[NC], es[NC], taus[NC];
    for (size_t i = 0; i < NC; i++)
        if (i % 4 != 0) {
            rows[nr] = i;
            ys[nr] = y[i];
            ts[nr] = t[i];
            ms[nr] = m[i];
            es[nr] = e[i];
            taus[nr] = tau[i];
            nr++;
        }
    calibration_by_hand(nr, ys, ts, ms, es, taus, &ref, &tau_bar);
    tt_calibration c;
    tt_calibration_input in = {.n = NC, .y = y, .t = t, .m_hat = m, .e_hat = e, .tau_hat = tau,
                               .rows = rows, .n_rows = nr, .hc = TT_HC3};
    assert_int_equal(tt_calibration_test(&in, &c, err, sizeof err), TT_OK);
    check_close(c.tau_bar, tau_bar, 1e-14, &max_diff);
    check_close(c.mean_coef, ref.coef[0], 1e-8, &max_diff);
    check_close(c.diff_coef, ref.coef[1], 1e-8, &max_diff);
    check_close(c.mean_se, ref.se[TT_HC3][0], 1e-8, &max_diff);
    check_close(c.diff_se, ref.se[TT_HC3][1], 1e-8, &max_diff);
}

/* -- simulation: is the differential test's size and power right? -- */

/* OLS of y on [1, x] (p features, column-major n x p) over rows with
 * sel[i] == want, by the reference solver. */
static void ols_on(size_t n, size_t p, const double *x, const double *y, const int *sel,
                   int want, double *beta)
{
    double g[QMAX][QMAX] = {{0}}, b[QMAX] = {0};
    const size_t q = p + 1;
    for (size_t i = 0; i < n; i++) {
        if (sel[i] != want)
            continue;
        double row[QMAX];
        row[0] = 1.0;
        for (size_t j = 0; j < p; j++)
            row[j + 1] = x[j * n + i];
        for (size_t j = 0; j < q; j++) {
            b[j] += row[j] * y[i];
            for (size_t k = 0; k < q; k++)
                g[j][k] += row[j] * row[k];
        }
    }
    assert_int_equal(gauss_jordan_inverse(q, g), 0);
    for (size_t j = 0; j < q; j++) {
        beta[j] = 0.0;
        for (size_t k = 0; k < q; k++)
            beta[j] += g[j][k] * b[k];
    }
}

static double lin(size_t n, size_t p, const double *x, size_t i, const double *beta)
{
    double v = beta[0];
    for (size_t j = 0; j < p; j++)
        v += beta[j + 1] * x[j * n + i];
    return v;
}

/* One randomised experiment (e = 0.5 known), tau(x) = 1 + het * x2, and the
 * calibration test on a 2-fold cross-fitted least-squares T-learner. */
static void simulate_once(uint64_t seed, double het, tt_calibration *c)
{
    enum { N = 2000, P = 3 };
    double *x = malloc(N * P * sizeof *x), *y = malloc(N * sizeof *y), *t = malloc(N * sizeof *t);
    double *m = malloc(N * sizeof *m), *e = malloc(N * sizeof *e), *tau = malloc(N * sizeof *tau);
    int *fold = malloc(N * sizeof *fold), *sel = malloc(N * sizeof *sel);
    tt_rng rng;
    tt_rng_seed(&rng, seed, "calibration-sim");
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < P; j++)
            x[j * N + i] = tt_rng_normal(&rng);
        t[i] = tt_rng_uniform(&rng) < 0.5 ? 1.0 : 0.0;
        e[i] = 0.5;
        const double tau_i = 1.0 + het * x[N + i];
        y[i] = x[i] + tau_i * t[i] + tt_rng_normal(&rng);
        fold[i] = (int)tt_rng_below(&rng, 2);
    }
    for (int k = 0; k < 2; k++) {
        /* train on the other fold, predict this one */
        double b1[QMAX], b0[QMAX], bm[QMAX];
        for (size_t i = 0; i < N; i++)
            sel[i] = fold[i] != k ? (t[i] == 1.0 ? 1 : 0) : -1;
        ols_on(N, P, x, y, sel, 1, b1);
        ols_on(N, P, x, y, sel, 0, b0);
        for (size_t i = 0; i < N; i++)
            sel[i] = fold[i] != k;
        ols_on(N, P, x, y, sel, 1, bm);
        for (size_t i = 0; i < N; i++)
            if (fold[i] == k) {
                tau[i] = lin(N, P, x, i, b1) - lin(N, P, x, i, b0);
                m[i] = lin(N, P, x, i, bm);
            }
    }
    char err[256];
    tt_calibration_input in = {.n = N, .y = y, .t = t, .m_hat = m, .e_hat = e, .tau_hat = tau,
                               .hc = TT_HC_DEFAULT};
    assert_int_equal(tt_calibration_test(&in, c, err, sizeof err), TT_OK);
    free(x);
    free(y);
    free(t);
    free(m);
    free(e);
    free(tau);
    free(fold);
    free(sel);
}

static void test_calibration_size_and_power(void **state)
{
    (void)state;
    enum { SEEDS = 50 };
    int reject_null = 0, reject_het = 0;
    double mean_null = 0.0, mean_het = 0.0, diff_het = 0.0;
    for (uint64_t s = 1; s <= SEEDS; s++) {
        tt_calibration c;
        simulate_once(s, 0.0, &c);
        reject_null += c.diff_p < 0.05;
        mean_null += c.mean_coef / SEEDS;
        simulate_once(s, 1.0, &c);
        reject_het += c.diff_p < 0.05;
        mean_het += c.mean_coef / SEEDS;
        diff_het += c.diff_coef / SEEDS;
    }
    printf("calibration, %d seeds, n = 2000: differential rejects at 5%% (one-sided) in %d "
           "without heterogeneity, %d with tau = 1 + x2\n",
           SEEDS, reject_null, reject_het);
    printf("  average mean-prediction coefficient %.3f / %.3f, differential (with) %.3f\n",
           mean_null, mean_het, diff_het);
    assert_true(reject_null <= SEEDS / 10);      /* does not reject in >= 90% */
    assert_true(reject_het >= SEEDS - SEEDS / 10); /* rejects in >= 90% */
    /* well-specified T-learner: both coefficients near 1 on average */
    assert_true(fabs(mean_null - 1.0) < 0.05 && fabs(mean_het - 1.0) < 0.05);
    assert_true(fabs(diff_het - 1.0) < 0.1);
}

/* ---- sentences ----------------------------------------------------------- */

static void test_sentences(void **state)
{
    (void)state;
    tt_calibration c = {.n = 2000, .df = 1998, .hc = TT_HC3, .tau_bar = 2.0,
                        .mean_coef = 1.02, .mean_se = 0.05, .diff_coef = 0.93,
                        .diff_se = 0.21};
    c.mean_t = c.mean_coef / c.mean_se;
    c.diff_t = c.diff_coef / c.diff_se;
    c.mean_p = tt_student_t_sf(c.mean_t, c.df);
    c.diff_p = tt_student_t_sf(c.diff_t, c.df);
    char buf[512];
    size_t len = tt_calibration_sentence(&c, TT_CALIBRATION_DIFFERENTIAL, 0.05, buf, sizeof buf);
    printf("%s\n", buf);
    assert_int_equal(len, strlen(buf));
    assert_non_null(strstr(buf, "The effect estimates vary for a reason: the differential "
                                "coefficient 0.93 (s.e. 0.21) rejects 'no heterogeneity' at "
                                "p = 0.000005"));
    assert_non_null(strstr(buf, "consistent with 1"));
    tt_calibration_sentence(&c, TT_CALIBRATION_MEAN, 0.05, buf, sizeof buf);
    printf("%s\n", buf);
    assert_non_null(strstr(buf, "looks right"));
    assert_non_null(strstr(buf, "1.02 (s.e. 0.05)"));

    /* no heterogeneity */
    c.diff_coef = 0.12;
    c.diff_se = 0.20;
    c.diff_t = 0.6;
    c.diff_p = tt_student_t_sf(0.6, c.df);
    tt_calibration_sentence(&c, TT_CALIBRATION_DIFFERENTIAL, 0.05, buf, sizeof buf);
    printf("%s\n", buf);
    assert_non_null(strstr(buf, "do not show that the effect varies"));
    assert_non_null(strstr(buf, "(p = 0.27)"));

    /* real but exaggerated spread; an average that is too large */
    c.diff_coef = 0.4;
    c.diff_se = 0.1;
    c.diff_t = 4.0;
    c.diff_p = tt_student_t_sf(4.0, c.df);
    tt_calibration_sentence(&c, TT_CALIBRATION_DIFFERENTIAL, 0.05, buf, sizeof buf);
    printf("%s\n", buf);
    assert_non_null(strstr(buf, "below 1"));
    assert_non_null(strstr(buf, "exaggerate"));
    c.mean_coef = 0.6;
    c.mean_t = 12.0;
    c.mean_p = tt_student_t_sf(12.0, c.df);
    tt_calibration_sentence(&c, TT_CALIBRATION_MEAN, 0.05, buf, sizeof buf);
    printf("%s\n", buf);
    assert_non_null(strstr(buf, "too large"));
    assert_non_null(strstr(buf, "nearer 1.2 than 2"));

    /* a short buffer: truncated, terminated, full length returned */
    char small[16];
    const size_t need = tt_calibration_sentence(&c, TT_CALIBRATION_MEAN, 0.05, small, sizeof small);
    assert_int_equal(need, strlen(buf));
    assert_int_equal(strlen(small), sizeof small - 1);
}

/* ---- errors -------------------------------------------------------------- */

static void test_errors(void **state)
{
    (void)state;
    double x[NB * 3], gamma[NB], w[NB];
    fixed_blp_data(x, gamma, w);
    char err[256];
    tt_ols_result r;
    const char *names[3] = {"income", "age", "score"};

    /* n <= q */
    tt_blp_input in = {.n = 4, .p = 3, .x = x, .gamma = gamma, .hc = TT_HC3};
    double x4[12];
    for (size_t j = 0; j < 3; j++)
        for (size_t i = 0; i < 4; i++)
            x4[j * 4 + i] = x[j * NB + i];
    in.x = x4;
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "4 rows of positive weight for 4 regressors"));
    assert_null(r.coef);
    in.x = x;
    in.n = NB;

    /* non-finite values, named */
    in.names = names;
    gamma[17] = NAN;
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "gamma at row 17"));
    gamma[17] = 0.0;
    x[NB + 5] = INFINITY;
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "row 5, column 1 ('age')"));
    x[NB + 5] = 1.0;
    in.w = w;
    w[3] = NAN;
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "weight at row 3"));
    w[3] = -1.0;
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_ERR_INVALID);
    w[3] = 1.0;
    /* a non-finite value outside the subset does not matter */
    size_t rows[3] = {0, 1, 2};
    gamma[50] = NAN;
    in.rows = rows;
    in.n_rows = 3;
    in.cols = (const size_t[]){0};
    in.n_cols = 1;
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_OK);
    tt_ols_result_free(&r);
    gamma[50] = 0.0;

    /* mismatched sizes: indices out of range */
    in.cols = (const size_t[]){0, 3};
    in.n_cols = 2;
    in.rows = NULL;
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_ERR_INVALID);
    assert_non_null(strstr(err, "cols[1] = 3"));
    in.cols = NULL;
    rows[2] = NB;
    in.rows = rows;
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_ERR_INVALID);
    assert_non_null(strstr(err, "rows[2] = 97"));
    in.rows = NULL;
    in.hc = (tt_hc_type)2;
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_ERR_INVALID);
    in.hc = TT_HC3;
    assert_int_equal(tt_blp_fit(NULL, &r, err, sizeof err), TT_ERR_INVALID);

    /* a singular design names the collinear column */
    double xs[NB * 3];
    memcpy(xs, x, sizeof xs);
    for (size_t i = 0; i < NB; i++)
        xs[2 * NB + i] = 2.0 * xs[i] - 0.5 * xs[NB + i];
    in.x = xs;
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_ERR_NUMERIC);
    printf("singular: %s\n", err);
    assert_non_null(strstr(err, "'score' is (numerically) a linear combination"));
    for (size_t i = 0; i < NB; i++)
        xs[NB + i] = 7.5; /* constant: collinear with the intercept */
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_ERR_NUMERIC);
    assert_non_null(strstr(err, "'age'"));
    in.names = NULL;
    for (size_t i = 0; i < NB; i++)
        xs[NB + i] = 0.0;
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_ERR_NUMERIC);
    assert_non_null(strstr(err, "'column 1 of x' is zero"));
    /* HC3 with a row of leverage 1: a dummy that is 1 on one row only */
    memcpy(xs, x, sizeof xs);
    for (size_t i = 0; i < NB; i++)
        xs[2 * NB + i] = i == 40 ? 1.0 : 0.0;
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_ERR_NUMERIC);
    assert_non_null(strstr(err, "row 40 has leverage"));
    in.hc = TT_HC1; /* fine for HC0/HC1 */
    assert_int_equal(tt_blp_fit(&in, &r, err, sizeof err), TT_OK);
    assert_true(r.max_leverage > 1.0 - 1e-9);
    tt_ols_result_free(&r);

    /* tt_ols_hc's own checks */
    assert_int_equal(tt_ols_hc(NB, 0, x, gamma, NULL, NULL, TT_HC3, &r, err, sizeof err),
                     TT_ERR_INVALID);
    x[7] = NAN;
    assert_int_equal(tt_ols_hc(NB, 3, x, gamma, NULL, names, TT_HC3, &r, err, sizeof err),
                     TT_ERR_DATA);
    assert_non_null(strstr(err, "'income' at row 7"));
    x[7] = 0.0;

    /* calibration */
    double y[NC], t[NC], m[NC], e[NC], tau[NC];
    fixed_calibration_data(y, t, m, e, tau);
    tt_calibration c;
    tt_calibration_input ci = {.n = NC, .y = y, .t = t, .m_hat = m, .e_hat = e, .tau_hat = tau,
                               .hc = TT_HC3};
    tau[9] = NAN;
    assert_int_equal(tt_calibration_test(&ci, &c, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "tau_hat at row 9"));
    tau[9] = 1.0;
    e[11] = INFINITY;
    assert_int_equal(tt_calibration_test(&ci, &c, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "e_hat at row 11"));
    e[11] = 0.5;
    double flat[NC];
    for (size_t i = 0; i < NC; i++)
        flat[i] = 1.5;
    ci.tau_hat = flat;
    assert_int_equal(tt_calibration_test(&ci, &c, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "no heterogeneity to test"));
    ci.tau_hat = tau;
    ci.n = 2;
    assert_int_equal(tt_calibration_test(&ci, &c, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "2 rows of positive weight for 2 regressors"));
    ci.n = NC;
    size_t bad = NC;
    ci.rows = &bad;
    ci.n_rows = 1;
    assert_int_equal(tt_calibration_test(&ci, &c, err, sizeof err), TT_ERR_INVALID);
    ci.rows = NULL;
    ci.t = NULL;
    assert_int_equal(tt_calibration_test(&ci, &c, err, sizeof err), TT_ERR_INVALID);
}

static int report(void **state)
{
    (void)state;
    printf("max |ours - by-hand normal equations| = %.3g; max |ours - numpy/scipy| = %.3g\n",
           max_diff, max_diff_numpy);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t_tail),
        cmocka_unit_test(test_ols_by_hand),
        cmocka_unit_test(test_blp_fixed),
        cmocka_unit_test(test_blp_intercept_only),
        cmocka_unit_test(test_blp_scaling),
        cmocka_unit_test(test_calibration_fixed),
        cmocka_unit_test(test_calibration_size_and_power),
        cmocka_unit_test(test_sentences),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, report);
}
