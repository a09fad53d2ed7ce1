/* log_tail.c - a worker's last output lines, bounded (log_tail.h). */
#include "search/log_tail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tt_log_tail {
    char *line[TT_LOG_TAIL_LINES]; /* a ring: line[(first + i) % LINES] is the i-th oldest */
    size_t first, n;
    size_t bytes;                  /* of the kept lines, without terminators */
    size_t dropped;
    /* The line being received: its first LINE_CAP bytes and how many more
     * it had (cut). */
    char partial[TT_LOG_TAIL_LINE_CAP + 1];
    size_t partial_len, cut;
    int open;                      /* bytes of an unfinished line have arrived */
};

tt_log_tail *tt_log_tail_new(void)
{
    return calloc(1, sizeof(tt_log_tail));
}

void tt_log_tail_free(tt_log_tail *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->line[(t->first + i) % TT_LOG_TAIL_LINES]);
    free(t);
}

static void drop_oldest(tt_log_tail *t)
{
    char *old = t->line[t->first];
    t->bytes -= strlen(old);
    free(old);
    t->line[t->first] = NULL;
    t->first = (t->first + 1) % TT_LOG_TAIL_LINES;
    t->n--;
    t->dropped++;
}

/* The received line, finished: kept as the newest, the oldest dropped
 * until both bounds hold. */
static void push(tt_log_tail *t)
{
    size_t len = t->partial_len;
    if (len > 0 && t->partial[len - 1] == '\r' && !t->cut)
        len--;
    char marker[64] = "";
    if (t->cut)
        snprintf(marker, sizeof marker, " [... %zu more bytes]", t->cut);
    size_t mlen = strlen(marker);
    char *s = malloc(len + mlen + 1);
    t->partial_len = t->cut = 0;
    t->open = 0;
    if (!s) {
        t->dropped++;
        return;
    }
    memcpy(s, t->partial, len);
    memcpy(s + len, marker, mlen + 1);
    len += mlen;
    /* len <= LINE_CAP + marker < BYTES: a lone line always fits. */
    while (t->n > 0 && (t->n == TT_LOG_TAIL_LINES || t->bytes + len > TT_LOG_TAIL_BYTES))
        drop_oldest(t);
    t->line[(t->first + t->n) % TT_LOG_TAIL_LINES] = s;
    t->n++;
    t->bytes += len;
}

void tt_log_tail_feed(tt_log_tail *t, const char *bytes, size_t n)
{
    if (!t)
        return;
    while (n > 0) {
        const char *nl = memchr(bytes, '\n', n);
        size_t take = nl ? (size_t)(nl - bytes) : n;
        size_t room = TT_LOG_TAIL_LINE_CAP - t->partial_len;
        size_t copy = take < room ? take : room;
        for (size_t i = 0; i < copy; i++) /* a NUL would end the C string early */
            t->partial[t->partial_len + i] = bytes[i] ? bytes[i] : ' ';
        t->partial_len += copy;
        t->cut += take - copy;
        t->open = t->open || take > 0;
        if (!nl)
            return;
        push(t);
        bytes += take + 1;
        n -= take + 1;
    }
}

void tt_log_tail_end(tt_log_tail *t)
{
    if (t && t->open)
        push(t);
}

size_t tt_log_tail_count(const tt_log_tail *t)
{
    return t ? t->n : 0;
}

const char *tt_log_tail_line(const tt_log_tail *t, size_t i)
{
    return t && i < t->n ? t->line[(t->first + i) % TT_LOG_TAIL_LINES] : NULL;
}

size_t tt_log_tail_dropped(const tt_log_tail *t)
{
    return t ? t->dropped : 0;
}

void tt_log_tail_add_dropped(tt_log_tail *t, size_t n)
{
    t->dropped += n;
}
