/*
 * tautune.h - the host API shared by the core and by plugins.
 *
 * Status codes, version numbers and the names of every status. Everything in
 * this header is plain C99 and safe to include from a plugin built out of tree
 * (a plugin never links against the core; it only uses these definitions).
 */
#ifndef TAUTUNE_H
#define TAUTUNE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Program version (the `tautune` command and results.json "tautune_version"). */
#define TT_VERSION_MAJOR 0
#define TT_VERSION_MINOR 1
#define TT_VERSION_PATCH 0
#define TT_VERSION_STRING "0.1.0"

/* Version of the results.json format written by `tautune run`. Bumped only for
 * additions; fields are never removed or renamed once published. */
#define TT_RESULTS_SCHEMA_VERSION 1

/* Every fallible function returns a tt_status: 0 on success, and writes a
 * human-readable message into a caller-supplied buffer (err, errlen) on failure.
 * Plugins return the same codes from their callbacks. */
typedef enum tt_status {
    TT_OK = 0,
    TT_ERR_NOMEM,       /* an allocation failed */
    TT_ERR_IO,          /* a file could not be opened, read or written */
    TT_ERR_PARSE,       /* malformed input text (CSV, Lua, saved model) */
    TT_ERR_DATA,        /* well-formed input whose content is unusable */
    TT_ERR_CONFIG,      /* the config is invalid */
    TT_ERR_PLUGIN,      /* a plugin was rejected or misbehaved */
    TT_ERR_NUMERIC,     /* a numerical routine failed (singular matrix, NaN) */
    TT_ERR_INVALID,     /* an argument broke the documented contract */
    TT_ERR_STOPPED,     /* work was interrupted by the should-stop callback */
    TT_ERR_UNSUPPORTED  /* the request is valid but not supported here */
} tt_status;

/* Static, never NULL: a short name of the status ("out of memory", ...). */
const char *tt_strerror(tt_status status);

#ifdef __cplusplus
}
#endif

#endif /* TAUTUNE_H */
