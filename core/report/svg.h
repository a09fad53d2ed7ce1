/*
 * svg.h - a small SVG chart writer for report.html: one chart per call
 * sequence, inline SVG text (no scripts, no external references), so the
 * report opens from disk and every number a plot shows is text in the file.
 *
 * Usage:
 *   tt_svg *g = tt_svg_new(640, 360, "Objective over time");
 *   tt_svg_axes(g, x_lo, x_hi, y_lo, y_hi, "seconds", "best psw_energy");
 *   tt_svg_line(g, n, xs, ys, 0, "best so far");
 *   tt_svg_points(g, n, xs, ys, 1, "trials");
 *   char *svg = tt_svg_finish(g);   // the caller frees svg; g is freed
 * Coordinates are data units once axes are set (before: nothing may be
 * drawn, TT_ERR_INVALID). Non-finite data points are skipped (a line breaks
 * there). Series colours come from a fixed colour-blind-safe palette by
 * index (series % 8). Ticks: "nice" steps (1, 2, 5 x 10^k), 4-8 per axis,
 * labelled with the shortest text that reads back to the tick. Text is
 * XML-escaped. A legend lists every named series (name != NULL) in order.
 *
 * Every drawn element carries data-* attributes with the numbers it shows
 * (data-x, data-y on points; data-label and data-value on bars;
 * data-points="x1,y1 x2,y2 ..." on lines, all %.17g) so a test can read the
 * plotted numbers back and compare them with results.json.
 *
 * Errors are sticky: after an allocation failure every call is a no-op and
 * tt_svg_finish returns NULL. Not thread-safe per chart.
 */
#ifndef TT_REPORT_SVG_H
#define TT_REPORT_SVG_H

#include <stddef.h>

#include "tautune/tautune.h"

typedef struct tt_svg tt_svg;

/* width, height in pixels (> 0); title may be NULL. NULL on out of memory. */
tt_svg *tt_svg_new(int width, int height, const char *title);

/* Data ranges and axis labels. lo == hi is widened by +-0.5 (or 5 %);
 * non-finite bounds: TT_ERR_INVALID. */
tt_status tt_svg_axes(tt_svg *g, double x_lo, double x_hi, double y_lo, double y_hi,
                      const char *x_label, const char *y_label);

/* Category x axis (bar charts): n labels at x = 0..n-1, instead of numeric
 * x ticks. Call after tt_svg_axes with x range [-0.5, n - 0.5]. */
tt_status tt_svg_x_categories(tt_svg *g, size_t n, const char *const *labels);

tt_status tt_svg_line(tt_svg *g, size_t n, const double *x, const double *y, int series,
                      const char *name);
/* A stepped line (best-so-far curves): horizontal then vertical segments. */
tt_status tt_svg_steps(tt_svg *g, size_t n, const double *x, const double *y, int series,
                       const char *name);
tt_status tt_svg_points(tt_svg *g, size_t n, const double *x, const double *y, int series,
                        const char *name);
/* Vertical bars from y = base to y[i] centred at x[i], width in data units. */
tt_status tt_svg_bars(tt_svg *g, size_t n, const double *x, const double *y, double base,
                      double width, int series, const char *name);
/* Vertical error bars (intervals) at x[i] from lo[i] to hi[i]. */
tt_status tt_svg_error_bars(tt_svg *g, size_t n, const double *x, const double *lo,
                            const double *hi, int series);
/* A dashed reference line between two data points (e.g. random targeting). */
tt_status tt_svg_reference(tt_svg *g, double x0, double y0, double x1, double y1,
                           const char *name);
/* One point highlighted with a ring and a label (the winner, the objective). */
tt_status tt_svg_highlight(tt_svg *g, double x, double y, const char *label);

/* The SVG element as text (caller frees); frees g. NULL after an error. */
char *tt_svg_finish(tt_svg *g);
void tt_svg_free(tt_svg *g); /* discard without finishing; NULL ok */

/* Nice tick positions for [lo, hi]: at most max ticks written to out; returns
 * how many. Exposed for tests. */
size_t tt_svg_ticks(double lo, double hi, double *out, size_t max);

#endif
