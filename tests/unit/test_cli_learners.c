/* test_cli_learners.c - the learner catalogue plugin authors read
 * (`tautune plugins --learners`, docs/learners.md): every learner and key is
 * there, the ranges printed are the ones learner_create enforces, and the
 * committed docs/learners.md is what the tables print today. */
#include <float.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/learner_catalogue.h"
#include "learn/learner.h"

/* The text, in a heap copy of its own: GCC 12 takes the pointer
 * open_memstream fills for one into the local it lives in
 * (-Wdangling-pointer, a false positive once this is inlined). */
static char *printed(int markdown, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&buf, &n);
    assert_non_null(fp);
    tt_cli_print_learners(fp, markdown);
    assert_int_equal(fclose(fp), 0);
    if (len)
        *len = n;
    char *copy = strdup(buf);
    free(buf);
    assert_non_null(copy);
    return copy;
}

/* The line of key in the section of learner name (from "\nname\n" to the
 * next blank line), or NULL. */
static const char *key_line(const char *text, const char *name, const char *key, char *line,
                            size_t len)
{
    char head[80];
    snprintf(head, sizeof head, "\n%s\n", name);
    const char *sec = strstr(text, head);
    if (!sec)
        return NULL;
    sec += strlen(head);
    const char *end = strstr(sec, "\n\n");
    for (const char *p = sec; p && (!end || p < end);) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        char want[64];
        snprintf(want, sizeof want, "    %s ", key);
        if (strncmp(p, want, strlen(want)) == 0 && n < len) {
            memcpy(line, p, n);
            line[n] = '\0';
            return line;
        }
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

static int create_with(const char *name, const char *key, double value)
{
    tt_learner *l = NULL;
    char err[512];
    const char *keys[] = {key};
    tt_status st = tt_learner_create(name, keys, &value, 1, 1, &l, err, sizeof err);
    tt_learner_destroy(l);
    return st == TT_OK;
}

static void test_text_has_every_key(void **state)
{
    (void)state;
    char *text = printed(0, NULL);
    size_t n_learners = 0, n_keys = 0;
    tt_learner_info li;
    for (size_t i = 0; tt_learner_info_at(i, &li) == 0; i++, n_learners++) {
        assert_string_equal(li.name, tt_learner_name_at(i));
        assert_non_null(li.summary);
        for (size_t j = 0; j < li.n_params; j++, n_keys++) {
            const tt_learner_param_info *p = &li.params[j];
            char line[512], want[128];
            if (!key_line(text, li.name, p->name, line, sizeof line))
                fail_msg("no line for %s.%s in:\n%s", li.name, p->name, text);
            if (p->kind == TT_PARAM_BOOL)
                snprintf(want, sizeof want, " 0 or 1 ");
            else if (p->hi >= DBL_MAX)
                snprintf(want, sizeof want, " [%g, inf)", p->lo);
            else
                snprintf(want, sizeof want, " [%g, %g]", p->lo, p->hi);
            if (!strstr(line, want))
                fail_msg("%s.%s: no range '%s' in '%s'", li.name, p->name, want, line);
            if (p->auto_ok && p->default_value == TT_LEARNER_AUTO)
                snprintf(want, sizeof want, " default auto ");
            else
                snprintf(want, sizeof want, " default %g ", p->default_value);
            if (!strstr(line, want))
                fail_msg("%s.%s: no '%s' in '%s'", li.name, p->name, want, line);
            assert_non_null(strstr(line, p->help));
            assert_int_equal(p->auto_ok, strstr(line, "-1 (auto)") != NULL);
        }
    }
    assert_int_equal(n_learners, tt_learner_count());
    assert_true(n_keys >= 40);
    assert_int_not_equal(tt_learner_info_at(tt_learner_count(), &li), 0);
    free(text);
}

/* What the catalogue promises is what learner_create does: the default and
 * both ends of a range are accepted, just past them is refused, auto (-1)
 * only where it says so. */
static void test_ranges_are_enforced(void **state)
{
    (void)state;
    tt_learner_info li;
    for (size_t i = 0; tt_learner_info_at(i, &li) == 0; i++) {
        for (size_t j = 0; j < li.n_params; j++) {
            const tt_learner_param_info *p = &li.params[j];
            const char *k = p->name;
            assert_true(create_with(li.name, k, p->default_value));
            assert_true(create_with(li.name, k, p->lo));
            if (p->hi < DBL_MAX) {
                assert_true(create_with(li.name, k, p->hi));
                assert_false(create_with(li.name, k, p->hi + 1.0));
            }
            if (p->lo - 1.0 != TT_LEARNER_AUTO)
                assert_false(create_with(li.name, k, p->lo - 1.0));
            if (p->lo > TT_LEARNER_AUTO)
                assert_int_equal(create_with(li.name, k, TT_LEARNER_AUTO), p->auto_ok);
            if (p->kind != TT_PARAM_REAL && p->hi - p->lo >= 1.0)
                assert_false(create_with(li.name, k, p->lo + 0.5));
        }
        assert_false(create_with(li.name, "no_such_key", 1.0));
    }
}

static void test_markdown_is_fresh(void **state)
{
    (void)state;
    size_t n = 0;
    char *md = printed(1, &n);
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/learners.md", TT_SOURCE_DIR);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *doc = malloc(n + 2);
    assert_non_null(doc);
    size_t got = fread(doc, 1, n + 1, fp);
    fclose(fp);
    if (got != n || memcmp(doc, md, n) != 0)
        fail_msg("docs/learners.md is stale: regenerate with "
                 "./build/tautune plugins --learners --markdown > docs/learners.md");
    /* Every learner has its section and table. */
    tt_learner_info li;
    for (size_t i = 0; tt_learner_info_at(i, &li) == 0; i++) {
        char head[80];
        snprintf(head, sizeof head, "\n## `%s`\n", li.name);
        assert_non_null(strstr(md, head));
    }
    free(doc);
    free(md);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_has_every_key),
        cmocka_unit_test(test_ranges_are_enforced),
        cmocka_unit_test(test_markdown_is_fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
