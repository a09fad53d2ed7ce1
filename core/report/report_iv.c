/* report_iv.c - the instrument's diagnostics (results.json "iv",
 * score/iv_diag.h) as a sentence for summary.md and report.html, and the
 * report's "Instrument" section with a plot of compliance by decile. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg.h"

int tt_report_iv_sentence(const cJSON *results, char *buf, size_t len)
{
    const cJSON *iv = cJSON_GetObjectItemCaseSensitive(results, "iv");
    buf[0] = '\0';
    if (!cJSON_IsObject(iv))
        return 0;
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(iv, "first_stage");
    const double f = tt_rj_num(fs, "f");
    int n = snprintf(buf, len,
                     "Instrument %s: first-stage F %.1f (%s), compliance %.3f (the share of "
                     "rows the instrument moves into treatment), reduced form %.4g "
                     "\xc2\xb1 %.2g, Wald ratio (a constant LATE) %.4g \xc2\xb1 %.2g.",
                     tt_rj_str(iv, "instrument") ? tt_rj_str(iv, "instrument") : "z", f,
                     f >= 10 ? "strong enough" : "WEAK: below 10", tt_rj_num(iv, "compliance"),
                     tt_rj_num(iv, "reduced_form"), tt_rj_num(iv, "reduced_form_se"),
                     tt_rj_num(iv, "wald"), tt_rj_num(iv, "wald_se"));
    const cJSON *cav = cJSON_GetObjectItemCaseSensitive(iv, "caveats"), *c;
    cJSON_ArrayForEach(c, cav)
    {
        if (n < 0 || (size_t)n >= len || !cJSON_IsString(c))
            break;
        n += snprintf(buf + n, len - (size_t)n, " Caveat: %s.", c->valuestring);
    }
    return 1;
}

/* Bars of mean predicted compliance per decile, points of the observed. */
static void compliance_plot(tt_rbuf *b, const cJSON *dec)
{
    const int k = cJSON_GetArraySize(dec);
    if (k <= 0)
        return;
    double x[16], pred[16], obs[16], lo = 0.0, hi = 0.0;
    const char *labels[16];
    char names[16][8];
    int m = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, dec)
    {
        if (m >= 16)
            break;
        x[m] = m;
        pred[m] = tt_rj_num(d, "predicted");
        obs[m] = tt_rj_num(d, "observed");
        for (int j = 0; j < 2; j++) {
            const double v = j ? obs[m] : pred[m];
            if (isfinite(v)) {
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
        }
        snprintf(names[m], sizeof names[m], "%d", m + 1);
        labels[m] = names[m];
        m++;
    }
    tt_rb_puts(b, "<figure class=\"plot\" id=\"plot-compliance\" data-kind=\"compliance\"");
    tt_rb_data_list(b, "data-predicted", (size_t)m, pred);
    tt_rb_data_list(b, "data-observed", (size_t)m, obs);
    tt_rb_puts(b, ">");
    tt_svg *g = tt_svg_new(560, 340, "Compliance by decile of predicted compliance");
    tt_svg_axes(g, -0.5, m - 0.5, lo, hi > lo ? hi : lo + 1, "decile of predicted compliance",
                "P(T=1 | Z=1) - P(T=1 | Z=0)");
    tt_svg_x_categories(g, (size_t)m, labels);
    tt_svg_bars(g, (size_t)m, x, pred, 0.0, 0.7, 0, "predicted (out of fold)");
    tt_svg_points(g, (size_t)m, x, obs, 1, "observed in the decile");
    tt_svg_reference(g, -0.5, 0.05, m - 0.5, 0.05, "0.05: too thin to trust effects");
    char *svg = g ? tt_svg_finish(g) : NULL;
    if (svg)
        tt_rb_puts(b, svg);
    free(svg);
    tt_rb_puts(b, "<figcaption>Rows sorted by their predicted compliance (the instrument's "
                  "effect on the chance of treatment, from the scoring nuisances, out of fold) "
                  "and cut into ten equal groups: bars are the predicted mean, points the "
                  "observed difference in treated shares between Z = 1 and Z = 0 in the group. "
                  "Effects reported for rows below the dashed line rest on very few "
                  "compliers.</figcaption></figure>\n");
}

void tt_report_iv_section(tt_rbuf *b, const cJSON *results)
{
    const cJSON *iv = cJSON_GetObjectItemCaseSensitive(results, "iv");
    if (!cJSON_IsObject(iv))
        return;
    tt_rb_puts(b, "<section id=\"instrument\">\n<h2>Instrument</h2>\n<p>");
    char text[1024];
    tt_report_iv_sentence(results, text, sizeof text);
    tt_rb_esc(b, text);
    tt_rb_puts(b, "</p>\n<table id=\"iv-table\"><thead><tr><th>decile</th><th class=\"num\">"
                  "rows</th><th class=\"num\">predicted compliance</th><th class=\"num\">"
                  "observed</th><th class=\"num\">first-stage F</th></tr></thead><tbody>\n");
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(iv, "deciles"), *d;
    int k = 0;
    cJSON_ArrayForEach(d, dec)
    {
        tt_rb_printf(b, "<tr><td>%d</td>", ++k);
        tt_rb_num_cell(b, tt_rj_num(d, "rows"), NULL, NULL);
        tt_rb_num_cell(b, tt_rj_num(d, "predicted"), NULL, NULL);
        tt_rb_num_cell(b, tt_rj_num(d, "observed"), NULL, "the decile lacks one instrument value");
        tt_rb_num_cell(b, tt_rj_num(d, "f"), NULL, "undefined");
        tt_rb_puts(b, "</tr>\n");
    }
    tt_rb_puts(b, "</tbody></table>\n");
    compliance_plot(b, dec);
    tt_rb_puts(b, "</section>\n");
}
