/* report_summary.c - summary.md (report.h): status, winner, objective, the
 * top 5 of the leaderboard and the caveats, in under 60 lines (a CI job
 * summary), numbers from results.json. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "util/err.h"

#define SUMMARY_TOP 5
/* Caveats beyond this many are counted, not listed, to stay under 60 lines. */
#define SUMMARY_CAVEATS 8

static void md_num(tt_rbuf *b, double v)
{
    if (isfinite(v))
        tt_rb_printf(b, "%.6g", v);
    else
        tt_rb_puts(b, "n/a");
}

/* " est [lo, hi]" per arm ("; arm A est [lo, hi]" with several), with
 * "(se s)" after the estimate when with_se, then " (95 %, method)". */
static void average_text(tt_rbuf *b, const cJSON *ae, const char *method_key, int with_se)
{
    const cJSON *arms = cJSON_GetObjectItemCaseSensitive(ae, "arms"), *a;
    double alpha = tt_rj_num(ae, "alpha");
    int first = 1;
    cJSON_ArrayForEach(a, arms)
    {
        tt_rb_puts(b, first ? " " : "; ");
        first = 0;
        if (cJSON_GetArraySize(arms) > 1) {
            tt_rb_puts(b, "arm ");
            tt_rb_md(b, tt_rj_str(a, "arm"));
            tt_rb_puts(b, " ");
        }
        md_num(b, tt_rj_num(a, "estimate"));
        if (with_se) {
            tt_rb_puts(b, " (se ");
            md_num(b, tt_rj_num(a, "se"));
            tt_rb_puts(b, ")");
        }
        tt_rb_puts(b, " [");
        md_num(b, tt_rj_num(a, "lo"));
        tt_rb_puts(b, ", ");
        md_num(b, tt_rj_num(a, "hi"));
        tt_rb_puts(b, "]");
    }
    tt_rb_printf(b, " (%g %%, ", isfinite(alpha) ? 100 * (1 - alpha) : 95.0);
    tt_rb_md(b, tt_rj_str(ae, method_key) ? tt_rj_str(ae, method_key) : "?");
    tt_rb_puts(b, ")");
}

static void winner_line(tt_rbuf *b, const tt_report_input *in)
{
    const cJSON *r = in->results, *best = cJSON_GetObjectItemCaseSensitive(r, "best");
    if (!cJSON_IsObject(best)) {
        tt_rb_puts(b, "**Winner: none** (no trial succeeded)\n\n");
        return;
    }
    const cJSON *winner = cJSON_GetObjectItemCaseSensitive(r, "winner");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(winner, "ensemble"))) {
        tt_rb_printf(b, "**Winner: an ensemble of %d trials** (best single trial: ",
                     cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(winner, "members")));
        tt_rb_md(b, tt_rj_str(best, "estimator"));
        tt_rb_printf(b, ", trial %.0f)", tt_rj_num(best, "trial"));
    } else {
        tt_rb_puts(b, "**Winner: ");
        tt_rb_md(b, tt_rj_str(best, "estimator"));
        tt_rb_printf(b, "** (trial %.0f)", tt_rj_num(best, "trial"));
    }
    const cJSON *ae = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r, "winner"), "average_effect");
    /* A continuous treatment's effect is per unit of it (results.json data.treatment). */
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r, "data"), "treatment");
    const char *kind = tt_rj_str(tr, "kind");
    if (kind && strcmp(kind, "continuous") == 0) {
        tt_rb_puts(b, ": average effect per unit of ");
        tt_rb_md(b, tt_rj_str(tr, "name") ? tt_rj_str(tr, "name") : "the treatment");
    }
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ae, "arms")) > 0) {
        /* Not the headline (the answer above): the winner's own average of
         * its estimates, on the rows it says. */
        tt_rb_puts(b, kind && strcmp(kind, "continuous") == 0 ? "" : ": its own average effect");
        if (tt_rj_str(ae, "rows")) {
            tt_rb_puts(b, " (");
            tt_rb_md(b, tt_rj_str(ae, "rows"));
            tt_rb_puts(b, " rows)");
        }
        average_text(b, ae, "interval_method", 0);
    } else {
        tt_rb_puts(b, kind && strcmp(kind, "continuous") == 0 ? " " : ": average effect ");
        md_num(b, tt_rj_num(best, "ate"));
    }
    tt_rb_puts(b, "\n\n");
    char text[2048];
    if (tt_report_validation_sentence(r, text, sizeof text)) {
        tt_rb_md(b, text);
        tt_rb_puts(b, "\n\n");
    }
    if (tt_report_ensemble_sentence(r, text, sizeof text)) {
        tt_rb_md(b, text);
        tt_rb_puts(b, "\n\n");
    }
    if (tt_report_iv_sentence(r, text, sizeof text)) {
        tt_rb_md(b, text);
        tt_rb_puts(b, "\n\n");
    }
    /* ABI 1.4: the plugin's own out-of-bag average over the training rows. */
    const cJSON *oob = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r, "winner"), "average_effect_oob");
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(oob, "arms")) > 0) {
        tt_rb_puts(b, "**Out-of-bag average effect** (training rows):");
        average_text(b, oob, "method", 1);
        tt_rb_puts(b, "\n\n");
    }
}

static void leaderboard(tt_rbuf *b, const tt_report_input *in)
{
    int oom = 0;
    cJSON **lead = NULL;
    size_t n = tt_report_leaders(in, &lead, &oom);
    b->oom |= oom;
    if (n == 0)
        return;
    const char *metric = tt_rj_str(in->results, "metric");
    tt_rb_puts(b, "## Leaderboard (top 5)\n\n| rank | estimator | trial | ");
    tt_rb_md(b, metric ? metric : "objective");
    tt_rb_puts(b, " | vs best (\xc2\xb1 s.e.) | ate |\n|---:|---|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < n && i < SUMMARY_TOP; i++) {
        tt_rb_printf(b, "| %zu | ", i + 1);
        tt_rb_md(b, tt_rj_str(lead[i], "estimator"));
        tt_rb_printf(b, " | %.0f | ", tt_rj_num(lead[i], "id"));
        md_num(b, tt_rj_num(lead[i], "objective"));
        char vs[64];
        tt_report_vs_best(in->results, lead[i], vs, sizeof vs);
        tt_rb_puts(b, " | ");
        tt_rb_md(b, vs);
        tt_rb_puts(b, " | ");
        md_num(b, tt_rj_num(lead[i], "ate"));
        tt_rb_puts(b, " |\n");
    }
    if (n > SUMMARY_TOP)
        tt_rb_printf(b, "\n%zu more estimators in report.html.\n", n - SUMMARY_TOP);
    char ties[512];
    if (tt_report_ties_sentence(in->results, ties, sizeof ties))
        tt_rb_printf(b, "\n%s\n", ties);
    tt_rb_puts(b, "\n");
    tt_report_leaders_free(lead, n);
}

/* One line naming the estimators that never succeeded (a CI reader's first
 * question when a plugin breaks), in order of their first trial. */
static void never_ok(tt_rbuf *b, const tt_report_input *in)
{
    int oom = 0;
    const char **est = NULL;
    size_t n = tt_report_estimators(in, &est, &oom), shown = 0;
    b->oom |= oom;
    for (size_t e = 0; e < n; e++) {
        if (tt_report_trials_of(in, est[e], TT_TRIAL_OK))
            continue;
        tt_rb_puts(b, shown++ ? ", " : "**No successful trial:** ");
        tt_rb_md(b, est[e]);
    }
    free(est);
    if (shown)
        tt_rb_puts(b, " (errors in report.html)\n\n");
}

static void caveats(tt_rbuf *b, const tt_report_input *in)
{
    int oom = 0;
    size_t n = 0;
    char **cv = tt_report_caveats(in, &n, &oom);
    b->oom |= oom;
    tt_rb_puts(b, "## Caveats\n\n");
    if (n == 0)
        tt_rb_puts(b, "None found.\n");
    for (size_t i = 0; i < n && i < SUMMARY_CAVEATS; i++) {
        tt_rb_puts(b, "- ");
        tt_rb_md(b, cv[i]);
        tt_rb_puts(b, "\n");
    }
    if (n > SUMMARY_CAVEATS)
        tt_rb_printf(b, "- and %zu more in report.html\n", n - SUMMARY_CAVEATS);
    tt_report_free_strings(cv, n);
}

tt_status tt_report_write_summary(const char *dir, const tt_report_input *in, char *err,
                                  size_t errlen)
{
    if (!dir || !in || !cJSON_IsObject(in->results))
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "summary.md: needs a folder and the results object");
    const cJSON *r = in->results;
    const char *name = tt_rj_str(cJSON_GetObjectItemCaseSensitive(r, "config"), "name");
    tt_report_counts c;
    tt_report_count_trials(in, &c);
    tt_rbuf b = {0};
    tt_rb_puts(&b, "# tautune run: ");
    tt_rb_md(&b, name ? name : "run");
    tt_rb_puts(&b, "\n\n**Status:** ");
    tt_rb_md(&b, tt_rj_str(r, "status") ? tt_rj_str(r, "status") : "?");
    tt_rb_printf(&b, ", %zu trials (%zu ok, %zu failed, %zu timed out) in ", c.total, c.ok,
                 c.failed, c.timeout);
    md_num(&b, tt_rj_num(r, "elapsed_seconds"));
    tt_rb_puts(&b, " s\n\n");
    char answer[4096];
    if (tt_report_headline(r, answer, sizeof answer)) {
        tt_rb_puts(&b, "**The answer.** ");
        tt_rb_md(&b, answer);
        tt_rb_puts(&b, "\n\n");
    }
    if (tt_report_verdict(r, answer, sizeof answer)) {
        tt_rb_puts(&b, "**Does it vary?** ");
        tt_rb_md(&b, answer);
        tt_rb_puts(&b, "\n\n");
    }
    if (tt_report_policy_sentence(r, answer, sizeof answer)) {
        tt_rb_puts(&b, "**Who to treat?** ");
        tt_rb_md(&b, answer);
        tt_rb_puts(&b, "\n\n");
    }
    winner_line(&b, in);
    const cJSON *best = cJSON_GetObjectItemCaseSensitive(r, "best");
    tt_rb_puts(&b, "**Objective:** ");
    tt_rb_md(&b, tt_rj_str(r, "metric") ? tt_rj_str(r, "metric") : "?");
    tt_rb_printf(&b, " (%s is better)", tt_report_minimize(r) ? "lower" : "higher");
    if (cJSON_IsObject(best)) {
        tt_rb_puts(&b, " = ");
        md_num(&b, tt_rj_num(best, "objective"));
    }
    tt_rb_puts(&b, "\n\n");
    leaderboard(&b, in);
    never_ok(&b, in);
    caveats(&b, in);
    tt_rb_puts(&b, "\nDetails: report.html and results.json in the run folder.\n");
    tt_status st = tt_rb_write_atomic(&b, dir, "summary.md", err, errlen);
    tt_rb_free(&b);
    return st;
}
