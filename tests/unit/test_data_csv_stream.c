/* test_data_csv_stream.c - the streaming reader on files bigger than its
 * window (4 MB): records cut by the window's edge, a column turning STRING
 * long after its first rows (earlier text fetched again from the file),
 * quoted newlines and CRLF across refills, and stacking files. */
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
#include "data/frame.h"

static char err[1024];

static char *temp_path(void)
{
    char *p = strdup("/tmp/tt_stream_XXXXXX");
    int fd = mkstemp(p);
    assert_true(fd >= 0);
    close(fd);
    return p;
}

/* 120,000 rows (~8 MB): id, a number column, a column that is numeric until
 * row 100,000 ("007" on row 5 must come back as written), a quoted field
 * with an embedded CRLF every 997 rows, CRLF line ends. */
static void test_big_file(void **state)
{
    (void)state;
    char *path = temp_path();
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("id,v,code,note\r\n", f);
    size_t rows = 120000;
    for (size_t i = 0; i < rows; i++) {
        const char *code = i == 5 ? "007" : i == 100000 ? "A-1" : "12";
        if (i % 997 == 0)
            fprintf(f, "%zu,%.17g,%s,\"two\r\nlines, %zu\"\r\n", i, (double)i / 7.0, code, i);
        else
            fprintf(f, "%zu,%.17g,%s,n%zu\r\n", i, (double)i / 7.0, code, i);
    }
    fclose(f);
    tt_csv_table *t = NULL;
    if (tt_csv_read(path, &t, err, sizeof err) != TT_OK)
        fail_msg("%s", err);
    assert_int_equal(t->n_rows, rows);
    assert_int_equal(t->cols[0].kind, TT_CSV_NUMERIC);
    assert_int_equal(t->cols[1].kind, TT_CSV_NUMERIC);
    for (size_t i = 0; i < rows; i += 1234)
        assert_true(t->cols[1].num[i] == (double)i / 7.0);
    const tt_csv_column *code = &t->cols[2];
    assert_int_equal(code->kind, TT_CSV_STRING);
    assert_string_equal(code->str[5], "007");
    assert_string_equal(code->str[4], "12");
    assert_string_equal(code->str[100000], "A-1");
    assert_string_equal(code->str[rows - 1], "12");
    assert_string_equal(t->cols[3].str[997], "two\r\nlines, 997");
    /* Line numbers: one extra line per quoted CRLF before the row. */
    size_t i = 119999, extra = i / 997 + 1;
    assert_int_equal(t->line[i], i + 2 + extra - (i % 997 == 0));
    tt_csv_free(t);

    /* A ragged row deep in the file is reported at its line. */
    f = fopen(path, "ab");
    fputs("1,2\r\n", f);
    fclose(f);
    t = (tt_csv_table *)1;
    assert_int_equal(tt_csv_read(path, &t, err, sizeof err), TT_ERR_PARSE);
    assert_null(t);
    assert_non_null(strstr(err, "ragged row"));
    unlink(path);
    free(path);
}

/* Files stacked; rows left out by exclude; a true effect as a difference. */
static void test_concat_exclude(void **state)
{
    (void)state;
    tt_csv_table *a = NULL, *b = NULL, *c = NULL, *s = NULL;
    const char *ta = "src,t,y,x,mu0,mu1\nexp,1,5,1,1,3\nexp,0,2,2,1,2\nexp,1,6,3,2,5\n";
    const char *tb = "src,t,y,x,mu0,mu1\nobs,0,1,4,0,1\nobs,0,2,5,1,1\nobs,0,3,6,1,2\n";
    const char *tc = "src,t,y,z,mu0,mu1\nobs,0,1,4,0,1\n";
    assert_int_equal(tt_csv_parse(ta, strlen(ta), "a.csv", &a, err, sizeof err), TT_OK);
    assert_int_equal(tt_csv_parse(tb, strlen(tb), "b.csv", &b, err, sizeof err), TT_OK);
    assert_int_equal(tt_csv_parse(tc, strlen(tc), "c.csv", &c, err, sizeof err), TT_OK);
    tt_csv_table *ab[] = {a, b}, *ac[] = {a, c};
    assert_int_equal(tt_csv_concat(ac, 2, &s, err, sizeof err), TT_ERR_DATA);
    assert_non_null(strstr(err, "column 4 is 'z'"));
    assert_int_equal(tt_csv_concat(ab, 2, &s, err, sizeof err), TT_OK);
    assert_string_equal(s->path, "a.csv + b.csv");
    assert_int_equal(s->n_rows, 6);
    assert_int_equal(s->line[4], 3);
    const char *const xs[] = {"x"}, *const te[] = {"mu1 - mu0"}, *const ec[] = {"src", "t"},
                      *const ev[] = {"exp", "0"};
    tt_roles r = {.outcome = "y", .treatment = "t", .control = "0", .x = xs, .n_x = 1,
                  .true_effect = te, .n_true_effect = 1, .exclude_cols = ec,
                  .exclude_vals = ev, .n_exclude = 2};
    tt_data_frame *f = NULL;
    if (tt_frame_build(s, &r, &f, err, sizeof err) != TT_OK)
        fail_msg("%s", err);
    assert_int_equal(f->n_excluded, 1);
    assert_int_equal(f->base->n, 5);
    assert_int_equal(f->base->row[1], 2);
    assert_true(f->base->tau[1] == 3.0); /* row 2: mu1 - mu0 = 5 - 2 */
    tt_frame_free(f);
    tt_csv_free(a);
    tt_csv_free(b);
    tt_csv_free(c);
    tt_csv_free(s);
}

/* Configurable missing tokens: an empty list means nothing is missing. */
static void test_missing_option(void **state)
{
    (void)state;
    const char *text = "a,b\n-99,NA\n1,x\n";
    const char *const tok[] = {"-99"};
    tt_csv_options o = {.missing = tok, .n_missing = 1, .has_missing = 1};
    tt_csv_table *t = NULL;
    assert_int_equal(tt_csv_parse_opts(text, strlen(text), "m.csv", &o, &t, err, sizeof err),
                     TT_OK);
    assert_int_equal(t->cols[0].missing[0], 1);
    assert_true(isnan(t->cols[0].num[0]));
    assert_int_equal(t->cols[1].n_missing, 0);
    assert_string_equal(t->cols[1].str[0], "NA");
    tt_csv_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_big_file),
        cmocka_unit_test(test_concat_exclude),
        cmocka_unit_test(test_missing_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
