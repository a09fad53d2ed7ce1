/*
 * report_abtest.c - report.html and summary.md of `tautune abtest`, from its
 * results object (cli/abtest.h): the experiment, the sample-ratio check,
 * then per outcome the arms, every method's comparison with the control and
 * a forest plot of the effects with their intervals (one point per arm and
 * method, a dashed line at no effect).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "report/report_int.h"
#include "report/svg.h"
#include "util/err.h"

static const cJSON *item(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *text(const cJSON *o, const char *key)
{
    const char *s = tt_rj_str(o, key);
    return s ? s : "";
}

/* The method's short name for plot labels. */
static const char *short_method(const char *key)
{
    static const char *const names[][2] = {{"welch", "Welch"}, {"cuped", "CUPED"},
                                           {"lin", "Lin"},     {"aipw", "AIPW"},
                                           {"hajek", "IPW"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(key, names[i][0]))
            return names[i][1];
    return key;
}

static void num_cell(tt_rbuf *b, double v)
{
    tt_rb_num_cell(b, v, NULL, NULL);
}

/* The forest plot of one outcome: every (arm, method) effect and interval. */
static void forest(tt_rbuf *b, const cJSON *o, const char *control, size_t index)
{
    size_t n = 0, cap = 0;
    const cJSON *m, *e;
    cJSON_ArrayForEach(m, item(o, "methods"))
        cap += (size_t)cJSON_GetArraySize(item(m, "effects"));
    if (cap == 0)
        return;
    double *x = malloc(sizeof *x * cap * 4);
    char **labels = calloc(cap, sizeof *labels);
    if (!x || !labels) {
        free(x);
        free(labels);
        b->oom = 1;
        return;
    }
    double *y = x + cap, *lo = y + cap, *hi = lo + cap, yl = 0, yh = 0;
    /* Grouped by arm, methods in order, so one arm's estimates sit together. */
    const cJSON *first = item(o, "methods")->child;
    cJSON_ArrayForEach(e, item(first, "effects")) {
        const char *arm = text(e, "arm");
        cJSON_ArrayForEach(m, item(o, "methods")) {
            const cJSON *f;
            cJSON_ArrayForEach(f, item(m, "effects")) {
                if (strcmp(text(f, "arm"), arm) || n == cap)
                    continue;
                char lab[160];
                snprintf(lab, sizeof lab, "%s: %s", arm, short_method(text(m, "method")));
                labels[n] = strdup(lab);
                x[n] = (double)n;
                y[n] = tt_rj_num(f, "estimate");
                lo[n] = tt_rj_num(f, "lo");
                hi[n] = tt_rj_num(f, "hi");
                if (isfinite(lo[n]))
                    yl = fmin(yl, lo[n]);
                if (isfinite(hi[n]))
                    yh = fmax(yh, hi[n]);
                n++;
            }
        }
    }
    char title[300];
    snprintf(title, sizeof title, "Effect on %s against %s", text(o, "name"), control);
    tt_svg *g = tt_svg_new(720, 340, title);
    double pad = 0.08 * (yh - yl > 0 ? yh - yl : 1);
    tt_svg_axes(g, -0.5, (double)n - 0.5, yl - pad, yh + pad, NULL, "effect (interval)");
    tt_svg_x_categories(g, n, (const char *const *)labels);
    tt_svg_reference(g, -0.5, 0, (double)n - 0.5, 0, "no effect");
    tt_svg_points(g, n, x, y, 0, "estimate");
    tt_svg_error_bars(g, n, x, lo, hi, 0);
    char *svg = g ? tt_svg_finish(g) : NULL;
    tt_rb_printf(b, "<figure class=\"plot\" id=\"forest-%zu\" data-kind=\"forest\">", index);
    if (svg)
        tt_rb_puts(b, svg);
    else
        b->oom = 1;
    tt_rb_puts(b, "<figcaption>Each treated arm against the control by each method: the "
                  "estimate and its interval (the table's numbers). An interval that "
                  "crosses the dashed line does not rule out no effect.</figcaption>"
                  "</figure>\n");
    free(svg);
    for (size_t i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
    free(x);
}

static void srm_html(tt_rbuf *b, const cJSON *r)
{
    const cJSON *s = item(r, "sample_ratio");
    tt_rb_puts(b, "<h2 id=\"srm\">Sample ratio</h2>\n<p>");
    if (tt_rj_str(s, "skipped")) {
        tt_rb_puts(b, "Not checked: ");
        tt_rb_esc(b, text(s, "skipped"));
        tt_rb_puts(b, ".</p>\n");
        return;
    }
    int flagged = cJSON_IsTrue(item(s, "flagged"));
    tt_rb_printf(b, "Arm counts: &chi;&sup2; %.4g (df %.0f), p %.3g: ", tt_rj_num(s, "chi2"),
                 tt_rj_num(s, "df"), tt_rj_num(s, "p"));
    tt_rb_esc(b, flagged ? "MISMATCH (p below 0.001): the assignment did not follow the "
                           "design, so the comparisons below are suspect."
                         : "consistent with the design.");
    tt_rb_puts(b, " Compared with ");
    tt_rb_esc(b, text(s, "against"));
    tt_rb_puts(b, ".</p>\n");
}

static void outcome_html(tt_rbuf *b, const cJSON *o, const char *control, size_t index)
{
    tt_rb_puts(b, "<h2>Outcome ");
    tt_rb_esc(b, text(o, "name"));
    tt_rb_puts(b, "</h2>\n<table><thead><tr><th>arm</th><th>rows</th><th>mean</th><th>s.e."
                  "</th></tr></thead><tbody>\n");
    const cJSON *a, *m, *e;
    cJSON_ArrayForEach(a, item(o, "arms")) {
        tt_rb_puts(b, "<tr><td>");
        tt_rb_esc(b, text(a, "label"));
        tt_rb_puts(b, "</td>");
        num_cell(b, tt_rj_num(a, "n"));
        num_cell(b, isfinite(tt_rj_num(a, "weighted_mean")) ? tt_rj_num(a, "weighted_mean")
                                                            : tt_rj_num(a, "mean"));
        num_cell(b, tt_rj_num(a, "se"));
        tt_rb_puts(b, "</tr>\n");
    }
    tt_rb_puts(b, "</tbody></table>\n<table><thead><tr><th>arm vs ");
    tt_rb_esc(b, control);
    tt_rb_puts(b, "</th><th>method</th><th>effect</th><th>interval</th><th>p</th>"
                  "<th>p adjusted</th></tr></thead><tbody>\n");
    cJSON_ArrayForEach(m, item(o, "methods"))
        cJSON_ArrayForEach(e, item(m, "effects")) {
            tt_rb_puts(b, "<tr><td>");
            tt_rb_esc(b, text(e, "arm"));
            tt_rb_puts(b, "</td><td>");
            tt_rb_esc(b, text(m, "label"));
            tt_rb_puts(b, "</td>");
            num_cell(b, tt_rj_num(e, "estimate"));
            tt_rb_printf(b, "<td class=\"num\">[%.5g, %.5g]</td>", tt_rj_num(e, "lo"),
                         tt_rj_num(e, "hi"));
            num_cell(b, tt_rj_num(e, "p"));
            num_cell(b, tt_rj_num(e, "p_adjusted"));
            tt_rb_puts(b, "</tr>\n");
        }
    tt_rb_puts(b, "</tbody></table>\n");
    cJSON_ArrayForEach(m, item(o, "methods"))
        if (!strcmp(text(m, "method"), "cuped"))
            tt_rb_printf(b, "<p>CUPED: &theta; = %.4g; the pre-period column removed %.1f %% "
                            "of the outcome's variance.</p>\n", tt_rj_num(m, "theta"),
                         100 * tt_rj_num(m, "variance_reduction"));
    const cJSON *dv = item(o, "design_value");
    if (dv)
        tt_rb_printf(b, "<p>Under the design the mean outcome would have been %.6g [%.6g, "
                        "%.6g]; the assignment used earned %.6g, an uplift of %.6g [%.6g, "
                        "%.6g] (percentile bootstrap, %.0f resamples).</p>\n",
                     tt_rj_num(dv, "value"), tt_rj_num(dv, "lo"), tt_rj_num(dv, "hi"),
                     tt_rj_num(dv, "actual"), tt_rj_num(dv, "uplift"),
                     tt_rj_num(dv, "uplift_lo"), tt_rj_num(dv, "uplift_hi"),
                     tt_rj_num(dv, "resamples"));
    const cJSON *note;
    cJSON_ArrayForEach(note, item(o, "notes"))
        if (cJSON_IsString(note)) {
            tt_rb_puts(b, "<p class=\"note\">");
            tt_rb_esc(b, note->valuestring);
            tt_rb_puts(b, "</p>\n");
        }
    forest(b, o, control, index);
}

static void html(tt_rbuf *b, const cJSON *r)
{
    const cJSON *data = item(r, "data");
    const char *control = text(data, "control");
    tt_rb_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<title>tautune abtest: ");
    tt_rb_esc(b, text(r, "name"));
    tt_rb_puts(b, "</title>\n");
    tt_rb_puts(b, tt_report_style);
    tt_rb_puts(b, "</head>\n<body>\n<main>\n<h1>tautune abtest: ");
    tt_rb_esc(b, text(r, "name"));
    tt_rb_printf(b, "</h1>\n<p class=\"sub\">%.0f rows from <code>", tt_rj_num(data, "rows"));
    tt_rb_esc(b, text(data, "source"));
    tt_rb_printf(b, "</code>, %.0f arms, control <strong>", tt_rj_num(data, "arms"));
    tt_rb_esc(b, control);
    tt_rb_printf(b, "</strong>. Intervals %.0f %% per comparison; ",
                 100 * (1 - tt_rj_num(r, "alpha")));
    tt_rb_esc(b, text(r, "correction_text"));
    tt_rb_puts(b, ". Assignment: ");
    tt_rb_esc(b, text(data, "assignment"));
    tt_rb_puts(b, ".</p>\n");
    srm_html(b, r);
    const cJSON *o;
    size_t i = 0;
    cJSON_ArrayForEach(o, item(r, "outcomes"))
        outcome_html(b, o, control, i++);
    tt_rb_puts(b, "</main>\n</body>\n</html>\n");
}

/* summary.md: the comparisons in one table per outcome. */
static void summary(tt_rbuf *b, const cJSON *r)
{
    const cJSON *data = item(r, "data"), *s = item(r, "sample_ratio"), *o, *m, *e;
    tt_rb_puts(b, "# tautune abtest: ");
    tt_rb_md(b, text(r, "name"));
    tt_rb_printf(b, "\n\n%.0f rows, %.0f arms, control **", tt_rj_num(data, "rows"),
                 tt_rj_num(data, "arms"));
    tt_rb_md(b, text(data, "control"));
    tt_rb_printf(b, "**; intervals %.0f %% per comparison; ", 100 * (1 - tt_rj_num(r, "alpha")));
    tt_rb_md(b, text(r, "correction_text"));
    tt_rb_puts(b, ".\n\n");
    if (tt_rj_str(s, "skipped"))
        tt_rb_puts(b, "Sample ratio: not checked (no design given).\n");
    else
        tt_rb_printf(b, "Sample ratio: p %.3g, %s.\n", tt_rj_num(s, "p"),
                     cJSON_IsTrue(item(s, "flagged")) ? "**MISMATCH** - the comparisons are "
                                                       "suspect" : "ok");
    cJSON_ArrayForEach(o, item(r, "outcomes")) {
        tt_rb_puts(b, "\n## ");
        tt_rb_md(b, text(o, "name"));
        tt_rb_puts(b, "\n\n| arm | method | effect | interval | p adj. |\n|---|---|---|---|---|\n");
        cJSON_ArrayForEach(m, item(o, "methods"))
            cJSON_ArrayForEach(e, item(m, "effects")) {
                tt_rb_puts(b, "| ");
                tt_rb_md(b, text(e, "arm"));
                tt_rb_printf(b, " | %s | %.5g | [%.5g, %.5g] | %.3g |\n",
                             short_method(text(m, "method")), tt_rj_num(e, "estimate"),
                             tt_rj_num(e, "lo"), tt_rj_num(e, "hi"),
                             tt_rj_num(e, "p_adjusted"));
            }
        const cJSON *dv = item(o, "design_value");
        if (dv)
            tt_rb_printf(b, "\nUnder the design: %.6g [%.6g, %.6g]; actual %.6g, uplift %.6g "
                            "[%.6g, %.6g].\n", tt_rj_num(dv, "value"), tt_rj_num(dv, "lo"),
                         tt_rj_num(dv, "hi"), tt_rj_num(dv, "actual"),
                         tt_rj_num(dv, "uplift"), tt_rj_num(dv, "uplift_lo"),
                         tt_rj_num(dv, "uplift_hi"));
    }
}

tt_status tt_report_abtest_write(const cJSON *results, const char *dir, char *err,
                                 size_t errlen)
{
    if (!cJSON_IsObject(results) || !dir)
        return tt_errf(err, errlen, TT_ERR_INVALID, "abtest report: no results");
    tt_rbuf b = {0};
    html(&b, results);
    tt_status st = b.oom ? tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory")
                         : tt_rb_write_atomic(&b, dir, "report.html", err, errlen);
    tt_rb_free(&b);
    if (st != TT_OK)
        return st;
    summary(&b, results);
    st = b.oom ? tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory")
               : tt_rb_write_atomic(&b, dir, "summary.md", err, errlen);
    tt_rb_free(&b);
    return st;
}
