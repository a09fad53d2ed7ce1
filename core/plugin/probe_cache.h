/*
 * probe_cache.h - the plugin probe's verdicts on disk (see probe.h).
 *
 * One JSON file maps a plugin file (its real path) and its identity (size,
 * mtime, ctime, device, inode: tt_probe_file_id) to the probe's verdict, for
 * one host identity (program version, plugin ABI, build tag and the binary
 * itself). A verdict is reused only when path, identity and host all match,
 * so rewriting, touching or replacing a plugin, or rebuilding tautune, makes
 * the probe run again.
 *
 * The file is a cache, never an authority: anything unexpected in it (not
 * JSON, a wrong field, another host, an entry whose checksum does not match
 * its fields) makes tt_probe_cache_load ignore all of it, and the probes run
 * as if there were none. tt_probe_cache_save writes a temporary file next to
 * it and renames it over, so a reader sees the old file or the new one,
 * never half of one; two commands saving at once lose one side's new
 * verdicts, which are then probed again.
 *
 * Ownership: a tt_probe_cache is the caller's (tt_probe_cache_free). Strings
 * returned by tt_probe_cache_get live until the next put or the free. Not
 * thread-safe.
 */
#ifndef TT_PLUGIN_PROBE_CACHE_H
#define TT_PLUGIN_PROBE_CACHE_H

#include <stddef.h>
#include <sys/stat.h>

#include "util/err.h"

typedef struct tt_probe_cache tt_probe_cache;

/* Largest cache file read, in bytes; a bigger one is ignored. */
#define TT_PROBE_CACHE_MAX_BYTES (4u << 20)
/* Most entries written; this command's files go first, then older ones. */
#define TT_PROBE_CACHE_MAX_ENTRIES 2048

/* How the file was found by tt_probe_cache_load. */
typedef enum tt_probe_cache_state {
    TT_PROBE_CACHE_MISSING = 0, /* no file (or unreadable): empty cache */
    TT_PROBE_CACHE_LOADED,      /* read and trusted */
    TT_PROBE_CACHE_IGNORED      /* present but corrupt or for another host: empty cache */
} tt_probe_cache_state;

/* "size:mtime:ctime:dev:ino" of a stat result, into buf (64 bytes suffice). */
void tt_probe_file_id(const struct stat *sb, char *buf, size_t len);

/* Read the cache at path for host (the caller's identity string). Returns
 * NULL only on out of memory; *state says what was found and note (may be
 * NULL) why a file was ignored. */
tt_probe_cache *tt_probe_cache_load(const char *path, const char *host,
                                    tt_probe_cache_state *state, char *note, size_t notelen);

/* The verdict for (real_path, file_id): 1 and *ok, *why (the reason when
 * !ok, "" otherwise) when cached, else 0. A hit marks the entry as current,
 * so tt_probe_cache_save keeps it. */
int tt_probe_cache_get(tt_probe_cache *c, const char *real_path, const char *file_id, int *ok,
                       const char **why);

/* Record a verdict (replacing any for real_path). TT_ERR_NOMEM. */
tt_status tt_probe_cache_put(tt_probe_cache *c, const char *real_path, const char *file_id,
                             int ok, const char *why);

/* Write the cache to path atomically, making its folder (mode 0700) when
 * missing. Entries neither looked up nor put since the load are kept only
 * while their file still has the identity they were cached with. TT_ERR_IO
 * with the reason in err when the folder or file cannot be written. */
tt_status tt_probe_cache_save(const tt_probe_cache *c, const char *path, char *err,
                              size_t errlen);

void tt_probe_cache_free(tt_probe_cache *c); /* NULL is a no-op */

#endif
