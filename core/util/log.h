/*
 * log.h - the core's logger. Library code never prints; it calls tt_log, which
 * forwards to the sink the program installed (the CLI prints to stderr).
 */
#ifndef TT_UTIL_LOG_H
#define TT_UTIL_LOG_H

#include <stdarg.h>

#include "tautune/plugin.h" /* tt_log_level */

typedef void (*tt_log_sink)(void *ctx, tt_log_level level, const char *message);

/* Install the process-wide sink (NULL = discard) and the most verbose level
 * that is passed on. Not thread-safe; call once at start-up. */
void tt_log_set_sink(tt_log_sink sink, void *ctx, tt_log_level max_level);

void tt_log(tt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tt_logv(tt_log_level level, const char *fmt, va_list ap);

#endif
