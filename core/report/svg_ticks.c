/* svg_ticks.c - where an axis's ticks go and how they are labelled: the
 * finest 1-2-5 step that gives at most SVG_MAX_TICKS ticks, each tick the
 * double nearest its decimal so its shortest label reads back exactly. */
#include "report/svg_int.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv.h"

/* A degenerate range gets width so it can be mapped and ticked. */
void svg_widen(double *lo, double *hi)
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
    svg_widen(&lo, &hi);
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
int svg_fixed_axis(const double *t, size_t n)
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
void svg_tick_label(double v, int fixed, char *buf, size_t len)
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
