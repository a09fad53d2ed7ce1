/* test_svg.c - the SVG chart writer: nice ticks, well-formed XML, escaping,
 * exact read-back of the data-* numbers, skipped non-finite points and the
 * sticky error contract. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data/csv.h"
#include "report/svg.h"

/* ------------------------------------------------ a strict XML checker */

/* The five predefined entities only: the writer never needs numeric
 * references, and an HTML-only entity (&nbsp;) would break XML. */
static int entity_len(const char *p)
{
    static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (size_t i = 0; i < 5; i++)
        if (strncmp(p, ents[i], strlen(ents[i])) == 0)
            return (int)strlen(ents[i]);
    return 0;
}

static int is_name_char(char c, int first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':')
        return 1;
    return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}

static size_t name_len(const char *p)
{
    size_t n = 0;
    while (is_name_char(p[n], n == 0))
        n++;
    return n;
}

/* Returns NULL when s is one well-formed element (plus surrounding
 * whitespace), else a description of the first problem. Balanced and
 * nested tags, quoted attributes without duplicates, no raw '<', '>' or
 * '&' in text or values, no comments, CDATA or processing instructions. */
static const char *xml_check(const char *s)
{
    const char *stack[64];
    size_t stack_len[64];
    size_t depth = 0;
    int roots = 0;
    const char *p = s;
    while (*p) {
        if (*p != '<') {
            if (depth == 0 && !strchr(" \t\r\n", *p))
                return "text outside the root element";
            if (*p == '>')
                return "raw '>' in text";
            if (*p == '&') {
                int n = entity_len(p);
                if (!n)
                    return "bad entity in text";
                p += n;
                continue;
            }
            p++;
            continue;
        }
        p++;
        if (*p == '/') {
            p++;
            size_t n = name_len(p);
            if (n == 0 || depth == 0)
                return "bad closing tag";
            depth--;
            if (n != stack_len[depth] || strncmp(p, stack[depth], n) != 0)
                return "closing tag does not match";
            p += n;
            while (*p == ' ' || *p == '\n')
                p++;
            if (*p != '>')
                return "closing tag not ended";
            p++;
            continue;
        }
        size_t n = name_len(p);
        if (n == 0)
            return "bad tag name (comment, PI or stray '<')";
        if (depth == 0 && roots++ > 0)
            return "more than one root element";
        const char *name = p;
        p += n;
        const char *attrs[64];
        size_t attr_lens[64], n_attrs = 0;
        for (;;) {
            int space = 0;
            while (*p == ' ' || *p == '\n' || *p == '\t') {
                p++;
                space = 1;
            }
            if (*p == '>' || (p[0] == '/' && p[1] == '>'))
                break;
            if (!space)
                return "attributes not separated by space";
            size_t an = name_len(p);
            if (an == 0)
                return "bad attribute name";
            for (size_t i = 0; i < n_attrs; i++)
                if (attr_lens[i] == an && strncmp(attrs[i], p, an) == 0)
                    return "duplicate attribute";
            if (n_attrs == 64)
                return "too many attributes";
            attrs[n_attrs] = p;
            attr_lens[n_attrs++] = an;
            p += an;
            if (*p != '=' || p[1] != '"')
                return "attribute value not double-quoted";
            p += 2;
            while (*p != '"') {
                if (*p == '\0' || *p == '<' || *p == '>')
                    return "bad character in attribute value";
                if (*p == '&') {
                    int en = entity_len(p);
                    if (!en)
                        return "bad entity in attribute value";
                    p += en;
                } else {
                    p++;
                }
            }
            p++;
        }
        if (*p == '/') {
            p += 2;
            continue;
        }
        p++;
        if (depth == 64)
            return "nesting too deep";
        stack[depth] = name;
        stack_len[depth++] = n;
    }
    if (depth != 0)
        return "unclosed element";
    if (roots != 1)
        return "no root element";
    return NULL;
}

static void test_checker_rejects(void **state)
{
    (void)state;
    assert_null(xml_check("<a x=\"1\"><b/>t &amp; u</a>"));
    assert_non_null(xml_check("<a><b></a></b>"));
    assert_non_null(xml_check("<a x=1/>"));
    assert_non_null(xml_check("<a>x < y</a>"));
    assert_non_null(xml_check("<a>x & y</a>"));
    assert_non_null(xml_check("<a>&nbsp;</a>"));
    assert_non_null(xml_check("<a x=\"1\" x=\"2\"/>"));
    assert_non_null(xml_check("<a x=\"<\"/>"));
    assert_non_null(xml_check("<a>"));
    assert_non_null(xml_check("<a/><b/>"));
}

/* ---------------------------------------------------------- read-back */

static size_t count_str(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Every value of attribute `attr` (exact name, preceded by a space) parsed
 * as a double, in document order; returns how many. */
static size_t read_attr(const char *s, const char *attr, double *out, size_t max)
{
    char key[64];
    snprintf(key, sizeof key, " %s=\"", attr);
    size_t n = 0;
    for (const char *p = strstr(s, key); p; p = strstr(p + 1, key)) {
        const char *v = p + strlen(key);
        char *end;
        double d = strtod(v, &end);
        assert_true(end > v);
        assert_int_equal(*end, '"');
        if (n < max)
            out[n] = d;
        n++;
    }
    return n;
}

/* All data-points pairs of every polyline, concatenated in order. */
static size_t read_points(const char *s, double *xs, double *ys, size_t max)
{
    const char *key = " data-points=\"";
    size_t n = 0;
    for (const char *p = strstr(s, key); p; p = strstr(p + 1, key)) {
        const char *v = p + strlen(key);
        for (;;) {
            char *end;
            double x = strtod(v, &end);
            assert_true(end > v);
            assert_int_equal(*end, ',');
            v = end + 1;
            double y = strtod(v, &end);
            assert_true(end > v);
            if (n < max) {
                xs[n] = x;
                ys[n] = y;
            }
            n++;
            v = end;
            if (*v == '"')
                break;
            assert_int_equal(*v, ' ');
            v++;
        }
    }
    return n;
}

/* -------------------------------------------------------------- ticks */

/* Checks the tick contract on [lo, hi]: 2..8 ticks, a constant step of
 * 1, 2 or 5 x 10^k, all within [lo, hi] widened by one step, every tick
 * the correctly rounded value of its decimal i*m*10^k (strtod of "Ie K",
 * an independent reference), so its shortest label is short. */
static void check_ticks(double lo, double hi)
{
    double t[16];
    size_t n = tt_svg_ticks(lo, hi, t, 16);
    assert_in_range(n, 2, 8);
    double step = (t[n - 1] - t[0]) / (double)(n - 1);
    int k = (int)floor(log10(step) + 1e-9);
    double m = step / pow(10, k);
    int mi = (int)lround(m);
    assert_true(mi == 1 || mi == 2 || mi == 5);
    assert_true(fabs(m - mi) < 1e-6);
    double a = fmin(lo, hi), b = fmax(lo, hi);
    if (a == b) { /* a degenerate range is widened first */
        a -= fabs(a) > 0 ? fabs(a) * 0.05 : 0.5;
        b += fabs(b) > 0 ? fabs(b) * 0.05 : 0.5;
    }
    for (size_t i = 0; i < n; i++) {
        assert_true(t[i] >= a - step && t[i] <= b + step);
        if (i > 0)
            assert_true(fabs((t[i] - t[i - 1]) - step) <= 1e-9 * step);
        long long idx = llround(t[i] / (mi * pow(10, k)));
        char dec[64];
        snprintf(dec, sizeof dec, "%llde%d", idx * mi, k);
        assert_true(t[i] == strtod(dec, NULL));
        char label[40];
        tt_csv_format_number(t[i], label, sizeof label);
        assert_true(strlen(label) <= 12);
        assert_null(strstr(label, "00000"));
        assert_null(strstr(label, "99999"));
    }
}

static void test_ticks_examples(void **state)
{
    (void)state;
    double t[16];
    size_t n = tt_svg_ticks(0, 1, t, 16);
    static const char *const want[] = {"0", "0.2", "0.4", "0.6", "0.8", "1"};
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) {
        char label[40];
        tt_csv_format_number(t[i], label, sizeof label);
        assert_string_equal(label, want[i]);
    }
    /* [-3.7, 12.1]: step 1 gives 16 ticks, step 2 gives -2, 0, ..., 12. */
    n = tt_svg_ticks(-3.7, 12.1, t, 16);
    assert_int_equal(n, 8);
    for (size_t i = 0; i < n; i++)
        assert_true(t[i] == -2.0 + 2.0 * (double)i);
    /* 0.3 / 0.05 rounds to 5.999...: the end point 0.3 must still count. */
    n = tt_svg_ticks(0.1, 0.3, t, 16);
    assert_true(n >= 2);
    assert_true(t[n - 1] == 0.3);
    /* max is honoured and non-finite ranges give nothing. */
    assert_true(tt_svg_ticks(0, 1, t, 3) <= 3);
    assert_true(tt_svg_ticks(0, 1, t, 3) >= 1);
    assert_int_equal(tt_svg_ticks(0, 1, t, 0), 0);
    assert_int_equal(tt_svg_ticks(0, 1, NULL, 8), 0);
    assert_int_equal(tt_svg_ticks(NAN, 1, t, 8), 0);
    assert_int_equal(tt_svg_ticks(0, INFINITY, t, 8), 0);
}

static void test_ticks_properties(void **state)
{
    (void)state;
    static const double ranges[][2] = {
        {0, 1}, {-3.7, 12.1}, {0.001, 0.0037}, {1e6, 3.3e6}, {-1, -0.5},
        {5, 5}, {0, 0}, {-1e-12, 1e-12}, {0.1, 0.3}, {12.1, -3.7},
        {0, 97}, {-0.02, 0.013}, {1e-300, 3e-300}, {-7e200, 2e201}, {99.5, 100.5},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        check_ticks(ranges[i][0], ranges[i][1]);
    /* Pseudo-random ranges over many magnitudes (fixed LCG, reproducible). */
    uint64_t s = 12345;
    for (int r = 0; r < 2000; r++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u1 = (double)(s >> 11) / 9007199254740992.0;
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u2 = (double)(s >> 11) / 9007199254740992.0;
        double scale = pow(10, floor(u1 * 20) - 10);
        double lo = (u2 - 0.5) * scale * 10, hi = lo + scale * (0.05 + u1 * 3);
        check_ticks(lo, hi);
    }
}

/* ------------------------------------------------------------ charts */

static const double lx[] = {0, 0.1, 1.0 / 3, 2, NAN, 3.5, 4, 7.25};
static const double ly[] = {1e-300, -2.5e17, 3.141592653589793, 0.2, 1, INFINITY, 0.7, 2};
#define NL (sizeof lx / sizeof lx[0])

/* A chart with every element type. */
static char *full_chart(void)
{
    tt_svg *g = tt_svg_new(640, 360, "Objective <over> time & \"more\"");
    assert_non_null(g);
    assert_int_equal(tt_svg_axes(g, 0, 8, -1, 4, "seconds", "best psw_energy"), TT_OK);
    assert_int_equal(tt_svg_line(g, NL, lx, ly, 0, "line <a>"), TT_OK);
    assert_int_equal(tt_svg_steps(g, NL, lx, ly, 1, "best so far"), TT_OK);
    assert_int_equal(tt_svg_points(g, NL, lx, ly, 2, "trials & 'co'"), TT_OK);
    static const double bx[] = {1, 2, 3}, by[] = {0.5, -0.25, 2};
    assert_int_equal(tt_svg_bars(g, 3, bx, by, 0, 0.6, 3, "bars"), TT_OK);
    static const double elo[] = {0.1, NAN, 1.5}, ehi[] = {0.9, 1, 2.5};
    assert_int_equal(tt_svg_error_bars(g, 3, bx, elo, ehi, 4), TT_OK);
    assert_int_equal(tt_svg_reference(g, 0, 0, 8, 4, "random targeting"), TT_OK);
    assert_int_equal(tt_svg_highlight(g, 7.25, 2, "winner <t_learner>"), TT_OK);
    assert_int_equal(tt_svg_highlight(g, 0.5, 0.5, NULL), TT_OK);
    char *svg = tt_svg_finish(g);
    assert_non_null(svg);
    return svg;
}

static void test_full_chart_well_formed(void **state)
{
    (void)state;
    char *svg = full_chart();
    const char *problem = xml_check(svg);
    if (problem)
        fail_msg("not well-formed: %s\n%s", problem, svg);
    assert_int_equal(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39), 0);
    assert_non_null(strstr(svg, " role=\"img\""));
    assert_non_null(strstr(svg, " viewBox=\"0 0 640 360\""));
    assert_non_null(strstr(svg, "<polyline"));
    assert_non_null(strstr(svg, "<circle"));
    assert_non_null(strstr(svg, "<rect"));
    assert_non_null(strstr(svg, "stroke-dasharray"));
    assert_non_null(strstr(svg, " data-lo=\""));
    /* Nothing active and nothing fetched: the only URI is the namespace. */
    assert_null(strstr(svg, "<script"));
    assert_null(strstr(svg, "<style"));
    assert_int_equal(count_str(svg, "http"), 1);
    assert_null(strstr(svg, "href"));
    /* Non-finite numbers never reach the text. */
    assert_null(strstr(svg, "nan"));
    assert_null(strstr(svg, "inf"));
    /* Legend: every named series once, in order. */
    const char *a = strstr(svg, "data-kind=\"legend\"");
    assert_non_null(a);
    const char *names[] = {"line &lt;a&gt;", "best so far", "trials &amp; &apos;co&apos;",
                           "bars", "random targeting"};
    for (size_t i = 0; i < 5; i++) {
        char tag[80];
        snprintf(tag, sizeof tag, ">%s</text>", names[i]);
        const char *b = strstr(a, tag);
        assert_non_null(b);
        a = b;
    }
    free(svg);
}

static void test_escaping(void **state)
{
    (void)state;
    tt_svg *g = tt_svg_new(300, 200, "a<b>&\"c'");
    assert_non_null(g);
    assert_int_equal(tt_svg_axes(g, 0, 1, 0, 1, "x <&>", "y \"q\""), TT_OK);
    static const double x[] = {0.5}, y[] = {0.5};
    assert_int_equal(tt_svg_points(g, 1, x, y, 9, "<script>alert(1)</script>"), TT_OK);
    /* Invalid UTF-8 and control characters cannot appear in XML at all. */
    assert_int_equal(tt_svg_highlight(g, 0.5, 0.5, "bad\xff\x01 \xc3\xa9t\xc3\xa9"), TT_OK);
    char *svg = tt_svg_finish(g);
    assert_non_null(svg);
    assert_null(xml_check(svg));
    assert_non_null(strstr(svg, "<title>a&lt;b&gt;&amp;&quot;c&apos;</title>"));
    assert_non_null(strstr(svg, ">x &lt;&amp;&gt;</text>"));
    assert_non_null(strstr(svg, ">y &quot;q&quot;</text>"));
    /* Tick labels are the shortest text: 0.6 never prints as 0.6000...1. */
    assert_non_null(strstr(svg, ">0.2</text>"));
    assert_non_null(strstr(svg, ">0.6</text>"));
    assert_null(strstr(svg, "<script"));
    assert_non_null(strstr(svg, "&lt;script&gt;"));
    assert_null(strchr(svg, '\x01'));
    assert_null(strchr(svg, '\xff'));
    assert_non_null(strstr(svg, "bad\xef\xbf\xbd  \xc3\xa9t\xc3\xa9"));
    free(svg);
}

static void test_read_back_exact(void **state)
{
    (void)state;
    char *svg = full_chart();
    /* data-points: the line and the steps each give the finite pairs of
     * (lx, ly), in order, bit for bit. */
    double xs[64], ys[64];
    size_t n = read_points(svg, xs, ys, 64);
    size_t finite = 0;
    for (size_t i = 0; i < NL; i++)
        finite += isfinite(lx[i]) && isfinite(ly[i]);
    assert_int_equal(finite, 6);
    assert_int_equal(n, 2 * finite);
    for (size_t pass = 0, j = 0; pass < 2; pass++)
        for (size_t i = 0; i < NL; i++) {
            if (!isfinite(lx[i]) || !isfinite(ly[i]))
                continue;
            assert_true(xs[j] == lx[i]);
            assert_true(ys[j] == ly[i]);
            j++;
        }
    /* A NaN in the middle breaks each line into two polylines. */
    assert_int_equal(count_str(svg, "<polyline"), 4);
    /* Bars: data-value in order; error bars: data-lo/data-hi of the finite
     * intervals only. */
    double v[8];
    assert_int_equal(read_attr(svg, "data-value", v, 8), 3);
    assert_true(v[0] == 0.5 && v[1] == -0.25 && v[2] == 2);
    assert_int_equal(read_attr(svg, "data-lo", v, 8), 2);
    assert_true(v[0] == 0.1 && v[1] == 1.5);
    assert_int_equal(read_attr(svg, "data-hi", v, 8), 2);
    assert_true(v[0] == 0.9 && v[1] == 2.5);
    /* Points: data-y has the points then the two highlights. */
    double py[16];
    assert_int_equal(read_attr(svg, "data-y", py, 16), finite + 2);
    for (size_t i = 0, j = 0; i < NL; i++)
        if (isfinite(lx[i]) && isfinite(ly[i]))
            assert_true(py[j++] == ly[i]);
    assert_true(py[finite] == 2 && py[finite + 1] == 0.5);
    free(svg);
}

static void test_many_points_read_back(void **state)
{
    (void)state;
    /* Thousands of awkward doubles: exercises buffer growth and %.17g. */
    size_t n = 5000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    for (size_t i = 0; i < n; i++) {
        x[i] = (double)i / 7.0;
        y[i] = sin((double)i) * 1e-3 + 1.0 / 3.0;
    }
    x[17] = NAN;
    y[4000] = -INFINITY;
    tt_svg *g = tt_svg_new(800, 400, NULL);
    assert_int_equal(tt_svg_axes(g, 0, (double)n / 7.0, 0.332, 0.335, NULL, NULL), TT_OK);
    assert_int_equal(tt_svg_points(g, n, x, y, 0, NULL), TT_OK);
    char *svg = tt_svg_finish(g);
    assert_non_null(svg);
    assert_null(xml_check(svg));
    assert_null(strstr(svg, "<title>"));
    assert_null(strstr(svg, "data-kind=\"legend\""));
    double *bx = malloc(n * sizeof *bx), *by = malloc(n * sizeof *by);
    assert_int_equal(read_attr(svg, "data-x", bx, n), n - 2);
    assert_int_equal(read_attr(svg, "data-y", by, n), n - 2);
    for (size_t i = 0, j = 0; i < n; i++) {
        if (i == 17 || i == 4000)
            continue;
        assert_true(bx[j] == x[i]);
        assert_true(by[j] == y[i]);
        j++;
    }
    free(bx);
    free(by);
    free(x);
    free(y);
    free(svg);
}

static void test_categories(void **state)
{
    (void)state;
    static const char *const labels[] = {"t_learner", "dr <learner>", NULL,
                                         "a_very_long_estimator_name_that_needs_cutting"};
    static const double x[] = {0, 1, 2, 3}, y[] = {0.25, 0.5, 0.125, 1};
    tt_svg *g = tt_svg_new(320, 240, "Scores");
    assert_int_equal(tt_svg_axes(g, -0.5, 3.5, 0, 1, NULL, "energy"), TT_OK);
    assert_int_equal(tt_svg_x_categories(g, 4, labels), TT_OK);
    assert_int_equal(tt_svg_bars(g, 4, x, y, 0, 0.8, 0, NULL), TT_OK);
    assert_int_equal(tt_svg_error_bars(g, 4, x, y, y, 1), TT_OK);
    char *svg = tt_svg_finish(g);
    assert_non_null(svg);
    assert_null(xml_check(svg));
    assert_non_null(strstr(svg, " data-label=\"t_learner\""));
    assert_non_null(strstr(svg, " data-label=\"dr &lt;learner&gt;\""));
    assert_non_null(strstr(svg, " data-label=\"\""));
    /* The full name stays in the data; the axis label is cut. */
    assert_non_null(strstr(svg, "data-label=\"a_very_long_estimator_name_that_needs_cutting\""));
    assert_non_null(strstr(svg, "...</text>"));
    assert_non_null(strstr(svg, ">t_learner</text>"));
    double v[8];
    assert_int_equal(read_attr(svg, "data-value", v, 8), 4);
    for (size_t i = 0; i < 4; i++)
        assert_true(v[i] == y[i]);
    free(svg);
}

static void test_errors(void **state)
{
    (void)state;
    static const double x[] = {1}, y[] = {1};
    /* Drawing before the axes breaks the contract, and the error sticks. */
    tt_svg *g = tt_svg_new(100, 100, NULL);
    assert_non_null(g);
    assert_int_equal(tt_svg_line(g, 1, x, y, 0, NULL), TT_ERR_INVALID);
    assert_int_equal(tt_svg_axes(g, 0, 1, 0, 1, NULL, NULL), TT_ERR_INVALID);
    assert_null(tt_svg_finish(g));

    static const char *const what[] = {"steps", "points", "bars", "error", "ref",
                                       "highlight", "categories"};
    for (size_t i = 0; i < sizeof what / sizeof what[0]; i++) {
        g = tt_svg_new(100, 100, "t");
        tt_status st = TT_OK;
        switch (i) {
        case 0: st = tt_svg_steps(g, 1, x, y, 0, NULL); break;
        case 1: st = tt_svg_points(g, 1, x, y, 0, NULL); break;
        case 2: st = tt_svg_bars(g, 1, x, y, 0, 1, 0, NULL); break;
        case 3: st = tt_svg_error_bars(g, 1, x, y, y, 0); break;
        case 4: st = tt_svg_reference(g, 0, 0, 1, 1, NULL); break;
        case 5: st = tt_svg_highlight(g, 0, 0, NULL); break;
        case 6: st = tt_svg_x_categories(g, 1, (const char *const[]){"a"}); break;
        }
        if (st != TT_ERR_INVALID)
            fail_msg("%s before axes: status %d", what[i], (int)st);
        tt_svg_free(g);
    }

    /* Non-finite bounds, NULL arrays, bad bar widths. */
    g = tt_svg_new(100, 100, NULL);
    assert_int_equal(tt_svg_axes(g, 0, NAN, 0, 1, NULL, NULL), TT_ERR_INVALID);
    tt_svg_free(g);
    g = tt_svg_new(100, 100, NULL);
    assert_int_equal(tt_svg_axes(g, 0, 1, -INFINITY, 1, NULL, NULL), TT_ERR_INVALID);
    tt_svg_free(g);
    g = tt_svg_new(100, 100, NULL);
    assert_int_equal(tt_svg_axes(g, 0, 1, 0, 1, NULL, NULL), TT_OK);
    assert_int_equal(tt_svg_line(g, 2, NULL, y, 0, NULL), TT_ERR_INVALID);
    assert_null(tt_svg_finish(g));
    g = tt_svg_new(100, 100, NULL);
    assert_int_equal(tt_svg_axes(g, 0, 1, 0, 1, NULL, NULL), TT_OK);
    assert_int_equal(tt_svg_bars(g, 1, x, y, 0, 0, 0, NULL), TT_ERR_INVALID);
    tt_svg_free(g);

    /* NULL charts (tt_svg_new failed) are safe everywhere. */
    assert_int_equal(tt_svg_axes(NULL, 0, 1, 0, 1, NULL, NULL), TT_ERR_INVALID);
    assert_int_equal(tt_svg_points(NULL, 1, x, y, 0, NULL), TT_ERR_INVALID);
    assert_null(tt_svg_finish(NULL));
    tt_svg_free(NULL);
    assert_null(tt_svg_new(0, 100, NULL));
    assert_null(tt_svg_new(100, -1, NULL));
}

static void test_tick_labels_in_chart(void **state)
{
    (void)state;
    /* Everyday magnitudes print in fixed notation ("10", not "1e+01"); an
     * axis reaching 1e7 uses the shortest %g throughout. */
    tt_svg *g = tt_svg_new(400, 300, NULL);
    assert_int_equal(tt_svg_axes(g, 0, 12, 0, 0.0003, NULL, NULL), TT_OK);
    char *svg = tt_svg_finish(g);
    assert_non_null(svg);
    assert_non_null(strstr(svg, ">10</text>"));
    assert_non_null(strstr(svg, ">12</text>"));
    assert_non_null(strstr(svg, ">0.0001</text>"));
    assert_non_null(strstr(svg, ">0.0003</text>"));
    assert_null(strstr(svg, "e+"));
    free(svg);
    g = tt_svg_new(400, 300, NULL);
    assert_int_equal(tt_svg_axes(g, 0, 1, 0, 3e7, NULL, NULL), TT_OK);
    svg = tt_svg_finish(g);
    assert_non_null(svg);
    assert_non_null(strstr(svg, ">1e+07</text>"));
    assert_non_null(strstr(svg, ">5e+06</text>"));
    assert_null(strstr(svg, ">5000000</text>"));
    free(svg);
}

static void test_degenerate_ranges(void **state)
{
    (void)state;
    /* lo == hi is widened: one trial at (2, 5) still gets a chart with
     * ticks around it, and the point sits inside the plot. */
    static const double x[] = {2}, y[] = {5};
    tt_svg *g = tt_svg_new(400, 300, "one");
    assert_int_equal(tt_svg_axes(g, 2, 2, 5, 5, "x", "y"), TT_OK);
    assert_int_equal(tt_svg_points(g, 1, x, y, 0, "only"), TT_OK);
    assert_int_equal(tt_svg_line(g, 0, NULL, NULL, 1, NULL), TT_OK);
    char *svg = tt_svg_finish(g);
    assert_non_null(svg);
    assert_null(xml_check(svg));
    assert_non_null(strstr(svg, ">5</text>"));
    assert_non_null(strstr(svg, ">2</text>"));
    double v[4];
    assert_int_equal(read_attr(svg, "data-y", v, 4), 1);
    assert_true(v[0] == 5);
    free(svg);

    /* A chart with no axes at all is still a valid (empty) chart. */
    g = tt_svg_new(200, 100, "empty");
    svg = tt_svg_finish(g);
    assert_non_null(svg);
    assert_null(xml_check(svg));
    free(svg);
}

/* The x of the legend's box (its first rect after data-kind="legend"). */
static double legend_x(const char *svg)
{
    const char *a = strstr(svg, "data-kind=\"legend\"");
    assert_non_null(a);
    const char *x = strstr(a, " x=\"");
    assert_non_null(x);
    return strtod(x + 4, NULL);
}

static double legend_y(const char *svg)
{
    const char *a = strstr(svg, "data-kind=\"legend\"");
    const char *y = strstr(a, " y=\"");
    assert_non_null(y);
    return strtod(y + 4, NULL);
}

/* The legend goes to the corner that hides the least of the data: a curve
 * peaking at the top right (the policy-value peak a caption points at) moves
 * it left; a flat curve along the bottom leaves it at the top right. */
static void test_legend_avoids_data(void **state)
{
    (void)state;
    double x[50], up[50], flat[50];
    for (int i = 0; i < 50; i++) {
        x[i] = i / 49.0;
        up[i] = x[i] * x[i] * x[i];
        flat[i] = 0.02;
    }
    tt_svg *g = tt_svg_new(640, 360, "peak at the top right");
    assert_int_equal(tt_svg_axes(g, 0, 1, 0, 1, "x", "y"), TT_OK);
    assert_int_equal(tt_svg_line(g, 50, x, up, 0, "a rising curve with a long legend name"),
                     TT_OK);
    char *svg = tt_svg_finish(g);
    assert_non_null(svg);
    assert_true(legend_x(svg) < 320); /* moved to the left */
    free(svg);
    g = tt_svg_new(640, 360, "flat at the bottom");
    assert_int_equal(tt_svg_axes(g, 0, 1, 0, 1, "x", "y"), TT_OK);
    assert_int_equal(tt_svg_line(g, 50, x, flat, 0, "flat"), TT_OK);
    svg = tt_svg_finish(g);
    assert_true(legend_x(svg) > 320 && legend_y(svg) < 180); /* top right, as before */
    free(svg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker_rejects),
        cmocka_unit_test(test_ticks_examples),
        cmocka_unit_test(test_ticks_properties),
        cmocka_unit_test(test_full_chart_well_formed),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_read_back_exact),
        cmocka_unit_test(test_many_points_read_back),
        cmocka_unit_test(test_categories),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_tick_labels_in_chart),
        cmocka_unit_test(test_degenerate_ranges),
        cmocka_unit_test(test_legend_avoids_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
