/* svg_text.c - the chart writer's text: growable buffers with sticky
 * errors, XML escaping (invalid UTF-8 and control characters made safe), and
 * pixel and data numbers as svg.c's header comment describes them. */
#include "report/svg_int.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

tt_status svg_fail(tt_svg *g, tt_status st, const char *msg)
{
    if (g->status == TT_OK) {
        g->status = st;
        tt_errf(g->err, sizeof g->err, st, "svg: %s", msg);
    }
    return g->status;
}

/* --------------------------------------------------------------- buffers */

static int svg_reserve(tt_svg *g, sbuf *b, size_t extra)
{
    if (g->status != TT_OK)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            svg_fail(g, TT_ERR_NOMEM, "buffer too large");
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        svg_fail(g, TT_ERR_NOMEM, "out of memory");
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void svg_putn(tt_svg *g, sbuf *b, const char *s, size_t n)
{
    if (svg_reserve(g, b, n) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void svg_put(tt_svg *g, sbuf *b, const char *s)
{
    svg_putn(g, b, s, strlen(s));
}

__attribute__((format(printf, 3, 4))) void svg_printf(tt_svg *g, sbuf *b,
                                                            const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        svg_fail(g, TT_ERR_INVALID, "format error");
        return;
    }
    if ((size_t)n < sizeof small) {
        svg_putn(g, b, small, (size_t)n);
        return;
    }
    if (svg_reserve(g, b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    unsigned cp = c & (0x3Fu >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* Escaped XML text of at most max_bytes input bytes (0: no limit). Invalid
 * UTF-8 becomes U+FFFD and control characters a space, because XML 1.0 does
 * not allow them at all, escaped or not. Cut text ends with "...". */
void svg_escape(tt_svg *g, sbuf *b, const char *s, size_t max_bytes)
{
    if (!s)
        return;
    const unsigned char *u = (const unsigned char *)s;
    size_t used = 0;
    while (*u) {
        size_t n = utf8_len(u);
        if (max_bytes && used + (n ? n : 1) > max_bytes) {
            svg_put(g, b, "...");
            return;
        }
        if (n == 0) {
            svg_put(g, b, "\xEF\xBF\xBD");
            n = 1;
        } else if (n > 1) {
            svg_putn(g, b, (const char *)u, n);
        } else {
            switch (*u) {
            case '<': svg_put(g, b, "&lt;"); break;
            case '>': svg_put(g, b, "&gt;"); break;
            case '&': svg_put(g, b, "&amp;"); break;
            case '"': svg_put(g, b, "&quot;"); break;
            case '\'': svg_put(g, b, "&apos;"); break;
            default:
                if (*u < 0x20 && *u != '\t' && *u != '\n' && *u != '\r')
                    svg_put(g, b, " ");
                else
                    svg_putn(g, b, (const char *)u, 1);
            }
        }
        u += n;
        used += n;
    }
}

/* Pixel coordinate with two decimals, trailing zeros and "-0" removed. */
void svg_fmt_px(double v, char *buf, size_t len)
{
    if (!(v > -SVG_COORD_MAX))
        v = -SVG_COORD_MAX; /* also catches NaN, which never reaches here */
    if (v > SVG_COORD_MAX)
        v = SVG_COORD_MAX;
    snprintf(buf, len, "%.2f", v);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf);
        while (end > dot + 1 && end[-1] == '0')
            *--end = '\0';
        if (end == dot + 1)
            *dot = '\0';
    }
    if (strcmp(buf, "-0") == 0)
        strcpy(buf, "0");
}

void svg_put_px(tt_svg *g, sbuf *b, double v)
{
    char t[40];
    svg_fmt_px(v, t, sizeof t);
    svg_put(g, b, t);
}

/* attr="pixel" with a leading space. */
void svg_attr_px(tt_svg *g, sbuf *b, const char *name, double v)
{
    char t[40];
    svg_fmt_px(v, t, sizeof t);
    svg_printf(g, b, " %s=\"%s\"", name, t);
}

/* attr="%.17g" with a leading space: read back exactly. */
void svg_attr_num(tt_svg *g, sbuf *b, const char *name, double v)
{
    svg_printf(g, b, " %s=\"%.17g\"", name, v);
}

void svg_attr_text(tt_svg *g, sbuf *b, const char *name, const char *s)
{
    svg_printf(g, b, " %s=\"", name);
    svg_escape(g, b, s, 0);
    svg_put(g, b, "\"");
}
