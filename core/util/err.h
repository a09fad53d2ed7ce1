/*
 * err.h - writing error messages into caller-supplied buffers.
 *
 * Every fallible core function takes (char *err, size_t errlen) and fills it on
 * failure. tt_errf() formats into it safely (err may be NULL, errlen 0) and
 * returns the status it was given, so call sites read
 *     return tt_errf(err, errlen, TT_ERR_DATA, "%s: row %zu: ...", path, row);
 */
#ifndef TT_UTIL_ERR_H
#define TT_UTIL_ERR_H

#include <stddef.h>

#include "tautune/tautune.h"

tt_status tt_errf(char *err, size_t errlen, tt_status status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prefix an existing message in place: "prefix: old message". */
void tt_err_prefix(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
