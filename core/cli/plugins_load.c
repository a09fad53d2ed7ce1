/* plugins_load.c - building the plugin registry from the plugin path.
 *
 * Every candidate file is probed in a child process first (plugin/probe.h),
 * so a plugin that aborts, crashes or hangs while loading is reported and
 * skipped instead of taking the command down; only files that passed are
 * dlopened here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "plugin/probe.h"
#include "util/mem.h"
#include "util/paths.h"

/* The candidate files of every folder, in search order, and the folders
 * already listed (resolved), so a folder named twice is read once. */
typedef struct file_list {
    char **paths;
    size_t n, cap;
    char **seen;
    size_t n_seen, cap_seen;
} file_list;

/* 1 when dir (resolved) was listed before; otherwise it is remembered and 0.
 * A folder that does not resolve is left to add_dir to report. */
static int seen_before(file_list *fl, const char *dir)
{
    char *real = realpath(dir, NULL);
    if (!real)
        return 0;
    for (size_t i = 0; i < fl->n_seen; i++)
        if (strcmp(fl->seen[i], real) == 0) {
            free(real);
            return 1;
        }
    if (fl->n_seen == fl->cap_seen) {
        size_t cap = fl->cap_seen ? 2 * fl->cap_seen : 8;
        char **grown = realloc(fl->seen, cap * sizeof *grown);
        if (!grown) {
            free(real); /* only the check is lost: the folder may be read twice */
            return 0;
        }
        fl->seen = grown;
        fl->cap_seen = cap;
    }
    fl->seen[fl->n_seen++] = real;
    return 0;
}

static int add_dir(file_list *fl, const char *dir, int verbose)
{
    char err[1024], **paths;
    size_t n;
    if (seen_before(fl, dir))
        return 0;
    tt_status st = tt_plugin_dir_list(dir, &paths, &n, err, sizeof err);
    if (st == TT_ERR_NOMEM)
        return -1;
    if (st != TT_OK) {
        if (verbose)
            fprintf(stderr, "tautune: warning: plugin folder %s\n", err);
        return 0;
    }
    if (fl->n + n > fl->cap) {
        size_t cap = fl->cap ? fl->cap : 32;
        while (cap < fl->n + n)
            cap *= 2;
        char **grown = realloc(fl->paths, cap * sizeof *grown);
        if (!grown) {
            tt_free_strings(paths, n);
            return -1;
        }
        fl->paths = grown;
        fl->cap = cap;
    }
    memcpy(fl->paths + fl->n, paths, n * sizeof *paths);
    fl->n += n;
    free(paths); /* the strings now belong to fl */
    return 0;
}

static int add_list(file_list *fl, const char *list, int verbose)
{
    char *copy = strdup(list);
    if (!copy)
        return -1;
    char *save = NULL;
    int rc = 0;
    for (char *dir = strtok_r(copy, ":", &save); dir && rc == 0;
         dir = strtok_r(NULL, ":", &save))
        if (*dir)
            rc = add_dir(fl, dir, verbose);
    free(copy);
    return rc;
}

/* $XDG_CACHE_HOME/tautune/probe-cache, else ~/.cache/tautune/probe-cache;
 * NULL (no cache) with TAUTUNE_PROBE_CACHE=0 or when neither variable names
 * an absolute folder. Never next to the plugins: a plugin folder may be
 * shared or read-only, and the verdicts are this user's. */
static const char *probe_cache_path(char *buf, size_t len)
{
    const char *off = getenv("TAUTUNE_PROBE_CACHE");
    if (off && strcmp(off, "0") == 0)
        return NULL;
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/') /* the XDG spec: a relative value is ignored */
        n = snprintf(buf, len, "%s/tautune/probe-cache", xdg);
    else if (home && home[0] == '/')
        n = snprintf(buf, len, "%s/.cache/tautune/probe-cache", home);
    else
        return NULL;
    return n > 0 && (size_t)n < len ? buf : NULL;
}

/* TAUTUNE_PROBE_TIMEOUT: seconds a plugin gets to load (0 = the default). */
static double probe_timeout(void)
{
    const char *env = getenv("TAUTUNE_PROBE_TIMEOUT");
    if (!env || !*env)
        return 0.0;
    char *end;
    errno = 0;
    double t = strtod(env, &end);
    if (errno || *end || !(t > 0) || t > 3600) {
        fprintf(stderr, "tautune: warning: TAUTUNE_PROBE_TIMEOUT=%s is not a number of "
                        "seconds in (0, 3600]; using %g\n", env, TT_PROBE_TIMEOUT);
        return 0.0;
    }
    return t;
}

/* TAUTUNE_PROBE_DEBUG=1: one line on what the probe did, for tests and for
 * anyone wondering why a command forks. */
static void probe_debug(const tt_probe_stats *st, size_t n, const char *cache_path)
{
    const char *env = getenv("TAUTUNE_PROBE_DEBUG");
    if (!env || strcmp(env, "1") != 0)
        return;
    static const char *const state[] = {"missing", "loaded", "ignored"};
    if (cache_path)
        fprintf(stderr, "tautune: plugin probe: %zu files, %zu from the cache, %zu probed; "
                        "cache %s (%s%s)\n", n, st->cached, st->probed, cache_path,
                state[st->cache], st->cache_written ? ", written" : "");
    else
        fprintf(stderr, "tautune: plugin probe: %zu files, %zu probed; cache off\n", n,
                st->probed);
    if (st->cache_note[0])
        fprintf(stderr, "tautune: plugin probe: cache %s\n", st->cache_note);
}

/* Plugins may print while loading (constructors, entry); the command's own
 * stdout (a listing, predictions on "-") must stay clean, so their output
 * goes to stderr while the files are dlopened here. */
static int stdout_to_stderr(void)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    if (saved >= 0 && dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        close(saved);
        saved = -1;
    }
    return saved;
}

static void stdout_back(int saved)
{
    fflush(stdout);
    if (saved < 0)
        return;
    dup2(saved, STDOUT_FILENO);
    close(saved);
}

static void load_files(tt_registry *reg, const file_list *fl)
{
    tt_probe_verdict *v = calloc(fl->n ? fl->n : 1, sizeof *v);
    char cache_buf[4096], err[512];
    tt_probe_options opt = {.timeout = probe_timeout(),
                            .cache_path = probe_cache_path(cache_buf, sizeof cache_buf)};
    tt_probe_stats stats;
    if (!v || tt_plugin_probe(fl->paths, fl->n, &opt, v, &stats, err, sizeof err) != TT_OK) {
        /* Without verdicts nothing is safe to dlopen. */
        fprintf(stderr, "tautune: %s\n", v ? err : "out of memory probing plugins");
        free(v);
        return;
    }
    probe_debug(&stats, fl->n, opt.cache_path);
    int saved = stdout_to_stderr();
    for (size_t i = 0; i < fl->n; i++) {
        char msg[1024];
        if (!v[i].ok)
            tt_registry_add_reject(reg, fl->paths[i], v[i].why);
        else
            tt_registry_load_file(reg, fl->paths[i], msg, sizeof msg); /* records refusals */
    }
    stdout_back(saved);
    free(v);
}

tt_registry *tt_cli_load_plugins(const tt_plugin_paths *paths, int verbose)
{
    tt_registry *reg = tt_registry_new();
    if (!reg)
        return NULL;
    file_list fl = {0};
    int rc = 0;
    /* A model's recorded folders may be gone (another machine): quietly,
     * the caller says so if the plugin is not found elsewhere either. */
    for (size_t i = 0; i < paths->n_model_dirs && rc == 0; i++)
        rc = add_dir(&fl, paths->model_dirs[i], 0);
    for (size_t i = 0; i < paths->n && rc == 0; i++)
        rc = add_list(&fl, paths->dirs[i], verbose);
    const char *env = getenv("TAUTUNE_PLUGIN_PATH");
    if (env && *env && rc == 0)
        rc = add_list(&fl, env, verbose);
    char dir[4096];
    if (rc == 0 && tt_default_plugin_dir(dir, sizeof dir) == 0 && tt_is_dir(dir))
        rc = add_list(&fl, dir, verbose);
    if (rc == 0)
        load_files(reg, &fl);
    tt_free_strings(fl.paths, fl.n);
    tt_free_strings(fl.seen, fl.n_seen);
    if (rc != 0) {
        tt_registry_free(reg);
        return NULL;
    }
    return reg;
}

tt_registry *tt_cli_load_plugin_file(const char *path)
{
    tt_registry *reg = tt_registry_new();
    if (!reg)
        return NULL;
    char *one = strdup(path);
    if (!one) {
        tt_registry_free(reg);
        return NULL;
    }
    file_list fl = {.paths = &one, .n = 1, .cap = 1};
    load_files(reg, &fl);
    free(one);
    return reg;
}

void tt_cli_warn_rejects(const tt_registry *reg, const unsigned char *reported)
{
    for (size_t i = 0; i < tt_registry_reject_count(reg); i++) {
        const tt_plugin_reject *r = tt_registry_reject_at(reg, i);
        if (!reported || !reported[i])
            fprintf(stderr, "tautune: warning: %s: rejected: %s\n", r->path, r->why);
    }
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(size_t) * (lb + 1));
    }
    return prev[lb];
}

const char *tt_cli_closest_plugin(const tt_registry *reg, const char *name)
{
    const char *best = NULL;
    size_t best_d = 4; /* only suggest close names */
    for (size_t i = 0; i < tt_registry_count(reg); i++) {
        const char *cand = tt_registry_at(reg, i)->desc->name;
        size_t d = edit_distance(name, cand);
        if (d < best_d) {
            best_d = d;
            best = cand;
        }
    }
    return best;
}
