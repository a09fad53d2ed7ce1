/*
 * test_plugin_probe.c - plugin files tried in a child before the host loads
 * them (plugin/probe.h), the verdict cache (plugin/probe_cache.h) and the
 * registry's reject list.
 *
 * The fixtures of tests/fixtures/loading_plugin.c abort, crash or hang while
 * being loaded; were any of them dlopened in this process, the test would
 * die, which is exactly what the probe is for.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugin/probe.h"
#include "plugin/probe_cache.h"
#include "plugin/registry.h"
#include "util/mem.h"

#ifndef TT_LOADING_PLUGIN_DIR
#error "TT_LOADING_PLUGIN_DIR must be defined by the build"
#endif

/* Long enough that a loaded machine never times out a good plugin (0.3 s
 * once did, at a load average of 8 on 2 cores); the hang fixture costs it. */
#define HANG_TIMEOUT 1.0

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, haystack);
}

static void assert_starts(const char *s, const char *prefix)
{
    if (strncmp(s, prefix, strlen(prefix)) != 0)
        fail_msg("expected \"%s\" to start with \"%s\"", s, prefix);
}

static void loading_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s.so", TT_LOADING_PLUGIN_DIR, name);
}

/* ---- verdicts ------------------------------------------------------------------- */

enum { V_GOOD, V_STDOUT, V_ENTRY_ABORT, V_CTOR_ABORT, V_ENTRY_SEGV, V_ENTRY_HANG, V_BAD_MAGIC,
       V_MISSING, N_V };

static void test_verdicts(void **state)
{
    (void)state;
    static const char *const names[] = {"ld_good", "ld_ctor_stdout", "ld_entry_abort",
                                        "ld_ctor_abort", "ld_entry_segv", "ld_entry_hang"};
    char buf[N_V][512];
    char *paths[N_V];
    for (size_t i = 0; i < N_V; i++)
        paths[i] = buf[i];
    for (size_t i = 0; i < 6; i++)
        loading_path(buf[i], sizeof buf[i], names[i]);
    snprintf(buf[V_BAD_MAGIC], sizeof buf[V_BAD_MAGIC], "%s/fx_bad_magic.so", TT_FIXTURE_DIR);
    loading_path(buf[V_MISSING], sizeof buf[V_MISSING], "no_such_plugin");

    /* What the plugins print while loading must not reach our stdout. */
    char out_path[] = "/tmp/tt_probe_stdout_XXXXXX";
    int out_fd = mkstemp(out_path);
    assert_true(out_fd >= 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(out_fd, STDOUT_FILENO);

    tt_probe_verdict v[N_V];
    tt_probe_stats stats;
    tt_probe_options opt = {.timeout = HANG_TIMEOUT};
    char err[256];
    tt_status st = tt_plugin_probe(paths, N_V, &opt, v, &stats, err, sizeof err);

    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    struct stat sb;
    assert_int_equal(fstat(out_fd, &sb), 0);
    close(out_fd);
    unlink(out_path);
    assert_int_equal(st, TT_OK);
    assert_int_equal(sb.st_size, 0);

    assert_true(v[V_GOOD].ok);
    assert_string_equal(v[V_GOOD].why, "");
    assert_true(v[V_STDOUT].ok);
    assert_false(v[V_ENTRY_ABORT].ok);
    assert_starts(v[V_ENTRY_ABORT].why, "aborted (SIGABRT) in its entry function");
    assert_contains(v[V_ENTRY_ABORT].why, "; stderr: loading plugin: entry gives up");
    assert_false(v[V_CTOR_ABORT].ok);
    assert_starts(v[V_CTOR_ABORT].why, "aborted (SIGABRT) while loading");
    assert_false(v[V_ENTRY_SEGV].ok);
    /* An ASan build catches the SEGV itself and exits 1. */
    if (strncmp(v[V_ENTRY_SEGV].why, "exited with code 1 ", 19) != 0)
        assert_starts(v[V_ENTRY_SEGV].why,
                      "crashed (SIGSEGV: Segmentation fault) in its entry function");
    assert_contains(v[V_ENTRY_SEGV].why, "in its entry function");
    assert_false(v[V_ENTRY_HANG].ok);
    assert_string_equal(v[V_ENTRY_HANG].why, "timed out after 1 s in its entry function");
    /* A refusal of the loader reads as it does without the probe. */
    assert_false(v[V_BAD_MAGIC].ok);
    assert_string_equal(v[V_BAD_MAGIC].why, "bad magic 0x4c505455, expected 0x4c505454");
    assert_false(v[V_MISSING].ok);
    assert_string_equal(v[V_MISSING].why, "cannot open: No such file or directory");

    assert_int_equal(stats.probed, N_V - 1); /* the missing file needs no child */
    assert_int_equal(stats.cached, 0);
    assert_int_equal(stats.cache_written, 0);
    for (size_t i = 0; i < N_V; i++)
        assert_false(v[i].from_cache);
}

/* ---- the cache ------------------------------------------------------------------ */

typedef struct cache_dir {
    char root[64];
    char cache[128];
    char good[128], bad[128], hang[128];
} cache_dir;

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    assert_non_null(in);
    /* A new inode each time, as a rebuild or a reinstall makes. */
    unlink(to);
    FILE *out = fopen(to, "wb");
    assert_non_null(out);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

static int cache_setup(void **state)
{
    cache_dir *d = calloc(1, sizeof *d);
    if (!d)
        return -1;
    snprintf(d->root, sizeof d->root, "/tmp/tt_probe_cache_XXXXXX");
    if (!mkdtemp(d->root))
        return -1;
    /* A folder that does not exist yet: the save makes it. */
    snprintf(d->cache, sizeof d->cache, "%s/cache/tautune/probe-cache", d->root);
    snprintf(d->good, sizeof d->good, "%s/good.so", d->root);
    snprintf(d->bad, sizeof d->bad, "%s/bad.so", d->root);
    snprintf(d->hang, sizeof d->hang, "%s/hang.so", d->root);
    char src[512];
    loading_path(src, sizeof src, "ld_good");
    copy_file(src, d->good);
    loading_path(src, sizeof src, "ld_entry_abort");
    copy_file(src, d->bad);
    loading_path(src, sizeof src, "ld_entry_hang");
    copy_file(src, d->hang);
    *state = d;
    return 0;
}

static int cache_teardown(void **state)
{
    cache_dir *d = *state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->root);
    int rc = system(cmd);
    free(d);
    return rc == 0 ? 0 : -1;
}

/* Probe good, bad (and hang when with_hang) through d's cache. */
static void probe(const cache_dir *d, int with_hang, tt_probe_verdict *v, tt_probe_stats *stats)
{
    char *paths[] = {(char *)d->good, (char *)d->bad, (char *)d->hang};
    tt_probe_options opt = {.timeout = HANG_TIMEOUT, .cache_path = d->cache};
    char err[256];
    assert_int_equal(tt_plugin_probe(paths, with_hang ? 3 : 2, &opt, v, stats, err, sizeof err),
                     TT_OK);
}

static void test_cache_reused(void **state)
{
    const cache_dir *d = *state;
    tt_probe_verdict cold[3], warm[3];
    tt_probe_stats stats;
    probe(d, 1, cold, &stats);
    assert_int_equal(stats.cache, TT_PROBE_CACHE_MISSING);
    assert_int_equal(stats.probed, 3);
    assert_int_equal(stats.cached, 0);
    assert_true(stats.cache_written);
    struct stat sb;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/cache/tautune", d->root);
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);

    probe(d, 1, warm, &stats);
    assert_int_equal(stats.cache, TT_PROBE_CACHE_LOADED);
    /* The hang is tried again: a timeout may be the machine's fault. */
    assert_int_equal(stats.cached, 2);
    assert_int_equal(stats.probed, 1);
    assert_false(stats.cache_written);
    assert_true(warm[0].ok && warm[0].from_cache);
    assert_true(!warm[1].ok && warm[1].from_cache);
    assert_string_equal(warm[1].why, cold[1].why);
    assert_true(!warm[2].ok && !warm[2].from_cache);
    assert_string_equal(warm[2].why, cold[2].why);

    /* Without the hang, a warm cache forks nothing at all. */
    probe(d, 0, warm, &stats);
    assert_int_equal(stats.probed, 0);
    assert_int_equal(stats.cached, 2);
}

static void test_cache_follows_the_file(void **state)
{
    const cache_dir *d = *state;
    tt_probe_verdict v[2];
    tt_probe_stats stats;
    probe(d, 0, v, &stats);
    assert_true(v[0].ok);

    /* Touched: same bytes, new mtime, so it is probed again. */
    struct timespec later[2] = {{.tv_sec = 2000000000}, {.tv_sec = 2000000000}};
    assert_int_equal(utimensat(AT_FDCWD, d->good, later, 0), 0);
    probe(d, 0, v, &stats);
    assert_int_equal(stats.probed, 1);
    assert_int_equal(stats.cached, 1);
    assert_true(v[0].ok && !v[0].from_cache);

    /* Rewritten with an aborting plugin: the cached "ok" must not survive. */
    char src[512];
    loading_path(src, sizeof src, "ld_entry_abort");
    copy_file(src, d->good);
    probe(d, 0, v, &stats);
    assert_int_equal(stats.probed, 1);
    assert_false(v[0].ok);
    assert_starts(v[0].why, "aborted (SIGABRT) in its entry function");
    probe(d, 0, v, &stats);
    assert_int_equal(stats.probed, 0);
    assert_false(v[0].ok);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = calloc(1, 1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

static void spill(const char *path, const char *text, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

/* Each damaged cache is ignored whole: both files probed again, the
 * aborting one still refused, and the cache rewritten sound. */
static void expect_ignored(const cache_dir *d, const char *what)
{
    tt_probe_verdict v[2];
    tt_probe_stats stats;
    probe(d, 0, v, &stats);
    if (stats.cache != TT_PROBE_CACHE_IGNORED)
        fail_msg("%s: cache not ignored (state %d)", what, (int)stats.cache);
    assert_int_equal(stats.probed, 2);
    assert_true(v[0].ok);
    assert_false(v[1].ok);
    assert_starts(stats.cache_note, "ignored: ");
    assert_true(stats.cache_written);
    probe(d, 0, v, &stats);
    assert_int_equal(stats.cache, TT_PROBE_CACHE_LOADED);
    assert_int_equal(stats.probed, 0);
}

static void test_cache_corrupt_ignored(void **state)
{
    const cache_dir *d = *state;
    tt_probe_verdict v[2];
    tt_probe_stats stats;
    probe(d, 0, v, &stats);
    char *good = slurp(d->cache);

    /* A verdict flipped to "ok" would have this process dlopen an aborting
     * plugin: its checksum no longer matches. */
    char *flipped = tt_strdup(good), *p = strstr(flipped, "\"ok\":\tfalse");
    assert_non_null(p);
    memcpy(p, "\"ok\":\ttrue ", 11); /* still valid JSON */
    spill(d->cache, flipped, strlen(flipped));
    expect_ignored(d, "flipped verdict");

    /* A changed byte that leaves every field well-formed: only the
     * checksum notices. */
    char *edited = tt_strdup(good);
    p = strstr(edited, "aborted (SIGABRT)");
    assert_non_null(p);
    p[0] = 'A';
    spill(d->cache, edited, strlen(edited));
    expect_ignored(d, "edited reason");

    spill(d->cache, good, strlen(good) / 2);
    expect_ignored(d, "truncated");

    spill(d->cache, "\x7f" "ELF\x01\x02garbage", 14);
    expect_ignored(d, "garbage");

    /* A cache of another tautune build says nothing about this one. */
    char *other = tt_strdup(good);
    p = strstr(other, "\"host\":\t\"tautune ");
    assert_non_null(p);
    p[strlen("\"host\":\t\"tautune ")] = '9';
    spill(d->cache, other, strlen(other));
    expect_ignored(d, "another host");

    static const char mistyped[] =
        "{\"format\": \"tautune-probe-cache\", \"version\": 1, \"files\": 3}";
    spill(d->cache, mistyped, strlen(mistyped));
    expect_ignored(d, "wrong types");

    free(good);
    free(flipped);
    free(edited);
    free(other);
}

static void test_cache_not_writable(void **state)
{
    (void)state;
    char good[512];
    loading_path(good, sizeof good, "ld_good");
    char *paths[] = {good};
    tt_probe_options opt = {.cache_path = "/proc/tt_no_such_dir/probe-cache"};
    tt_probe_verdict v[1];
    tt_probe_stats stats;
    char err[256];
    assert_int_equal(tt_plugin_probe(paths, 1, &opt, v, &stats, err, sizeof err), TT_OK);
    assert_true(v[0].ok);
    assert_false(stats.cache_written);
    assert_starts(stats.cache_note, "not written: ");
}

static void test_cache_api(void **state)
{
    (void)state;
    tt_probe_cache_state st;
    char note[128];
    tt_probe_cache *c = tt_probe_cache_load(NULL, "host a", &st, note, sizeof note);
    assert_non_null(c);
    assert_int_equal(st, TT_PROBE_CACHE_MISSING);
    int ok;
    const char *why;
    assert_int_equal(tt_probe_cache_put(c, "/x/a.so", "1:2", 0, "bad magic"), TT_OK);
    assert_int_equal(tt_probe_cache_put(c, "/x/b.so", "3:4", 1, "ignored for ok"), TT_OK);
    assert_int_equal(tt_probe_cache_get(c, "/x/a.so", "1:2", &ok, &why), 1);
    assert_false(ok);
    assert_string_equal(why, "bad magic");
    assert_int_equal(tt_probe_cache_get(c, "/x/a.so", "1:3", &ok, &why), 0); /* other identity */
    assert_int_equal(tt_probe_cache_get(c, "/x/c.so", "1:2", &ok, &why), 0);
    assert_int_equal(tt_probe_cache_get(c, "/x/b.so", "3:4", &ok, &why), 1);
    assert_true(ok);
    assert_string_equal(why, "");
    /* A put replaces. */
    assert_int_equal(tt_probe_cache_put(c, "/x/a.so", "1:5", 1, NULL), TT_OK);
    assert_int_equal(tt_probe_cache_get(c, "/x/a.so", "1:2", &ok, &why), 0);
    assert_int_equal(tt_probe_cache_get(c, "/x/a.so", "1:5", &ok, &why), 1);
    assert_true(ok);
    tt_probe_cache_free(c);
    tt_probe_cache_free(NULL);
}

/* ---- the registry's reject list ---------------------------------------------- */

static void test_registry_rejects(void **state)
{
    (void)state;
    tt_registry *reg = tt_registry_new();
    char err[1024];
    assert_int_equal(tt_registry_load_dir(reg, TT_FIXTURE_DIR, NULL, NULL, NULL, err, sizeof err),
                     TT_OK);
    /* Every fixture but the two that load (fx_good, fx_good_alt). */
    char **files;
    size_t n;
    assert_int_equal(tt_plugin_dir_list(TT_FIXTURE_DIR, &files, &n, err, sizeof err), TT_OK);
    assert_int_equal(tt_registry_reject_count(reg), n - 2);
    tt_free_strings(files, n);

    const tt_plugin_reject *r = tt_registry_find_reject(reg, "fx_bad_magic");
    assert_non_null(r);
    assert_contains(r->path, "/fx_bad_magic.so");
    assert_string_equal(r->why, "bad magic 0x4c505455, expected 0x4c505454");
    /* A later file with a taken name is refused too, under its file name. */
    r = tt_registry_find_reject(reg, "fx_good_dup");
    assert_non_null(r);
    assert_contains(r->why, "a plugin named 'fixture_good' is already registered");
    /* Only whole file names count. */
    assert_null(tt_registry_find_reject(reg, "fx_bad"));
    assert_null(tt_registry_find_reject(reg, "fixture_good"));
    assert_null(tt_registry_reject_at(reg, tt_registry_reject_count(reg)));

    assert_int_equal(tt_registry_add_reject(reg, "dir/ld_entry_abort.so", "aborted"), TT_OK);
    r = tt_registry_find_reject(reg, "ld_entry_abort");
    assert_non_null(r);
    assert_ptr_equal(r, tt_registry_reject_at(reg, tt_registry_reject_count(reg) - 1));
    assert_string_equal(r->why, "aborted");
    tt_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test_setup_teardown(test_cache_reused, cache_setup, cache_teardown),
        cmocka_unit_test_setup_teardown(test_cache_follows_the_file, cache_setup, cache_teardown),
        cmocka_unit_test_setup_teardown(test_cache_corrupt_ignored, cache_setup, cache_teardown),
        cmocka_unit_test(test_cache_not_writable),
        cmocka_unit_test(test_cache_api),
        cmocka_unit_test(test_registry_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
