/* test_data_gen.c - the generator family (data/gen.h), its CSV output read
 * back exactly, and the reader's fast number path against strtod. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data/csv.h"
#include "data/gen.h"
#include "util/order.h"

static char err[1024];

static tt_dataset *gen(const char *name, size_t rows, int arms, uint64_t seed)
{
    tt_gen_options o;
    tt_gen_options_init(&o);
    o.rows = rows;
    o.arms = arms;
    o.seed = seed;
    tt_dataset *d = NULL;
    if (tt_gen_generate(name, &o, &d, err, sizeof err) != TT_OK)
        fail_msg("%s: %s", name, err);
    return d;
}

/* Every generator: deterministic, truth columns consistent with its formula
 * (Y - mu0 - tau_T has mean ~0 except for iv's confounder), propensities sum
 * to 1. */
static void test_family(void **state)
{
    (void)state;
    for (const char *const *nm = tt_gen_names(); *nm; nm++) {
        if (strcmp(*nm, "pricing") == 0)
            continue; /* a continuous treatment: test_pricing */
        int k = strcmp(*nm, "iv") ? 3 : 2;
        tt_dataset *a = gen(*nm, 20000, k, 5), *b = gen(*nm, 20000, k, 5);
        size_t n = a->n;
        assert_memory_equal(a->y, b->y, n * sizeof(double));
        assert_int_equal(a->n_arms, k);
        assert_non_null(a->tau);
        assert_non_null(a->true_propensity);
        assert_non_null(a->mu0);
        double resid = 0, counts[16] = {0};
        for (size_t i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j < k; j++)
                sum += a->true_propensity[(size_t)j * n + i];
            assert_true(fabs(sum - 1) < 1e-12);
            int t = a->t[i];
            counts[t]++;
            resid += a->y[i] - a->mu0[i] - (t ? a->tau[(size_t)(t - 1) * n + i] : 0);
        }
        resid /= (double)n;
        if (strcmp(*nm, "iv") != 0 && fabs(resid) > 0.05)
            fail_msg("%s: mean residual %g", *nm, resid);
        for (int j = 0; j < k; j++)
            assert_true(counts[j] > 0.1 * (double)n);
        tt_dataset_free(a);
        tt_dataset_free(b);
    }
    tt_dataset *iv = gen("iv", 1000, 2, 1), *kp = gen("known_propensity", 1000, 3, 1);
    assert_int_equal(iv->p_z, 1);
    assert_non_null(kp->propensity);
    assert_null(iv->propensity);
    tt_dataset_free(iv);
    tt_dataset_free(kp);
    tt_gen_options o;
    tt_gen_options_init(&o);
    o.arms = 3;
    tt_dataset *d = (tt_dataset *)1;
    assert_int_equal(tt_gen_generate("iv", &o, &d, err, sizeof err), TT_ERR_CONFIG);
    assert_int_equal(tt_gen_generate("nope", &o, &d, err, sizeof err), TT_ERR_CONFIG);
    assert_non_null(strstr(err, "known: synthetic, rct_linear"));
}

/* tt_median_split, the strata of every continuous treatment (read, generated
 * or scored): above the lower median or not, ">=" when nothing lies above it,
 * every row in stratum 1 for a single value. Worked by hand. */
static void test_median_split(void **state)
{
    (void)state;
    int s[4] = {9, 9, 9, 9};
    const double spread[4] = {3, 1, 2, 4}; /* median 2 */
    assert_int_equal(tt_median_split(spread, 4, s), 1);
    assert_int_equal(s[0], 1), assert_int_equal(s[1], 0);
    assert_int_equal(s[2], 0), assert_int_equal(s[3], 1);
    const double top_heavy[4] = {5, 1, 5, 5}; /* median 5, nothing above */
    assert_int_equal(tt_median_split(top_heavy, 4, s), 1);
    assert_int_equal(s[0], 1), assert_int_equal(s[1], 0);
    assert_int_equal(s[2], 1), assert_int_equal(s[3], 1);
    const double one[3] = {2, 2, 2};
    assert_int_equal(tt_median_split(one, 3, s), 0);
    assert_int_equal(s[0] + s[1] + s[2], 3);
    assert_int_equal(tt_median_split(one, 0, s), 0);
}

/* tt_select_double and tt_median_double against sorting, on random arrays
 * with few distinct values (ties everywhere), all equal, sorted and
 * reversed, every k. */
static void test_select_against_sort(void **state)
{
    (void)state;
    enum { N = 61 };
    double v[N], w[N], sorted[N];
    uint64_t x = 12345;
    for (int shape = 0; shape < 5; shape++)
        for (size_t n = 1; n <= N; n += shape == 0 ? 1 : 7) {
            for (size_t i = 0; i < n; i++) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                double r = (double)(x >> 40) / (double)(1 << 24);
                v[i] = shape == 0 ? r : shape == 1 ? floor(4 * r) : shape == 2 ? 7.0
                       : shape == 3 ? (double)i : -(double)i;
            }
            memcpy(sorted, v, n * sizeof *v);
            qsort(sorted, n, sizeof *v, tt_cmp_double);
            for (size_t k = 0; k < n; k++) {
                memcpy(w, v, n * sizeof *v);
                assert_true(tt_select_double(w, n, k) == sorted[k]);
                for (size_t i = 0; i < k; i++)
                    assert_true(w[i] <= w[k]);
                for (size_t i = k + 1; i < n; i++)
                    assert_true(w[i] >= w[k]);
            }
            memcpy(w, v, n * sizeof *v);
            double med = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
            assert_true(tt_median_double(w, n) == med);
        }
}

/* pricing: a continuous treatment whose truth columns follow gen.h's
 * formulas: Y - mu0 - theta T is the unit noise, T - t_mean the price's own
 * (sd 0.7), the elasticity's mean is -1, the strata split at the median, and
 * the naive slope of Y on T is biased towards 0 by the confounded discounts.
 * arms other than 2 are refused. */
static void test_pricing(void **state)
{
    (void)state;
    tt_dataset *a = gen("pricing", 20000, 2, 5), *b = gen("pricing", 20000, 2, 5);
    size_t n = a->n;
    assert_memory_equal(a->t_value, b->t_value, n * sizeof(double));
    assert_null(a->true_propensity);
    assert_int_equal(a->n_arms, 2);
    double noise = 0, noise2 = 0, pres2 = 0, theta = 0, above = 0;
    double mt = 0, my = 0, stt = 0, sty = 0;
    for (size_t i = 0; i < n; i++) {
        double e = a->y[i] - a->mu0[i] - a->tau[i] * a->t_value[i];
        double r = a->t_value[i] - tt_gen_pricing_price_mean(a, i);
        noise += e / (double)n, noise2 += e * e / (double)n, pres2 += r * r / (double)n;
        theta += a->tau[i] / (double)n;
        above += a->t[i];
        mt += a->t_value[i] / (double)n, my += a->y[i] / (double)n;
    }
    for (size_t i = 0; i < n; i++) {
        stt += (a->t_value[i] - mt) * (a->t_value[i] - mt);
        sty += (a->t_value[i] - mt) * (a->y[i] - my);
    }
    assert_true(fabs(noise) < 0.03 && fabs(noise2 - 1) < 0.05);
    assert_true(fabs(sqrt(pres2) - 0.7) < 0.02);
    assert_true(fabs(theta + 1) < 0.03);
    assert_true(fabs(above / (double)n - 0.5) < 1e-3);
    assert_true(sty / stt > -0.7); /* naive: about -0.43 */
    tt_dataset_free(a);
    tt_dataset_free(b);
    tt_gen_options o;
    tt_gen_options_init(&o);
    o.arms = 3;
    tt_dataset *d = NULL;
    assert_int_equal(tt_gen_generate("pricing", &o, &d, err, sizeof err), TT_ERR_CONFIG);
}

/* "synthetic" through the family is the built-in data, numbers unchanged. */
static void test_synthetic_unchanged(void **state)
{
    (void)state;
    tt_synth_options so;
    tt_synth_options_init(&so);
    so.rows = 500;
    so.seed = 9;
    tt_dataset *a = NULL, *b = gen("synthetic", 500, 2, 9);
    assert_int_equal(tt_synth_generate("synthetic", &so, &a, err, sizeof err), TT_OK);
    assert_memory_equal(a->y, b->y, 500 * sizeof(double));
    assert_memory_equal(a->x, b->x, 500 * 5 * sizeof(double));
    tt_dataset_free(a);
    tt_dataset_free(b);
}

/* The CSV holds every column and reads back to the same doubles. */
static void test_csv_round_trip(void **state)
{
    (void)state;
    tt_dataset *d = gen("known_propensity", 300, 3, 2);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_int_equal(tt_gen_write_csv(d, mem, err, sizeof err), TT_OK);
    fclose(mem);
    tt_csv_table *t = NULL;
    assert_int_equal(tt_csv_parse(text, len, "g.csv", &t, err, sizeof err), TT_OK);
    free(text);
    const char *cols[] = {"y", "t", "x1", "x5", "w2", "tau1", "tau2", "e0", "e2", "p1", "mu0"};
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
        if (tt_csv_find(t, cols[c]) < 0)
            fail_msg("column %s missing", cols[c]);
    assert_int_equal(t->n_rows, 300);
    const double *y = t->cols[tt_csv_find(t, "y")].num;
    const double *tau2 = t->cols[tt_csv_find(t, "tau2")].num;
    assert_memory_equal(y, d->y, 300 * sizeof(double));
    assert_memory_equal(tau2, d->tau + 300, 300 * sizeof(double));
    tt_csv_free(t);
    tt_dataset_free(d);
}

static double draw(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) / 9007199254740992.0;
}

/* The reader's own conversion must give strtod's (correctly rounded) value
 * for every format a writer commonly produces. */
static void test_numbers_exact(void **state)
{
    (void)state;
    static const char *const fmts[] = {"%.17g", "%.16g", "%.15g", "%.10g", "%.6f", "%.3e",
                                       "%.0f", "%.19g"};
    uint64_t s = 42;
    char buf[64];
    size_t checked = 0;
    for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
        for (int i = 0; i < 20000; i++) {
            double u = draw(&s), scale = pow(10.0, floor(draw(&s) * 24) - 12);
            double v = (u - 0.5) * scale;
            snprintf(buf, sizeof buf, fmts[f], v);
            double want = strtod(buf, NULL), got = NAN;
            if (!tt_csv_parse_number(buf, &got))
                fail_msg("'%s' not read as a number", buf);
            if (memcmp(&want, &got, sizeof got) != 0)
                fail_msg("'%s': got %.17g, strtod %.17g", buf, got, want);
            checked++;
        }
    }
    static const char *const edge[] = {"0", "-0", "1.", ".5", "+3", "007", "1e22", "1e23",
                                       "9007199254740993", "18446744073709551615",
                                       "0.30000000000000004", "2.2250738585072014e-308",
                                       "1.7976931348623157e308", "123456789012345678901",
                                       "4.9406564584124654e-324", "1E5", "-1.5E-3"};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        double want = strtod(edge[i], NULL), got = NAN;
        assert_true(tt_csv_parse_number(edge[i], &got));
        if (memcmp(&want, &got, sizeof got) != 0)
            fail_msg("'%s': got %.17g, strtod %.17g", edge[i], got, want);
    }
    double v;
    assert_false(tt_csv_parse_number("1e", &v));
    assert_false(tt_csv_parse_number("-", &v));
    assert_false(tt_csv_parse_number(".", &v));
    assert_false(tt_csv_parse_number("1.2.3", &v));
    assert_true(checked > 100000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_family),
        cmocka_unit_test(test_median_split),
        cmocka_unit_test(test_select_against_sort),
        cmocka_unit_test(test_pricing),
        cmocka_unit_test(test_synthetic_unchanged),
        cmocka_unit_test(test_csv_round_trip),
        cmocka_unit_test(test_numbers_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
