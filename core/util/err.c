/* err.c - safe formatting into caller-supplied error buffers. */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

tt_status tt_errf(char *err, size_t errlen, tt_status status, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return status;
}

void tt_err_prefix(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Copy the old message aside first: it lives in the buffer we write to. */
    size_t old_len = strnlen(err, errlen - 1);
    char old[old_len + 1];
    memcpy(old, err, old_len);
    old[old_len] = '\0';
    snprintf(err, errlen, "%s: %s", prefix, old);
}

const char *tt_strerror(tt_status status)
{
    switch (status) {
    case TT_OK: return "success";
    case TT_ERR_NOMEM: return "out of memory";
    case TT_ERR_IO: return "input/output error";
    case TT_ERR_PARSE: return "parse error";
    case TT_ERR_DATA: return "data error";
    case TT_ERR_CONFIG: return "config error";
    case TT_ERR_PLUGIN: return "plugin error";
    case TT_ERR_NUMERIC: return "numerical error";
    case TT_ERR_INVALID: return "invalid argument";
    case TT_ERR_STOPPED: return "stopped";
    case TT_ERR_UNSUPPORTED: return "unsupported";
    }
    return "unknown status";
}
