/*
 * probe.h - trying plugin files in a child process before the host loads them.
 *
 * A plugin's constructors run inside dlopen and its entry function runs
 * before there is a descriptor to validate; if either aborts, crashes or
 * hangs in the `tautune` process, the command dies with it, even when no
 * config asks for that plugin. tt_plugin_probe runs the loader's steps
 * (tt_plugin_open, tt_plugin_call_entry, tt_plugin_validate: registry.h) for
 * each file in a forked child (search/isolate.h) and returns a verdict per
 * file; the host then dlopens only the files that passed. The child's stdout
 * goes to its stderr, which the parent keeps for the message, so what a
 * plugin prints while loading never reaches the command's own output.
 *
 * Verdicts are cached (probe_cache.h) by file identity: with a warm cache no
 * child is forked. A timeout is not cached (a loaded machine is not the
 * file's fault), nor is a failure to fork.
 *
 * Ownership: everything passed in stays the caller's. Not thread-safe (it
 * forks; see isolate.h).
 */
#ifndef TT_PLUGIN_PROBE_H
#define TT_PLUGIN_PROBE_H

#include <stddef.h>

#include "plugin/probe_cache.h"
#include "util/err.h"

/* Seconds a file gets to load and return its descriptor. A built-in plugin
 * takes a few milliseconds; this leaves room for a busy machine. */
#define TT_PROBE_TIMEOUT 5.0
/* Children at once: they mostly wait on the dynamic loader's disk reads. */
#define TT_PROBE_PARALLEL 4

typedef struct tt_probe_options {
    double timeout;          /* seconds per file; <= 0: TT_PROBE_TIMEOUT */
    size_t parallel;         /* children at once; 0: TT_PROBE_PARALLEL */
    const char *cache_path;  /* verdict cache file; NULL: no cache */
} tt_probe_options;

typedef struct tt_probe_verdict {
    int ok;           /* 1: it loads and its descriptor passes validation */
    int from_cache;   /* 1: the verdict came from the cache, no child ran */
    char why[1024];   /* !ok: the reason without the path: the loader's own
                       * refusal ("bad magic ..."), or how the child ended:
                       * "aborted (SIGABRT) while loading", "crashed (SIGSEGV:
                       * Segmentation fault) in its entry function", "timed
                       * out after 5 s in its entry function", each with
                       * "; stderr: <last line(s)>" when it printed any */
} tt_probe_verdict;

typedef struct tt_probe_stats {
    size_t cached;               /* verdicts taken from the cache */
    size_t probed;               /* children forked */
    tt_probe_cache_state cache;  /* what the cache file was */
    int cache_written;           /* 1: the cache file was (re)written */
    char cache_note[512];        /* why it was ignored or not written; "" */
} tt_probe_stats;

/* Probe paths[0..n) and fill verdicts[0..n) (the caller's array). stats may
 * be NULL. A file that cannot be stat'ed gets a "cannot open" verdict without
 * a child. Returns TT_OK, or TT_ERR_NOMEM / TT_ERR_INVALID with err set; a
 * cache that cannot be read or written is only noted in stats. */
tt_status tt_plugin_probe(char *const *paths, size_t n, const tt_probe_options *opt,
                          tt_probe_verdict *verdicts, tt_probe_stats *stats, char *err,
                          size_t errlen);

/* The identity verdicts are cached for: program version, plugin ABI, build
 * tag and the running binary's file identity (a rebuild re-probes). */
void tt_probe_host_id(char *buf, size_t len);

#endif
