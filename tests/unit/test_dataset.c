/* test_dataset.c - datasets from CSV roles, the synthetic generator, the split. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "data/csv.h"
#include "data/dataset.h"
#include "data/split.h"
#include "data/synth.h"

#define HILLSTROM "/work/shared/data/hillstrom/hillstrom.csv"

static char err[1024];

static tt_csv_table *table_of(const char *text)
{
    tt_csv_table *t = NULL;
    if (tt_csv_parse(text, strlen(text), "d.csv", &t, err, sizeof err) != TT_OK)
        fail_msg("csv: %s", err);
    return t;
}

static tt_dataset *build_ok(const tt_csv_table *t, const tt_roles *r)
{
    tt_dataset *ds = NULL;
    if (tt_dataset_from_csv(t, r, &ds, err, sizeof err) != TT_OK)
        fail_msg("dataset: %s", err);
    assert_non_null(ds);
    return ds;
}

/* Build must fail with status want and a message holding each given piece. */
static void build_fails(const char *text, const tt_roles *r, tt_status want, const char *p1,
                        const char *p2)
{
    tt_csv_table *t = table_of(text);
    tt_dataset *ds = (tt_dataset *)1;
    err[0] = '\0';
    tt_status st = tt_dataset_from_csv(t, r, &ds, err, sizeof err);
    tt_csv_free(t);
    if (st != want)
        fail_msg("status %d, wanted %d: %s", (int)st, (int)want, err);
    assert_null(ds);
    if (!strstr(err, "d.csv"))
        fail_msg("message lacks the file: %s", err);
    if (p1 && !strstr(err, p1))
        fail_msg("message lacks '%s': %s", p1, err);
    if (p2 && !strstr(err, p2))
        fail_msg("message lacks '%s': %s", p2, err);
}

static const char *const XS[] = {"x1", "x2"};
static const char *const WS[] = {"w"};

static const char *NUMERIC_CSV = "y,t,x1,x2,w,note\n"
                                 "1.5,0,10,20,-1,a\n"
                                 "2.5,2.5,11,21,-2,b\n"
                                 "3.5,1,12,22,-3,c\n"
                                 "4.5,0,13,23,-4,d\n";

static void test_numeric_roles(void **state)
{
    (void)state;
    tt_csv_table *t = table_of(NUMERIC_CSV);
    tt_roles r = {.outcome = "y", .treatment = "t", .control = "1.0", .x = XS, .n_x = 2,
                  .w = WS, .n_w = 1};
    tt_dataset *ds = build_ok(t, &r);
    tt_csv_free(t);
    assert_int_equal(ds->n, 4);
    assert_int_equal(ds->n_arms, 3);
    /* "1.0" names value 1; the rest stay ascending. */
    assert_string_equal(ds->arm_labels[0], "1");
    assert_string_equal(ds->arm_labels[1], "0");
    assert_string_equal(ds->arm_labels[2], "2.5");
    int want_t[] = {1, 2, 0, 1};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ds->t[i], want_t[i]);
        assert_true(ds->y[i] == 1.5 + i);
        assert_true(ds->x[i] == 10 + i);     /* x1 column */
        assert_true(ds->x[4 + i] == 20 + i); /* x2 column */
        assert_true(ds->w[i] == -1 - i);
    }
    assert_int_equal(ds->p_x, 2);
    assert_int_equal(ds->p_w, 1);
    assert_string_equal(ds->x_names[1], "x2");
    assert_string_equal(ds->w_names[0], "w");
    assert_string_equal(ds->y_name, "y");
    assert_string_equal(ds->t_name, "t");
    assert_string_equal(ds->source, "d.csv");
    assert_null(ds->tau);
    size_t counts[3];
    tt_dataset_arm_counts(ds, counts);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 2);
    assert_int_equal(counts[2], 1);
    tt_dataset_free(ds);
}

static void test_string_arms_and_subset(void **state)
{
    (void)state;
    tt_csv_table *t = table_of("out,arm,te_a,te_b\n"
                               "1,No E-Mail,0,0\n"
                               "2,Womens,0.1,0.2\n"
                               "3,Mens,0.3,0.4\n"
                               "4,No E-Mail,0.5,0.6\n");
    const char *const te[] = {"te_a", "te_b"};
    tt_roles r = {.outcome = "out", .treatment = "arm", .control = "No E-Mail",
                  .true_effect = te, .n_true_effect = 2};
    tt_dataset *ds = build_ok(t, &r);
    tt_csv_free(t);
    assert_int_equal(ds->n_arms, 3);
    assert_string_equal(ds->arm_labels[0], "No E-Mail");
    assert_string_equal(ds->arm_labels[1], "Mens"); /* strcmp order after control */
    assert_string_equal(ds->arm_labels[2], "Womens");
    int want_t[] = {0, 2, 1, 0};
    for (int i = 0; i < 4; i++)
        assert_int_equal(ds->t[i], want_t[i]);
    assert_int_equal(ds->p_x, 0);
    assert_null(ds->x);
    assert_null(ds->w);
    assert_non_null(ds->tau);
    assert_true(ds->tau[1] == 0.1 && ds->tau[4 + 1] == 0.2);

    size_t idx[] = {3, 1};
    tt_dataset *sub = NULL;
    assert_int_equal(tt_dataset_subset(ds, idx, 2, &sub, err, sizeof err), TT_OK);
    assert_int_equal(sub->n, 2);
    assert_int_equal(sub->n_arms, 3);
    assert_true(sub->y[0] == 4.0 && sub->y[1] == 2.0);
    assert_int_equal(sub->t[0], 0);
    assert_int_equal(sub->t[1], 2);
    assert_true(sub->tau[0] == 0.5 && sub->tau[1] == 0.1);
    assert_true(sub->tau[2] == 0.6 && sub->tau[3] == 0.2);
    assert_string_equal(sub->arm_labels[2], "Womens");
    tt_dataset_free(sub);

    size_t bad[] = {4};
    sub = (tt_dataset *)1;
    assert_int_equal(tt_dataset_subset(ds, bad, 1, &sub, err, sizeof err), TT_ERR_INVALID);
    assert_null(sub);
    tt_dataset_free(ds);
    tt_dataset_free(NULL);
}

static void test_subset_keeps_x_columns(void **state)
{
    (void)state;
    tt_csv_table *t = table_of(NUMERIC_CSV);
    tt_roles r = {.outcome = "y", .treatment = "t", .control = "0", .x = XS, .n_x = 2,
                  .w = WS, .n_w = 1};
    tt_dataset *ds = build_ok(t, &r);
    tt_csv_free(t);
    size_t idx[] = {2, 2, 0};
    tt_dataset *sub = NULL;
    assert_int_equal(tt_dataset_subset(ds, idx, 3, &sub, err, sizeof err), TT_OK);
    assert_true(sub->x[0] == 12 && sub->x[1] == 12 && sub->x[2] == 10);
    assert_true(sub->x[3] == 22 && sub->x[5] == 20);
    assert_true(sub->w[2] == -1);
    assert_string_equal(sub->x_names[0], "x1");
    tt_dataset_free(sub);
    tt_dataset_free(ds);
}

static void test_column_errors(void **state)
{
    (void)state;
    const char *csv = "y,treatment,x1,Score,note\n1,0,1,1,a\n2,1,2,2,b\n";
    tt_roles r = {.outcome = "y", .treatment = "treatmnet", .control = "0"};
    build_fails(csv, &r, TT_ERR_CONFIG, "column 'treatmnet' not found in d.csv; did you mean "
                "'treatment'?", NULL);

    const char *const xs_case[] = {"score"};
    r = (tt_roles){.outcome = "y", .treatment = "treatment", .control = "0", .x = xs_case,
                   .n_x = 1};
    build_fails(csv, &r, TT_ERR_CONFIG, "'score' not found", "did you mean 'Score'?");

    r = (tt_roles){.outcome = "revenue", .treatment = "treatment", .control = "0"};
    build_fails(csv, &r, TT_ERR_CONFIG, "'revenue' not found", "'treatment'");
    assert_null(strstr(err, "did you mean"));

    const char *dup = "y,t,a,a\n1,0,1,1\n2,1,2,2\n";
    const char *const xa[] = {"a"};
    r = (tt_roles){.outcome = "y", .treatment = "t", .control = "0", .x = xa, .n_x = 1};
    build_fails(dup, &r, TT_ERR_CONFIG, "'a' is ambiguous", "columns 3 and 4");

    const char *const wy[] = {"y"};
    r = (tt_roles){.outcome = "y", .treatment = "treatment", .control = "0", .w = wy, .n_w = 1};
    build_fails(csv, &r, TT_ERR_CONFIG, "'y'", "used twice");

    const char *const xx[] = {"x1", "x1"};
    r = (tt_roles){.outcome = "y", .treatment = "treatment", .control = "0", .x = xx, .n_x = 2};
    build_fails(csv, &r, TT_ERR_CONFIG, "'x1'", "used twice");
}

static void test_value_errors(void **state)
{
    (void)state;
    tt_roles r = {.outcome = "y", .treatment = "t", .control = "0"};
    build_fails("y,t\n1,0\n2,1\nbig,0\n", &r, TT_ERR_DATA, "line 4", "'big'");
    assert_non_null(strstr(err, "'y'"));

    const char *const xs[] = {"x"};
    tt_roles rx = {.outcome = "y", .treatment = "t", .control = "0", .x = xs, .n_x = 1};
    /* A gap in x is imputed (prep.h); a non-number in x is an error. */
    build_fails("y,t,x\n1,0,1\n2,1,5\n3,0,2\n4,1,inf\n", &rx, TT_ERR_DATA, "line 5",
                "non-finite");
    assert_non_null(strstr(err, "'x'"));
    build_fails("y,t,x\n1,0,1\n2,,5\n3,0,2\n", &r, TT_ERR_DATA, "line 3",
                "treatment column 't' has a missing");
    build_fails("y,t,x\n1,0,1\nNA,1,5\n3,0,2\n", &r, TT_ERR_DATA, "line 3",
                "outcome column 'y' has a missing");
    assert_non_null(strstr(err, "drop_missing"));

    /* A quoted field moves later records down a line; the message follows. */
    build_fails("y,t,n\n1,0,\"a\nb\"\ninf,1,c\n", &r, TT_ERR_DATA, "line 4", "non-finite");

    build_fails("y,t\n1,0\n2,1\n3,2\n", &(tt_roles){.outcome = "y", .treatment = "t",
                .control = "ctl"}, TT_ERR_CONFIG, "'ctl' is not a value", "'0', '1', '2'");

    /* Only ten values are listed. */
    build_fails("y,t\n1,0\n1,1\n1,2\n1,3\n1,4\n1,5\n1,6\n1,7\n1,8\n1,9\n1,10\n1,11\n",
                &(tt_roles){.outcome = "y", .treatment = "t", .control = "99"}, TT_ERR_CONFIG,
                "'9' and 2 more", NULL);
    assert_null(strstr(err, "'10'"));

    build_fails("y,t\n1,a\n2,a\n", &(tt_roles){.outcome = "y", .treatment = "t",
                .control = "a"}, TT_ERR_DATA, "only one value", "at least 2 arms");

    const char *const te[] = {"e"};
    build_fails("y,t,e\n1,0,1\n2,1,1\n3,2,1\n", &(tt_roles){.outcome = "y", .treatment = "t",
                .control = "0", .true_effect = te, .n_true_effect = 1}, TT_ERR_CONFIG,
                "1 true-effect", "expected 0 or 2");

    build_fails("y,t\n", &r, TT_ERR_DATA, "no data rows", NULL);
}

/* ---- synthetic generator ---- */

static tt_dataset *synth(size_t rows, int arms, uint64_t seed)
{
    tt_synth_options o;
    tt_synth_options_init(&o);
    o.rows = rows;
    o.arms = arms;
    o.seed = seed;
    tt_dataset *ds = NULL;
    if (tt_synth_generate("synthetic", &o, &ds, err, sizeof err) != TT_OK)
        fail_msg("synth: %s", err);
    return ds;
}

static void test_synth_defaults_and_determinism(void **state)
{
    (void)state;
    tt_synth_options o;
    tt_synth_options_init(&o);
    assert_int_equal(o.rows, 4000);
    assert_int_equal(o.arms, 2);
    assert_int_equal(o.seed, 1);
    tt_dataset *a = synth(4000, 2, 1), *b = synth(4000, 2, 1), *c = synth(4000, 2, 2);
    assert_string_equal(a->source, "synthetic(rows=4000, arms=2, seed=1)");
    assert_int_equal(a->n, 4000);
    assert_int_equal(a->p_x, 5);
    assert_int_equal(a->p_w, 2);
    assert_string_equal(a->x_names[4], "x5");
    assert_string_equal(a->w_names[1], "w2");
    assert_string_equal(a->y_name, "y");
    assert_string_equal(a->t_name, "t");
    assert_string_equal(a->arm_labels[0], "0");
    assert_string_equal(a->arm_labels[1], "1");
    assert_memory_equal(a->y, b->y, 4000 * sizeof(double));
    assert_memory_equal(a->x, b->x, 5 * 4000 * sizeof(double));
    assert_memory_equal(a->t, b->t, 4000 * sizeof(int));
    size_t same = 0;
    for (size_t i = 0; i < 4000; i++)
        same += a->y[i] == c->y[i];
    assert_true(same < 10);
    tt_dataset_free(a);
    tt_dataset_free(b);
    tt_dataset_free(c);
}

static void test_synth_tau_formula(void **state)
{
    (void)state;
    tt_dataset *ds = synth(500, 3, 7);
    size_t n = ds->n;
    for (size_t i = 0; i < n; i++) {
        double x1 = ds->x[i], x2 = ds->x[n + i];
        for (int k = 1; k < 3; k++) {
            double want = k * (1.0 + x1 + 0.5 * x2 * x2 - 0.5);
            assert_true(fabs(ds->tau[(size_t)(k - 1) * n + i] - want) < 1e-12);
        }
    }
    tt_dataset_free(ds);
}

/* The propensity in synth.h is logistic(0.8 x1 + 0.6 w1): treated rows have
 * higher x1 (which raises their effect) and higher w1 (which raises Y), so
 * the naive difference in means lies well above the true ATE. */
static void test_synth_confounding(void **state)
{
    (void)state;
    tt_dataset *ds = synth(20000, 2, 3);
    size_t n = ds->n, cnt[2] = {0, 0};
    double sum_y[2] = {0, 0}, sum_x1[2] = {0, 0}, sum_w1[2] = {0, 0}, ate = 0;
    for (size_t i = 0; i < n; i++) {
        int a = ds->t[i];
        cnt[a]++;
        sum_y[a] += ds->y[i];
        sum_x1[a] += ds->x[i];
        sum_w1[a] += ds->w[i];
        ate += ds->tau[i];
    }
    tt_dataset_free(ds);
    ate /= (double)n;
    double naive = sum_y[1] / (double)cnt[1] - sum_y[0] / (double)cnt[0];
    double dx1 = sum_x1[1] / (double)cnt[1] - sum_x1[0] / (double)cnt[0];
    double dw1 = sum_w1[1] / (double)cnt[1] - sum_w1[0] / (double)cnt[0];
    assert_true(cnt[0] > 5000 && cnt[1] > 5000);
    assert_true(fabs(ate - 1.0) < 0.1); /* the documented mean effect */
    assert_true(dx1 > 0.4);             /* x1 pushes rows into treatment */
    assert_true(dw1 > 0.3);             /* and so does w1 */
    if (!(naive > ate + 0.5))
        fail_msg("naive %.3f vs true ATE %.3f: expected a clear upward bias", naive, ate);
}

static void test_synth_three_arms(void **state)
{
    (void)state;
    tt_dataset *ds = synth(3000, 3, 11);
    assert_int_equal(ds->n_arms, 3);
    assert_string_equal(ds->arm_labels[2], "2");
    assert_string_equal(ds->source, "synthetic(rows=3000, arms=3, seed=11)");
    size_t counts[3];
    tt_dataset_arm_counts(ds, counts);
    for (int k = 0; k < 3; k++)
        assert_true(counts[k] > 500);
    /* Arm 2's effect is twice arm 1's, row by row. */
    assert_true(fabs(ds->tau[ds->n + 5] - 2.0 * ds->tau[5]) < 1e-12);
    tt_dataset_free(ds);
}

static void test_synth_errors(void **state)
{
    (void)state;
    tt_synth_options o;
    tt_synth_options_init(&o);
    tt_dataset *ds = (tt_dataset *)1;
    assert_int_equal(tt_synth_generate("lalonde", &o, &ds, err, sizeof err), TT_ERR_CONFIG);
    assert_null(ds);
    assert_non_null(strstr(err, "lalonde"));
    o.rows = 9;
    assert_int_equal(tt_synth_generate("synthetic", &o, &ds, err, sizeof err), TT_ERR_CONFIG);
    assert_non_null(strstr(err, "rows"));
    o.rows = 100;
    o.arms = 1;
    assert_int_equal(tt_synth_generate("synthetic", &o, &ds, err, sizeof err), TT_ERR_CONFIG);
    assert_non_null(strstr(err, "arms"));
    o.arms = 17;
    assert_int_equal(tt_synth_generate("synthetic", &o, &ds, err, sizeof err), TT_ERR_CONFIG);
    o.arms = 16;
    assert_int_equal(tt_synth_generate("synthetic", &o, &ds, err, sizeof err), TT_OK);
    assert_int_equal(ds->n_arms, 16);
    tt_dataset_free(ds);
}

/* ---- split ---- */

static void test_split_stratified(void **state)
{
    (void)state;
    tt_dataset *ds = synth(4000, 3, 5);
    size_t counts[3];
    tt_dataset_arm_counts(ds, counts);
    tt_split s, s2, s3;
    assert_int_equal(tt_split_stratified(ds->t, ds->n, 3, (const char *const *)ds->arm_labels,
                                         0.25, 9, &s, err, sizeof err), TT_OK);
    assert_int_equal(s.n_train + s.n_valid, ds->n);
    /* Sorted, disjoint, and together exactly 0..n-1. */
    unsigned char *seen = calloc(ds->n, 1);
    size_t per_arm[3] = {0, 0, 0};
    for (size_t i = 0; i < s.n_valid; i++) {
        if (i)
            assert_true(s.valid[i] > s.valid[i - 1]);
        seen[s.valid[i]]++;
        per_arm[ds->t[s.valid[i]]]++;
    }
    for (size_t i = 0; i < s.n_train; i++) {
        if (i)
            assert_true(s.train[i] > s.train[i - 1]);
        seen[s.train[i]]++;
    }
    for (size_t i = 0; i < ds->n; i++)
        assert_int_equal(seen[i], 1);
    free(seen);
    for (int k = 0; k < 3; k++)
        assert_int_equal(per_arm[k], (size_t)round(counts[k] * 0.25));

    assert_int_equal(tt_split_stratified(ds->t, ds->n, 3, NULL, 0.25, 9, &s2, err, sizeof err),
                     TT_OK);
    assert_int_equal(s2.n_valid, s.n_valid);
    assert_memory_equal(s2.valid, s.valid, s.n_valid * sizeof(size_t));
    assert_int_equal(tt_split_stratified(ds->t, ds->n, 3, NULL, 0.25, 10, &s3, err, sizeof err),
                     TT_OK);
    assert_true(s3.n_valid != s.n_valid ||
                memcmp(s3.valid, s.valid, s.n_valid * sizeof(size_t)) != 0);
    tt_split_free(&s);
    tt_split_free(&s2);
    tt_split_free(&s3);
    assert_null(s.train);
    assert_int_equal(s.n_valid, 0);
    tt_dataset_free(ds);
}

static void test_split_errors(void **state)
{
    (void)state;
    int t[12] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0};
    const char *const labels[] = {"control", "promo"};
    tt_split s;
    assert_int_equal(tt_split_stratified(t, 12, 2, labels, 0.5, 1, &s, err, sizeof err),
                     TT_ERR_DATA);
    assert_non_null(strstr(err, "'promo'"));
    assert_null(s.train);
    assert_null(s.valid);
    assert_int_equal(tt_split_stratified(t, 12, 2, NULL, 0.5, 1, &s, err, sizeof err),
                     TT_ERR_DATA);
    assert_non_null(strstr(err, "arm 1"));
    assert_int_equal(tt_split_stratified(t, 12, 2, labels, 1.0, 1, &s, err, sizeof err),
                     TT_ERR_INVALID);
    t[3] = 2;
    assert_int_equal(tt_split_stratified(t, 12, 2, labels, 0.5, 1, &s, err, sizeof err),
                     TT_ERR_INVALID);
}

static void test_hillstrom(void **state)
{
    (void)state;
    if (access(HILLSTROM, R_OK) != 0) {
        print_message("skipping: %s not present\n", HILLSTROM);
        skip();
    }
    tt_csv_table *t = NULL;
    if (tt_csv_read(HILLSTROM, &t, err, sizeof err) != TT_OK)
        fail_msg("%s", err);
    assert_int_equal(t->n_rows, 64000);
    assert_int_equal(t->n_cols, 12);
    const char *const xs[] = {"recency", "history", "mens", "womens", "newbie"};
    tt_roles r = {.outcome = "spend", .treatment = "segment", .control = "No E-Mail",
                  .x = xs, .n_x = 5};
    tt_dataset *ds = build_ok(t, &r);
    tt_csv_free(t);
    assert_int_equal(ds->n, 64000);
    assert_int_equal(ds->n_arms, 3);
    assert_string_equal(ds->arm_labels[0], "No E-Mail");
    assert_string_equal(ds->arm_labels[1], "Mens E-Mail");
    assert_string_equal(ds->arm_labels[2], "Womens E-Mail");
    size_t counts[3];
    tt_dataset_arm_counts(ds, counts);
    assert_int_equal(counts[0] + counts[1] + counts[2], 64000);
    for (int k = 0; k < 3; k++)
        assert_true(counts[k] > 20000);
    tt_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric_roles),
        cmocka_unit_test(test_string_arms_and_subset),
        cmocka_unit_test(test_subset_keeps_x_columns),
        cmocka_unit_test(test_column_errors),
        cmocka_unit_test(test_value_errors),
        cmocka_unit_test(test_synth_defaults_and_determinism),
        cmocka_unit_test(test_synth_tau_formula),
        cmocka_unit_test(test_synth_confounding),
        cmocka_unit_test(test_synth_three_arms),
        cmocka_unit_test(test_synth_errors),
        cmocka_unit_test(test_split_stratified),
        cmocka_unit_test(test_split_errors),
        cmocka_unit_test(test_hillstrom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
