/*
 * svg.c - the chart writer behind svg.h: its drawing API (axes, layout,
 * series, markers); svg_int.h lists the other pieces.
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
#include "report/svg_int.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

/* Okabe & Ito (2008) colour-blind-safe palette; black is replaced by a grey
 * because black is already the axis colour. */
static const char *const palette[8] = {
    "#0072B2", "#E69F00", "#009E73", "#D55E00",
    "#CC79A7", "#56B4E9", "#F0E442", "#555555",
};

/* ---------------------------------------------------------------- errors */

/* The status a drawing call starts from: NULL chart, earlier error, or no
 * axes yet. */
static tt_status check_draw(tt_svg *g)
{
    if (!g)
        return TT_ERR_INVALID;
    if (g->status != TT_OK)
        return g->status;
    if (!g->have_axes)
        return svg_fail(g, TT_ERR_INVALID, "nothing may be drawn before tt_svg_axes");
    return TT_OK;
}

/* ---------------------------------------------------------------- layout */

static size_t svg_utf8_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *u = (const unsigned char *)s; s && *u; u++)
        n += (*u & 0xC0) != 0x80;
    return n;
}

double svg_text_w(const char *s, size_t max_chars)
{
    size_t n = svg_utf8_chars(s);
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
        svg_tick_label(t[i], svg_fixed_axis(t, n), buf, sizeof buf);
        double tw = svg_text_w(buf, 0);
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
            double w = svg_text_w(g->cats[i], SVG_LABEL_MAX);
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

double svg_px_x(const tt_svg *g, double x)
{
    return g->ml + map_t(x, g->x_lo, g->x_hi) * g->pw;
}

double svg_px_y(const tt_svg *g, double y)
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
        svg_fail(g, TT_ERR_NOMEM, "out of memory");
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
        return svg_fail(g, TT_ERR_INVALID, "axis bounds must be finite");
    /* Drawn elements are already in pixels of the old axes. */
    if (g->drawn)
        return svg_fail(g, TT_ERR_INVALID, "axes cannot change after drawing");
    svg_widen(&x_lo, &x_hi);
    svg_widen(&y_lo, &y_hi);
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
        return svg_fail(g, TT_ERR_INVALID, "categories cannot change after drawing");
    if (n > 0 && !labels)
        return svg_fail(g, TT_ERR_INVALID, "category labels are NULL");
    char **cats = n ? calloc(n, sizeof *cats) : NULL;
    if (n && !cats)
        return svg_fail(g, TT_ERR_NOMEM, "out of memory");
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
            return svg_fail(g, TT_ERR_NOMEM, "out of memory");
        g->legend = p;
        g->cap_legend = cap;
    }
    char *copy = dup_str(g, name);
    if (!copy)
        return g->status;
    g->legend[g->n_legend++] = (legend_entry){copy, series, kind};
    return TT_OK;
}

const char *svg_colour(int series)
{
    return palette[((series % 8) + 8) % 8];
}

static tt_status check_xy(tt_svg *g, size_t n, const double *x, const double *y)
{
    tt_status st = check_draw(g);
    if (st != TT_OK)
        return st;
    if (n > 0 && (!x || !y))
        return svg_fail(g, TT_ERR_INVALID, "data arrays are NULL");
    return TT_OK;
}

/* Group header shared by every series: svg_colour once, plus its identity. */
static void open_group(tt_svg *g, const char *kind, int series, const char *name,
                       const char *paint)
{
    sbuf *b = &g->body;
    svg_printf(g, b, "<g data-kind=\"%s\" data-series=\"%d\"", kind, series);
    if (name)
        svg_attr_text(g, b, "data-name", name);
    svg_printf(g, b, " %s>\n", paint);
}

/* One polyline per run of finite points; stepped: horizontal then vertical.
 * A run of one point is drawn as a round dot so it stays visible. */
static void emit_run(tt_svg *g, const double *x, const double *y, size_t a, size_t z,
                     int stepped)
{
    sbuf *b = &g->body;
    svg_put(g, b, "<polyline points=\"");
    for (size_t i = a; i < z; i++) {
        if (i > a) {
            svg_put(g, b, " ");
            if (stepped) {
                svg_put_px(g, b, svg_px_x(g, x[i]));
                svg_put(g, b, ",");
                svg_put_px(g, b, svg_px_y(g, y[i - 1]));
                svg_put(g, b, " ");
            }
        }
        svg_put_px(g, b, svg_px_x(g, x[i]));
        svg_put(g, b, ",");
        svg_put_px(g, b, svg_px_y(g, y[i]));
    }
    if (z - a == 1) {
        svg_put(g, b, " ");
        svg_put_px(g, b, svg_px_x(g, x[a]));
        svg_put(g, b, ",");
        svg_put_px(g, b, svg_px_y(g, y[a]));
    }
    for (size_t i = a; i < z; i++)
        if (i > a)
            occupy_segment(g, svg_px_x(g, x[i - 1]), svg_px_y(g, y[i - 1]), svg_px_x(g, x[i]),
                           svg_px_y(g, stepped ? y[i - 1] : y[i]));
        else
            occupy(g, svg_px_x(g, x[i]), svg_px_y(g, y[i]));
    svg_put(g, b, "\" data-points=\"");
    for (size_t i = a; i < z; i++)
        svg_printf(g, b, "%s%.17g,%.17g", i > a ? " " : "", x[i], y[i]);
    svg_put(g, b, "\"/>\n");
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
             svg_colour(series));
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
    svg_put(g, &g->body, "</g>\n");
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
             "stroke-width=\"0.5\"", svg_colour(series));
    open_group(g, "points", series, name, paint);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            continue;
        occupy(g, svg_px_x(g, x[i]), svg_px_y(g, y[i]));
        svg_put(g, b, "<circle");
        svg_attr_px(g, b, "cx", svg_px_x(g, x[i]));
        svg_attr_px(g, b, "cy", svg_px_y(g, y[i]));
        svg_put(g, b, " r=\"3.5\"");
        svg_attr_num(g, b, "data-x", x[i]);
        svg_attr_num(g, b, "data-y", y[i]);
        svg_put(g, b, "/>\n");
    }
    svg_put(g, b, "</g>\n");
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
        return svg_fail(g, TT_ERR_INVALID, "bars need a finite base and a width > 0");
    g->drawn = 1;
    sbuf *b = &g->body;
    char paint[64];
    snprintf(paint, sizeof paint, "fill=\"%s\"", svg_colour(series));
    open_group(g, "bars", series, name, paint);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            continue;
        double x0 = svg_px_x(g, x[i] - width / 2), x1 = svg_px_x(g, x[i] + width / 2);
        double y0 = svg_px_y(g, y[i]), y1 = svg_px_y(g, base);
        occupy_segment(g, (x0 + x1) / 2, y0, (x0 + x1) / 2, y1);
        svg_put(g, b, "<rect");
        svg_attr_px(g, b, "x", fmin(x0, x1));
        svg_attr_px(g, b, "y", fmin(y0, y1));
        svg_attr_px(g, b, "width", fabs(x1 - x0));
        svg_attr_px(g, b, "height", fabs(y1 - y0));
        const char *cat = category_at(g, x[i]);
        if (cat) {
            svg_attr_text(g, b, "data-label", cat);
        } else {
            char t[40];
            snprintf(t, sizeof t, "%.17g", x[i]);
            svg_attr_text(g, b, "data-label", t);
        }
        svg_attr_num(g, b, "data-x", x[i]);
        svg_attr_num(g, b, "data-value", y[i]);
        svg_put(g, b, "/>\n");
    }
    svg_put(g, b, "</g>\n");
    if (g->status != TT_OK)
        return g->status;
    return add_legend(g, name, series, KIND_BARS);
}

static void emit_hline(tt_svg *g, double x0, double x1, double y)
{
    svg_emit_line(g, &g->body, x0, y, x1, y);
}

tt_status tt_svg_error_bars(tt_svg *g, size_t n, const double *x, const double *lo,
                            const double *hi, int series)
{
    tt_status st = check_xy(g, n, x, lo);
    if (st != TT_OK)
        return st;
    if (n > 0 && !hi)
        return svg_fail(g, TT_ERR_INVALID, "data arrays are NULL");
    g->drawn = 1;
    sbuf *b = &g->body;
    char paint[64];
    snprintf(paint, sizeof paint, "stroke=\"%s\" stroke-width=\"1.5\"", svg_colour(series));
    open_group(g, "error_bars", series, NULL, paint);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(lo[i]) || !isfinite(hi[i]))
            continue;
        double px = svg_px_x(g, x[i]), y0 = svg_px_y(g, lo[i]), y1 = svg_px_y(g, hi[i]);
        occupy_segment(g, px, y0, px, y1);
        /* The whisker carries the numbers; the two caps are decoration. */
        svg_put(g, b, "<line");
        svg_attr_px(g, b, "x1", px);
        svg_attr_px(g, b, "y1", y0);
        svg_attr_px(g, b, "x2", px);
        svg_attr_px(g, b, "y2", y1);
        svg_attr_num(g, b, "data-x", x[i]);
        svg_attr_num(g, b, "data-lo", lo[i]);
        svg_attr_num(g, b, "data-hi", hi[i]);
        svg_put(g, b, "/>\n");
        emit_hline(g, px - 4, px + 4, y0);
        emit_hline(g, px - 4, px + 4, y1);
    }
    svg_put(g, b, "</g>\n");
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
    svg_put(g, b, "<line data-kind=\"reference\"");
    if (name)
        svg_attr_text(g, b, "data-name", name);
    svg_attr_px(g, b, "x1", svg_px_x(g, x0));
    svg_attr_px(g, b, "y1", svg_px_y(g, y0));
    svg_attr_px(g, b, "x2", svg_px_x(g, x1));
    svg_attr_px(g, b, "y2", svg_px_y(g, y1));
    svg_put(g, b, " stroke=\"#666\" stroke-width=\"1.5\" stroke-dasharray=\"5,4\"");
    svg_attr_num(g, b, "data-x0", x0);
    svg_attr_num(g, b, "data-y0", y0);
    svg_attr_num(g, b, "data-x1", x1);
    svg_attr_num(g, b, "data-y1", y1);
    svg_put(g, b, "/>\n");
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
    double px = svg_px_x(g, x), py = svg_px_y(g, y);
    svg_put(g, b, "<g data-kind=\"highlight\"");
    svg_attr_num(g, b, "data-x", x);
    svg_attr_num(g, b, "data-y", y);
    if (label)
        svg_attr_text(g, b, "data-label", label);
    svg_put(g, b, ">\n<circle");
    svg_attr_px(g, b, "cx", px);
    svg_attr_px(g, b, "cy", py);
    svg_put(g, b, " r=\"7\" fill=\"none\" stroke=\"#000\" stroke-width=\"2\"/>\n");
    if (label) {
        /* Left of the ring when the ring sits in the right half, so the
         * label stays inside the plot. */
        int left = px > g->ml + g->pw / 2;
        svg_put(g, b, "<text");
        svg_attr_px(g, b, "x", left ? px - 10 : px + 10);
        svg_attr_px(g, b, "y", py - 8);
        /* A white halo keeps the label readable over lines and points. */
        svg_printf(g, b,
                  " text-anchor=\"%s\" fill=\"#000\" stroke=\"#fff\" stroke-width=\"3\""
                  " paint-order=\"stroke\">",
                  left ? "end" : "start");
        svg_escape(g, b, label, 0);
        svg_put(g, b, "</text>\n");
    }
    svg_put(g, b, "</g>\n");
    return g->status;
}
