/* test_point_set.c - the set of tried points (core/search/point_set.h),
 * checked against the linear scan it replaces: the same answer for every
 * query, over points with repeats, signed zeros and NaNs, across growth. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "search/point_set.h"
#include "search/space.h"

static const tt_plugin_descriptor two = {.name = "two", .n_params = 2};
static const tt_plugin_descriptor three = {.name = "three", .n_params = 3};

static uint64_t state = 7;
static unsigned next(unsigned n)
{
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)((state >> 33) % n);
}

/* Values from a small pool, so points repeat; -0.0 beside 0.0 and a NaN. */
static double value(void)
{
    static const double pool[] = {0.0, -0.0, 1.0, 0.5, 1e-300, -2.0, NAN, 3.25};
    return pool[next(sizeof pool / sizeof pool[0])];
}

static void draw(size_t *est, double *p)
{
    *est = next(2);
    size_t np = *est ? three.n_params : two.n_params;
    for (size_t i = 0; i < np; i++)
        p[i] = value();
}

static int scan(const tt_trial_result *t, size_t n, size_t est, const double *p, size_t np)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].estimator == est && tt_space_point_equal(t[i].point, p, np))
            return 1;
    return 0;
}

static void test_agrees_with_scan(void **state_)
{
    (void)state_;
    enum { N = 3000 };
    tt_trial_result *t = calloc(N, sizeof *t);
    double *pts = calloc(N * 3, sizeof *pts);
    assert_non_null(t);
    assert_non_null(pts);
    tt_point_set set = {0};
    size_t hits = 0;
    for (size_t i = 0; i < N; i++) {
        size_t est;
        double q[3];
        draw(&est, q);
        size_t np = est ? 3 : 2;
        /* Before adding: asked exactly what the scan says. */
        int want = scan(t, i, est, q, np);
        assert_int_equal(tt_point_set_has(&set, t, est, q, np), want);
        hits += want;
        t[i].estimator = est;
        t[i].desc = est ? &three : &two;
        t[i].point = pts + 3 * i;
        memcpy(t[i].point, q, np * sizeof *q);
        assert_int_equal(tt_point_set_add(&set, t, i), 0);
        assert_true(tt_point_set_has(&set, t, est, q, np) == !isnan(q[0] + q[1] + (np > 2 ? q[2] : 0)));
    }
    /* The pool makes repeats common, and -0.0 finds 0.0. */
    assert_true(hits > N / 2);
    double z[2] = {-0.0, -0.0}, z2[2] = {0.0, 0.0};
    assert_int_equal(tt_point_set_has(&set, t, 0, z, 2), scan(t, N, 0, z2, 2));
    /* Another estimator's point with the same values is not this one's. */
    size_t i0 = 0;
    while (t[i0].estimator != 0 || isnan(t[i0].point[0] + t[i0].point[1]))
        i0++;
    double q3[3] = {t[i0].point[0], t[i0].point[1], 0.0};
    assert_int_equal(tt_point_set_has(&set, t, 1, q3, 3), scan(t, N, 1, q3, 3));
    tt_point_set_clear(&set);
    assert_int_equal(tt_point_set_has(&set, t, 0, t[i0].point, 2), 0);
    tt_point_set_free(&set);
    free(t);
    free(pts);
}

static void test_empty(void **state_)
{
    (void)state_;
    tt_point_set set = {0};
    double p[2] = {1, 2};
    assert_int_equal(tt_point_set_has(&set, NULL, 0, p, 2), 0);
    tt_point_set_free(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agrees_with_scan),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
