/*
 * learner_io.c - the line format every saved learner shares (the learners'
 * threads are in learn_pool.c).
 *
 * Lines end in '\n'; numbers are printed in the C locale as %.17g so doubles
 * read back bit-identical. The reader takes one byte at a time so a learner
 * embedded in a larger stream (a plugin's saved model) is never over-read.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strtod_l */
#endif
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learner_impl.h"
#include "util/err.h"

tt_status tt_learn_emit(tt_learn_writer *w, const char *fmt, ...)
{
    char line[TT_LEARN_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof line)
        return tt_errf(w->err, w->errlen, TT_ERR_INVALID, "learner save: line too long");
    if (w->sink->write(w->sink->ctx, line, (size_t)len) != 0)
        return tt_errf(w->err, w->errlen, TT_ERR_IO, "learner save: the sink refused %d bytes",
                       len);
    return TT_OK;
}

tt_status tt_learn_parse_error(tt_learn_reader *r, const char *what)
{
    return tt_errf(r->err, r->errlen, TT_ERR_PARSE, "saved learner, line %zu: %s (got '%.60s')",
                   r->line_no, what, r->line);
}

tt_status tt_learn_read_line(tt_learn_reader *r)
{
    size_t len = 0;
    r->line_no++;
    r->line[0] = '\0';
    for (;;) {
        char c;
        if (r->src->read(r->src->ctx, &c, 1) != 0)
            return tt_errf(r->err, r->errlen, TT_ERR_PARSE,
                           "saved learner, line %zu: unexpected end of data", r->line_no);
        if (c == '\n')
            break;
        if (len + 1 >= sizeof r->line) {
            r->line[len] = '\0';
            return tt_learn_parse_error(r, "line too long");
        }
        r->line[len++] = c;
        r->line[len] = '\0';
    }
    return TT_OK;
}

tt_status tt_learn_read_item(tt_learn_reader *r, const char *keyword, const char **rest)
{
    tt_status st = tt_learn_read_line(r);
    if (st != TT_OK)
        return st;
    size_t k = strlen(keyword);
    if (strncmp(r->line, keyword, k) != 0 || r->line[k] != ' ' || r->line[k + 1] == '\0') {
        char what[64];
        snprintf(what, sizeof what, "expected '%s <value>'", keyword);
        return tt_learn_parse_error(r, what);
    }
    *rest = r->line + k + 1;
    return TT_OK;
}

tt_status tt_learn_parse_double(tt_learn_reader *r, const char *s, double *out)
{
    char *end = NULL;
    double v = strtod_l(s, &end, r->c_loc);
    if (end == s || *end != '\0' || !isfinite(v))
        return tt_learn_parse_error(r, "expected a finite number");
    *out = v;
    return TT_OK;
}

tt_status tt_learn_parse_u64(tt_learn_reader *r, const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0')
        return tt_learn_parse_error(r, "expected an unsigned integer");
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return tt_learn_parse_error(r, "expected an unsigned integer");
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return TT_OK;
}

tt_status tt_learn_next_double(tt_learn_reader *r, const char **s, double *out)
{
    char *end = NULL;
    double v = strtod_l(*s, &end, r->c_loc);
    if (end == *s || (*end != '\0' && *end != ' ') || !isfinite(v))
        return tt_learn_parse_error(r, "expected a finite number");
    *out = v;
    *s = *end ? end + 1 : end;
    return TT_OK;
}

tt_status tt_learn_next_long(tt_learn_reader *r, const char **s, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(*s, &end, 10);
    if (end == *s || (*end != '\0' && *end != ' ') || errno != 0)
        return tt_learn_parse_error(r, "expected an integer");
    *out = v;
    *s = *end ? end + 1 : end;
    return TT_OK;
}
