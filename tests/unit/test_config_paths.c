/* test_config_paths.c - data.path must name a regular file: the config
 * reader refuses a FIFO, a folder or a device, with the line, before any
 * reader opens it (opening a FIFO blocks until someone writes to it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lua/config.h"
#include "util/paths.h"

static char err[1024];
static char dir[] = "/tmp/tt_config_paths_XXXXXX";

/* Loads "return { data = { path = <path> ... } }" as <dir>/cfg.lua. */
static tt_status load_with_path(const char *path, tt_config **cfg)
{
    char src[1024], cfg_path[256];
    snprintf(src, sizeof src,
             "return {\n"
             "  data = { path = %s, outcome = 'y', treatment = 't', control = 0, x = { 'x' } },\n"
             "  estimators = { diff_in_means = {} },\n}\n",
             path);
    snprintf(cfg_path, sizeof cfg_path, "%s/cfg.lua", dir);
    return tt_config_load_string(src, cfg_path, NULL, cfg, err, sizeof err);
}

static void expect_refused(const char *lua_path, const char *what)
{
    tt_config *cfg = (tt_config *)1;
    assert_int_equal(load_with_path(lua_path, &cfg), TT_ERR_CONFIG);
    assert_null(cfg);
    char want[512];
    snprintf(want, sizeof want, "%s/cfg.lua:2: data.path: ", dir);
    if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, what) ||
        !strstr(err, "not a regular file"))
        fail_msg("message \"%s\" lacks \"%s\" ... \"%s\"", err, want, what);
}

static void test_non_regular_paths_refused(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(dir));
    char fifo[256], sub[256], csv[256];
    snprintf(fifo, sizeof fifo, "%s/data.fifo", dir);
    snprintf(sub, sizeof sub, "%s/folder", dir);
    snprintf(csv, sizeof csv, "%s/data.csv", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(mkdir(sub, 0700), 0);
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    fputs("y,t,x\n1,0,2\n", f);
    fclose(f);

    expect_refused("'data.fifo'", "is a FIFO (named pipe)");
    expect_refused("'folder'", "is a directory");
    expect_refused("'/dev/zero'", "is a character device");
    /* One bad file in a list is enough. */
    expect_refused("{ 'data.csv', 'data.fifo' }", "data.fifo is a FIFO");

    /* A regular file passes; a missing one too (the CSV reader says so). */
    tt_config *cfg = NULL;
    assert_int_equal(load_with_path("'data.csv'", &cfg), TT_OK);
    assert_string_equal(cfg->data_path, csv);
    tt_config_free(cfg);
    assert_int_equal(load_with_path("'missing.csv'", &cfg), TT_OK);
    tt_config_free(cfg);

    assert_null(tt_path_not_regular(csv));
    assert_null(tt_path_not_regular("/nonexistent/file"));
    assert_string_equal(tt_path_not_regular(fifo), "a FIFO (named pipe)");
    unlink(fifo);
    unlink(csv);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_non_regular_paths_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
