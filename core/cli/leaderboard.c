/* leaderboard.c - the table `tautune run` prints at the end. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "plugin/conditions.h"
#include "search/trial.h"

#define VS_WIDTH 22 /* columns of the "vs best" cell */

/* The trial's paired difference to the best by objective, "+0.0123 ± 0.0045 ="
 * ("=": tied, search/rank.h), "best" for the best itself, "-" without terms. */
static void versus_best(const tt_search_outcome *out, const tt_trial_result *t, char *buf,
                        size_t len)
{
    if (out->best_by_objective >= 0 && t == &out->trials[out->best_by_objective])
        snprintf(buf, len, "%s", t->has_diff ? "best" : "-");
    else if (!t->has_diff)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%+.3g ± %.2g%s", t->diff_to_best, t->diff_se,
                 t->tied_with_best ? " =" : "");
}

/* The cell padded to VS_WIDTH columns and a space, or "" when hidden. "±"
 * is two bytes in UTF-8 but one column. */
static void pad_cell(char *buf, size_t len, const char *text, int show)
{
    if (!show)
        buf[0] = '\0';
    else
        snprintf(buf, len, "%-*s ", VS_WIDTH + (strstr(text, "±") ? 1 : 0), text);
}

/* Best trial of every estimator, best first. */
/* a beats b under the metric's direction. */
static int beats(double a, double b, int maximize)
{
    return maximize ? a > b : a < b;
}

void tt_cli_print_leaderboard(const tt_search_outcome *out, const tt_plugin_descriptor *const *descs,
                              size_t n_est, const char *metric, int maximize, size_t n_valid,
                              int truth)
{
    long best[n_est];
    size_t count[n_est], order[n_est];
    for (size_t e = 0; e < n_est; e++) {
        best[e] = -1;
        count[e] = 0;
        order[e] = e;
    }
    for (size_t i = 0; i < out->n_trials; i++) {
        const tt_trial_result *r = &out->trials[i];
        count[r->estimator]++;
        if (r->status != TT_TRIAL_OK || isnan(r->objective))
            continue;
        if (best[r->estimator] < 0 ||
            beats(r->objective, out->trials[best[r->estimator]].objective, maximize))
            best[r->estimator] = (long)i;
    }
    /* Insertion sort: a handful of estimators. Missing results go last. */
    for (size_t i = 1; i < n_est; i++) {
        size_t k = order[i], j = i;
        while (j > 0) {
            long a = best[k], b = best[order[j - 1]];
            int before = a >= 0 && (b < 0 || beats(out->trials[a].objective,
                                                         out->trials[b].objective, maximize));
            if (!before)
                break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }
    printf("\nLeaderboard (%s, %s is better; %zu trials, %zu validation rows)\n", metric,
           maximize ? "higher" : "lower", out->n_trials, n_valid);
    /* The "vs best" column only when the metric has standard errors. */
    const int show_vs = out->n_tied > 0;
    char cell[64];
    pad_cell(cell, sizeof cell, "vs best (± s.e.)", show_vs);
    printf("%-4s %-18s %7s %12s %s%10s%s  %s\n", "rank", "estimator", "trials", metric, cell,
           "ate", truth ? "       pehe" : "", "params");
    for (size_t r = 0; r < n_est; r++) {
        size_t e = order[r];
        if (best[e] < 0) {
            pad_cell(cell, sizeof cell, "-", show_vs);
            printf("%-4s %-18s %7zu %12s %s%10s%s  %s\n", "-", descs[e]->name, count[e], "-",
                   cell, "-", truth ? "          -" : "", "(no successful trial)");
            continue;
        }
        const tt_trial_result *t = &out->trials[best[e]];
        char params[256] = "";
        size_t off = 0;
        for (size_t p = 0; p < t->desc->n_params && off < sizeof params; p++) {
            const tt_plugin_param *sp = &t->desc->params[p];
            if (!tt_param_active(t->desc, t->point, p))
                continue; /* not chosen: its learner does not use it */
            if (sp->kind == TT_PARAM_CHOICE)
                off += (size_t)snprintf(params + off, sizeof params - off, "%s=%s ", sp->name,
                                        sp->choices[(size_t)t->point[p]]);
            else
                off += (size_t)snprintf(params + off, sizeof params - off, "%s=%.4g ", sp->name,
                                        t->point[p]);
        }
        char pehe[32] = "";
        const tt_score_value *pv = tt_trial_find_score(t, "pehe");
        if (truth && pv)
            snprintf(pehe, sizeof pehe, " %10.4f", pv->value);
        char vs[48];
        versus_best(out, t, vs, sizeof vs);
        pad_cell(cell, sizeof cell, vs, show_vs);
        printf("%-4zu %-18s %7zu %12.6g %s%10.4f%s  %s\n", r + 1, descs[e]->name, count[e],
               t->objective, cell, t->ate, pehe, params);
    }
    if (out->n_tied > 1)
        printf("= tied with the best: |difference| <= 2 s.e. of the paired difference on the "
               "validation rows (and <= 2 s.e. of the best's objective); %zu trials%s are "
               "statistically indistinguishable from the best\n",
               out->n_tied, out->tied_at_least ? " (at least)" : "");
    if (out->best >= 0) {
        const tt_trial_result *w = &out->trials[out->best];
        printf("\nWinner: %s (trial %zu)", w->desc->name, w->id);
        if (out->rule && strcmp(out->rule, "one_se") == 0 && out->best != out->best_by_objective)
            printf(", the simplest of the %zu trials tied with the best (search.selection = "
                   "\"one_se\"; best objective: trial %zu)", out->n_tied,
                   out->trials[out->best_by_objective].id);
        else if (out->rule && strcmp(out->rule, "medoid") == 0 &&
                 out->best != out->best_by_objective)
            printf(", of the %zu trials tied with the best the one whose effects are nearest "
                   "their mean (search.selection = \"medoid\"; best objective: trial %zu)",
                   out->n_tied, out->trials[out->best_by_objective].id);
        printf("\n");
    }
}

