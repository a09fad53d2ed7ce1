/* report_html.c - report.html (report.h): the page, its run facts, caveats,
 * winner, leaderboard and nuisance sections; the plots are report_plots.c.
 *
 * Table numbers are read from results.json's object and written %.4g with
 * the exact value (%.17g) in data-value and title; every string from the
 * data goes through tt_rb_esc. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "score/policy.h"
#include "score/scores.h"
#include "util/err.h"

const char tt_report_style[] =
    "<style>\n"
    ":root{--ink:#1d2330;--muted:#5b6474;--line:#d9dee7;--bg:#fff;--soft:#f5f7fa;"
    "--accent:#0b6bcb;--obj:#fff4d6;--warn:#fff1f0;--warnline:#e0a39e}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;color:var(--ink);background:var(--bg);font:15px/1.5 system-ui,"
    "-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif}\n"
    "main{max-width:1200px;margin:0 auto;padding:24px 32px 64px}\n"
    "h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:36px 0 12px;"
    "padding-bottom:4px;border-bottom:2px solid var(--line)}h3{font-size:16px;margin:20px 0 8px}\n"
    ".sub{color:var(--muted);margin:0 0 16px}\n"
    "nav.toc{background:var(--soft);border:1px solid var(--line);border-radius:6px;"
    "padding:10px 16px;display:inline-block}\n"
    "nav.toc ol{margin:4px 0;padding-left:20px}nav.toc a{color:var(--accent);"
    "text-decoration:none}\n"
    "table{border-collapse:collapse;margin:8px 0 16px;font-size:13.5px}\n"
    "th,td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:left;"
    "vertical-align:top}\n"
    "thead th{background:var(--soft);position:sticky;top:0}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "th.obj,td.obj{background:var(--obj);font-weight:600}\n"
    "th.oracle,td.oracle{color:var(--muted);font-style:italic}\n"
    "tr.winner td{font-weight:600}\n"
    "table.facts th{width:220px;color:var(--muted);font-weight:500}\n"
    "table.facts td.num{text-align:left}\n"
    "thead th{white-space:nowrap}\n"
    "td.params{min-width:200px;max-width:420px;font-size:12px;color:var(--muted)}\n"
    "td.params summary{cursor:pointer;color:var(--accent)}\n"
    ".scroll{overflow-x:auto;max-width:100%}\n"
    ".answer{font-size:1.1em;border-left:4px solid #2b6cb0;padding:.3em .8em;margin:.6em 0}"
    "#leaderboard .more{display:none}#all-scores:checked~div #leaderboard .more{display:table-cell}"
    "ul.caveats{padding:0;list-style:none}ul.caveats li{background:var(--warn);"
    "border-left:4px solid var(--warnline);padding:6px 12px;margin:6px 0}\n"
    "td.err{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px;"
    "white-space:pre-wrap;max-width:640px}\n"
    ".plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:20px}\n"
    "figure.plot{margin:0;border:1px solid var(--line);border-radius:6px;padding:10px}\n"
    "figure.plot svg{width:100%;height:auto;display:block}\n"
    "figure.missing{color:var(--muted);background:var(--soft)}\n"
    "figcaption{color:var(--muted);font-size:13px;margin-top:6px}\n"
    ".note{color:var(--muted)}\n"
    "code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}\n"
    "</style>\n";

static void heading(tt_rbuf *b, const char *id, const char *title)
{
    tt_rb_printf(b, "<section id=\"%s\">\n<h2>%s</h2>\n", id, title);
}

/* A facts-table row whose value is escaped text. */
static void fact_text(tt_rbuf *b, const char *name, const char *value)
{
    tt_rb_printf(b, "<tr><th>%s</th><td>", name);
    tt_rb_esc(b, value ? value : "\xe2\x80\x94");
    tt_rb_puts(b, "</td></tr>\n");
}

static void fact_num(tt_rbuf *b, const char *name, double v)
{
    tt_rb_printf(b, "<tr><th>%s</th>", name);
    tt_rb_num_cell(b, v, NULL, NULL);
    tt_rb_puts(b, "</tr>\n");
}

/* A JSON array of strings as "a, b, c" (at most `max`, then "and N more"). */
static void string_list(tt_rbuf *b, const cJSON *arr, int max)
{
    int n = cJSON_GetArraySize(arr), i = 0;
    const cJSON *s;
    if (n == 0) {
        tt_rb_puts(b, "none");
        return;
    }
    cJSON_ArrayForEach(s, arr)
    {
        if (i == max) {
            tt_rb_printf(b, " and %d more", n - max);
            break;
        }
        tt_rb_puts(b, i++ ? ", " : "");
        tt_rb_puts(b, "<code>");
        tt_rb_esc(b, cJSON_IsString(s) ? s->valuestring : "?");
        tt_rb_puts(b, "</code>");
    }
}

/* A JSON value as display text (numbers with their exact value). */
static void json_value(tt_rbuf *b, const cJSON *v)
{
    if (cJSON_IsNumber(v)) {
        char t[32];
        tt_report_fmt(v->valuedouble, t, sizeof t);
        tt_rb_printf(b, "<span data-value=\"%.17g\" title=\"%.17g\">%s</span>", v->valuedouble,
                     v->valuedouble, t);
    } else if (cJSON_IsBool(v)) {
        tt_rb_puts(b, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsString(v)) {
        tt_rb_esc(b, v->valuestring);
    } else {
        tt_rb_puts(b, "\xe2\x80\x94");
    }
}

/* Hyperparameters as a table cell: folded (<details>, no script) when there
 * are more than two, so long parameter lists keep table rows one line high. */
static void params_cell(tt_rbuf *b, const cJSON *params)
{
    int n = cJSON_GetArraySize(params), first = 1;
    tt_rb_puts(b, "<td class=\"params\">");
    if (n > 2)
        tt_rb_printf(b, "<details><summary>%d parameters</summary>", n);
    const cJSON *p;
    cJSON_ArrayForEach(p, params)
    {
        tt_rb_puts(b, first ? "<code>" : ", <code>");
        first = 0;
        tt_rb_esc(b, p->string);
        tt_rb_puts(b, "</code>=");
        json_value(b, p);
    }
    tt_rb_puts(b, n > 2 ? "</details></td>" : "</td>");
}

/* ---- 1. the run ------------------------------------------------------- */

static void arms_cell(tt_rbuf *b, const tt_report_input *in, const cJSON *data)
{
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(data, "train_arm_rows");
    const cJSON *va = cJSON_GetObjectItemCaseSensitive(data, "validation_arm_rows");
    int k_arms = (int)tt_rj_num(data, "arms");
    if (k_arms <= 0)
        k_arms = in->n_arms;
    tt_rb_printf(b, "<tr><th>arms</th><td>%d: ", k_arms);
    for (int k = 0; k < k_arms; k++) {
        char buf[32];
        const cJSON *a = cJSON_GetArrayItem(tr, k), *v = cJSON_GetArrayItem(va, k);
        tt_rb_puts(b, k ? "; " : "");
        tt_rb_puts(b, "<code>");
        tt_rb_esc(b, tt_report_arm_label(in, k, buf, sizeof buf));
        tt_rb_puts(b, "</code>");
        tt_rb_puts(b, k == 0 ? " (control)" : "");
        if (cJSON_IsNumber(a) && cJSON_IsNumber(v))
            tt_rb_printf(b, " %.0f train / %.0f validation rows", a->valuedouble,
                         v->valuedouble);
    }
    tt_rb_puts(b, "</td></tr>\n");
}

static void section_run(tt_rbuf *b, const tt_report_input *in)
{
    const cJSON *r = in->results, *data = cJSON_GetObjectItemCaseSensitive(r, "data");
    const cJSON *feat = cJSON_GetObjectItemCaseSensitive(data, "features");
    const cJSON *budget = cJSON_GetObjectItemCaseSensitive(r, "budget");
    const cJSON *prop = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r, "scoring"), "propensity");
    tt_report_counts c;
    tt_report_count_trials(in, &c);
    heading(b, "run", "The run");
    tt_rb_puts(b, "<table class=\"facts\">\n");
    fact_text(b, "status", tt_rj_str(r, "status"));
    fact_text(b, "data source", tt_rj_str(data, "source"));
    fact_num(b, "rows", tt_rj_num(data, "rows"));
    fact_num(b, "training rows", tt_rj_num(data, "train_rows"));
    fact_num(b, "validation rows", tt_rj_num(data, "validation_rows"));
    arms_cell(b, in, data);
    const char *roles[][2] = {{"x", "effect modifiers (x)"},
                              {"w", "common causes (w)"},
                              {"z", "instruments (z)"}};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(feat, roles[i][0]);
        if (!cJSON_IsArray(arr))
            continue;
        tt_rb_printf(b, "<tr><th>%s</th><td>", roles[i][1]);
        string_list(b, arr, 30);
        tt_rb_puts(b, "</td></tr>\n");
    }
    const cJSON *mi = cJSON_GetObjectItemCaseSensitive(data, "missing_indicators");
    if (cJSON_IsArray(mi)) {
        tt_rb_puts(b, "<tr><th>missing-value indicators</th><td>");
        string_list(b, mi, 30);
        tt_rb_puts(b, "</td></tr>\n");
    }
    fact_num(b, "dropped rows (missing)", tt_rj_num(data, "dropped_rows"));
    fact_num(b, "excluded rows", tt_rj_num(data, "excluded_rows"));
    fact_text(b, "split", tt_rj_str(data, "split"));
    fact_text(b, "scoring propensity", tt_rj_str(prop, "model"));
    if (cJSON_IsObject(prop))
        tt_rb_printf(b, "<tr><th>scoring propensity range</th><td>[%.4g, %.4g], clip %.4g, "
                        "%.0f rows outside the clip</td></tr>\n",
                     tt_rj_num(prop, "min"), tt_rj_num(prop, "max"), tt_rj_num(prop, "clip"),
                     tt_rj_num(prop, "rows_outside_clip"));
    fact_text(b, "objective", tt_rj_str(r, "metric"));
    fact_text(b, "direction", tt_report_minimize(r) ? "min (lower is better)"
                                                    : "max (higher is better)");
    fact_num(b, "budget seconds", tt_rj_num(budget, "seconds"));
    fact_num(b, "budget trials", tt_rj_num(budget, "trials"));
    fact_num(b, "elapsed seconds", tt_rj_num(r, "elapsed_seconds"));
    tt_rb_printf(b, "<tr><th>trials</th><td>%zu: <span id=\"trials-ok\">%zu</span> ok, "
                    "<span id=\"trials-failed\">%zu</span> failed, "
                    "<span id=\"trials-timeout\">%zu</span> timed out</td></tr>\n",
                 c.total, c.ok, c.failed, c.timeout);
    fact_text(b, "seed", tt_rj_str(r, "seed_text"));
    fact_text(b, "tautune version", tt_rj_str(r, "tautune_version"));
    tt_rb_puts(b, "</table>\n</section>\n");
}

/* ---- 2. caveats ------------------------------------------------------- */

static void section_caveats(tt_rbuf *b, const tt_report_input *in)
{
    int oom = 0;
    size_t n = 0;
    char **cv = tt_report_caveats(in, &n, &oom);
    b->oom |= oom;
    heading(b, "caveats", "Caveats");
    if (n == 0)
        tt_rb_puts(b, "<p>None found: overlap, arm sizes and the run's status look fine.</p>\n");
    tt_rb_puts(b, n ? "<ul class=\"caveats\">\n" : "");
    for (size_t i = 0; i < n; i++) {
        tt_rb_puts(b, "<li>");
        tt_rb_esc(b, cv[i]);
        tt_rb_puts(b, "</li>\n");
    }
    tt_rb_puts(b, n ? "</ul>\n" : "");
    tt_rb_puts(b, "</section>\n");
    tt_report_free_strings(cv, n);
}

/* ---- 3. the winner ---------------------------------------------------- */

/* ABI 1.4: the plugin's own average over the training rows from
 * out-of-bag estimates, in one line under the validation table. */
static void winner_effects_oob(tt_rbuf *b, const cJSON *winner)
{
    const cJSON *oob = cJSON_GetObjectItemCaseSensitive(winner, "average_effect_oob");
    const cJSON *arms = cJSON_GetObjectItemCaseSensitive(oob, "arms"), *a;
    if (cJSON_GetArraySize(arms) < 1)
        return;
    double alpha = tt_rj_num(oob, "alpha");
    tt_rb_puts(b, "<p id=\"average-effect-oob\">Over the training rows, out of bag (");
    tt_rb_esc(b, tt_rj_str(oob, "method") ? tt_rj_str(oob, "method") : "an unnamed method");
    tt_rb_puts(b, "):");
    int first = 1;
    cJSON_ArrayForEach(a, arms)
    {
        tt_rb_puts(b, first ? " " : "; ");
        first = 0;
        tt_rb_esc(b, tt_rj_str(a, "arm"));
        tt_rb_puts(b, " ");
        tt_rb_num(b, tt_rj_num(a, "estimate"));
        tt_rb_puts(b, " [");
        tt_rb_num(b, tt_rj_num(a, "lo"));
        tt_rb_puts(b, ", ");
        tt_rb_num(b, tt_rj_num(a, "hi"));
        tt_rb_puts(b, "], se ");
        tt_rb_num(b, tt_rj_num(a, "se"));
    }
    tt_rb_printf(b, " (%g %% intervals).</p>\n", isfinite(alpha) ? 100 * (1 - alpha) : 95.0);
}

/* One line per average-effect figure of the run, so the headline is never
 * confused with the others: what each averages, over which rows, how. */
static void average_row(tt_rbuf *b, const char *figure, const cJSON *arms, const char *what)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, arms)
    {
        tt_rb_puts(b, "<tr><td>");
        tt_rb_esc(b, figure);
        tt_rb_puts(b, "</td><td>");
        tt_rb_esc(b, tt_rj_str(a, "arm"));
        tt_rb_puts(b, "</td>");
        tt_rb_num_cell(b, tt_rj_num(a, "estimate"), NULL, NULL);
        tt_rb_num_cell(b, tt_rj_num(a, "lo"), NULL, "no interval");
        tt_rb_num_cell(b, tt_rj_num(a, "hi"), NULL, "no interval");
        tt_rb_puts(b, "<td>");
        tt_rb_esc(b, what);
        tt_rb_puts(b, "</td></tr>\n");
    }
}

static void averages_table(tt_rbuf *b, const cJSON *results, const cJSON *winner,
                           const cJSON *best)
{
    const cJSON *est = cJSON_GetObjectItemCaseSensitive(results, "estimand");
    const cJSON *ae = cJSON_GetObjectItemCaseSensitive(winner, "average_effect");
    const cJSON *oob = cJSON_GetObjectItemCaseSensitive(winner, "average_effect_oob");
    tt_rb_puts(b, "<h3>Average effects in this run</h3>\n<table id=\"averages\"><thead><tr>"
                  "<th>figure</th><th>arm</th><th>estimate</th><th>lower</th><th>upper</th>"
                  "<th>what it is</th></tr></thead><tbody>\n");
    char what[512];
    if (cJSON_IsObject(est)) {
        snprintf(what, sizeof what, "the answer (top of the page): %s, doubly robust over %s "
                 "rows", tt_rj_str(est, "description") ? tt_rj_str(est, "description") : "?",
                 tt_rj_str(est, "rows") ? tt_rj_str(est, "rows") : "?");
        char fig[64];
        snprintf(fig, sizeof fig, "headline (%s)", tt_rj_str(est, "name"));
        average_row(b, fig, cJSON_GetObjectItemCaseSensitive(est, "arms"), what);
    }
    if (cJSON_IsObject(ae)) {
        snprintf(what, sizeof what, "the winner's mean estimate over the %s rows, its interval "
                 "by %s", tt_rj_str(ae, "rows") ? tt_rj_str(ae, "rows") : "validation",
                 tt_rj_str(ae, "interval_method") ? tt_rj_str(ae, "interval_method") : "?");
        average_row(b, "winner's own", cJSON_GetObjectItemCaseSensitive(ae, "arms"), what);
    }
    if (cJSON_IsObject(oob))
        average_row(b, "out of bag", cJSON_GetObjectItemCaseSensitive(oob, "arms"),
                    "the forest's AIPW average over the rows it was fitted on, each by the "
                    "trees that did not see it (grf's average_treatment_effect)");
    if (isfinite(tt_rj_num(best, "ate"))) {
        tt_rb_puts(b, "<tr><td>leaderboard ate</td><td></td>");
        tt_rb_num_cell(b, tt_rj_num(best, "ate"), NULL, NULL);
        tt_rb_puts(b, "<td></td><td></td><td>the mean estimate of the first treated arm over "
                      "the validation rows: how trials are compared, not an answer</td></tr>\n");
    }
    tt_rb_puts(b, "</tbody></table>\n");
}

static void winner_effects(tt_rbuf *b, const cJSON *winner, const cJSON *best)
{
    const cJSON *ae = cJSON_GetObjectItemCaseSensitive(winner, "average_effect");
    const cJSON *arms = cJSON_GetObjectItemCaseSensitive(ae, "arms");
    tt_rb_puts(b, "<h3>The winner's own average effect</h3>\n");
    if (!cJSON_IsArray(arms)) {
        tt_rb_puts(b, "<p>The winner was not refitted; the mean effect of its trial on the "
                      "validation rows is ");
        tt_rb_num(b, tt_rj_num(best, "ate"));
        tt_rb_puts(b, ".</p>\n");
        return;
    }
    double alpha = tt_rj_num(ae, "alpha");
    tt_rb_puts(b, "<p>Over the ");
    tt_rb_esc(b, tt_rj_str(ae, "rows") ? tt_rj_str(ae, "rows") : "validation");
    tt_rb_printf(b, " rows, %g %% intervals by ", isfinite(alpha) ? 100 * (1 - alpha) : 95.0);
    tt_rb_esc(b, tt_rj_str(ae, "interval_method") ? tt_rj_str(ae, "interval_method")
                                                   : "an unnamed method");
    tt_rb_puts(b, ".</p>\n<table id=\"average-effect\"><thead><tr><th>arm</th><th>estimate"
                  "</th><th>lower</th><th>upper</th></tr></thead><tbody>\n");
    const cJSON *a;
    cJSON_ArrayForEach(a, arms)
    {
        tt_rb_puts(b, "<tr><td>");
        tt_rb_esc(b, tt_rj_str(a, "arm"));
        tt_rb_puts(b, "</td>");
        tt_rb_num_cell(b, tt_rj_num(a, "estimate"), "obj", NULL);
        tt_rb_num_cell(b, tt_rj_num(a, "lo"), NULL, "no interval");
        tt_rb_num_cell(b, tt_rj_num(a, "hi"), NULL, "no interval");
        tt_rb_puts(b, "</tr>\n");
    }
    tt_rb_puts(b, "</tbody></table>\n");
    winner_effects_oob(b, winner);
}

/* What the greedy policy of the winner's effects does on the validation
 * rows: the share given each arm and its IPW value net of costs. */
static void winner_policy(tt_rbuf *b, const tt_report_input *in)
{
    size_t n = in->n;
    int k_arms = in->n_arms;
    double *pi = malloc(sizeof *pi * (n * (size_t)k_arms + 1));
    double *sh = malloc(sizeof *sh * ((size_t)k_arms + 1));
    if (!pi || !sh) {
        free(pi), free(sh);
        b->oom = 1;
        return;
    }
    tt_policy_greedy(n, k_arms, in->top[0].tau, in->cost, pi);
    tt_policy_shares(n, k_arms, pi, sh);
    tt_rb_puts(b, "<h3>Greedy policy</h3>\n<p>Give each row the arm with the largest "
                  "estimated effect net of its cost (the control when none is positive):</p>\n"
                  "<table id=\"policy-shares\"><thead><tr><th>arm</th><th>cost</th>"
                  "<th>share of rows</th></tr></thead><tbody>\n");
    for (int k = 0; k < k_arms; k++) {
        char buf[32];
        tt_rb_puts(b, "<tr><td>");
        tt_rb_esc(b, tt_report_arm_label(in, k, buf, sizeof buf));
        tt_rb_puts(b, "</td>");
        tt_rb_num_cell(b, in->cost ? in->cost[k] : 0.0, NULL, NULL);
        tt_rb_num_cell(b, sh[k], NULL, NULL);
        tt_rb_puts(b, "</tr>\n");
    }
    tt_rb_puts(b, "</tbody></table>\n");
    if (in->prop) {
        double v = tt_erupt(n, k_arms, in->t, in->y, in->prop, in->clip, pi) -
                   tt_policy_mean_cost(n, k_arms, pi, in->cost);
        double none = tt_arm_value(n, in->t, in->y, in->prop, in->clip, 0);
        tt_rb_puts(b, "<p>Its estimated mean outcome per row (IPW, net of costs) is <strong>");
        tt_rb_num(b, v);
        tt_rb_puts(b, "</strong>, against ");
        tt_rb_num(b, none);
        tt_rb_puts(b, " when nobody is treated.</p>\n");
    }
    free(pi), free(sh);
}

static void section_winner(tt_rbuf *b, const tt_report_input *in)
{
    const cJSON *best = cJSON_GetObjectItemCaseSensitive(in->results, "best");
    const cJSON *winner = cJSON_GetObjectItemCaseSensitive(in->results, "winner");
    heading(b, "winner", "Winner");
    if (!cJSON_IsObject(best)) {
        tt_rb_puts(b, "<p><strong>No winner:</strong> no trial succeeded. The failures are "
                      "listed under the leaderboard.</p>\n</section>\n");
        return;
    }
    const char *metric = tt_rj_str(in->results, "metric");
    tt_rb_puts(b, "<p class=\"winner-line\"><strong>");
    tt_rb_esc(b, tt_rj_str(best, "estimator"));
    tt_rb_printf(b, "</strong> (trial %.0f), ", tt_rj_num(best, "trial"));
    tt_rb_esc(b, metric ? metric : "objective");
    tt_rb_puts(b, " = ");
    double obj = tt_rj_num(best, "objective");
    tt_rb_printf(b, "<span id=\"winner-objective\" data-value=\"%.17g\" title=\"%.17g\">", obj,
                 obj);
    tt_rb_num(b, obj);
    tt_rb_puts(b, "</span></p>\n");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(best, "params");
    if (cJSON_GetArraySize(params) > 0) {
        tt_rb_puts(b, "<table id=\"winner-params\"><thead><tr><th>parameter</th><th>value</th>"
                      "</tr></thead><tbody>\n");
        const cJSON *p;
        cJSON_ArrayForEach(p, params)
        {
            tt_rb_puts(b, "<tr><td><code>");
            tt_rb_esc(b, p->string);
            tt_rb_puts(b, "</code></td><td>");
            json_value(b, p);
            tt_rb_puts(b, "</td></tr>\n");
        }
        tt_rb_puts(b, "</tbody></table>\n");
    } else {
        tt_rb_puts(b, "<p>No hyperparameters.</p>\n");
    }
    winner_effects(b, winner, best);
    averages_table(b, in->results, winner, best);
    char text[2048];
    if (tt_report_validation_sentence(in->results, text, sizeof text)) {
        tt_rb_puts(b, "<p id=\"validation\">");
        tt_rb_esc(b, text);
        tt_rb_puts(b, "</p>\n");
    }
    if (tt_report_ensemble_sentence(in->results, text, sizeof text)) {
        tt_rb_puts(b, "<p id=\"ensemble\">");
        tt_rb_esc(b, text);
        tt_rb_puts(b, "</p>\n");
    }
    if (in->n_top > 0 && in->n > 0 && in->t && in->y)
        winner_policy(b, in);
    tt_rb_puts(b, "</section>\n");
}

/* ---- 4. leaderboard --------------------------------------------------- */

/* Names of member `key` over the leaders, in order of first appearance
 * (borrowed). */
static size_t column_names(cJSON *const *lead, size_t n, const char *key, const char **out,
                           size_t max)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(lead[i], key))
        {
            size_t j = 0;
            while (j < m && strcmp(out[j], s->string))
                j++;
            if (j == m && m < max)
                out[m++] = s->string;
        }
    }
    return m;
}

static void score_header(tt_rbuf *b, const char *name, const char *metric, const char *cls)
{
    const tt_score_info *info = tt_score_find(name);
    int obj = metric && !strcmp(name, metric);
    tt_rb_printf(b, "<th class=\"num%s%s\"", obj ? " obj" : "", cls ? cls : "");
    if (info && info->description) {
        tt_rb_puts(b, " title=\"");
        tt_rb_esc(b, info->description);
        tt_rb_puts(b, "\"");
    }
    tt_rb_puts(b, ">");
    tt_rb_esc(b, name);
    if (info && info->direction != TT_SCORE_REPORT)
        tt_rb_puts(b, info->direction == TT_SCORE_MIN ? " \xe2\x86\x93" : " \xe2\x86\x91");
    tt_rb_puts(b, "</th>");
}

#define MAX_COLS 64

static void leader_row(tt_rbuf *b, const cJSON *tr, size_t rank, const tt_report_input *in,
                       const char **sc, size_t nsc, const char **orc, size_t norc)
{
    const cJSON *results = in->results;
    const char *metric = tt_rj_str(results, "metric"), *est = tt_rj_str(tr, "estimator");
    const cJSON *scores = cJSON_GetObjectItemCaseSensitive(tr, "scores");
    const cJSON *oracle = cJSON_GetObjectItemCaseSensitive(tr, "oracle");
    const cJSON *why = cJSON_GetObjectItemCaseSensitive(tr, "null_reasons");
    /* The search's winner: the best by objective, or under search.selection =
     * "one_se" or "medoid" another trial tied with it, which may rank lower here. */
    const cJSON *best = cJSON_GetObjectItemCaseSensitive(results, "best");
    const int won = isfinite(tt_rj_num(best, "trial"))
                        ? tt_rj_num(best, "trial") == tt_rj_num(tr, "id") : rank == 1;
    tt_rb_printf(b, "<tr%s data-estimator=\"", won ? " class=\"winner\"" : "");
    tt_rb_esc(b, est);
    tt_rb_printf(b, "\"><td>%zu</td><td>", rank);
    tt_rb_esc(b, est);
    tt_rb_printf(b, "</td><td class=\"num\">%.0f</td><td class=\"num\">%zu</td>",
                 tt_rj_num(tr, "id"), tt_report_trials_of(in, est, -1));
    char vs[64];
    tt_report_vs_best(results, tr, vs, sizeof vs);
    tt_rb_puts(b, "<td class=\"num\">");
    tt_rb_esc(b, vs);
    tt_rb_puts(b, "</td>");
    for (size_t j = 0; j < nsc; j++)
        tt_rb_num_cell(b, tt_rj_num(scores, sc[j]),
                       metric && !strcmp(sc[j], metric) ? "obj" : "more",
                       tt_rj_str(why, sc[j]) ? tt_rj_str(why, sc[j]) : "null");
    for (size_t j = 0; j < norc; j++)
        tt_rb_num_cell(b, tt_rj_num(oracle, orc[j]), "oracle",
                       tt_rj_str(why, orc[j]) ? tt_rj_str(why, orc[j]) : "null");
    params_cell(b, cJSON_GetObjectItemCaseSensitive(tr, "params"));
    tt_rb_puts(b, "</tr>\n");
}

/* One row per estimator with a failure: its first one. The estimators
 * already shown are remembered (there are few), not found again by a scan
 * of the earlier trials: that was quadratic, minutes at 10,000 trials. */
static void failures(tt_rbuf *b, const tt_report_input *in)
{
    size_t shown = 0, cap = 0;
    const char **seen = NULL;
    for (size_t i = 0; i < in->n_trials; i++) {
        const tt_trial_result *r = &in->trials[i];
        const char *est = tt_report_trial_estimator(r);
        if (r->status == TT_TRIAL_OK)
            continue;
        size_t k = 0;
        while (k < shown && strcmp(seen[k], est))
            k++;
        if (k < shown)
            continue;
        if (shown == cap) {
            cap = cap ? 2 * cap : 16;
            const char **grown = realloc(seen, cap * sizeof *seen);
            if (!grown) {
                b->oom = 1;
                break;
            }
            seen = grown;
        }
        seen[shown] = est;
        if (shown++ == 0)
            tt_rb_puts(b, "<h3>Failed trials</h3>\n<div class=\"scroll\"><table id=\"failures\">"
                          "<thead><tr><th>estimator</th><th class=\"num\">ok</th><th "
                          "class=\"num\">failed</th><th class=\"num\">timed out</th><th>first "
                          "error (trial)</th></tr></thead><tbody>\n");
        size_t ok = tt_report_trials_of(in, est, TT_TRIAL_OK);
        tt_rb_puts(b, "<tr><td>");
        tt_rb_esc(b, est);
        tt_rb_puts(b, ok ? "" : " <strong>(no successful trial)</strong>");
        tt_rb_printf(b, "</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td><td "
                        "class=\"num\">%zu</td><td class=\"err\">",
                     ok, tt_report_trials_of(in, est, TT_TRIAL_FAILED),
                     tt_report_trials_of(in, est, TT_TRIAL_TIMEOUT));
        const char *e = tt_trial_error(r);
        tt_rb_esc(b, *e ? e : "(no message)");
        tt_rb_printf(b, " (trial %zu)</td></tr>\n", r->id);
    }
    free(seen);
    if (shown)
        tt_rb_puts(b, "</tbody></table></div>\n");
    else
        tt_rb_puts(b, "<p>No trial failed.</p>\n");
}

static void section_leaderboard(tt_rbuf *b, const tt_report_input *in)
{
    const cJSON *r = in->results;
    const char *metric = tt_rj_str(r, "metric");
    int oom = 0;
    cJSON **lead = NULL;
    size_t n = tt_report_leaders(in, &lead, &oom);
    b->oom |= oom;
    heading(b, "leaderboard", "Leaderboard");
    if (n == 0) {
        tt_rb_puts(b, "<p>No successful trial.</p>\n");
    } else {
        const char *sc[MAX_COLS], *orc[MAX_COLS];
        size_t nsc = column_names(lead, n, "scores", sc, MAX_COLS);
        size_t norc = column_names(lead, n, "oracle", orc, MAX_COLS);
        /* The ranking column first among the scores; the others fold away
         * (shown with the "all scores" box, no script needed). */
        for (size_t j = 1; metric && j < nsc; j++)
            if (!strcmp(sc[j], metric)) {
                const char *m0 = sc[j];
                memmove(sc + 1, sc, j * sizeof *sc);
                sc[0] = m0;
                break;
            }
        tt_rb_puts(b, "<p>The best trial of each estimator, ranked by the objective <strong>");
        tt_rb_esc(b, metric ? metric : "?");
        tt_rb_printf(b, "</strong> (%s is better; highlighted). Arrows mark each score's "
                        "better direction; hover a number for its exact value.%s</p>\n",
                     tt_report_minimize(r) ? "lower" : "higher",
                     norc ? " Grey italic columns are oracle figures (true effects known)."
                          : "");
        if (nsc > 1)
            tt_rb_printf(b, "<input type=\"checkbox\" id=\"all-scores\"><label "
                            "for=\"all-scores\"> show the other %zu scores</label>\n",
                         nsc - 1);
        tt_rb_puts(b, "<div class=\"scroll\"><table id=\"leaderboard\"><thead><tr><th>rank</th>"
                      "<th>estimator</th><th class=\"num\">trial</th><th class=\"num\">trials"
                      "</th><th class=\"num\" title=\"the objective's paired difference to "
                      "the best trial on the validation rows, with its standard error; = "
                      "marks a tie (|difference| &lt;= 2 s.e.)\">vs best (\xc2\xb1 s.e.)</th>");
        for (size_t j = 0; j < nsc; j++)
            score_header(b, sc[j], metric,
                         metric && !strcmp(sc[j], metric) ? NULL : " more");
        for (size_t j = 0; j < norc; j++)
            score_header(b, orc[j], NULL, " oracle");
        tt_rb_puts(b, "<th>parameters</th></tr></thead><tbody>\n");
        for (size_t i = 0; i < n; i++)
            leader_row(b, lead[i], i + 1, in, sc, nsc, orc, norc);
        tt_rb_puts(b, "</tbody></table></div>\n");
        char ties[512];
        if (tt_report_ties_sentence(r, ties, sizeof ties)) {
            tt_rb_puts(b, "<p id=\"ties\">");
            tt_rb_esc(b, ties);
            tt_rb_puts(b, "</p>\n");
        }
    }
    tt_report_leaders_free(lead, n);
    failures(b, in);
    tt_rb_puts(b, "</section>\n");
}

/* ---- 6. nuisance models ----------------------------------------------- */

static void section_nuisances(tt_rbuf *b, const tt_report_input *in)
{
    const cJSON *nu = cJSON_GetObjectItemCaseSensitive(in->results, "nuisances"), *m;
    heading(b, "nuisances", "Nuisance models");
    if (cJSON_GetArraySize(nu) == 0) {
        tt_rb_puts(b, "<p>No estimator asked for shared nuisance models in this run.</p>\n"
                      "</section>\n");
        return;
    }
    tt_rb_puts(b, "<p>Cross-fitted on the training rows and shared by every trial; losses "
                  "are out of fold.</p>\n<div class=\"scroll\"><table id=\"nuisance-table\">"
                  "<thead><tr><th>role</th><th>arm</th><th>learner</th><th class=\"num\">"
                  "out-of-fold loss</th><th class=\"num\">R\xc2\xb2</th><th class=\"num\">AUC"
                  "</th><th class=\"num\">calibration</th><th class=\"num\">min</th><th "
                  "class=\"num\">max</th><th class=\"num\">outside [0.05, 0.95]</th><th "
                  "class=\"num\">candidates</th><th>parameters</th></tr></thead><tbody>\n");
    cJSON_ArrayForEach(m, nu)
    {
        tt_rb_puts(b, "<tr><td>");
        tt_rb_esc(b, tt_rj_str(m, "role"));
        tt_rb_puts(b, "</td><td>");
        double arm = tt_rj_num(m, "arm");
        char buf[32];
        if (isfinite(arm))
            tt_rb_esc(b, tt_report_arm_label(in, (int)arm, buf, sizeof buf));
        tt_rb_puts(b, "</td><td>");
        tt_rb_esc(b, tt_rj_str(m, "learner"));
        tt_rb_puts(b, "</td>");
        const char *keys[] = {"oof_loss",       "r2",
                              "auc",            "calibration",
                              "propensity_min", "propensity_max",
                              "rows_outside_0.05_0.95", "candidates"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            tt_rb_num_cell(b, tt_rj_num(m, keys[k]), NULL, "not applicable to this role");
        params_cell(b, cJSON_GetObjectItemCaseSensitive(m, "params"));
        tt_rb_puts(b, "</tr>\n");
    }
    tt_rb_puts(b, "</tbody></table></div>\n</section>\n");
}

/* ---- the page --------------------------------------------------------- */

static void page(tt_rbuf *b, const tt_report_input *in)
{
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(in->results, "config");
    const char *name = tt_rj_str(cfg, "name");
    tt_rb_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<title>tautune report: ");
    tt_rb_esc(b, name ? name : "run");
    tt_rb_puts(b, "</title>\n");
    tt_rb_puts(b, tt_report_style);
    tt_rb_puts(b, "</head>\n<body>\n<main>\n<h1>tautune report: ");
    tt_rb_esc(b, name ? name : "run");
    tt_rb_puts(b, "</h1>\n<p class=\"sub\">Config <code>");
    tt_rb_esc(b, tt_rj_str(cfg, "path"));
    tt_rb_puts(b, "</code>, objective <code>");
    tt_rb_esc(b, tt_rj_str(in->results, "metric"));
    tt_rb_puts(b, "</code>, status ");
    tt_rb_esc(b, tt_rj_str(in->results, "status"));
    tt_rb_puts(b, ".</p>\n");
    /* The answer first: the headline average effect, before the evidence. */
    char answer[4096];
    if (tt_report_headline(in->results, answer, sizeof answer)) {
        tt_rb_puts(b, "<p id=\"answer\" class=\"answer\">");
        tt_rb_esc(b, answer);
        tt_rb_puts(b, "</p>\n");
    }
    /* Then whether the effect varies and who benefits: the heterogeneity
     * verdict and the policy, the evidence below. */
    if (tt_report_verdict(in->results, answer, sizeof answer)) {
        tt_rb_puts(b, "<p id=\"verdict\" class=\"answer\"><strong>Does it vary?</strong> ");
        tt_rb_esc(b, answer);
        tt_rb_puts(b, " <a href=\"#drivers\">Details</a>.</p>\n");
    }
    if (tt_report_policy_sentence(in->results, answer, sizeof answer)) {
        const char *rules = tt_rj_str(cJSON_GetObjectItemCaseSensitive(in->results, "policy"),
                                      "rules");
        tt_rb_puts(b, "<div id=\"who\" class=\"answer\"><p><strong>Who to treat?</strong> ");
        tt_rb_esc(b, answer);
        tt_rb_puts(b, " <a href=\"#policy\">Details</a>.</p>\n<pre>");
        tt_rb_esc(b, rules ? rules : "");
        tt_rb_puts(b, "</pre></div>\n");
    }
    tt_rb_puts(b, "<nav class=\"toc\"><strong>Contents</strong><ol>"
                  "<li><a href=\"#run\">The run</a></li>"
                  "<li><a href=\"#caveats\">Caveats</a></li>"
                  "<li><a href=\"#winner\">Winner</a></li>"
                  "<li><a href=\"#leaderboard\">Leaderboard</a></li>"
                  "<li><a href=\"#drivers\">What drives the effect</a></li>"
                  "<li><a href=\"#policy\">A policy</a></li>"
                  "<li><a href=\"#plots\">Plots</a></li>"
                  "<li><a href=\"#nuisances\">Nuisance models</a></li></ol></nav>\n");
    section_run(b, in);
    section_caveats(b, in);
    section_winner(b, in);
    section_leaderboard(b, in);
    tt_report_insight_section(b, in->results);
    tt_report_policy_section(b, in->results);
    heading(b, "plots", "Plots");
    tt_report_plots(b, in);
    tt_rb_puts(b, "</section>\n");
    section_nuisances(b, in);
    tt_report_iv_section(b, in->results);
    tt_rb_puts(b, "</main>\n</body>\n</html>\n");
}

tt_status tt_report_write_html(const char *dir, const tt_report_input *in, char *err,
                               size_t errlen)
{
    if (!dir || !in || !cJSON_IsObject(in->results) || in->n_arms < 2 ||
        (in->n_top > 0 && !in->top))
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "report.html: needs a folder, the results object and >= 2 arms");
    tt_rbuf b = {0};
    page(&b, in);
    tt_status st = tt_rb_write_atomic(&b, dir, "report.html", err, errlen);
    tt_rb_free(&b);
    return st;
}
