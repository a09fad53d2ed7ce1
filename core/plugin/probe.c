/*
 * probe.c - plugin files tried in forked children before the host loads
 * them (probe.h).
 *
 * This is the one place the plugin layer reaches into search/: isolate.h is
 * how tautune runs untrusted plugin code in a child (trials, refits), and a
 * second fork-and-watch loop here would drift from it.
 */
#include "plugin/probe.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "plugin/registry.h"
#include "search/isolate.h"
#include "tautune/plugin.h"
#include "util/clock.h"

void tt_probe_host_id(char *buf, size_t len)
{
    /* The version alone does not move on a developer's rebuild, which can
     * change what the host accepts; the binary's own identity does. */
    char exe[128] = "?";
    struct stat sb;
    if (stat("/proc/self/exe", &sb) == 0)
        tt_probe_file_id(&sb, exe, sizeof exe);
    snprintf(buf, len, "tautune %s abi %d.%d tag %s exe %s", TT_VERSION_STRING,
             TT_PLUGIN_ABI_MAJOR, TT_PLUGIN_ABI_MINOR, TT_PLUGIN_BUILD_TAG, exe);
}

/* ---- the child --------------------------------------------------------------- */

typedef struct probe_arg {
    const char *path;
    pid_t parent;
} probe_arg;

/* The loader's steps, each named first so the parent can say where a
 * plugin died. The handle is never closed: the child leaves with _exit. */
static int probe_job(void *arg, tt_msg *out, char *err, size_t errlen)
{
    const probe_arg *a = arg;
    (void)out; /* the answer is only "it got through" */
#ifdef __linux__
    /* The child ignores SIGINT (isolate.h); a plugin hanging in its entry
     * must not outlive a tautune that was interrupted mid-probe. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != a->parent)
        _exit(1);
#endif
    /* What a plugin prints while loading goes to the stderr the parent
     * keeps for the message, never to the command's stdout. */
    dup2(STDERR_FILENO, STDOUT_FILENO);
    tt_isolate_stage("load");
    void *handle;
    const tt_plugin_descriptor *desc;
    if (tt_plugin_open(a->path, &handle, err, errlen) != TT_OK)
        return 1;
    tt_isolate_stage("entry");
    if (tt_plugin_call_entry(handle, &desc, err, errlen) != TT_OK)
        return 1;
    tt_isolate_stage("validate");
    if (tt_plugin_validate(desc, err, errlen) != TT_OK)
        return 1;
    tt_isolate_stage("done");
    fflush(stdout);
    return 0;
}

/* ---- the parent -------------------------------------------------------------- */

static const char *where(const char *stage)
{
    if (strcmp(stage, "load") == 0)
        return "while loading";
    if (strcmp(stage, "entry") == 0)
        return "in its entry function";
    if (strcmp(stage, "validate") == 0)
        return "while its descriptor was checked";
    if (strcmp(stage, "done") == 0)
        return "after loading";
    return "before loading";
}

/* strsignal gives the description; messages also want the name people
 * grep for. */
static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGABRT: return "SIGABRT";
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    case SIGPIPE: return "SIGPIPE";
    case SIGXCPU: return "SIGXCPU";
    }
    return NULL;
}

/* The verdict of a child that ended; *cacheable says whether the same file
 * would get it again (a timeout may be the machine's fault). */
static void judge(const tt_isolate_report *rep, double timeout, tt_probe_verdict *v,
                  int *cacheable)
{
    char stderr_part[TT_ISOLATE_TAIL + 16] = "";
    if (rep->tail[0])
        snprintf(stderr_part, sizeof stderr_part, "; stderr: %s", rep->tail);
    const char *at = where(rep->stage);
    const char *name = signal_name(rep->sig);
    *cacheable = 1;
    v->ok = 0;
    switch (rep->end) {
    case TT_ISOLATE_OK:
        v->ok = 1;
        v->why[0] = '\0';
        break;
    case TT_ISOLATE_FAILED: /* the loader's own refusal, word for word */
        snprintf(v->why, sizeof v->why, "%s", rep->error);
        break;
    case TT_ISOLATE_CRASHED:
        if (rep->sig == SIGABRT)
            snprintf(v->why, sizeof v->why, "aborted (SIGABRT) %s%s", at, stderr_part);
        else if (name)
            snprintf(v->why, sizeof v->why, "crashed (%s: %s) %s%s", name, strsignal(rep->sig),
                     at, stderr_part);
        else
            snprintf(v->why, sizeof v->why, "crashed (signal %d: %s) %s%s", rep->sig,
                     strsignal(rep->sig), at, stderr_part);
        break;
    case TT_ISOLATE_EXITED:
        if (rep->exit_code != 0)
            snprintf(v->why, sizeof v->why, "exited with code %d %s%s", rep->exit_code, at,
                     stderr_part);
        else
            snprintf(v->why, sizeof v->why, "exited %s without finishing%s", at, stderr_part);
        break;
    case TT_ISOLATE_TIMEOUT:
    case TT_ISOLATE_DEADLINE:
    case TT_ISOLATE_STOPPED:
        *cacheable = 0;
        snprintf(v->why, sizeof v->why, "timed out after %g s %s%s", timeout, at, stderr_part);
        break;
    }
}

typedef struct probe_pool {
    tt_isolate_child *kids;
    size_t *file;      /* kids[s] probes paths[file[s]] */
    probe_arg *args;   /* one per slot: a child reads its own copy of it */
    size_t slots;
} probe_pool;

/* Probe the files todo[0..n_todo) with up to pool->slots children at once;
 * cacheable[i] tells whether verdicts[i] may be cached. */
static void run_pool(probe_pool *pool, char *const *paths, const size_t *todo, size_t n_todo,
                     const tt_isolate_limits *lim, tt_probe_verdict *verdicts, int *cacheable)
{
    size_t next = 0, running = 0;
    pid_t self = getpid();
    while (next < n_todo || running > 0) {
        for (size_t s = 0; s < pool->slots && next < n_todo; s++) {
            if (tt_isolate_running(&pool->kids[s]))
                continue;
            size_t i = todo[next++];
            pool->args[s] = (probe_arg){paths[i], self};
            pool->file[s] = i;
            char err[256];
            if (tt_isolate_start(&pool->kids[s], lim, probe_job, &pool->args[s], err,
                                 sizeof err) != TT_OK) {
                verdicts[i].ok = 0;
                snprintf(verdicts[i].why, sizeof verdicts[i].why,
                         "could not be tried in a child process: %s", err);
                cacheable[i] = 0;
                continue;
            }
            running++;
        }
        double now = tt_now(), wake = now + 1.0;
        int ended = 0;
        struct pollfd fds[2 * TT_PROBE_PARALLEL * 4];
        size_t nfds = 0;
        for (size_t s = 0; s < pool->slots; s++) {
            tt_isolate_report rep;
            if (tt_isolate_check(&pool->kids[s], now, &wake, &rep)) {
                size_t i = pool->file[s];
                judge(&rep, lim->timeout, &verdicts[i], &cacheable[i]);
                tt_isolate_report_free(&rep);
                running--;
                ended = 1;
            } else if (nfds + 2 <= sizeof fds / sizeof fds[0]) {
                nfds += tt_isolate_fill_pollfds(&pool->kids[s], fds + nfds);
            }
        }
        if (ended)
            continue; /* refill the free slots before waiting */
        int ms = (int)fmin(fmax(0.0, wake - now) * 1000.0 + 1.0, 1000.0);
        poll(fds, nfds, ms);
        for (size_t s = 0; s < pool->slots; s++)
            tt_isolate_drain(&pool->kids[s]);
    }
}

/* Cache verdicts, then save when anything new was learnt. */
static void update_cache(tt_probe_cache *cache, const tt_probe_options *opt,
                         char *const *real, char *const *ids, const size_t *todo, size_t n_todo,
                         const tt_probe_verdict *verdicts, const int *cacheable,
                         tt_probe_stats *stats)
{
    size_t learnt = 0;
    for (size_t k = 0; k < n_todo; k++) {
        size_t i = todo[k];
        if (cacheable[i] && real[i] &&
            tt_probe_cache_put(cache, real[i], ids[i], verdicts[i].ok, verdicts[i].why) == TT_OK)
            learnt++;
    }
    if (!learnt || !opt->cache_path)
        return;
    char err[sizeof stats->cache_note - 16];
    if (tt_probe_cache_save(cache, opt->cache_path, err, sizeof err) == TT_OK)
        stats->cache_written = 1;
    else
        snprintf(stats->cache_note, sizeof stats->cache_note, "not written: %s", err);
}

tt_status tt_plugin_probe(char *const *paths, size_t n, const tt_probe_options *opt,
                          tt_probe_verdict *verdicts, tt_probe_stats *stats, char *err,
                          size_t errlen)
{
    tt_probe_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    if (!opt || (n && (!paths || !verdicts)))
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_plugin_probe: NULL argument");
    if (n == 0)
        return TT_OK;
    tt_isolate_limits lim = {.timeout = opt->timeout > 0 ? opt->timeout : TT_PROBE_TIMEOUT};
    size_t slots = opt->parallel ? opt->parallel : TT_PROBE_PARALLEL;
    if (slots > TT_PROBE_PARALLEL * 4)
        slots = TT_PROBE_PARALLEL * 4; /* the poll array's size */

    char host[512];
    tt_probe_host_id(host, sizeof host);
    tt_probe_cache *cache = tt_probe_cache_load(opt->cache_path, host, &stats->cache,
                                                stats->cache_note, sizeof stats->cache_note);
    char **real = calloc(n, sizeof *real), **ids = calloc(n, sizeof *ids);
    size_t *todo = calloc(n, sizeof *todo);
    int *cacheable = calloc(n, sizeof *cacheable);
    probe_pool pool = {calloc(slots, sizeof *pool.kids), calloc(slots, sizeof *pool.file),
                       calloc(slots, sizeof *pool.args), slots};
    tt_status st = TT_OK;
    if (!cache || !real || !ids || !todo || !cacheable || !pool.kids || !pool.file ||
        !pool.args) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory probing plugins");
        goto done;
    }

    size_t n_todo = 0;
    for (size_t i = 0; i < n; i++) {
        memset(&verdicts[i], 0, sizeof verdicts[i]);
        struct stat sb;
        if (stat(paths[i], &sb) != 0) {
            snprintf(verdicts[i].why, sizeof verdicts[i].why, "cannot open: %s",
                     strerror(errno));
            continue;
        }
        char id[128], rp[PATH_MAX];
        tt_probe_file_id(&sb, id, sizeof id);
        /* Keyed by the real path: two spellings or symlinks of one file
         * share a verdict. Without one the file is probed, not cached. */
        if (realpath(paths[i], rp)) {
            real[i] = strdup(rp);
            ids[i] = strdup(id);
            if (!real[i] || !ids[i]) {
                st = tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory probing plugins");
                goto done;
            }
            int ok;
            const char *why;
            if (tt_probe_cache_get(cache, real[i], id, &ok, &why)) {
                verdicts[i].ok = ok;
                verdicts[i].from_cache = 1;
                snprintf(verdicts[i].why, sizeof verdicts[i].why, "%s", why);
                stats->cached++;
                continue;
            }
        }
        todo[n_todo++] = i;
    }
    stats->probed = n_todo;
    run_pool(&pool, paths, todo, n_todo, &lim, verdicts, cacheable);
    update_cache(cache, opt, real, ids, todo, n_todo, verdicts, cacheable, stats);

done:
    for (size_t i = 0; i < n; i++) {
        free(real ? real[i] : NULL);
        free(ids ? ids[i] : NULL);
    }
    free(real);
    free(ids);
    free(todo);
    free(cacheable);
    free(pool.kids);
    free(pool.file);
    free(pool.args);
    tt_probe_cache_free(cache);
    return st;
}
