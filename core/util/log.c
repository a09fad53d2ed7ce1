/* log.c - forwards core messages to the sink the program installed. */
#include "util/log.h"

#include <stdio.h>

static tt_log_sink g_sink;
static void *g_ctx;
static tt_log_level g_max = TT_LOG_INFO;

void tt_log_set_sink(tt_log_sink sink, void *ctx, tt_log_level max_level)
{
    g_sink = sink;
    g_ctx = ctx;
    g_max = max_level;
}

void tt_logv(tt_log_level level, const char *fmt, va_list ap)
{
    if (!g_sink || level > g_max)
        return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    g_sink(g_ctx, level, msg);
}

void tt_log(tt_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tt_logv(level, fmt, ap);
    va_end(ap);
}
