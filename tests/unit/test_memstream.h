/* test_memstream.h - an in-memory byte stream for the tests' save/load round
 * trips: one growable buffer that is a tt_plugin_sink when written and a
 * tt_plugin_source when read back. Header-only (static inline) so every test
 * executable takes it without a library. Zero-initialise a membuf to start;
 * free(m.data) when done. */
#ifndef TT_TEST_MEMSTREAM_H
#define TT_TEST_MEMSTREAM_H

#include <stdlib.h>
#include <string.h>

#include "tautune/plugin.h"

typedef struct membuf {
    char *data;
    size_t len, cap, pos; /* pos: the next byte a read returns */
} membuf;

/* Appends len bytes; -1 when the buffer cannot grow. */
static inline int mem_write(void *ctx, const void *bytes, size_t len)
{
    membuf *m = ctx;
    if (m->len + len > m->cap) {
        size_t cap = (m->len + len) * 2 + 64;
        char *grown = realloc(m->data, cap);
        if (!grown)
            return -1;
        m->data = grown;
        m->cap = cap;
    }
    memcpy(m->data + m->len, bytes, len);
    m->len += len;
    return 0;
}

/* Reads exactly len bytes from pos; -1 (and nothing read) past the end. */
static inline int mem_read(void *ctx, void *bytes, size_t len)
{
    membuf *m = ctx;
    if (len > m->len - m->pos)
        return -1;
    memcpy(bytes, m->data + m->pos, len);
    m->pos += len;
    return 0;
}

static inline tt_plugin_sink mem_sink(membuf *m)
{
    return (tt_plugin_sink){.struct_size = sizeof(tt_plugin_sink), .ctx = m, .write = mem_write};
}

/* A source reading m from its start (pos is reset). */
static inline tt_plugin_source mem_source(membuf *m)
{
    m->pos = 0;
    return (tt_plugin_source){.struct_size = sizeof(tt_plugin_source), .ctx = m,
                              .read = mem_read};
}

#endif
