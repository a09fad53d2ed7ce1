/* test_scores_oracle.c - cate_corr and policy_true against naive references. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "score/oracle.h"
#include "util/rng.h"

static void test_cate_corr(void **state)
{
    (void)state;
    const size_t n = 300;
    double h[600], g[600];
    tt_rng r;
    tt_rng_seed(&r, 1, "oracle");
    for (size_t i = 0; i < 2 * n; i++) {
        g[i] = tt_rng_normal(&r);
        h[i] = 2.0 * g[i] + 3.0; /* perfectly correlated */
    }
    assert_float_equal(tt_oracle_cate_corr(n, 3, h, g), 1.0, 1e-12);
    for (size_t i = 0; i < 2 * n; i++)
        h[i] = -h[i];
    assert_float_equal(tt_oracle_cate_corr(n, 3, h, g), -1.0, 1e-12);
    /* Naive Pearson on noisy effects, one arm. */
    for (size_t i = 0; i < n; i++)
        h[i] = g[i] + tt_rng_normal(&r);
    double mh = 0, mg = 0, shg = 0, shh = 0, sgg = 0;
    for (size_t i = 0; i < n; i++)
        mh += h[i] / n, mg += g[i] / n;
    for (size_t i = 0; i < n; i++) {
        shg += (h[i] - mh) * (g[i] - mg);
        shh += (h[i] - mh) * (h[i] - mh);
        sgg += (g[i] - mg) * (g[i] - mg);
    }
    assert_float_equal(tt_oracle_cate_corr(n, 2, h, g), shg / sqrt(shh * sgg), 1e-12);
    for (size_t i = 0; i < n; i++)
        h[i] = 0.5;
    assert_true(isnan(tt_oracle_cate_corr(n, 2, h, g)));
}

/* Hand case, 3 arms, 3 rows: greedy arms 2, 0 (tie at 0 keeps the control),
 * 1; policy_true = ((tau_2 - c_2) + 0 + (tau_1 - c_1)) / 3. */
static void test_policy_true(void **state)
{
    (void)state;
    const double hat[] = {0.5, 0.1, 2.0, /* arm 1 */ 1.0, 0.1, 0.0 /* arm 2 */};
    const double tau[] = {7.0, 8.0, 3.0, /* arm 1 */ 5.0, 6.0, 9.0 /* arm 2 */};
    const double cost[] = {0.0, 0.1, 0.3};
    assert_float_equal(tt_oracle_policy_true(3, 3, hat, tau, cost),
                       ((5.0 - 0.3) + 0.0 + (3.0 - 0.1)) / 3.0, 1e-15);
    assert_float_equal(tt_oracle_policy_true(3, 3, hat, tau, NULL), (5.0 + 8.0 + 3.0) / 3.0,
                       1e-15);
    assert_true(isnan(tt_oracle_policy_true(0, 3, hat, tau, NULL)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cate_corr),
        cmocka_unit_test(test_policy_true),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
