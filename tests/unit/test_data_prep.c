/* test_data_prep.c - column roles with patterns, one-hot encoding, imputation
 * fitted on training rows only, the saved preprocessing, user splits, known
 * propensities. */
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
#include "data/frame.h"
#include "data/prep.h"

static char err[1024];

static tt_csv_table *table_of(const char *text)
{
    tt_csv_table *t = NULL;
    if (tt_csv_parse(text, strlen(text), "p.csv", &t, err, sizeof err) != TT_OK)
        fail_msg("csv: %s", err);
    return t;
}

static tt_data_frame *frame_of(const tt_csv_table *t, const tt_roles *r)
{
    tt_data_frame *f = NULL;
    if (tt_frame_build(t, r, &f, err, sizeof err) != TT_OK)
        fail_msg("frame: %s", err);
    return f;
}

static tt_prep *fit(const tt_data_frame *f, const size_t *rows, size_t n)
{
    tt_prep *p = NULL;
    if (tt_prep_fit(f, rows, n, &p, err, sizeof err) != TT_OK)
        fail_msg("fit: %s", err);
    return p;
}

static tt_dataset *apply_all(const tt_data_frame *f, const tt_prep *p)
{
    tt_dataset *d = NULL;
    if (tt_frame_dataset(f, p, &d, err, sizeof err) != TT_OK)
        fail_msg("apply: %s", err);
    return d;
}

static long index_of(char **names, size_t n, const char *name)
{
    for (size_t j = 0; j < n; j++)
        if (strcmp(names[j], name) == 0)
            return (long)j;
    return -1;
}

static void test_patterns_and_rest(void **state)
{
    (void)state;
    tt_csv_table *t = table_of("y,t,x1,x2,xa,w1,w2,id,other\n"
                               "1,0,1,2,3,4,5,a,6\n2,1,1,2,3,4,5,b,7\n");
    const char *const xs[] = {"x*"}, *const ws[] = {"w2", "..."};
    tt_roles r = {.outcome = "y", .treatment = "t", .control = "0", .x = xs, .n_x = 1,
                  .w = ws, .n_w = 2, .id = "id"};
    tt_data_frame *f = frame_of(t, &r);
    size_t all[] = {0, 1};
    tt_prep *p = fit(f, all, 2);
    tt_dataset *d = apply_all(f, p);
    assert_int_equal(d->p_x, 3);
    assert_string_equal(d->x_names[2], "xa");
    /* Explicit w2 first, then every column no role uses: w1, other. */
    assert_int_equal(d->p_w, 3);
    assert_string_equal(d->w_names[0], "w2");
    assert_string_equal(d->w_names[1], "w1");
    assert_string_equal(d->w_names[2], "other");
    assert_string_equal(d->ids[1], "b");
    assert_string_equal(d->id_name, "id");
    tt_dataset_free(d);
    tt_prep_free(p);
    tt_frame_free(f);

    /* An explicit name wins over a pattern that would also take it. */
    const char *const ws2[] = {"x2"};
    r.w = ws2;
    r.n_w = 1;
    f = frame_of(t, &r);
    assert_int_equal(f->n_feat, 3);
    tt_frame_free(f);

    tt_data_frame *bad = (tt_data_frame *)1;
    const char *const none[] = {"z*"};
    r.x = none;
    assert_int_equal(tt_frame_build(t, &r, &bad, err, sizeof err), TT_ERR_CONFIG);
    assert_non_null(strstr(err, "pattern 'z*' matches no column"));
    const char *const two_rest[] = {"..."};
    r.x = two_rest;
    r.w = two_rest;
    assert_int_equal(tt_frame_build(t, &r, &bad, err, sizeof err), TT_ERR_CONFIG);
    assert_non_null(strstr(err, "more than once"));
    tt_csv_free(t);
}

/* Levels by training frequency, ties by name; cap with an "other" bucket;
 * true/false stays one numeric column. */
static void test_one_hot(void **state)
{
    (void)state;
    tt_csv_table *t = table_of("y,t,s,b\n"
                               "1,0,b,true\n2,1,b,false\n3,0,a,TRUE\n4,1,a,false\n"
                               "5,0,c,true\n6,1,d,\n7,0,b,false\n8,1,a,true\n");
    const char *const xs[] = {"s", "b"};
    tt_roles r = {.outcome = "y", .treatment = "t", .control = "0", .x = xs, .n_x = 2,
                  .level_cap = 3};
    tt_data_frame *f = frame_of(t, &r);
    size_t all[] = {0, 1, 2, 3, 4, 5, 6, 7};
    tt_prep *p = fit(f, all, 8);
    tt_dataset *d = apply_all(f, p);
    /* a:3, b:3, c:1, d:1 -> a (reference), b, c kept; d is "other". */
    assert_int_equal(d->p_x, 4);
    assert_string_equal(d->x_names[0], "s=b");
    assert_string_equal(d->x_names[1], "s=c");
    assert_string_equal(d->x_names[2], "s=(other)");
    assert_string_equal(d->x_names[3], "b");
    size_t n = d->n;
    assert_true(d->x[0 * n + 0] == 1.0 && d->x[1 * n + 0] == 0.0); /* row 0: b */
    assert_true(d->x[0 * n + 2] == 0.0 && d->x[1 * n + 2] == 0.0 && d->x[2 * n + 2] == 0.0);
    assert_true(d->x[2 * n + 5] == 1.0);                          /* row 5: d -> other */
    assert_true(d->x[3 * n + 0] == 1.0 && d->x[3 * n + 1] == 0.0);
    assert_true(d->x[3 * n + 2] == 1.0);                          /* TRUE */
    /* b has a gap (row 5): filled with the median of 0/1 values, indicator in W. */
    assert_int_equal(d->p_w, 1);
    assert_string_equal(d->w_names[0], "b:missing");
    assert_true(d->w[5] == 1.0 && d->w[0] == 0.0);
    tt_dataset_free(d);
    tt_prep_free(p);
    tt_frame_free(f);
    tt_csv_free(t);
}

/* Imputation statistics come from the training rows only: changing the
 * validation rows (values and gaps) changes nothing that was fitted. */
static void test_imputation_ignores_validation(void **state)
{
    (void)state;
    const char *a = "y,t,x,c\n1,0,1,u\n2,1,,u\n3,0,3,v\n4,1,5,u\n5,0,100,\n6,1,,w\n";
    const char *b = "y,t,x,c\n1,0,1,u\n2,1,,u\n3,0,3,v\n4,1,5,u\n5,0,-7,zz\n6,1,1e6,zz\n";
    const char *const xs[] = {"x", "c"};
    tt_roles r = {.outcome = "y", .treatment = "t", .control = "0", .x = xs, .n_x = 2};
    size_t train[] = {0, 1, 2, 3}; /* rows 4 and 5 are the validation rows */
    char *saved[2];
    size_t len[2];
    for (int k = 0; k < 2; k++) {
        tt_csv_table *t = table_of(k ? b : a);
        tt_data_frame *f = frame_of(t, &r);
        tt_prep *p = fit(f, train, 4);
        FILE *mem = open_memstream(&saved[k], &len[k]);
        assert_int_equal(tt_prep_save(p, mem, err, sizeof err), TT_OK);
        fclose(mem);
        tt_dataset *d = apply_all(f, p);
        /* Median of the training values 1, 3, 5 is 3. */
        assert_true(d->x[1] == 3.0);
        long ind = index_of(d->w_names, d->p_w, "x:missing");
        assert_true(ind >= 0);
        assert_true(d->w[(size_t)ind * d->n + 1] == 1.0);
        if (k == 0) /* a validation gap uses the training median too */
            assert_true(d->x[5] == 3.0 && d->w[(size_t)ind * d->n + 5] == 1.0);
        tt_dataset_free(d);
        tt_prep_free(p);
        tt_frame_free(f);
        tt_csv_free(t);
    }
    assert_int_equal(len[0], len[1]);
    assert_string_equal(saved[0], saved[1]);
    free(saved[0]);
    free(saved[1]);
}

/* Save, load, apply to new rows: identical columns; an unseen level goes to
 * "other"; a fill value survives exactly (%.17g). */
static void test_save_load_round_trip(void **state)
{
    (void)state;
    tt_csv_table *t = table_of("y,t,x,c,\"odd, name\"\n"
                               "1,0,0.1,u,1\n2,1,,v,2\n3,0,0.7,u,3\n4,1,0.2,w,4\n"
                               "5,0,0.3,\"a,b\",5\n6,1,0.4,u,6\n");
    const char *const xs[] = {"x", "c"}, *const ws[] = {"odd, name"};
    tt_roles r = {.outcome = "y", .treatment = "t", .control = "0", .x = xs, .n_x = 2,
                  .w = ws, .n_w = 1, .level_cap = 3};
    tt_data_frame *f = frame_of(t, &r);
    size_t all[] = {0, 1, 2, 3, 4, 5};
    tt_prep *p = fit(f, all, 6);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    assert_int_equal(tt_prep_save(p, tmp, err, sizeof err), TT_OK);
    rewind(tmp);
    tt_prep *q = NULL;
    if (tt_prep_load(tmp, &q, err, sizeof err) != TT_OK)
        fail_msg("load: %s", err);
    fclose(tmp);

    /* New rows, columns in another order. */
    tt_csv_table *fresh = table_of("\"odd, name\",c,x\n9,never,0.5\n8,u,\n7,v,0.25\n");
    size_t rows[] = {0, 1, 2};
    tt_dataset a = {0}, b = {0};
    assert_int_equal(tt_prep_apply(p, fresh, rows, 3, &a, err, sizeof err), TT_OK);
    assert_int_equal(tt_prep_apply(q, fresh, rows, 3, &b, err, sizeof err), TT_OK);
    assert_int_equal(a.p_x, b.p_x);
    assert_int_equal(a.p_w, b.p_w);
    assert_memory_equal(a.x, b.x, a.p_x * 3 * sizeof(double));
    assert_memory_equal(a.w, b.w, a.p_w * 3 * sizeof(double));
    for (size_t j = 0; j < a.p_x; j++)
        assert_string_equal(a.x_names[j], b.x_names[j]);
    /* x: median of 0.1, 0.7, 0.2, 0.3, 0.4 is 0.3, exactly. */
    assert_true(b.x[1] == 0.3);
    /* c levels: u (3, reference), then v and w (1 each, by name) kept with
     * cap 3; "a,b" went to other; "never" is unseen -> other. */
    long other = index_of(b.x_names, b.p_x, "c=(other)");
    assert_true(other >= 0);
    assert_true(b.x[(size_t)other * 3 + 0] == 1.0);
    assert_true(b.x[(size_t)index_of(b.x_names, b.p_x, "c=v") * 3 + 2] == 1.0);
    tt_dataset_drop_features(&a), tt_dataset_drop_features(&b);
    for (size_t j = 0; j < a.p_x; j++)
        free(a.x_names[j]), free(b.x_names[j]);
    for (size_t j = 0; j < a.p_w; j++)
        free(a.w_names[j]), free(b.w_names[j]);
    free(a.x_names), free(b.x_names), free(a.w_names), free(b.w_names);

    /* A column the preprocessing needs must be in new files. */
    tt_csv_table *lacking = table_of("x,c\n1,u\n");
    tt_dataset e = {0};
    assert_int_equal(tt_prep_apply(q, lacking, rows, 1, &e, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "'odd, name'"));
    tt_csv_free(lacking);

    FILE *junk = tmpfile();
    fputs("tautune-prep 2\n", junk);
    rewind(junk);
    tt_prep *z = (tt_prep *)1;
    assert_int_equal(tt_prep_load(junk, &z, err, sizeof err), TT_ERR_PARSE);
    assert_null(z);
    fclose(junk);
    tt_csv_free(fresh);
    tt_prep_free(p);
    tt_prep_free(q);
    tt_frame_free(f);
    tt_csv_free(t);
}

static void test_user_split_and_propensity(void **state)
{
    (void)state;
    tt_csv_table *t = table_of("y,t,x,fold,p\n"
                               "1,0,1,train,0.2\n2,1,2,train,0.4\n3,0,3,validation,0.5\n"
                               "4,1,4,Validation,0.6\n5,0,5,0,0.3\n6,1,6,1,0.7\n"
                               "7,0,7,1,0.5\n8,1,8,0,0.5\n");
    const char *const xs[] = {"x"}, *const ps[] = {"p"};
    tt_roles r = {.outcome = "y", .treatment = "t", .control = "0", .x = xs, .n_x = 1,
                  .split = "fold", .propensity = ps, .n_propensity = 1};
    tt_data_frame *f = frame_of(t, &r);
    tt_split s;
    assert_int_equal(tt_frame_split(f, 0.3, 1, &s, err, sizeof err), TT_OK);
    assert_int_equal(s.n_valid, 4);
    size_t want_valid[] = {2, 3, 5, 6};
    assert_memory_equal(s.valid, want_valid, sizeof want_valid);
    const tt_dataset *b = f->base;
    assert_non_null(b->propensity);
    assert_true(b->propensity[b->n + 1] == 0.4);
    assert_true(b->propensity[1] == 1.0 - 0.4);
    tt_split_free(&s);
    tt_frame_free(f);
    tt_csv_free(t);
}

/* An x that is one string everywhere leaves no effect modifier. */
static void test_x_without_information(void **state)
{
    (void)state;
    tt_csv_table *t = table_of("y,t,s\n1,0,a\n2,1,a\n3,0,a\n");
    const char *const xs[] = {"s"};
    tt_roles r = {.outcome = "y", .treatment = "t", .control = "0", .x = xs, .n_x = 1};
    tt_data_frame *f = frame_of(t, &r);
    size_t all[] = {0, 1, 2};
    tt_prep *p = (tt_prep *)1;
    assert_int_equal(tt_prep_fit(f, all, 3, &p, err, sizeof err), TT_ERR_DATA);
    assert_null(p);
    assert_non_null(strstr(err, "no effect modifier is left"));
    tt_frame_free(f);
    tt_csv_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patterns_and_rest),
        cmocka_unit_test(test_one_hot),
        cmocka_unit_test(test_imputation_ignores_validation),
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_user_split_and_propensity),
        cmocka_unit_test(test_x_without_information),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
