/*
 * svg.c - the chart writer behind svg.h.
 *
 * Layout: the chart is decided when the axes are set (margins depend on the
 * widest y tick label, the axis labels and the category labels), so every
 * series is turned into pixel text as soon as it is drawn and appended to a
 * growing body buffer. tt_svg_finish writes the frame (title, grid, ticks,
 * axes), the body inside a nested <svg> (which clips whatever falls outside
 * the plot area, padded a little so markers on the edge stay whole; nested
 * <svg> elements clip by default, so no clipPath ids are needed, which would
 * collide when a report holds several charts), then the legend.
 *
 * Errors are sticky: the first failure (out of memory or a broken contract)
 * is remembered in g->status, every later call returns it and does nothing,
 * and tt_svg_finish returns NULL. The API has no error buffer, so the message
 * is kept in g->err only for debugging.
 *
 * Numbers: pixel coordinates are printed with two decimals (trailing zeros
 * trimmed), data-* attributes with %.17g so they read back exactly, tick
 * labels with the shortest text that reads back (fixed notation for everyday
 * magnitudes, else tt_csv_format_number). The
 * process runs under the C locale, so snprintf prints '.' decimals.
 */
#include "report/svg.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv.h"
#include "util/err.h"

#define SVG_MAX_TICKS 8
#define SVG_MAX_SIZE 100000
#define SVG_PAD 8.0         /* clip box overhang so edge markers stay whole */
#define SVG_CHAR_W 6.2      /* average glyph width at font-size 11 */
#define SVG_LABEL_MAX 32    /* category labels longer than this are cut */
#define SVG_COORD_MAX 1e6   /* pixel coordinates are clamped to +-this */

/* Okabe & Ito (2008) colour-blind-safe palette; black is replaced by a grey
 * because black is already the axis colour. */
static const char *const palette[8] = {
    "#0072B2", "#E69F00", "#009E73", "#D55E00",
    "#CC79A7", "#56B4E9", "#F0E442", "#555555",
};

#define SVG_OCC 24 /* occupancy grid cells per side */

typedef enum { KIND_LINE, KIND_POINTS, KIND_BARS, KIND_REF } legend_kind;

typedef struct {
    char *name; /* owned */
    int series;
    legend_kind kind;
} legend_entry;

typedef struct {
    char *p; /* owned, NUL-terminated when non-NULL */
    size_t len, cap;
} sbuf;

struct tt_svg {
    int width, height;
    char *title; /* owned, may be NULL */

    int have_axes, drawn; /* drawn: layout is frozen once anything is drawn */
    double x_lo, x_hi, y_lo, y_hi;
    char *x_label, *y_label; /* owned, may be NULL */
    char **cats;             /* owned copies, n_cats entries (NULL when 0) */
    size_t n_cats;
    int rotate_cats;

    double ml, mr, mt, mb; /* margins in pixels */
    double pw, ph;         /* plot area size */

    legend_entry *legend;
    size_t n_legend, cap_legend;
    /* Where the data are drawn: counts on a coarse grid over the plot area,
     * so the legend goes to the corner it hides least of (emit_legend). */
    unsigned occ[SVG_OCC][SVG_OCC];

    sbuf body; /* drawn elements, absolute pixel coordinates */
    tt_status status;
    char err[160];
};

/* ---------------------------------------------------------------- errors */

static tt_status fail(tt_svg *g, tt_status st, const char *msg)
{
    if (g->status == TT_OK) {
        g->status = st;
        tt_errf(g->err, sizeof g->err, st, "svg: %s", msg);
    }
    return g->status;
}

/* The status a drawing call starts from: NULL chart, earlier error, or no
 * axes yet. */
static tt_status check_draw(tt_svg *g)
{
    if (!g)
        return TT_ERR_INVALID;
    if (g->status != TT_OK)
        return g->status;
    if (!g->have_axes)
        return fail(g, TT_ERR_INVALID, "nothing may be drawn before tt_svg_axes");
    return TT_OK;
}

/* --------------------------------------------------------------- buffers */

static int sb_reserve(tt_svg *g, sbuf *b, size_t extra)
{
    if (g->status != TT_OK)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            fail(g, TT_ERR_NOMEM, "buffer too large");
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        fail(g, TT_ERR_NOMEM, "out of memory");
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static void sb_putn(tt_svg *g, sbuf *b, const char *s, size_t n)
{
    if (sb_reserve(g, b, n) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_put(tt_svg *g, sbuf *b, const char *s)
{
    sb_putn(g, b, s, strlen(s));
}

__attribute__((format(printf, 3, 4))) static void sb_printf(tt_svg *g, sbuf *b,
                                                            const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        fail(g, TT_ERR_INVALID, "format error");
        return;
    }
    if ((size_t)n < sizeof small) {
        sb_putn(g, b, small, (size_t)n);
        return;
    }
    if (sb_reserve(g, b, (size_t)n) != 0)
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
static void sb_escape(tt_svg *g, sbuf *b, const char *s, size_t max_bytes)
{
    if (!s)
        return;
    const unsigned char *u = (const unsigned char *)s;
    size_t used = 0;
    while (*u) {
        size_t n = utf8_len(u);
        if (max_bytes && used + (n ? n : 1) > max_bytes) {
            sb_put(g, b, "...");
            return;
        }
        if (n == 0) {
            sb_put(g, b, "\xEF\xBF\xBD");
            n = 1;
        } else if (n > 1) {
            sb_putn(g, b, (const char *)u, n);
        } else {
            switch (*u) {
            case '<': sb_put(g, b, "&lt;"); break;
            case '>': sb_put(g, b, "&gt;"); break;
            case '&': sb_put(g, b, "&amp;"); break;
            case '"': sb_put(g, b, "&quot;"); break;
            case '\'': sb_put(g, b, "&apos;"); break;
            default:
                if (*u < 0x20 && *u != '\t' && *u != '\n' && *u != '\r')
                    sb_put(g, b, " ");
                else
                    sb_putn(g, b, (const char *)u, 1);
            }
        }
        u += n;
        used += n;
    }
}

/* Pixel coordinate with two decimals, trailing zeros and "-0" removed. */
static void fmt_px(double v, char *buf, size_t len)
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

static void sb_px(tt_svg *g, sbuf *b, double v)
{
    char t[40];
    fmt_px(v, t, sizeof t);
    sb_put(g, b, t);
}

/* attr="pixel" with a leading space. */
static void sb_attr_px(tt_svg *g, sbuf *b, const char *name, double v)
{
    char t[40];
    fmt_px(v, t, sizeof t);
    sb_printf(g, b, " %s=\"%s\"", name, t);
}

/* attr="%.17g" with a leading space: read back exactly. */
static void sb_attr_num(tt_svg *g, sbuf *b, const char *name, double v)
{
    sb_printf(g, b, " %s=\"%.17g\"", name, v);
}

static void sb_attr_text(tt_svg *g, sbuf *b, const char *name, const char *s)
{
    sb_printf(g, b, " %s=\"", name);
    sb_escape(g, b, s, 0);
    sb_put(g, b, "\"");
}

/* ----------------------------------------------------------------- ticks */

/* A degenerate range gets width so it can be mapped and ticked. */
static void widen(double *lo, double *hi)
{
    if (*lo > *hi) {
        double t = *lo;
        *lo = *hi;
        *hi = t;
    }
    if (*lo == *hi) {
        double d = fabs(*lo) * 0.05;
        if (!(d >= DBL_MIN) || !isfinite(*lo + d) || !isfinite(*lo - d))
            d = 0.5;
        if (!isfinite(*lo + d) || !isfinite(*lo - d))
            d = fabs(*lo) * 0.01;
        *lo -= d;
        *hi += d;
    }
}

/* i * m * 10^k as the double nearest to that decimal, so a tick reads back
 * from its shortest label (0.2, not 2 * 0.1 = 0.2000000000000000111): strtod
 * of "IMe K" rounds correctly at every magnitude, and the text has no
 * decimal point, so the locale does not matter. */
static double tick_value(double i, int m, int k)
{
    char dec[64];
    snprintf(dec, sizeof dec, "%.0fe%d", i * m, k);
    return strtod(dec, NULL);
}

/* Writes the ticks of step m*10^k when there are 1..limit of them; returns
 * how many (0 when the step does not fit or loses precision). */
static size_t try_step(double lo, double hi, int m, int k, double *out, size_t limit)
{
    double s = tick_value(1, m, k);
    if (!(s > 0) || !isfinite(s))
        return 0;
    /* The 1e-9 slack keeps a tick that is an end point up to rounding
     * (0.3 / 0.05 = 5.999...). */
    double a = ceil(lo / s - 1e-9), z = floor(hi / s + 1e-9);
    if (!isfinite(a) || !isfinite(z) || fabs(a) > 0x1p50 || fabs(z) > 0x1p50 || z < a)
        return 0;
    if (z - a + 1 > (double)limit)
        return 0;
    size_t n = 0;
    for (double i = a; i <= z; i++) {
        double v = tick_value(i, m, k);
        if (v == 0)
            v = 0; /* no "-0" */
        if (!isfinite(v) || (n > 0 && !(v > out[n - 1])))
            return 0; /* the step is below the resolution of the doubles */
        out[n++] = v;
    }
    return n;
}

size_t tt_svg_ticks(double lo, double hi, double *out, size_t max)
{
    if (!out || max == 0 || !isfinite(lo) || !isfinite(hi))
        return 0;
    widen(&lo, &hi);
    size_t limit = max < SVG_MAX_TICKS ? max : SVG_MAX_TICKS;
    /* Half spans do not overflow for finite bounds; log10(2) adds back. */
    double half = hi * 0.5 - lo * 0.5;
    int k0 = (int)floor(log10(half) + log10(2.0)) - 2;
    static const int mult[3] = {1, 2, 5};
    /* Steps ascending from about span/1000: the first that fits at most
     * `limit` ticks is the finest readable grid (3..8 ticks for limit 8). */
    for (int k = k0; k <= k0 + 4; k++)
        for (int j = 0; j < 3; j++) {
            size_t n = try_step(lo, hi, mult[j], k, out, limit);
            if (n > 0)
                return n;
        }
    /* A range narrower than the doubles can step through: its end points. */
    out[0] = lo;
    if (max == 1 || hi == lo)
        return 1;
    out[1] = hi;
    return 2;
}

/* Fixed notation for an axis whose ticks all have everyday magnitudes, so
 * one axis never mixes "5000000" with "1e+07". */
static int fixed_axis(const double *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double a = fabs(t[i]);
        if (a != 0 && (a < 1e-4 || a >= 1e7))
            return 0;
    }
    return 1;
}

/* Tick label: the shortest text that reads back as v, in fixed notation
 * when `fixed` ("10", "0.05"; tt_csv_format_number would print 10 as
 * "1e+01"), else the shortest %g. */
static void tick_label(double v, int fixed, char *buf, size_t len)
{
    if (fixed) {
        for (int prec = 0; prec <= 17; prec++) {
            snprintf(buf, len, "%.*f", prec, v == 0 ? 0.0 : v);
            if (strtod(buf, NULL) == v)
                return;
        }
    }
    tt_csv_format_number(v, buf, len);
}

/* ---------------------------------------------------------------- layout */

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *u = (const unsigned char *)s; s && *u; u++)
        n += (*u & 0xC0) != 0x80;
    return n;
}

static double text_w(const char *s, size_t max_chars)
{
    size_t n = utf8_chars(s);
    if (max_chars && n > max_chars)
        n = max_chars + 3;
    return (double)n * SVG_CHAR_W;
}

static double widest_tick_label(double lo, double hi)
{
    double t[SVG_MAX_TICKS];
    size_t n = tt_svg_ticks(lo, hi, t, SVG_MAX_TICKS);
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        char buf[40];
        tick_label(t[i], fixed_axis(t, n), buf, sizeof buf);
        double tw = text_w(buf, 0);
        if (tw > w)
            w = tw;
    }
    return w;
}

/* Margins from what the frame will show; the plot area is the rest. */
static void layout(tt_svg *g)
{
    g->mt = g->title ? 30 : 12;
    g->mr = 16;
    g->ml = 10 + (g->y_label ? 18 : 0) + widest_tick_label(g->y_lo, g->y_hi) + 8;
    double tick_text = 16;
    g->rotate_cats = 0;
    if (g->n_cats > 0) {
        double widest = 0;
        for (size_t i = 0; i < g->n_cats; i++) {
            double w = text_w(g->cats[i], SVG_LABEL_MAX);
            if (w > widest)
                widest = w;
        }
        double slot = (g->width - g->ml - g->mr) / (double)g->n_cats;
        if (widest + 4 > slot) {
            g->rotate_cats = 1;
            tick_text = 10 + widest * 0.64; /* sin(40 degrees) */
        }
    }
    g->mb = 6 + tick_text + (g->x_label ? 18 : 0) + 6;
    g->pw = g->width - g->ml - g->mr;
    g->ph = g->height - g->mt - g->mb;
    if (g->pw < 1)
        g->pw = 1;
    if (g->ph < 1)
        g->ph = 1;
}

static double map_t(double v, double lo, double hi)
{
    /* Halves so that hi - lo cannot overflow. */
    return (v * 0.5 - lo * 0.5) / (hi * 0.5 - lo * 0.5);
}

static double px_x(const tt_svg *g, double x)
{
    return g->ml + map_t(x, g->x_lo, g->x_hi) * g->pw;
}

static double px_y(const tt_svg *g, double y)
{
    return g->mt + g->ph - map_t(y, g->y_lo, g->y_hi) * g->ph;
}

/* Counts a drawn pixel position in the occupancy grid (outside: ignored). */
static void occupy(tt_svg *g, double px, double py)
{
    if (!(g->pw > 0 && g->ph > 0) || !isfinite(px) || !isfinite(py))
        return;
    double u = (px - g->ml) / g->pw, v = (py - g->mt) / g->ph;
    if (u < 0 || u >= 1 || v < 0 || v >= 1)
        return;
    g->occ[(int)(v * SVG_OCC)][(int)(u * SVG_OCC)]++;
}

/* A segment's points at a cell's spacing, so a line counts where it runs. */
static void occupy_segment(tt_svg *g, double x0, double y0, double x1, double y1)
{
    double cell = fmin(g->pw, g->ph) / SVG_OCC, len = hypot(x1 - x0, y1 - y0);
    int steps = cell > 0 ? (int)fmin(1000.0, ceil(len / cell)) : 1;
    for (int k = 0; k <= steps; k++) {
        double f = steps ? (double)k / steps : 0.0;
        occupy(g, x0 + f * (x1 - x0), y0 + f * (y1 - y0));
    }
}

/* ------------------------------------------------------------ public API */

static char *dup_str(tt_svg *g, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (!p) {
        fail(g, TT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(p, s, n);
    return p;
}

tt_svg *tt_svg_new(int width, int height, const char *title)
{
    /* The API returns no status here; a size outside (0, SVG_MAX_SIZE] is a
     * broken contract and gives NULL like out of memory does. */
    if (width <= 0 || height <= 0 || width > SVG_MAX_SIZE || height > SVG_MAX_SIZE)
        return NULL;
    tt_svg *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->width = width;
    g->height = height;
    g->title = dup_str(g, title);
    if (g->status != TT_OK) {
        tt_svg_free(g);
        return NULL;
    }
    return g;
}

void tt_svg_free(tt_svg *g)
{
    if (!g)
        return;
    free(g->title);
    free(g->x_label);
    free(g->y_label);
    for (size_t i = 0; i < g->n_cats; i++)
        free(g->cats[i]);
    free(g->cats);
    for (size_t i = 0; i < g->n_legend; i++)
        free(g->legend[i].name);
    free(g->legend);
    free(g->body.p);
    free(g);
}

tt_status tt_svg_axes(tt_svg *g, double x_lo, double x_hi, double y_lo, double y_hi,
                      const char *x_label, const char *y_label)
{
    if (!g)
        return TT_ERR_INVALID;
    if (g->status != TT_OK)
        return g->status;
    if (!isfinite(x_lo) || !isfinite(x_hi) || !isfinite(y_lo) || !isfinite(y_hi))
        return fail(g, TT_ERR_INVALID, "axis bounds must be finite");
    /* Drawn elements are already in pixels of the old axes. */
    if (g->drawn)
        return fail(g, TT_ERR_INVALID, "axes cannot change after drawing");
    widen(&x_lo, &x_hi);
    widen(&y_lo, &y_hi);
    char *xl = dup_str(g, x_label), *yl = dup_str(g, y_label);
    if (g->status != TT_OK) {
        free(xl);
        free(yl);
        return g->status;
    }
    free(g->x_label);
    free(g->y_label);
    g->x_label = xl;
    g->y_label = yl;
    g->x_lo = x_lo;
    g->x_hi = x_hi;
    g->y_lo = y_lo;
    g->y_hi = y_hi;
    g->have_axes = 1;
    layout(g);
    return TT_OK;
}

tt_status tt_svg_x_categories(tt_svg *g, size_t n, const char *const *labels)
{
    tt_status st = check_draw(g);
    if (st != TT_OK)
        return st;
    if (g->drawn)
        return fail(g, TT_ERR_INVALID, "categories cannot change after drawing");
    if (n > 0 && !labels)
        return fail(g, TT_ERR_INVALID, "category labels are NULL");
    char **cats = n ? calloc(n, sizeof *cats) : NULL;
    if (n && !cats)
        return fail(g, TT_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        cats[i] = dup_str(g, labels[i] ? labels[i] : "");
        if (!cats[i]) {
            for (size_t j = 0; j < i; j++)
                free(cats[j]);
            free(cats);
            return g->status;
        }
    }
    for (size_t i = 0; i < g->n_cats; i++)
        free(g->cats[i]);
    free(g->cats);
    g->cats = cats;
    g->n_cats = n;
    layout(g);
    return TT_OK;
}

static tt_status add_legend(tt_svg *g, const char *name, int series, legend_kind kind)
{
    if (!name)
        return TT_OK;
    if (g->n_legend == g->cap_legend) {
        size_t cap = g->cap_legend ? 2 * g->cap_legend : 4;
        legend_entry *p = realloc(g->legend, cap * sizeof *p);
        if (!p)
            return fail(g, TT_ERR_NOMEM, "out of memory");
        g->legend = p;
        g->cap_legend = cap;
    }
    char *copy = dup_str(g, name);
    if (!copy)
        return g->status;
    g->legend[g->n_legend++] = (legend_entry){copy, series, kind};
    return TT_OK;
}

static const char *colour(int series)
{
    return palette[((series % 8) + 8) % 8];
}

static tt_status check_xy(tt_svg *g, size_t n, const double *x, const double *y)
{
    tt_status st = check_draw(g);
    if (st != TT_OK)
        return st;
    if (n > 0 && (!x || !y))
        return fail(g, TT_ERR_INVALID, "data arrays are NULL");
    return TT_OK;
}

/* Group header shared by every series: colour once, plus its identity. */
static void open_group(tt_svg *g, const char *kind, int series, const char *name,
                       const char *paint)
{
    sbuf *b = &g->body;
    sb_printf(g, b, "<g data-kind=\"%s\" data-series=\"%d\"", kind, series);
    if (name)
        sb_attr_text(g, b, "data-name", name);
    sb_printf(g, b, " %s>\n", paint);
}

/* One polyline per run of finite points; stepped: horizontal then vertical.
 * A run of one point is drawn as a round dot so it stays visible. */
static void emit_run(tt_svg *g, const double *x, const double *y, size_t a, size_t z,
                     int stepped)
{
    sbuf *b = &g->body;
    sb_put(g, b, "<polyline points=\"");
    for (size_t i = a; i < z; i++) {
        if (i > a) {
            sb_put(g, b, " ");
            if (stepped) {
                sb_px(g, b, px_x(g, x[i]));
                sb_put(g, b, ",");
                sb_px(g, b, px_y(g, y[i - 1]));
                sb_put(g, b, " ");
            }
        }
        sb_px(g, b, px_x(g, x[i]));
        sb_put(g, b, ",");
        sb_px(g, b, px_y(g, y[i]));
    }
    if (z - a == 1) {
        sb_put(g, b, " ");
        sb_px(g, b, px_x(g, x[a]));
        sb_put(g, b, ",");
        sb_px(g, b, px_y(g, y[a]));
    }
    for (size_t i = a; i < z; i++)
        if (i > a)
            occupy_segment(g, px_x(g, x[i - 1]), px_y(g, y[i - 1]), px_x(g, x[i]),
                           px_y(g, stepped ? y[i - 1] : y[i]));
        else
            occupy(g, px_x(g, x[i]), px_y(g, y[i]));
    sb_put(g, b, "\" data-points=\"");
    for (size_t i = a; i < z; i++)
        sb_printf(g, b, "%s%.17g,%.17g", i > a ? " " : "", x[i], y[i]);
    sb_put(g, b, "\"/>\n");
}

static tt_status draw_line(tt_svg *g, size_t n, const double *x, const double *y,
                           int series, const char *name, int stepped)
{
    tt_status st = check_xy(g, n, x, y);
    if (st != TT_OK)
        return st;
    g->drawn = 1;
    char paint[96];
    snprintf(paint, sizeof paint,
             "fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-linecap=\"round\" "
             "stroke-linejoin=\"round\"",
             colour(series));
    open_group(g, stepped ? "steps" : "line", series, name, paint);
    size_t i = 0;
    while (i < n) {
        while (i < n && !(isfinite(x[i]) && isfinite(y[i])))
            i++;
        size_t a = i;
        while (i < n && isfinite(x[i]) && isfinite(y[i]))
            i++;
        if (i > a)
            emit_run(g, x, y, a, i, stepped);
    }
    sb_put(g, &g->body, "</g>\n");
    if (g->status != TT_OK)
        return g->status;
    return add_legend(g, name, series, KIND_LINE);
}

tt_status tt_svg_line(tt_svg *g, size_t n, const double *x, const double *y, int series,
                      const char *name)
{
    return draw_line(g, n, x, y, series, name, 0);
}

tt_status tt_svg_steps(tt_svg *g, size_t n, const double *x, const double *y, int series,
                       const char *name)
{
    return draw_line(g, n, x, y, series, name, 1);
}

tt_status tt_svg_points(tt_svg *g, size_t n, const double *x, const double *y, int series,
                        const char *name)
{
    tt_status st = check_xy(g, n, x, y);
    if (st != TT_OK)
        return st;
    g->drawn = 1;
    sbuf *b = &g->body;
    char paint[96];
    snprintf(paint, sizeof paint, "fill=\"%s\" fill-opacity=\"0.8\" stroke=\"#fff\" "
             "stroke-width=\"0.5\"", colour(series));
    open_group(g, "points", series, name, paint);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            continue;
        occupy(g, px_x(g, x[i]), px_y(g, y[i]));
        sb_put(g, b, "<circle");
        sb_attr_px(g, b, "cx", px_x(g, x[i]));
        sb_attr_px(g, b, "cy", px_y(g, y[i]));
        sb_put(g, b, " r=\"3.5\"");
        sb_attr_num(g, b, "data-x", x[i]);
        sb_attr_num(g, b, "data-y", y[i]);
        sb_put(g, b, "/>\n");
    }
    sb_put(g, b, "</g>\n");
    if (g->status != TT_OK)
        return g->status;
    return add_legend(g, name, series, KIND_POINTS);
}

/* The category label at x when x is a category index, else NULL. */
static const char *category_at(const tt_svg *g, double x)
{
    if (g->n_cats == 0 || x < 0 || x != floor(x) || x >= (double)g->n_cats)
        return NULL;
    return g->cats[(size_t)x];
}

tt_status tt_svg_bars(tt_svg *g, size_t n, const double *x, const double *y, double base,
                      double width, int series, const char *name)
{
    tt_status st = check_xy(g, n, x, y);
    if (st != TT_OK)
        return st;
    if (!isfinite(base) || !isfinite(width) || !(width > 0))
        return fail(g, TT_ERR_INVALID, "bars need a finite base and a width > 0");
    g->drawn = 1;
    sbuf *b = &g->body;
    char paint[64];
    snprintf(paint, sizeof paint, "fill=\"%s\"", colour(series));
    open_group(g, "bars", series, name, paint);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            continue;
        double x0 = px_x(g, x[i] - width / 2), x1 = px_x(g, x[i] + width / 2);
        double y0 = px_y(g, y[i]), y1 = px_y(g, base);
        occupy_segment(g, (x0 + x1) / 2, y0, (x0 + x1) / 2, y1);
        sb_put(g, b, "<rect");
        sb_attr_px(g, b, "x", fmin(x0, x1));
        sb_attr_px(g, b, "y", fmin(y0, y1));
        sb_attr_px(g, b, "width", fabs(x1 - x0));
        sb_attr_px(g, b, "height", fabs(y1 - y0));
        const char *cat = category_at(g, x[i]);
        if (cat) {
            sb_attr_text(g, b, "data-label", cat);
        } else {
            char t[40];
            snprintf(t, sizeof t, "%.17g", x[i]);
            sb_attr_text(g, b, "data-label", t);
        }
        sb_attr_num(g, b, "data-x", x[i]);
        sb_attr_num(g, b, "data-value", y[i]);
        sb_put(g, b, "/>\n");
    }
    sb_put(g, b, "</g>\n");
    if (g->status != TT_OK)
        return g->status;
    return add_legend(g, name, series, KIND_BARS);
}

static void emit_hline(tt_svg *g, double x0, double x1, double y)
{
    sbuf *b = &g->body;
    sb_put(g, b, "<line");
    sb_attr_px(g, b, "x1", x0);
    sb_attr_px(g, b, "y1", y);
    sb_attr_px(g, b, "x2", x1);
    sb_attr_px(g, b, "y2", y);
    sb_put(g, b, "/>\n");
}

tt_status tt_svg_error_bars(tt_svg *g, size_t n, const double *x, const double *lo,
                            const double *hi, int series)
{
    tt_status st = check_xy(g, n, x, lo);
    if (st != TT_OK)
        return st;
    if (n > 0 && !hi)
        return fail(g, TT_ERR_INVALID, "data arrays are NULL");
    g->drawn = 1;
    sbuf *b = &g->body;
    char paint[64];
    snprintf(paint, sizeof paint, "stroke=\"%s\" stroke-width=\"1.5\"", colour(series));
    open_group(g, "error_bars", series, NULL, paint);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(lo[i]) || !isfinite(hi[i]))
            continue;
        double px = px_x(g, x[i]), y0 = px_y(g, lo[i]), y1 = px_y(g, hi[i]);
        occupy_segment(g, px, y0, px, y1);
        /* The whisker carries the numbers; the two caps are decoration. */
        sb_put(g, b, "<line");
        sb_attr_px(g, b, "x1", px);
        sb_attr_px(g, b, "y1", y0);
        sb_attr_px(g, b, "x2", px);
        sb_attr_px(g, b, "y2", y1);
        sb_attr_num(g, b, "data-x", x[i]);
        sb_attr_num(g, b, "data-lo", lo[i]);
        sb_attr_num(g, b, "data-hi", hi[i]);
        sb_put(g, b, "/>\n");
        emit_hline(g, px - 4, px + 4, y0);
        emit_hline(g, px - 4, px + 4, y1);
    }
    sb_put(g, b, "</g>\n");
    return g->status;
}

tt_status tt_svg_reference(tt_svg *g, double x0, double y0, double x1, double y1,
                           const char *name)
{
    tt_status st = check_draw(g);
    if (st != TT_OK)
        return st;
    g->drawn = 1;
    if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1))
        return TT_OK; /* a non-finite point is skipped, like in a series */
    sbuf *b = &g->body;
    sb_put(g, b, "<line data-kind=\"reference\"");
    if (name)
        sb_attr_text(g, b, "data-name", name);
    sb_attr_px(g, b, "x1", px_x(g, x0));
    sb_attr_px(g, b, "y1", px_y(g, y0));
    sb_attr_px(g, b, "x2", px_x(g, x1));
    sb_attr_px(g, b, "y2", px_y(g, y1));
    sb_put(g, b, " stroke=\"#666\" stroke-width=\"1.5\" stroke-dasharray=\"5,4\"");
    sb_attr_num(g, b, "data-x0", x0);
    sb_attr_num(g, b, "data-y0", y0);
    sb_attr_num(g, b, "data-x1", x1);
    sb_attr_num(g, b, "data-y1", y1);
    sb_put(g, b, "/>\n");
    if (g->status != TT_OK)
        return g->status;
    return add_legend(g, name, -1, KIND_REF);
}

tt_status tt_svg_highlight(tt_svg *g, double x, double y, const char *label)
{
    tt_status st = check_draw(g);
    if (st != TT_OK)
        return st;
    g->drawn = 1;
    if (!isfinite(x) || !isfinite(y))
        return TT_OK;
    sbuf *b = &g->body;
    double px = px_x(g, x), py = px_y(g, y);
    sb_put(g, b, "<g data-kind=\"highlight\"");
    sb_attr_num(g, b, "data-x", x);
    sb_attr_num(g, b, "data-y", y);
    if (label)
        sb_attr_text(g, b, "data-label", label);
    sb_put(g, b, ">\n<circle");
    sb_attr_px(g, b, "cx", px);
    sb_attr_px(g, b, "cy", py);
    sb_put(g, b, " r=\"7\" fill=\"none\" stroke=\"#000\" stroke-width=\"2\"/>\n");
    if (label) {
        /* Left of the ring when the ring sits in the right half, so the
         * label stays inside the plot. */
        int left = px > g->ml + g->pw / 2;
        sb_put(g, b, "<text");
        sb_attr_px(g, b, "x", left ? px - 10 : px + 10);
        sb_attr_px(g, b, "y", py - 8);
        /* A white halo keeps the label readable over lines and points. */
        sb_printf(g, b,
                  " text-anchor=\"%s\" fill=\"#000\" stroke=\"#fff\" stroke-width=\"3\""
                  " paint-order=\"stroke\">",
                  left ? "end" : "start");
        sb_escape(g, b, label, 0);
        sb_put(g, b, "</text>\n");
    }
    sb_put(g, b, "</g>\n");
    return g->status;
}

/* ----------------------------------------------------------------- frame */

static void emit_text(tt_svg *g, sbuf *b, double x, double y, const char *anchor,
                      const char *extra, const char *s, size_t max_bytes)
{
    sb_put(g, b, "<text");
    sb_attr_px(g, b, "x", x);
    sb_attr_px(g, b, "y", y);
    sb_printf(g, b, " text-anchor=\"%s\"%s>", anchor, extra);
    sb_escape(g, b, s, max_bytes);
    sb_put(g, b, "</text>\n");
}

static void emit_line(tt_svg *g, sbuf *b, double x1, double y1, double x2, double y2)
{
    sb_put(g, b, "<line");
    sb_attr_px(g, b, "x1", x1);
    sb_attr_px(g, b, "y1", y1);
    sb_attr_px(g, b, "x2", x2);
    sb_attr_px(g, b, "y2", y2);
    sb_put(g, b, "/>\n");
}

static void emit_grid(tt_svg *g, sbuf *b, const double *xt, size_t nx, const double *yt,
                      size_t ny)
{
    double left = g->ml, right = g->ml + g->pw, top = g->mt, bottom = g->mt + g->ph;
    sb_put(g, b, "<g stroke=\"#e6e6e6\" stroke-width=\"1\">\n");
    for (size_t i = 0; i < ny; i++)
        emit_line(g, b, left, px_y(g, yt[i]), right, px_y(g, yt[i]));
    for (size_t i = 0; i < nx; i++)
        emit_line(g, b, px_x(g, xt[i]), top, px_x(g, xt[i]), bottom);
    sb_put(g, b, "</g>\n");
}

static void emit_x_categories(tt_svg *g, sbuf *b)
{
    double bottom = g->mt + g->ph;
    /* Thin the labels when even rotated they would overlap. */
    size_t every = 1;
    double need = g->rotate_cats ? 13 : 0;
    if (need > 0 && g->pw / (double)g->n_cats < need)
        every = (size_t)ceil(need * (double)g->n_cats / g->pw);
    for (size_t i = 0; i < g->n_cats; i += every) {
        double x = px_x(g, (double)i);
        if (x < g->ml - 0.5 || x > g->ml + g->pw + 0.5)
            continue;
        if (!g->rotate_cats) {
            emit_text(g, b, x, bottom + 18, "middle", "", g->cats[i], SVG_LABEL_MAX);
            continue;
        }
        char extra[128], xs[40], ys[40];
        fmt_px(x, xs, sizeof xs);
        fmt_px(bottom + 12, ys, sizeof ys);
        snprintf(extra, sizeof extra, " transform=\"rotate(-40 %s %s)\"", xs, ys);
        emit_text(g, b, x, bottom + 12, "end", extra, g->cats[i], SVG_LABEL_MAX);
    }
}

static void emit_frame(tt_svg *g, sbuf *b)
{
    double xt[SVG_MAX_TICKS], yt[SVG_MAX_TICKS];
    size_t nx = g->n_cats ? 0 : tt_svg_ticks(g->x_lo, g->x_hi, xt, SVG_MAX_TICKS);
    size_t ny = tt_svg_ticks(g->y_lo, g->y_hi, yt, SVG_MAX_TICKS);
    double left = g->ml, bottom = g->mt + g->ph;
    emit_grid(g, b, xt, nx, yt, ny);

    sb_put(g, b, "<g fill=\"#333\">\n");
    char t[40];
    for (size_t i = 0; i < ny; i++) {
        tick_label(yt[i], fixed_axis(yt, ny), t, sizeof t);
        emit_text(g, b, left - 6, px_y(g, yt[i]) + 4, "end", "", t, 0);
    }
    for (size_t i = 0; i < nx; i++) {
        tick_label(xt[i], fixed_axis(xt, nx), t, sizeof t);
        emit_text(g, b, px_x(g, xt[i]), bottom + 18, "middle", "", t, 0);
    }
    if (g->n_cats)
        emit_x_categories(g, b);
    if (g->x_label)
        emit_text(g, b, g->ml + g->pw / 2, g->height - 8, "middle", "", g->x_label, 0);
    if (g->y_label) {
        double x = 14, y = g->mt + g->ph / 2;
        char extra[128], xs[40], ys[40];
        fmt_px(x, xs, sizeof xs);
        fmt_px(y, ys, sizeof ys);
        snprintf(extra, sizeof extra, " transform=\"rotate(-90 %s %s)\"", xs, ys);
        emit_text(g, b, x, y, "middle", extra, g->y_label, 0);
    }
    sb_put(g, b, "</g>\n");

    /* Axes and tick marks over the grid. */
    sb_put(g, b, "<g stroke=\"#333\" stroke-width=\"1\">\n");
    emit_line(g, b, left, g->mt, left, bottom);
    emit_line(g, b, left, bottom, left + g->pw, bottom);
    for (size_t i = 0; i < ny; i++)
        emit_line(g, b, left - 4, px_y(g, yt[i]), left, px_y(g, yt[i]));
    for (size_t i = 0; i < nx; i++)
        emit_line(g, b, px_x(g, xt[i]), bottom, px_x(g, xt[i]), bottom + 4);
    for (size_t i = 0; i < g->n_cats; i++) {
        double x = px_x(g, (double)i);
        if (x >= left - 0.5 && x <= left + g->pw + 0.5)
            emit_line(g, b, x, bottom, x, bottom + 4);
    }
    sb_put(g, b, "</g>\n");
}

static void emit_swatch(tt_svg *g, sbuf *b, const legend_entry *e, double x, double y)
{
    const char *c = e->kind == KIND_REF ? "#666" : colour(e->series);
    switch (e->kind) {
    case KIND_POINTS:
        sb_put(g, b, "<circle");
        sb_attr_px(g, b, "cx", x + 9);
        sb_attr_px(g, b, "cy", y);
        sb_printf(g, b, " r=\"3.5\" fill=\"%s\"/>\n", c);
        break;
    case KIND_BARS:
        sb_put(g, b, "<rect");
        sb_attr_px(g, b, "x", x + 4);
        sb_attr_px(g, b, "y", y - 5);
        sb_printf(g, b, " width=\"10\" height=\"10\" fill=\"%s\"/>\n", c);
        break;
    case KIND_LINE:
    case KIND_REF:
        sb_put(g, b, "<line");
        sb_attr_px(g, b, "x1", x);
        sb_attr_px(g, b, "y1", y);
        sb_attr_px(g, b, "x2", x + 18);
        sb_attr_px(g, b, "y2", y);
        sb_printf(g, b, " stroke=\"%s\" stroke-width=\"2\"%s/>\n", c,
                  e->kind == KIND_REF ? " stroke-dasharray=\"5,4\"" : "");
        break;
    }
}

static void emit_legend(tt_svg *g, sbuf *b)
{
    if (g->n_legend == 0)
        return;
    double widest = 0;
    for (size_t i = 0; i < g->n_legend; i++) {
        double w = text_w(g->legend[i].name, SVG_LABEL_MAX);
        if (w > widest)
            widest = w;
    }
    double row = 16, bw = 8 + 18 + 6 + widest + 8, bh = 6 + row * (double)g->n_legend;
    /* The corner whose box covers the fewest drawn data (top right first
     * on a tie): a legend must not hide the peak a caption points at. */
    double corners[4][2] = {{g->ml + g->pw - bw - 6, g->mt + 6},
                            {g->ml + 6, g->mt + 6},
                            {g->ml + g->pw - bw - 6, g->mt + g->ph - bh - 6},
                            {g->ml + 6, g->mt + g->ph - bh - 6}};
    double x = corners[0][0], y = corners[0][1];
    unsigned best = UINT32_MAX;
    for (int c = 0; c < 4; c++) {
        unsigned hits = 0;
        for (int r = 0; r < SVG_OCC; r++)
            for (int q = 0; q < SVG_OCC; q++) {
                double cx0 = g->ml + g->pw * q / SVG_OCC, cx1 = g->ml + g->pw * (q + 1) / SVG_OCC;
                double cy0 = g->mt + g->ph * r / SVG_OCC, cy1 = g->mt + g->ph * (r + 1) / SVG_OCC;
                if (cx1 > corners[c][0] && cx0 < corners[c][0] + bw && cy1 > corners[c][1] &&
                    cy0 < corners[c][1] + bh)
                    hits += g->occ[r][q];
            }
        if (hits < best)
            best = hits, x = corners[c][0], y = corners[c][1];
    }
    sb_put(g, b, "<g data-kind=\"legend\">\n<rect");
    sb_attr_px(g, b, "x", x);
    sb_attr_px(g, b, "y", y);
    sb_attr_px(g, b, "width", bw);
    sb_attr_px(g, b, "height", bh);
    sb_put(g, b, " fill=\"#fff\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n");
    for (size_t i = 0; i < g->n_legend; i++) {
        double cy = y + 3 + row * ((double)i + 0.5);
        emit_swatch(g, b, &g->legend[i], x + 8, cy);
        emit_text(g, b, x + 8 + 18 + 6, cy + 4, "start", " fill=\"#333\"", g->legend[i].name,
                  SVG_LABEL_MAX);
    }
    sb_put(g, b, "</g>\n");
}

char *tt_svg_finish(tt_svg *g)
{
    if (!g)
        return NULL;
    if (g->status == TT_OK && !g->have_axes) {
        /* A chart without axes is a title only; lay it out on a unit range
         * so the frame has somewhere to go. */
        tt_svg_axes(g, 0, 1, 0, 1, NULL, NULL);
    }
    sbuf out = {0};
    sb_printf(g, &out,
              "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
              "viewBox=\"0 0 %d %d\" role=\"img\" font-family=\"sans-serif\" "
              "font-size=\"11\">\n",
              g->width, g->height, g->width, g->height);
    if (g->title) {
        sb_put(g, &out, "<title>");
        sb_escape(g, &out, g->title, 0);
        sb_put(g, &out, "</title>\n");
    }
    sb_printf(g, &out, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", g->width,
              g->height);
    if (g->title)
        emit_text(g, &out, g->width / 2.0, 19, "middle",
                  " font-size=\"13\" font-weight=\"bold\" fill=\"#222\"", g->title, 0);
    emit_frame(g, &out);
    sb_put(g, &out, "<svg");
    sb_attr_px(g, &out, "x", g->ml - SVG_PAD);
    sb_attr_px(g, &out, "y", g->mt - SVG_PAD);
    sb_attr_px(g, &out, "width", g->pw + 2 * SVG_PAD);
    sb_attr_px(g, &out, "height", g->ph + 2 * SVG_PAD);
    /* viewBox equal to the placement: drawn coordinates stay absolute. */
    char vb[4][40];
    fmt_px(g->ml - SVG_PAD, vb[0], sizeof vb[0]);
    fmt_px(g->mt - SVG_PAD, vb[1], sizeof vb[1]);
    fmt_px(g->pw + 2 * SVG_PAD, vb[2], sizeof vb[2]);
    fmt_px(g->ph + 2 * SVG_PAD, vb[3], sizeof vb[3]);
    sb_printf(g, &out, " viewBox=\"%s %s %s %s\">\n", vb[0], vb[1], vb[2], vb[3]);
    if (g->body.p)
        sb_putn(g, &out, g->body.p, g->body.len);
    sb_put(g, &out, "</svg>\n");
    emit_legend(g, &out);
    sb_put(g, &out, "</svg>\n");
    char *text = g->status == TT_OK ? out.p : NULL;
    if (!text)
        free(out.p);
    tt_svg_free(g);
    return text;
}
