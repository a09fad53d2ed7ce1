/* test_csv.c - the RFC 4180 reader: quoting, line ends, typing, errors. */
#include <locale.h>
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

#define HILLSTROM "/work/shared/data/hillstrom/hillstrom.csv"

static char err[512];

static tt_csv_table *parse_ok(const char *text)
{
    tt_csv_table *t = NULL;
    err[0] = '\0';
    tt_status st = tt_csv_parse(text, strlen(text), "mem.csv", &t, err, sizeof err);
    if (st != TT_OK)
        fail_msg("unexpected failure: %s", err);
    assert_non_null(t);
    return t;
}

/* Parse text that must fail; the message must contain every given piece. */
static void parse_fails(const char *text, size_t len, tt_status want, const char *piece1,
                        const char *piece2)
{
    tt_csv_table *t = (tt_csv_table *)1;
    err[0] = '\0';
    tt_status st = tt_csv_parse(text, len, "bad.csv", &t, err, sizeof err);
    assert_int_equal(st, want);
    assert_null(t);
    if (!strstr(err, "bad.csv"))
        fail_msg("message lacks the file name: %s", err);
    if (piece1 && !strstr(err, piece1))
        fail_msg("message lacks '%s': %s", piece1, err);
    if (piece2 && !strstr(err, piece2))
        fail_msg("message lacks '%s': %s", piece2, err);
}

static void test_basic_typing(void **state)
{
    (void)state;
    tt_csv_table *t = parse_ok("id,score,name\n1,2.5,ann\n2,-2.5e3,bob\n3,inf,\"carl\"\n");
    assert_string_equal(t->path, "mem.csv");
    assert_int_equal(t->n_rows, 3);
    assert_int_equal(t->n_cols, 3);
    assert_string_equal(t->cols[0].name, "id");
    assert_int_equal(t->cols[0].kind, TT_CSV_NUMERIC);
    assert_int_equal(t->cols[1].kind, TT_CSV_NUMERIC);
    assert_int_equal(t->cols[2].kind, TT_CSV_STRING);
    assert_null(t->cols[0].str);
    assert_null(t->cols[2].num);
    assert_true(t->cols[1].num[0] == 2.5);
    assert_true(t->cols[1].num[1] == -2500.0);
    assert_true(isinf(t->cols[1].num[2]) && t->cols[1].num[2] > 0);
    assert_string_equal(t->cols[2].str[2], "carl");
    assert_int_equal(t->line[0], 2);
    assert_int_equal(t->line[2], 4);
    assert_int_equal(tt_csv_find(t, "score"), 1);
    assert_int_equal(tt_csv_find(t, "Score"), -1);
    tt_csv_free(t);
}

static void test_one_bad_cell_makes_string(void **state)
{
    (void)state;
    tt_csv_table *t = parse_ok("a,b,c,d\n1,0x1f, 1.5 ,1\n2,0x20,2,1.5.2\n");
    assert_int_equal(t->cols[0].kind, TT_CSV_NUMERIC);
    assert_int_equal(t->cols[1].kind, TT_CSV_STRING); /* hex is not a number here */
    assert_int_equal(t->cols[2].kind, TT_CSV_NUMERIC);
    assert_true(t->cols[2].num[0] == 1.5);
    assert_int_equal(t->cols[3].kind, TT_CSV_STRING);
    assert_string_equal(t->cols[3].str[0], "1"); /* the numeric-looking cell keeps its text */
    assert_string_equal(t->cols[3].str[1], "1.5.2");
    tt_csv_free(t);
}

static void test_quoting(void **state)
{
    (void)state;
    const char *text = "k,v\n"
                       "1,\"a, b\"\n"
                       "2,\"she said \"\"hi\"\"\"\n"
                       "3,\"two\nlines\"\n"
                       "4,\"\"\n"
                       "5,plain\n";
    tt_csv_table *t = parse_ok(text);
    assert_int_equal(t->n_rows, 5);
    assert_string_equal(t->cols[1].str[0], "a, b");
    assert_string_equal(t->cols[1].str[1], "she said \"hi\"");
    assert_string_equal(t->cols[1].str[2], "two\nlines");
    assert_null(t->cols[1].str[3]); /* quoted empty is still missing */
    assert_int_equal(t->cols[1].missing[3], 1);
    /* Record 4 starts after the two physical lines of record 3. */
    assert_int_equal(t->line[2], 4);
    assert_int_equal(t->line[3], 6);
    assert_int_equal(t->line[4], 7);
    tt_csv_free(t);
}

static void test_quoted_header_and_numbers(void **state)
{
    (void)state;
    tt_csv_table *t = parse_ok("\"a,b\",\"c\"\"d\"\n\"1\",\"2\"\n");
    assert_string_equal(t->cols[0].name, "a,b");
    assert_string_equal(t->cols[1].name, "c\"d");
    assert_int_equal(t->cols[0].kind, TT_CSV_NUMERIC);
    assert_true(t->cols[1].num[0] == 2.0);
    tt_csv_free(t);
}

static void test_crlf_bom_final_newline(void **state)
{
    (void)state;
    tt_csv_table *t = parse_ok("\xEF\xBB\xBFx,y\r\n1,\"a\r\nb\"\r\n2,c\r\n\r\n");
    assert_string_equal(t->cols[0].name, "x"); /* no BOM in the first name */
    assert_int_equal(t->n_rows, 2);
    assert_string_equal(t->cols[1].str[0], "a\r\nb"); /* quoted bytes kept verbatim */
    assert_string_equal(t->cols[1].str[1], "c");
    assert_int_equal(t->line[1], 4);
    tt_csv_free(t);

    t = parse_ok("x,y\n1,2\n3,4");
    assert_int_equal(t->n_rows, 2);
    assert_true(t->cols[1].num[1] == 4.0);
    tt_csv_free(t);

    t = parse_ok("x,y\n1,");
    assert_int_equal(t->n_rows, 1);
    assert_int_equal(t->cols[1].missing[0], 1);
    tt_csv_free(t);

    t = parse_ok("x,y\n");
    assert_int_equal(t->n_rows, 0);
    assert_int_equal(t->n_cols, 2);
    assert_int_equal(t->cols[0].kind, TT_CSV_NUMERIC);
    tt_csv_free(t);
}

static void test_missing_tokens(void **state)
{
    (void)state;
    tt_csv_table *t = parse_ok("v,s\n1,a\n,\nNA,NA\nNaN,x\nnan,y\nnull,z\nNULL,\"NA\"\n7,w\n");
    const tt_csv_column *v = &t->cols[0], *s = &t->cols[1];
    assert_int_equal(v->kind, TT_CSV_NUMERIC);
    assert_int_equal(v->n_missing, 6);
    for (size_t i = 1; i <= 6; i++) {
        assert_int_equal(v->missing[i], 1);
        assert_true(isnan(v->num[i]));
    }
    assert_int_equal(v->missing[0], 0);
    assert_true(v->num[7] == 7.0);
    assert_int_equal(s->kind, TT_CSV_STRING);
    assert_int_equal(s->n_missing, 3);
    assert_null(s->str[1]);
    assert_null(s->str[2]);
    assert_null(s->str[6]);
    assert_string_equal(s->str[3], "x");
    /* Tokens are case-sensitive: "Null" and "na" are text. */
    tt_csv_free(t);
    t = parse_ok("v\nNull\nna\n");
    assert_int_equal(t->cols[0].kind, TT_CSV_STRING);
    assert_int_equal(t->cols[0].n_missing, 0);
    tt_csv_free(t);
}

static void test_duplicate_header_allowed(void **state)
{
    (void)state;
    tt_csv_table *t = parse_ok("a,b,a\n1,2,3\n");
    assert_int_equal(t->n_cols, 3);
    assert_int_equal(tt_csv_find(t, "a"), 0);
    tt_csv_free(t);
}

/* Header names are trimmed like cells (" x1 " is x1, so x* takes it), must
 * be UTF-8, and are found by hash: on a wide header with duplicates the
 * index answers what a scan does. */
static void test_header_names(void **state)
{
    (void)state;
    tt_csv_table *t = parse_ok(" x1 ,\tb\t,c\n1,2,3\n");
    assert_string_equal(t->cols[0].name, "x1");
    assert_string_equal(t->cols[1].name, "b");
    assert_int_equal(tt_csv_find(t, "b"), 1);
    assert_int_equal(tt_csv_find(t, " x1 "), -1);
    tt_csv_free(t);
    const char *bad = "a,b\xff\n1,2\n";
    parse_fails(bad, strlen(bad), TT_ERR_PARSE, "line 1", "header field 2 is not valid UTF-8");
    const char *blank = "a,  \n1,2\n";
    parse_fails(blank, strlen(blank), TT_ERR_PARSE, "line 1", "field 2 is empty");

    enum { P = 3000 };
    char *text = malloc(P * 12 + 16), *w = text;
    for (int j = 0; j < P; j++)
        w += sprintf(w, "%sc%d", j ? "," : "", j % 2500); /* c0..c499 twice */
    w += sprintf(w, "\n");
    for (int j = 0; j < P; j++)
        w += sprintf(w, "%s%d", j ? "," : "", j);
    w += sprintf(w, "\n");
    t = parse_ok(text);
    free(text);
    for (int k = 0; k < 2600; k += 7) {
        char name[16];
        snprintf(name, sizeof name, "c%d", k);
        long f1 = -1, f2 = -1, s1 = -1, s2 = -1;
        size_t want = 0;
        for (size_t j = 0; j < t->n_cols; j++) /* the scan */
            if (!strcmp(t->cols[j].name, name)) {
                if (want == 0)
                    s1 = (long)j;
                else if (want == 1)
                    s2 = (long)j;
                want++;
            }
        assert_int_equal(tt_csv_name_count(t, name, &f1, &f2), want);
        assert_int_equal(f1, s1);
        assert_int_equal(f2, s2);
        assert_int_equal(tt_csv_find(t, name), s1);
    }
    tt_csv_free(t);
}

static void test_errors(void **state)
{
    (void)state;
    const char *e = "";
    parse_fails(e, 0, TT_ERR_PARSE, "empty file", "line 1");
    parse_fails("\r\n\n", 3, TT_ERR_PARSE, "empty file", NULL);
    parse_fails("\xEF\xBB\xBF", 3, TT_ERR_PARSE, "empty file", NULL);

    const char *ragged = "a,b,c\n1,2,3\n4,5\n";
    parse_fails(ragged, strlen(ragged), TT_ERR_PARSE, "line 3", "expected 3 fields");
    assert_non_null(strstr(err, "got 2"));
    const char *blank = "a,b\n1,2\n\n3,4\n";
    parse_fails(blank, strlen(blank), TT_ERR_PARSE, "line 3", "blank line");

    const char *open = "a,b\n1,2\n3,\"never\nclosed,\n4,5\n";
    parse_fails(open, strlen(open), TT_ERR_PARSE, "line 3", "unterminated quote");

    const char *stray = "a,b\n1,2\n3,ab\"c\n";
    parse_fails(stray, strlen(stray), TT_ERR_PARSE, "line 3", "stray quote");

    const char *after = "a,b\n\"x\"y,2\n";
    parse_fails(after, strlen(after), TT_ERR_PARSE, "line 2", "after a closing quote");

    const char nul[] = "a,b\n1,2\n3,\0\n";
    parse_fails(nul, sizeof nul - 1, TT_ERR_PARSE, "line 3", "binary file?");

    const char *noname = "a,,c\n1,2,3\n";
    parse_fails(noname, strlen(noname), TT_ERR_PARSE, "line 1", "field 2 is empty");

    /* Line numbers after a multi-line quoted field and CRLF line ends. */
    const char *late = "a,b\r\n1,\"x\r\ny\"\r\n2\r\n";
    parse_fails(late, strlen(late), TT_ERR_PARSE, "line 4", "got 1");
}

static char *write_temp(const char *text, size_t len)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/tt_test_csv_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_read_file(void **state)
{
    (void)state;
    const char *text = "a,b\n1,x\n2,y\n";
    char *path = write_temp(text, strlen(text));
    tt_csv_table *t = NULL;
    assert_int_equal(tt_csv_read(path, &t, err, sizeof err), TT_OK);
    assert_string_equal(t->path, path);
    assert_int_equal(t->n_rows, 2);
    assert_string_equal(t->cols[1].str[1], "y");
    tt_csv_free(t);
    unlink(path);

    t = (tt_csv_table *)1;
    assert_int_equal(tt_csv_read("/nonexistent/dir/f.csv", &t, err, sizeof err), TT_ERR_IO);
    assert_null(t);
    assert_non_null(strstr(err, "/nonexistent/dir/f.csv"));
}

/* A comma-decimal locale must not change how "2.5" reads. */
static void test_c_locale_numbers(void **state)
{
    (void)state;
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8"};
    const char *got = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !got; i++)
        got = setlocale(LC_NUMERIC, names[i]);
    if (!got)
        skip(); /* no comma-decimal locale installed */
    char probe[16];
    snprintf(probe, sizeof probe, "%.1f", 2.5);
    assert_string_equal(probe, "2,5"); /* the locale really is active */
    tt_csv_table *t = parse_ok("v,w\n2.5,1e-3\n-0.125,3\n");
    assert_int_equal(t->cols[0].kind, TT_CSV_NUMERIC);
    assert_true(t->cols[0].num[0] == 2.5);
    assert_true(t->cols[0].num[1] == -0.125);
    assert_true(t->cols[1].num[0] == 1e-3);
    tt_csv_free(t);
    char buf[32];
    tt_csv_format_number(2.5, buf, sizeof buf);
    assert_string_equal(buf, "2.5");
    setlocale(LC_NUMERIC, "C");
}

static void test_number_helpers(void **state)
{
    (void)state;
    double v = 0;
    assert_true(tt_csv_parse_number("2.5", &v) && v == 2.5);
    assert_true(tt_csv_parse_number(" -1e2 ", &v) && v == -100.0);
    assert_false(tt_csv_parse_number("2.5x", &v));
    assert_false(tt_csv_parse_number("", &v));
    assert_false(tt_csv_parse_number("0x10", &v));
    char buf[32];
    tt_csv_format_number(1.0, buf, sizeof buf);
    assert_string_equal(buf, "1");
    tt_csv_format_number(-0.0, buf, sizeof buf);
    assert_string_equal(buf, "0");
    tt_csv_format_number(0.1, buf, sizeof buf);
    assert_string_equal(buf, "0.1");
    tt_csv_format_number(1.0 / 3.0, buf, sizeof buf);
    assert_true(strtod(buf, NULL) == 1.0 / 3.0);
}

/* 64,000 rows x 12 columns, like the Hillstrom file, in one buffer. */
static void test_large(void **state)
{
    (void)state;
    size_t rows = 64000, cap = rows * 80 + 256, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    len += (size_t)snprintf(buf, cap, "a,b,c,d,e,f,g,h,i,j,k,l\n");
    for (size_t i = 0; i < rows; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%zu,%zu.5,x%zu,\"q,%zu\",1,2,3,4,5,6,7,8\n",
                                i, i, i % 3, i);
    tt_csv_table *t = NULL;
    assert_int_equal(tt_csv_parse(buf, len, "big.csv", &t, err, sizeof err), TT_OK);
    free(buf);
    assert_int_equal(t->n_rows, rows);
    assert_int_equal(t->n_cols, 12);
    assert_true(t->cols[1].num[63999] == 63999.5);
    assert_string_equal(t->cols[2].str[63999], "x0");
    assert_string_equal(t->cols[3].str[5], "q,5");
    assert_int_equal(t->line[63999], 64001);
    tt_csv_free(t);
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
    long seg = tt_csv_find(t, "segment");
    assert_true(seg >= 0);
    assert_int_equal(t->cols[seg].kind, TT_CSV_STRING);
    assert_int_equal(t->cols[tt_csv_find(t, "spend")].kind, TT_CSV_NUMERIC);
    tt_csv_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_typing),
        cmocka_unit_test(test_one_bad_cell_makes_string),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_quoted_header_and_numbers),
        cmocka_unit_test(test_crlf_bom_final_newline),
        cmocka_unit_test(test_missing_tokens),
        cmocka_unit_test(test_duplicate_header_allowed),
        cmocka_unit_test(test_header_names),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_c_locale_numbers),
        cmocka_unit_test(test_number_helpers),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_hillstrom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
