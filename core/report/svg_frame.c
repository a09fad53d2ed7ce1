/* svg_frame.c - what tt_svg_finish adds around the drawn series: the title,
 * grid, tick marks and labels, category labels, axis labels, the legend in
 * the corner that hides the least data, and the document itself. */
#include "report/svg_int.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void svg_emit_text(tt_svg *g, sbuf *b, double x, double y, const char *anchor,
                      const char *extra, const char *s, size_t max_bytes)
{
    svg_put(g, b, "<text");
    svg_attr_px(g, b, "x", x);
    svg_attr_px(g, b, "y", y);
    svg_printf(g, b, " text-anchor=\"%s\"%s>", anchor, extra);
    svg_escape(g, b, s, max_bytes);
    svg_put(g, b, "</text>\n");
}

void svg_emit_line(tt_svg *g, sbuf *b, double x1, double y1, double x2, double y2)
{
    svg_put(g, b, "<line");
    svg_attr_px(g, b, "x1", x1);
    svg_attr_px(g, b, "y1", y1);
    svg_attr_px(g, b, "x2", x2);
    svg_attr_px(g, b, "y2", y2);
    svg_put(g, b, "/>\n");
}

static void emit_grid(tt_svg *g, sbuf *b, const double *xt, size_t nx, const double *yt,
                      size_t ny)
{
    double left = g->ml, right = g->ml + g->pw, top = g->mt, bottom = g->mt + g->ph;
    svg_put(g, b, "<g stroke=\"#e6e6e6\" stroke-width=\"1\">\n");
    for (size_t i = 0; i < ny; i++)
        svg_emit_line(g, b, left, svg_px_y(g, yt[i]), right, svg_px_y(g, yt[i]));
    for (size_t i = 0; i < nx; i++)
        svg_emit_line(g, b, svg_px_x(g, xt[i]), top, svg_px_x(g, xt[i]), bottom);
    svg_put(g, b, "</g>\n");
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
        double x = svg_px_x(g, (double)i);
        if (x < g->ml - 0.5 || x > g->ml + g->pw + 0.5)
            continue;
        if (!g->rotate_cats) {
            svg_emit_text(g, b, x, bottom + 18, "middle", "", g->cats[i], SVG_LABEL_MAX);
            continue;
        }
        char extra[128], xs[40], ys[40];
        svg_fmt_px(x, xs, sizeof xs);
        svg_fmt_px(bottom + 12, ys, sizeof ys);
        snprintf(extra, sizeof extra, " transform=\"rotate(-40 %s %s)\"", xs, ys);
        svg_emit_text(g, b, x, bottom + 12, "end", extra, g->cats[i], SVG_LABEL_MAX);
    }
}

static void emit_frame(tt_svg *g, sbuf *b)
{
    double xt[SVG_MAX_TICKS], yt[SVG_MAX_TICKS];
    size_t nx = g->n_cats ? 0 : tt_svg_ticks(g->x_lo, g->x_hi, xt, SVG_MAX_TICKS);
    size_t ny = tt_svg_ticks(g->y_lo, g->y_hi, yt, SVG_MAX_TICKS);
    double left = g->ml, bottom = g->mt + g->ph;
    emit_grid(g, b, xt, nx, yt, ny);

    svg_put(g, b, "<g fill=\"#333\">\n");
    char t[40];
    for (size_t i = 0; i < ny; i++) {
        svg_tick_label(yt[i], svg_fixed_axis(yt, ny), t, sizeof t);
        svg_emit_text(g, b, left - 6, svg_px_y(g, yt[i]) + 4, "end", "", t, 0);
    }
    for (size_t i = 0; i < nx; i++) {
        svg_tick_label(xt[i], svg_fixed_axis(xt, nx), t, sizeof t);
        svg_emit_text(g, b, svg_px_x(g, xt[i]), bottom + 18, "middle", "", t, 0);
    }
    if (g->n_cats)
        emit_x_categories(g, b);
    if (g->x_label)
        svg_emit_text(g, b, g->ml + g->pw / 2, g->height - 8, "middle", "", g->x_label, 0);
    if (g->y_label) {
        double x = 14, y = g->mt + g->ph / 2;
        char extra[128], xs[40], ys[40];
        svg_fmt_px(x, xs, sizeof xs);
        svg_fmt_px(y, ys, sizeof ys);
        snprintf(extra, sizeof extra, " transform=\"rotate(-90 %s %s)\"", xs, ys);
        svg_emit_text(g, b, x, y, "middle", extra, g->y_label, 0);
    }
    svg_put(g, b, "</g>\n");

    /* Axes and tick marks over the grid. */
    svg_put(g, b, "<g stroke=\"#333\" stroke-width=\"1\">\n");
    svg_emit_line(g, b, left, g->mt, left, bottom);
    svg_emit_line(g, b, left, bottom, left + g->pw, bottom);
    for (size_t i = 0; i < ny; i++)
        svg_emit_line(g, b, left - 4, svg_px_y(g, yt[i]), left, svg_px_y(g, yt[i]));
    for (size_t i = 0; i < nx; i++)
        svg_emit_line(g, b, svg_px_x(g, xt[i]), bottom, svg_px_x(g, xt[i]), bottom + 4);
    for (size_t i = 0; i < g->n_cats; i++) {
        double x = svg_px_x(g, (double)i);
        if (x >= left - 0.5 && x <= left + g->pw + 0.5)
            svg_emit_line(g, b, x, bottom, x, bottom + 4);
    }
    svg_put(g, b, "</g>\n");
}

static void emit_swatch(tt_svg *g, sbuf *b, const legend_entry *e, double x, double y)
{
    const char *c = e->kind == KIND_REF ? "#666" : svg_colour(e->series);
    switch (e->kind) {
    case KIND_POINTS:
        svg_put(g, b, "<circle");
        svg_attr_px(g, b, "cx", x + 9);
        svg_attr_px(g, b, "cy", y);
        svg_printf(g, b, " r=\"3.5\" fill=\"%s\"/>\n", c);
        break;
    case KIND_BARS:
        svg_put(g, b, "<rect");
        svg_attr_px(g, b, "x", x + 4);
        svg_attr_px(g, b, "y", y - 5);
        svg_printf(g, b, " width=\"10\" height=\"10\" fill=\"%s\"/>\n", c);
        break;
    case KIND_LINE:
    case KIND_REF:
        svg_put(g, b, "<line");
        svg_attr_px(g, b, "x1", x);
        svg_attr_px(g, b, "y1", y);
        svg_attr_px(g, b, "x2", x + 18);
        svg_attr_px(g, b, "y2", y);
        svg_printf(g, b, " stroke=\"%s\" stroke-width=\"2\"%s/>\n", c,
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
        double w = svg_text_w(g->legend[i].name, SVG_LABEL_MAX);
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
    svg_put(g, b, "<g data-kind=\"legend\">\n<rect");
    svg_attr_px(g, b, "x", x);
    svg_attr_px(g, b, "y", y);
    svg_attr_px(g, b, "width", bw);
    svg_attr_px(g, b, "height", bh);
    svg_put(g, b, " fill=\"#fff\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n");
    for (size_t i = 0; i < g->n_legend; i++) {
        double cy = y + 3 + row * ((double)i + 0.5);
        emit_swatch(g, b, &g->legend[i], x + 8, cy);
        svg_emit_text(g, b, x + 8 + 18 + 6, cy + 4, "start", " fill=\"#333\"", g->legend[i].name,
                  SVG_LABEL_MAX);
    }
    svg_put(g, b, "</g>\n");
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
    svg_printf(g, &out,
              "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
              "viewBox=\"0 0 %d %d\" role=\"img\" font-family=\"sans-serif\" "
              "font-size=\"11\">\n",
              g->width, g->height, g->width, g->height);
    if (g->title) {
        svg_put(g, &out, "<title>");
        svg_escape(g, &out, g->title, 0);
        svg_put(g, &out, "</title>\n");
    }
    svg_printf(g, &out, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", g->width,
              g->height);
    if (g->title)
        svg_emit_text(g, &out, g->width / 2.0, 19, "middle",
                  " font-size=\"13\" font-weight=\"bold\" fill=\"#222\"", g->title, 0);
    emit_frame(g, &out);
    svg_put(g, &out, "<svg");
    svg_attr_px(g, &out, "x", g->ml - SVG_PAD);
    svg_attr_px(g, &out, "y", g->mt - SVG_PAD);
    svg_attr_px(g, &out, "width", g->pw + 2 * SVG_PAD);
    svg_attr_px(g, &out, "height", g->ph + 2 * SVG_PAD);
    /* viewBox equal to the placement: drawn coordinates stay absolute. */
    char vb[4][40];
    svg_fmt_px(g->ml - SVG_PAD, vb[0], sizeof vb[0]);
    svg_fmt_px(g->mt - SVG_PAD, vb[1], sizeof vb[1]);
    svg_fmt_px(g->pw + 2 * SVG_PAD, vb[2], sizeof vb[2]);
    svg_fmt_px(g->ph + 2 * SVG_PAD, vb[3], sizeof vb[3]);
    svg_printf(g, &out, " viewBox=\"%s %s %s %s\">\n", vb[0], vb[1], vb[2], vb[3]);
    if (g->body.p)
        svg_putn(g, &out, g->body.p, g->body.len);
    svg_put(g, &out, "</svg>\n");
    emit_legend(g, &out);
    svg_put(g, &out, "</svg>\n");
    char *text = g->status == TT_OK ? out.p : NULL;
    if (!text)
        free(out.p);
    tt_svg_free(g);
    return text;
}
