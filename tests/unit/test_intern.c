/* test_intern.c - process-lifetime copies (util/intern.h): equal texts give
 * one copy (the same pointer), different texts different ones, through
 * many table growths; NULL and "" give ""; the copy is the text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/intern.h"

static void test_texts(void **state)
{
    (void)state;
    enum { N = 5000 };
    static const char *first[N];
    char buf[64];
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "score overflowed at row %d", i);
        first[i] = tt_intern_text(buf);
        assert_non_null(first[i]);
        assert_string_equal(first[i], buf);
        assert_ptr_not_equal(first[i], buf);
    }
    /* After every growth the same texts still map to their first copies. */
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "score overflowed at row %d", i);
        assert_ptr_equal(tt_intern_text(buf), first[i]);
    }
    for (int i = 1; i < N; i++)
        assert_ptr_not_equal(first[i], first[i - 1]);
    assert_string_equal(tt_intern_text(NULL), "");
    assert_string_equal(tt_intern_text(""), "");
}

static void test_names(void **state)
{
    (void)state;
    const char *a = tt_intern("pehe"), *b = tt_intern("pehe"), *c = tt_intern("qini");
    assert_non_null(a);
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, c);
    assert_string_equal(c, "qini");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_texts),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
