/*
 * report_insight.c - what drives the effect and the policy (results.json
 * "insight" and "policy", cli/run_insight.c) on the pages: a heterogeneity
 * verdict and a policy sentence for the first screen, and report.html's
 * "What drives the effect" and "A policy" sections.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg.h"


static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

int tt_report_verdict(const cJSON *results, char *buf, size_t len)
{
    const cJSON *arms = get(get(results, "insight"), "arms"), *a;
    size_t used = 0;
    if (!len)
        return 0;
    buf[0] = '\0';
    if (!cJSON_IsArray(arms) || cJSON_GetArraySize(arms) < 1)
        return 0;
    int many = cJSON_GetArraySize(arms) > 1;
    cJSON_ArrayForEach(a, arms)
    {
        const cJSON *cal = get(a, "calibration"), *top = get(a, "top_features");
        if (many)
            tt_report_append(buf, len, &used, "%sArm '%s': ", used ? " " : "", tt_rj_str(a, "arm"));
        const char *verdict = tt_rj_str(cal, "verdict");
        if (verdict)
            tt_report_append(buf, len, &used, "%s", verdict);
        else
            tt_report_append(buf, len, &used, "The winner gives one effect for every row, so its calibration cannot be "
                "tested.");
        /* Whatever the winner: do the doubly robust scores vary with x? */
        const cJSON *joint = get(get(a, "blp"), "joint");
        if (joint) {
            double pj = tt_rj_num(joint, "p");
            char chi[32], pt[32];
            tt_report_fmt(tt_rj_num(joint, "chi2"), chi, sizeof chi);
            tt_report_fmt(pj, pt, sizeof pt);
            tt_report_append(buf, len, &used, " The doubly robust scores %s with the features (joint test of the best "
                "linear projection's slopes: chi-square %s on %.0f degrees of freedom, p = "
                "%s).", pj < 0.05 ? "vary" : "show no significant variation", chi,
                tt_rj_num(joint, "df"), pt);
        }
        /* The features that move the doubly robust scores most. */
        if (cJSON_GetArraySize(top) > 0) {
            tt_report_append(buf, len, &used, " By the best linear projection of the doubly robust scores, the features "
                "that move the effect most are");
            int i = 0;
            const cJSON *f;
            cJSON_ArrayForEach(f, top)
            {
                if (i == 3)
                    break;
                char t[32];
                tt_report_fmt(tt_rj_num(f, "t"), t, sizeof t);
                tt_report_append(buf, len, &used, "%s %s (t = %s)", i ? "," : "", tt_rj_str(f, "name"), t);
                i++;
            }
            tt_report_append(buf, len, &used, ".");
        }
    }
    return 1;
}

int tt_report_policy_sentence(const cJSON *results, char *buf, size_t len)
{
    const cJSON *p = get(results, "policy");
    size_t used = 0;
    if (!len)
        return 0;
    buf[0] = '\0';
    if (!cJSON_IsObject(p) || !get(p, "gain"))
        return 0;
    const cJSON *g = get(p, "gain"), *v = get(p, "value");
    char a[32], ae[32], b[32], be[32], pv[32];
    tt_report_fmt(tt_rj_num(get(g, "vs_no_one"), "value"), a, sizeof a);
    tt_report_fmt(tt_rj_num(get(g, "vs_no_one"), "se"), ae, sizeof ae);
    tt_report_fmt(tt_rj_num(get(g, "vs_everyone"), "value"), b, sizeof b);
    tt_report_fmt(tt_rj_num(get(g, "vs_everyone"), "se"), be, sizeof be);
    tt_report_fmt(tt_rj_num(get(v, "policy"), "value"), pv, sizeof pv);
    tt_report_append(buf, len, &used, "A depth-%.0f policy tree (policy.txt) is worth %s per row on held-out rows: %s "
        "(s.e. %s) more than treating no one and %s (s.e. %s) against giving everyone arm "
        "'%s'.",
        tt_rj_num(p, "depth"), pv, a, ae, b, be,
        tt_rj_str(v, "everyone_arm") ? tt_rj_str(v, "everyone_arm") : "?");
    return 1;
}

/* ---- report.html sections --------------------------------------------- */

static void cell(tt_rbuf *b, double v)
{
    char t[32];
    tt_report_fmt(v, t, sizeof t);
    tt_rb_puts(b, "<td class=\"num\">");
    tt_rb_esc(b, t);
    tt_rb_puts(b, "</td>");
}

static void blp_table(tt_rbuf *b, const cJSON *blp)
{
    const cJSON *terms = get(blp, "terms"), *t;
    if (!cJSON_IsArray(terms)) {
        tt_rb_puts(b, "<p>No best linear projection: ");
        tt_rb_esc(b, tt_rj_str(blp, "error") ? tt_rj_str(blp, "error") : "?");
        tt_rb_puts(b, "</p>\n");
        return;
    }
    tt_rb_puts(b, "<table><thead><tr><th>term</th><th>coefficient</th><th>s.e. (");
    tt_rb_esc(b, tt_rj_str(blp, "se") ? tt_rj_str(blp, "se") : "?");
    tt_rb_puts(b, ")</th><th>t</th><th>p</th></tr></thead><tbody>\n");
    cJSON_ArrayForEach(t, terms)
    {
        tt_rb_puts(b, "<tr><td>");
        tt_rb_esc(b, tt_rj_str(t, "name"));
        tt_rb_puts(b, "</td>");
        cell(b, tt_rj_num(t, "coef"));
        cell(b, tt_rj_num(t, "se"));
        cell(b, tt_rj_num(t, "t"));
        cell(b, tt_rj_num(t, "p"));
        tt_rb_puts(b, "</tr>\n");
    }
    tt_rb_puts(b, "</tbody></table>\n");
}

static void tree_table(tt_rbuf *b, const cJSON *tree)
{
    const cJSON *leaves = get(tree, "leaves"), *l;
    if (!cJSON_IsArray(leaves))
        return;
    tt_rb_puts(b, "<table><thead><tr><th>group</th><th>rows</th><th>mean estimate</th>"
                  "<th>doubly robust effect</th><th>95 % interval</th></tr></thead><tbody>\n");
    cJSON_ArrayForEach(l, leaves)
    {
        char lo[32], hi[32];
        tt_report_fmt(tt_rj_num(l, "lo"), lo, sizeof lo);
        tt_report_fmt(tt_rj_num(l, "hi"), hi, sizeof hi);
        tt_rb_puts(b, "<tr><td>");
        tt_rb_esc(b, tt_rj_str(l, "rule"));
        tt_rb_puts(b, "</td>");
        cell(b, tt_rj_num(l, "rows"));
        cell(b, tt_rj_num(l, "tau_mean"));
        cell(b, tt_rj_num(l, "effect"));
        tt_rb_printf(b, "<td class=\"num\">[%s, %s]</td></tr>\n", lo, hi);
    }
    tt_rb_puts(b, "</tbody></table>\n");
}

/* The estimate and the doubly robust scores against one feature (insight
 * by_feature): per group of rows, mean tau_hat (line) and mean Gamma with
 * its 95 % interval (points and bars). Every number is in results.json. */
static void feature_plot(tt_rbuf *b, const cJSON *bf, int arm_index)
{
    const cJSON *bins = get(bf, "bins"), *bin;
    size_t n = (size_t)cJSON_GetArraySize(bins);
    if (n < 2)
        return;
    double x[16], tau[16], g[16], lo[16], hi[16];
    double xl = INFINITY, xh = -INFINITY, yl = INFINITY, yh = -INFINITY;
    size_t i = 0;
    cJSON_ArrayForEach(bin, bins)
    {
        if (i == 16)
            break;
        x[i] = tt_rj_num(bin, "x_mean"), tau[i] = tt_rj_num(bin, "tau_mean");
        g[i] = tt_rj_num(bin, "gamma_mean"), lo[i] = tt_rj_num(bin, "gamma_lo");
        hi[i] = tt_rj_num(bin, "gamma_hi");
        xl = fmin(xl, x[i]), xh = fmax(xh, x[i]);
        yl = fmin(yl, fmin(tau[i], lo[i])), yh = fmax(yh, fmax(tau[i], hi[i]));
        i++;
    }
    n = i;
    if (!(xl < xh)) /* one value: nothing to plot against */
        return;
    const char *name = tt_rj_str(bf, "name");
    char title[256];
    snprintf(title, sizeof title, "The effect against %s", name ? name : "?");
    tt_svg *sv = tt_svg_new(640, 320, title);
    tt_svg_axes(sv, xl, xh, yl, yh, name ? name : "feature", "effect");
    tt_svg_line(sv, n, x, tau, 0, "winner's estimate (mean)");
    tt_svg_points(sv, n, x, g, 1, "doubly robust scores (mean, 95 % interval)");
    tt_svg_error_bars(sv, n, x, lo, hi, 1);
    tt_rb_printf(b, "<figure class=\"plot\" id=\"plot-by-feature-%d-", arm_index);
    tt_rb_esc(b, name ? name : "?");
    tt_rb_puts(b, "\" data-kind=\"by-feature\">");
    char *svg = sv ? tt_svg_finish(sv) : NULL;
    if (svg)
        tt_rb_puts(b, svg);
    free(svg);
    tt_rb_puts(b, "<figcaption>Rows grouped into tenths of ");
    tt_rb_esc(b, name ? name : "?");
    tt_rb_puts(b, ": where the line follows the points, the winner's estimates track what the "
                  "doubly robust scores say about each group.</figcaption></figure>\n");
}

static void importance_table(tt_rbuf *b, const cJSON *imp, const char *key, const char *what)
{
    const cJSON *fs = get(imp, "features"), *f;
    if (!cJSON_IsArray(fs))
        return;
    tt_rb_puts(b, "<p><strong>Variable importance</strong> (");
    tt_rb_esc(b, tt_rj_str(imp, "method"));
    if (tt_rj_str(imp, "arm")) {
        tt_rb_puts(b, "; arm ");
        tt_rb_esc(b, tt_rj_str(imp, "arm"));
    }
    tt_rb_puts(b, "):</p>\n<table><thead><tr><th>feature</th><th>");
    tt_rb_esc(b, what);
    tt_rb_puts(b, "</th></tr></thead><tbody>\n");
    int k = 0;
    cJSON_ArrayForEach(f, fs)
    {
        if (k++ == 10)
            break;
        tt_rb_puts(b, "<tr><td>");
        tt_rb_esc(b, tt_rj_str(f, "name"));
        tt_rb_puts(b, "</td>");
        cell(b, tt_rj_num(f, key));
        tt_rb_puts(b, "</tr>\n");
    }
    tt_rb_puts(b, "</tbody></table>\n");
}

void tt_report_insight_section(tt_rbuf *b, const cJSON *results)
{
    const cJSON *ins = get(results, "insight"), *arms = get(ins, "arms"), *a;
    if (!cJSON_IsArray(arms))
        return;
    tt_rb_puts(b, "<section id=\"drivers\"><h2>What drives the effect</h2>\n<p>On the ");
    char n[32];
    tt_report_fmt(tt_rj_num(ins, "n"), n, sizeof n);
    tt_rb_esc(b, n);
    tt_rb_puts(b, " rows whose effects are out of sample (");
    tt_rb_esc(b, tt_rj_str(ins, "rows"));
    tt_rb_puts(b, "), with ");
    tt_rb_esc(b, tt_rj_str(ins, "scores"));
    tt_rb_puts(b, " from ");
    tt_rb_esc(b, tt_rj_str(ins, "nuisances"));
    tt_rb_puts(b, ".</p>\n");
    int arm_index = 1;
    cJSON_ArrayForEach(a, arms)
    {
        if (cJSON_GetArraySize(arms) > 1) {
            tt_rb_puts(b, "<h3>Arm ");
            tt_rb_esc(b, tt_rj_str(a, "arm"));
            tt_rb_puts(b, "</h3>\n");
        }
        const cJSON *cal = get(a, "calibration");
        tt_rb_puts(b, "<p class=\"verdict\"><strong>Is the heterogeneity real?</strong> ");
        if (tt_rj_str(cal, "verdict")) {
            tt_rb_esc(b, tt_rj_str(cal, "verdict"));
            tt_rb_puts(b, " ");
            tt_rb_esc(b, tt_rj_str(cal, "mean_sentence"));
        } else {
            tt_rb_esc(b, tt_rj_str(cal, "error") ? tt_rj_str(cal, "error") : "not tested");
        }
        tt_rb_puts(b, " (calibration test as grf's test_calibration: the regression of the "
                      "outcome's residual on the treatment's residual times the mean estimate "
                      "and times its deviation; one-sided p-values.)</p>\n");
        tt_rb_puts(b, "<p><strong>Best linear projection</strong> of the doubly robust scores "
                      "on the features (as grf's best_linear_projection): the average effect "
                      "moves by each coefficient per unit of its feature.</p>\n");
        blp_table(b, get(a, "blp"));
        tt_rb_puts(b, "<p><strong>Groups</strong>: a depth-2 tree on the winner's estimates, "
                      "each group's effect from the doubly robust scores.</p>\n");
        tree_table(b, get(a, "tree"));
        const cJSON *bf;
        cJSON_ArrayForEach(bf, get(a, "by_feature"))
            feature_plot(b, bf, arm_index);
        arm_index++;
    }
    importance_table(b, get(ins, "importance"), "rms", "change in the effect (rms)");
    importance_table(b, get(ins, "model_importance"), "value", "share");
    tt_rb_puts(b, "</section>\n");
}

void tt_report_policy_section(tt_rbuf *b, const cJSON *results)
{
    const cJSON *p = get(results, "policy");
    if (!cJSON_IsObject(p))
        return;
    tt_rb_puts(b, "<section id=\"policy\"><h2>A policy</h2>\n");
    if (tt_rj_str(p, "error")) {
        tt_rb_puts(b, "<p>No policy tree: ");
        tt_rb_esc(b, tt_rj_str(p, "error"));
        tt_rb_puts(b, "</p></section>\n");
        return;
    }
    tt_rb_puts(b, "<p>");
    tt_rb_esc(b, tt_rj_str(p, "method"));
    tt_rb_puts(b, " (policy.json, policy.txt; <code>tautune policy RUN_DIR</code> refits it "
                  "with other depths or costs).</p>\n<pre>");
    tt_rb_esc(b, tt_rj_str(p, "rules"));
    tt_rb_puts(b, "</pre>\n<table><thead><tr><th>policy</th><th>value per row</th>"
                  "<th>s.e.</th></tr></thead><tbody>\n");
    static const char *const rows[][2] = {{"policy", "the tree"},
                                          {"no_one", "treat no one"},
                                          {"everyone", "everyone the best single arm"},
                                          {"greedy_tau", "greedy: each row its best estimate"}};
    const cJSON *v = get(p, "value");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tt_rb_puts(b, "<tr><td>");
        tt_rb_esc(b, rows[i][1]);
        tt_rb_puts(b, "</td>");
        cell(b, tt_rj_num(get(v, rows[i][0]), "value"));
        cell(b, tt_rj_num(get(v, rows[i][0]), "se"));
        tt_rb_puts(b, "</tr>\n");
    }
    tt_rb_puts(b, "</tbody></table>\n</section>\n");
}

/* ---- tautune explain ----------------------------------------------------- */

/* Terms of a best linear projection, strongest (|t|) first. */
static void explain_blp(FILE *out, const cJSON *blp)
{
    const cJSON *terms = get(blp, "terms");
    int n = cJSON_GetArraySize(terms);
    if (n < 1) {
        fprintf(out, "  no best linear projection: %s\n",
                tt_rj_str(blp, "error") ? tt_rj_str(blp, "error") : "?");
        return;
    }
    fprintf(out, "  Best linear projection of the doubly robust scores (%s s.e.), strongest "
                 "first:\n  %-24s %12s %12s %8s %8s\n",
            tt_rj_str(blp, "se") ? tt_rj_str(blp, "se") : "?", "term", "coefficient", "s.e.",
            "t", "p");
    unsigned char used[512] = {0};
    for (int r = 0; r < n && r < 512; r++) {
        int best = -1;
        for (int j = 0; j < n && j < 512; j++) {
            const cJSON *t = cJSON_GetArrayItem(terms, j);
            double tv = fabs(tt_rj_num(t, "t"));
            if (!used[j] && (best < 0 || (isfinite(tv) &&
                             !(tv <= fabs(tt_rj_num(cJSON_GetArrayItem(terms, best), "t"))))))
                best = j;
        }
        used[best] = 1;
        const cJSON *t = cJSON_GetArrayItem(terms, best);
        char c[32], se[32], tv[32], p[32];
        tt_report_fmt(tt_rj_num(t, "coef"), c, sizeof c);
        tt_report_fmt(tt_rj_num(t, "se"), se, sizeof se);
        tt_report_fmt(tt_rj_num(t, "t"), tv, sizeof tv);
        tt_report_fmt(tt_rj_num(t, "p"), p, sizeof p);
        fprintf(out, "  %-24s %12s %12s %8s %8s\n", tt_rj_str(t, "name"), c, se, tv, p);
    }
}

static void explain_tree(FILE *out, const cJSON *tree)
{
    const cJSON *leaves = get(tree, "leaves"), *l;
    if (!cJSON_IsArray(leaves))
        return;
    fprintf(out, "  Groups (a depth-2 tree on the winner's estimates; effect from the doubly "
                 "robust scores):\n");
    cJSON_ArrayForEach(l, leaves)
    {
        char rows[32], est[32], eff[32], lo[32], hi[32];
        tt_report_fmt(tt_rj_num(l, "rows"), rows, sizeof rows);
        tt_report_fmt(tt_rj_num(l, "tau_mean"), est, sizeof est);
        tt_report_fmt(tt_rj_num(l, "effect"), eff, sizeof eff);
        tt_report_fmt(tt_rj_num(l, "lo"), lo, sizeof lo);
        tt_report_fmt(tt_rj_num(l, "hi"), hi, sizeof hi);
        fprintf(out, "    %s: %s rows, estimate %s, effect %s [%s, %s]\n", tt_rj_str(l, "rule"),
                rows, est, eff, lo, hi);
    }
}

int tt_report_write_explain(FILE *out, const cJSON *results)
{
    char text[4096];
    int any = 0;
    if (tt_report_headline(results, text, sizeof text)) {
        fprintf(out, "The answer. %s\n\n", text);
        any = 1;
    }
    if (tt_report_verdict(results, text, sizeof text)) {
        fprintf(out, "Does it vary? %s\n\n", text);
        any = 1;
    }
    const cJSON *arms = get(get(results, "insight"), "arms"), *a;
    cJSON_ArrayForEach(a, arms)
    {
        if (cJSON_GetArraySize(arms) > 1)
            fprintf(out, "Arm '%s':\n", tt_rj_str(a, "arm"));
        explain_blp(out, get(a, "blp"));
        explain_tree(out, get(a, "tree"));
        fputc('\n', out);
    }
    static const char *const kinds[][2] = {{"importance", "rms"}, {"model_importance", "value"}};
    for (size_t kd = 0; kd < 2; kd++) {
        const cJSON *imp = get(get(results, "insight"), kinds[kd][0]), *f;
        if (cJSON_GetArraySize(get(imp, "features")) < 1)
            continue;
        fprintf(out, "What the winner's effect uses (%s):\n", tt_rj_str(imp, "method"));
        int k = 0;
        cJSON_ArrayForEach(f, get(imp, "features"))
        {
            if (k++ == 10)
                break;
            char v[32];
            tt_report_fmt(tt_rj_num(f, kinds[kd][1]), v, sizeof v);
            fprintf(out, "  %-24s %s\n", tt_rj_str(f, "name"), v);
        }
        fputc('\n', out);
    }
    if (tt_report_policy_sentence(results, text, sizeof text)) {
        const char *rules = tt_rj_str(get(results, "policy"), "rules");
        fprintf(out, "Who to treat? %s\n%s", text, rules ? rules : "");
        any = 1;
    }
    return any;
}
