/* test_utf8.c - util/utf8.h against hand-made vectors (RFC 3629's edges:
 * overlong forms, surrogates, past U+10FFFF, truncated sequences), and
 * tt_json_text: JSON with a cell that is not UTF-8 comes out valid, with
 * U+FFFD in its place, and valid text passes byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report/results.h"
#include "util/utf8.h"

static void test_valid_and_invalid(void **state)
{
    (void)state;
    static const struct { const char *s; int ok; size_t bad; } v[] = {
        {"plain ascii", 1, 0},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 1, 0},   /* e-acute, euro, emoji */
        {"\xed\x9f\xbf", 1, 0},                                /* U+D7FF, last before surrogates */
        {"\xf4\x8f\xbf\xbf", 1, 0},                            /* U+10FFFF */
        {"ab\xff", 0, 2},                                      /* never valid */
        {"a\xc0\xaf", 0, 1},                                   /* overlong '/' */
        {"\xe0\x80\xaf", 0, 0},                                /* overlong, 3 bytes */
        {"x\xed\xa0\x80", 0, 1},                               /* surrogate U+D800 */
        {"\xf4\x90\x80\x80", 0, 0},                            /* U+110000 */
        {"ok\xe2\x82", 0, 2},                                  /* truncated */
        {"\x80", 0, 0},                                        /* lone continuation */
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t bad = 99;
        int ok = tt_utf8_valid(v[i].s, strlen(v[i].s), &bad);
        if (ok != v[i].ok || (!ok && bad != v[i].bad))
            fail_msg("vector %zu: valid %d (want %d), bad at %zu (want %zu)", i, ok, v[i].ok,
                     bad, v[i].bad);
    }
}

static void test_repair(void **state)
{
    (void)state;
    char *r = tt_utf8_repair("a\xff" "b\xe2\x82" "c\xc3\xa9");
    assert_string_equal(r, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xc3\xa9");
    assert_true(tt_utf8_valid(r, strlen(r), NULL));
    free(r);
    r = tt_utf8_repair("caf\xc3\xa9");
    assert_string_equal(r, "caf\xc3\xa9");
    free(r);
}

static void test_json_text(void **state)
{
    (void)state;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "arm", "Mens\xff" "E-Mail");
    cJSON_AddStringToObject(o, "ok", "caf\xc3\xa9");
    char *t = tt_json_text(o, 0);
    assert_true(tt_utf8_valid(t, strlen(t), NULL));
    assert_string_equal(t, "{\"arm\":\"Mens\xef\xbf\xbd" "E-Mail\",\"ok\":\"caf\xc3\xa9\"}");
    cJSON *back = cJSON_Parse(t);
    assert_non_null(back);
    cJSON_Delete(back);
    free(t);
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_and_invalid),
        cmocka_unit_test(test_repair),
        cmocka_unit_test(test_json_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
