/*
 * svg_int.h - what the pieces of the chart writer share (private to
 * core/report): the chart's state, its text buffers, and the helpers each
 * piece lends the others.
 *   svg.c        the public drawing API: axes, layout, series, markers;
 *   svg_text.c   buffers, XML escaping and number formatting;
 *   svg_ticks.c  tick positions and labels;
 *   svg_frame.c  the frame (grid, ticks, labels), the legend, and
 *                tt_svg_finish, which assembles the document.
 * Errors are sticky (svg.c's header comment says how).
 */
#ifndef TT_REPORT_SVG_INT_H
#define TT_REPORT_SVG_INT_H

#include <stddef.h>

#include "report/svg.h"

#define SVG_MAX_TICKS 8
#define SVG_MAX_SIZE 100000
#define SVG_PAD 8.0         /* clip box overhang so edge markers stay whole */
#define SVG_CHAR_W 6.2      /* average glyph width at font-size 11 */
#define SVG_LABEL_MAX 32    /* category labels longer than this are cut */
#define SVG_COORD_MAX 1e6   /* pixel coordinates are clamped to +-this */

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

/* svg_text.c */
tt_status svg_fail(tt_svg *g, tt_status st, const char *msg); /* first error sticks */
void svg_putn(tt_svg *g, sbuf *b, const char *s, size_t n);
void svg_put(tt_svg *g, sbuf *b, const char *s);
void svg_printf(tt_svg *g, sbuf *b, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void svg_escape(tt_svg *g, sbuf *b, const char *s, size_t max_bytes);
void svg_fmt_px(double v, char *buf, size_t len);
void svg_put_px(tt_svg *g, sbuf *b, double v);
void svg_attr_px(tt_svg *g, sbuf *b, const char *name, double v);
void svg_attr_num(tt_svg *g, sbuf *b, const char *name, double v);
void svg_attr_text(tt_svg *g, sbuf *b, const char *name, const char *s);

/* svg_ticks.c */
void svg_widen(double *lo, double *hi);
int svg_fixed_axis(const double *t, size_t n);
void svg_tick_label(double v, int fixed, char *buf, size_t len);

/* svg.c */
double svg_text_w(const char *s, size_t max_chars);
double svg_px_x(const tt_svg *g, double x);
double svg_px_y(const tt_svg *g, double y);
const char *svg_colour(int series);

/* svg_frame.c */
void svg_emit_text(tt_svg *g, sbuf *b, double x, double y, const char *anchor,
                   const char *extra, const char *s, size_t max_bytes);
void svg_emit_line(tt_svg *g, sbuf *b, double x1, double y1, double x2, double y2);

#endif
