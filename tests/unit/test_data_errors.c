/* test_data_errors.c - the validation catalogue of issue 3, one malformed
 * fixture file (tests/fixtures/data/) per error: each must fail with a
 * message naming the file, the column and the line where they apply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "data/csv.h"
#include "data/frame.h"
#include "data/prep.h"

#define FIX TT_SOURCE_DIR "/tests/fixtures/data/"

static char err[1024];

static void must_contain(const char *piece)
{
    if (piece && !strstr(err, piece))
        fail_msg("message lacks '%s': %s", piece, err);
}

/* Reading the file must fail. */
static void read_fails(const char *file, const char *p1, const char *p2)
{
    tt_csv_table *t = (tt_csv_table *)1;
    err[0] = '\0';
    tt_status st = tt_csv_read(file, &t, err, sizeof err);
    if (st != TT_ERR_PARSE)
        fail_msg("%s: status %d, wanted a parse error: %s", file, (int)st, err);
    assert_null(t);
    must_contain(strrchr(file, '/') + 1);
    must_contain(p1);
    must_contain(p2);
}

/* Reading works; building the frame with these roles fails with want. */
static void frame_fails(const char *file, const tt_roles *r, tt_status want, const char *p1,
                        const char *p2)
{
    tt_csv_table *t = NULL;
    if (tt_csv_read(file, &t, err, sizeof err) != TT_OK)
        fail_msg("read: %s", err);
    tt_data_frame *f = (tt_data_frame *)1;
    err[0] = '\0';
    tt_status st = tt_frame_build(t, r, &f, err, sizeof err);
    tt_csv_free(t);
    if (st != want)
        fail_msg("%s: status %d, wanted %d: %s", file, (int)st, (int)want, err);
    assert_null(f);
    must_contain(strrchr(file, '/') + 1);
    must_contain(p1);
    must_contain(p2);
}

static void test_not_csv(void **state)
{
    (void)state;
    read_fails(FIX "empty.csv", "line 1", "empty file");
    read_fails(FIX "not_a_csv.csv", "line 3", "NUL byte (binary file?)");
    read_fails(FIX "ragged.csv", "line 3", "expected 3 fields");
    read_fails(FIX "unterminated_quote.csv", "line 3", "unterminated quote");
    read_fails(FIX "stray_quote.csv", "line 2", "stray quote");
    read_fails(FIX "empty_header_name.csv", "line 1", "header field 2 is empty");
}

static const char *const X[] = {"x"};

static void test_roles_and_values(void **state)
{
    (void)state;
    tt_roles r = {.outcome = "y", .treatment = "t", .control = "0", .x = X, .n_x = 1};
    frame_fails(FIX "duplicate_names.csv", &r, TT_ERR_CONFIG, "'x' is ambiguous",
                "columns 3 and 4");
    const char *const all[] = {"..."};
    tt_roles rest = {.outcome = "y", .treatment = "t", .control = "0", .x = all, .n_x = 1};
    frame_fails(FIX "duplicate_names.csv", &rest, TT_ERR_DATA, "duplicate column name 'x'", NULL);
    tt_roles typo = {.outcome = "Y", .treatment = "t", .control = "0", .x = X, .n_x = 1};
    frame_fails(FIX "constant_treatment.csv", &typo, TT_ERR_CONFIG, "'Y' not found",
                "did you mean 'y'");
    const char *const twice[] = {"x", "y"};
    tt_roles used = {.outcome = "y", .treatment = "t", .control = "0", .x = twice, .n_x = 2};
    frame_fails(FIX "constant_treatment.csv", &used, TT_ERR_CONFIG, "'y'", "used twice");
    frame_fails(FIX "constant_treatment.csv", &(tt_roles){.outcome = "y", .treatment = "t",
                .control = "1", .x = X, .n_x = 1}, TT_ERR_DATA, "only one value",
                "at least 2 arms");
    frame_fails(FIX "nonfinite_outcome.csv", &r, TT_ERR_DATA, "line 3", "outcome column 'y' has "
                "a non-finite value");
    frame_fails(FIX "missing_outcome.csv", &r, TT_ERR_DATA, "line 4",
                "outcome column 'y' has a missing value");
    const char *const p[] = {"p"};
    frame_fails(FIX "propensity_outside.csv", &(tt_roles){.outcome = "y", .treatment = "t",
                .control = "0", .x = X, .n_x = 1, .propensity = p, .n_propensity = 1},
                TT_ERR_DATA, "line 3: propensity column 'p' has 1", "outside (0, 1)");
    const char *const p01[] = {"p0", "p1"};
    frame_fails(FIX "propensity_sum.csv", &(tt_roles){.outcome = "y", .treatment = "t",
                .control = "0", .x = X, .n_x = 1, .propensity = p01, .n_propensity = 2},
                TT_ERR_DATA, "line 3", "sum to 0.9");
    frame_fails(FIX "negative_weight.csv", &(tt_roles){.outcome = "y", .treatment = "t",
                .control = "0", .x = X, .n_x = 1, .weight = "w8"}, TT_ERR_DATA,
                "line 3: weight column 'w8'", "negative");
    frame_fails(FIX "bad_split.csv", &(tt_roles){.outcome = "y", .treatment = "t",
                .control = "0", .x = X, .n_x = 1, .split = "fold"}, TT_ERR_DATA,
                "line 4: split column 'fold'", "'test'");
}

/* Issue 20's hostile inputs: a duplicated name in a column no role uses, a
 * numeric column with one typo (an error naming the cell, unless the config
 * calls the column categorical), and an outcome so large the scores'
 * squares would overflow. */
static void test_hardening(void **state)
{
    (void)state;
    tt_roles r = {.outcome = "y", .treatment = "t", .control = "0", .x = X, .n_x = 1};
    frame_fails(FIX "duplicate_unused.csv", &r, TT_ERR_DATA, "duplicate column name 'z'",
                "columns 4 and 5");
    frame_fails(FIX "numeric_typo.csv", &r, TT_ERR_DATA, "line 13: column 'x' is a number in "
                "11 of its 12 cells, but here it is '1.5abc'", "data.categorical");
    const char *const cat[] = {"x"};
    tt_roles ok = r;
    ok.categorical = cat, ok.n_categorical = 1;
    tt_csv_table *t = NULL;
    assert_int_equal(tt_csv_read(FIX "numeric_typo.csv", &t, err, sizeof err), TT_OK);
    tt_data_frame *f = NULL;
    if (tt_frame_build(t, &ok, &f, err, sizeof err) != TT_OK)
        fail_msg("categorical x refused: %s", err);
    tt_frame_free(f);
    tt_csv_free(t);
    frame_fails(FIX "huge_outcome.csv", &r, TT_ERR_DATA, "line 4: outcome column 'y' has 1e+300",
                "rescale");
}

static void test_drop_missing_and_arm_sizes(void **state)
{
    (void)state;
    tt_csv_table *t = NULL;
    assert_int_equal(tt_csv_read(FIX "missing_outcome.csv", &t, err, sizeof err), TT_OK);
    tt_roles r = {.outcome = "y", .treatment = "t", .control = "0", .x = X, .n_x = 1,
                  .drop_missing = 1};
    tt_data_frame *f = NULL;
    assert_int_equal(tt_frame_build(t, &r, &f, err, sizeof err), TT_OK);
    assert_int_equal(f->base->n, 5);
    assert_int_equal(f->base->n_dropped, 1);
    assert_int_equal(f->base->row[2], 3); /* the NA row (data row 2) is gone */
    tt_frame_free(f);
    tt_csv_free(t);

    /* One treated row: the split cannot give each part 2 rows of that arm. */
    assert_int_equal(tt_csv_read(FIX "few_treated.csv", &t, err, sizeof err), TT_OK);
    r.drop_missing = 0;
    assert_int_equal(tt_frame_build(t, &r, &f, err, sizeof err), TT_OK);
    tt_split s;
    assert_int_equal(tt_frame_split(f, 0.3, 1, &s, err, sizeof err), TT_ERR_DATA);
    must_contain("few_treated.csv");
    must_contain("arm '1' has 1 rows");
    tt_frame_free(f);
    tt_csv_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_csv),
        cmocka_unit_test(test_roles_and_values),
        cmocka_unit_test(test_hardening),
        cmocka_unit_test(test_drop_missing_and_arm_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
