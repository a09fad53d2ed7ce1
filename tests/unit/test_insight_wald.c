/* test_insight_wald.c - the chi-square tail (util/dist.h) against closed
 * forms and tabled quantiles, and the joint Wald test of a fit's slopes
 * (insight/blp.h) against t^2 for one slope and a by-hand 2 x 2 inverse. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "insight/blp.h"
#include "util/dist.h"
#include "util/rng.h"

static void test_chi2_tail(void **state)
{
    (void)state;
    /* k = 2: exp(-x/2); k = 4: exp(-x/2)(1 + x/2); exactly. */
    for (double x = 0.01; x < 80; x *= 1.7) {
        assert_true(fabs(tt_chi2_sf(x, 2) - exp(-x / 2)) <= 1e-13 * exp(-x / 2) + 1e-300);
        double q4 = exp(-x / 2) * (1 + x / 2);
        assert_true(fabs(tt_chi2_sf(x, 4) - q4) <= 1e-13 * q4 + 1e-300);
        /* k = 1: erfc(sqrt(x/2)). */
        double q1 = erfc(sqrt(x / 2));
        assert_true(fabs(tt_chi2_sf(x, 1) - q1) <= 1e-12 * q1 + 1e-300);
    }
    /* Tabled 5 % points. */
    assert_true(fabs(tt_chi2_sf(3.841458820694124, 1) - 0.05) < 1e-12);
    assert_true(fabs(tt_chi2_sf(18.307038053275146, 10) - 0.05) < 1e-12);
    assert_true(fabs(tt_chi2_sf(124.34211340400407, 100) - 0.05) < 1e-11);
    assert_true(tt_chi2_sf(0, 3) == 1.0 && tt_chi2_sf(-1, 3) == 1.0);
    assert_true(isnan(tt_chi2_sf(1, 0)));
    assert_true(fabs(tt_normal_quantile(0.975) - 1.959963984540054) < 1e-14);
}

/* y = 1 + b1 x1 + b2 x2 + noise; the Wald statistic of the slopes. */
static void test_wald(void **state)
{
    (void)state;
    const size_t n = 400;
    double *a = malloc(sizeof(double) * n * 3), *y = malloc(sizeof(double) * n);
    tt_rng r;
    tt_rng_seed(&r, 3, "wald");
    for (size_t i = 0; i < n; i++) {
        a[i] = 1.0;
        a[n + i] = tt_rng_normal(&r);
        a[2 * n + i] = tt_rng_normal(&r) + 0.5 * a[n + i];
        y[i] = 1 + 0.2 * a[n + i] - 0.1 * a[2 * n + i] + (1 + fabs(a[n + i])) * tt_rng_normal(&r);
    }
    tt_ols_result res;
    char err[256];
    double w, df, p;
    /* One slope: Wald = t^2. */
    assert_int_equal(tt_ols_hc(n, 2, a, y, NULL, NULL, TT_HC3, &res, err, sizeof err), TT_OK);
    assert_int_equal(tt_ols_wald(&res, 1, &w, &df, &p, err, sizeof err), TT_OK);
    assert_true(fabs(w - res.t[1] * res.t[1]) < 1e-10 * w);
    assert_true(df == 1 && fabs(p - tt_chi2_sf(w, 1)) < 1e-15);
    tt_ols_result_free(&res);
    /* Two slopes: b' V^-1 b with the 2 x 2 inverse by hand. */
    assert_int_equal(tt_ols_hc(n, 3, a, y, NULL, NULL, TT_HC3, &res, err, sizeof err), TT_OK);
    assert_int_equal(tt_ols_wald(&res, 1, &w, &df, &p, err, sizeof err), TT_OK);
    double v11 = res.vcov[1 * 3 + 1], v12 = res.vcov[2 * 3 + 1], v22 = res.vcov[2 * 3 + 2];
    double det = v11 * v22 - v12 * v12, b1 = res.coef[1], b2 = res.coef[2];
    double hand = (b1 * (v22 * b1 - v12 * b2) + b2 * (-v12 * b1 + v11 * b2)) / det;
    printf("Wald chi2(2) = %.6f by the routine, %.6f by hand; p = %.3g\n", w, hand, p);
    assert_true(fabs(w - hand) < 1e-9 * hand);
    assert_true(df == 2);
    assert_int_equal(tt_ols_wald(&res, 3, &w, &df, &p, err, sizeof err), TT_ERR_INVALID);
    tt_ols_result_free(&res);
    free(a), free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chi2_tail),
        cmocka_unit_test(test_wald),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
