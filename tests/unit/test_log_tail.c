/* test_log_tail.c - search/log_tail.c: output split into lines whatever the
 * pieces; the last 50 lines kept, or fewer when they pass 16 KiB; dropped
 * lines counted; a long line cut with the count of its bytes; a last line
 * without newline kept at the end; '\r' and NUL bytes handled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "search/log_tail.h"

static void feed_text(tt_log_tail *t, const char *s)
{
    tt_log_tail_feed(t, s, strlen(s));
}

static void test_lines_in_any_pieces(void **state)
{
    (void)state;
    const char text[] = "warning: [p] one\nstdout two\r\n\nthree";
    /* Byte by byte and at once give the same lines. */
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        tt_log_tail *t = tt_log_tail_new();
        assert_non_null(t);
        if (bytewise)
            for (size_t i = 0; i < sizeof text - 1; i++)
                tt_log_tail_feed(t, text + i, 1);
        else
            feed_text(t, text);
        assert_int_equal(tt_log_tail_count(t), 3); /* "three" has no newline yet */
        tt_log_tail_end(t);
        assert_int_equal(tt_log_tail_count(t), 4);
        assert_string_equal(tt_log_tail_line(t, 0), "warning: [p] one");
        assert_string_equal(tt_log_tail_line(t, 1), "stdout two"); /* '\r' dropped */
        assert_string_equal(tt_log_tail_line(t, 2), "");
        assert_string_equal(tt_log_tail_line(t, 3), "three");
        assert_null(tt_log_tail_line(t, 4));
        assert_int_equal(tt_log_tail_dropped(t), 0);
        tt_log_tail_end(t); /* nothing open: no empty line added */
        assert_int_equal(tt_log_tail_count(t), 4);
        tt_log_tail_free(t);
    }
    tt_log_tail_free(NULL);
    assert_int_equal(tt_log_tail_count(NULL), 0);
}

static void test_last_fifty_lines(void **state)
{
    (void)state;
    tt_log_tail *t = tt_log_tail_new();
    char line[64];
    for (int i = 1; i <= 200; i++) {
        snprintf(line, sizeof line, "line %d\n", i);
        feed_text(t, line);
    }
    assert_int_equal(tt_log_tail_count(t), TT_LOG_TAIL_LINES);
    assert_int_equal(tt_log_tail_dropped(t), 150);
    assert_string_equal(tt_log_tail_line(t, 0), "line 151");
    assert_string_equal(tt_log_tail_line(t, 49), "line 200");
    tt_log_tail_free(t);
}

/* 1,000-byte lines: 16 fit in 16 KiB, a 17th would not. */
static void test_sixteen_kib(void **state)
{
    (void)state;
    tt_log_tail *t = tt_log_tail_new();
    char line[1002];
    for (int i = 0; i < 30; i++) {
        memset(line, 'a' + i % 26, 1000);
        line[1000] = '\n';
        tt_log_tail_feed(t, line, 1001);
    }
    assert_int_equal(tt_log_tail_count(t), 16);
    assert_int_equal(tt_log_tail_dropped(t), 14);
    size_t bytes = 0;
    for (size_t i = 0; i < tt_log_tail_count(t); i++)
        bytes += strlen(tt_log_tail_line(t, i));
    assert_true(bytes <= TT_LOG_TAIL_BYTES);
    assert_int_equal(tt_log_tail_line(t, 15)[0], 'a' + 29 % 26); /* the newest is last */
    tt_log_tail_free(t);
}

/* A line of 100,000 bytes keeps its first LINE_CAP and says how many more;
 * the parent never holds more than that of it. */
static void test_long_line_cut(void **state)
{
    (void)state;
    tt_log_tail *t = tt_log_tail_new();
    char chunk[1000];
    memset(chunk, 'x', sizeof chunk);
    feed_text(t, "before\n");
    for (int i = 0; i < 100; i++)
        tt_log_tail_feed(t, chunk, sizeof chunk);
    feed_text(t, "\nafter\n");
    assert_int_equal(tt_log_tail_count(t), 3);
    const char *cut = tt_log_tail_line(t, 1);
    char want[64];
    snprintf(want, sizeof want, " [... %d more bytes]", 100000 - TT_LOG_TAIL_LINE_CAP);
    assert_int_equal(strlen(cut), TT_LOG_TAIL_LINE_CAP + strlen(want));
    assert_string_equal(cut + TT_LOG_TAIL_LINE_CAP, want);
    assert_string_equal(tt_log_tail_line(t, 2), "after");
    tt_log_tail_free(t);
}

static void test_nul_bytes(void **state)
{
    (void)state;
    tt_log_tail *t = tt_log_tail_new();
    tt_log_tail_feed(t, "a\0b\n", 4);
    assert_string_equal(tt_log_tail_line(t, 0), "a b");
    tt_log_tail_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_in_any_pieces),
        cmocka_unit_test(test_last_fifty_lines),
        cmocka_unit_test(test_sixteen_kib),
        cmocka_unit_test(test_long_line_cut),
        cmocka_unit_test(test_nul_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
