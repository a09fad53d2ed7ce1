/* msg.c - appending to and reading byte messages (msg.h). */
#include "util/msg.h"

#include <stdlib.h>
#include <string.h>

void tt_msg_free(tt_msg *m)
{
    free(m->data);
    memset(m, 0, sizeof *m);
}

int tt_msg_put(tt_msg *m, const void *bytes, size_t len)
{
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 256;
        while (cap < m->len + len)
            cap *= 2;
        unsigned char *grown = realloc(m->data, cap);
        if (!grown)
            return -1;
        m->data = grown;
        m->cap = cap;
    }
    if (len)
        memcpy(m->data + m->len, bytes, len);
    m->len += len;
    return 0;
}

int tt_msg_put_u32(tt_msg *m, uint32_t v) { return tt_msg_put(m, &v, sizeof v); }
int tt_msg_put_u64(tt_msg *m, uint64_t v) { return tt_msg_put(m, &v, sizeof v); }
int tt_msg_put_f64(tt_msg *m, double v) { return tt_msg_put(m, &v, sizeof v); }

int tt_msg_put_str(tt_msg *m, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return tt_msg_put_u32(m, (uint32_t)n) || tt_msg_put(m, s, n);
}

int tt_msg_put_f64s(tt_msg *m, const double *v, size_t n)
{
    return tt_msg_put_u64(m, v ? n : 0) || (v && tt_msg_put(m, v, sizeof *v * n));
}

tt_msg_reader tt_msg_reader_of(const unsigned char *data, size_t len)
{
    return (tt_msg_reader){data, data ? data + len : NULL, 0};
}

void tt_msg_get(tt_msg_reader *c, void *out, size_t len)
{
    if (c->bad || (size_t)(c->end - c->p) < len) {
        c->bad = 1;
        memset(out, 0, len);
        return;
    }
    memcpy(out, c->p, len);
    c->p += len;
}

uint32_t tt_msg_get_u32(tt_msg_reader *c) { uint32_t v; tt_msg_get(c, &v, sizeof v); return v; }
uint64_t tt_msg_get_u64(tt_msg_reader *c) { uint64_t v; tt_msg_get(c, &v, sizeof v); return v; }
double tt_msg_get_f64(tt_msg_reader *c) { double v; tt_msg_get(c, &v, sizeof v); return v; }

void tt_msg_get_str(tt_msg_reader *c, char *buf, size_t len)
{
    uint32_t n = tt_msg_get_u32(c);
    const unsigned char *s = tt_msg_get_bytes(c, n);
    size_t keep = s ? (n < len - 1 ? n : len - 1) : 0;
    if (keep)
        memcpy(buf, s, keep);
    buf[keep] = '\0';
}

const unsigned char *tt_msg_get_bytes(tt_msg_reader *c, size_t len)
{
    if (c->bad || (size_t)(c->end - c->p) < len) {
        c->bad = 1;
        return NULL;
    }
    const unsigned char *at = c->p;
    c->p += len;
    return at;
}

int tt_msg_get_f64s(tt_msg_reader *c, size_t n, double **out)
{
    uint64_t count = tt_msg_get_u64(c);
    *out = NULL;
    if (count == 0 && !c->bad)
        return 0;
    const unsigned char *p = count == n ? tt_msg_get_bytes(c, sizeof(double) * n) : NULL;
    if (!p || !(*out = malloc(sizeof **out * n + 1))) {
        c->bad = 1;
        return -1;
    }
    memcpy(*out, p, sizeof **out * n);
    return 0;
}

int tt_msg_done(const tt_msg_reader *c)
{
    return !c->bad && c->p == c->end;
}
