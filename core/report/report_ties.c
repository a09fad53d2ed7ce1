/* report_ties.c - the leaderboard's "vs best" cells and the sentence on ties,
 * from the paired differences results.json carries (search/rank.h), shared
 * by report.html and summary.md. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"

void tt_report_vs_best(const cJSON *results, const cJSON *trial, char *buf, size_t len)
{
    const cJSON *best = cJSON_GetObjectItemCaseSensitive(results, "best");
    double d = tt_rj_num(trial, "diff_to_best"), se = tt_rj_num(trial, "diff_se");
    if (!isfinite(d) || !isfinite(se))
        snprintf(buf, len, "-");
    else if (tt_rj_num(best, "best_by_objective") == tt_rj_num(trial, "id"))
        snprintf(buf, len, "best");
    else
        snprintf(buf, len, "%+.3g \xc2\xb1 %.2g%s", d, se,
                 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(trial, "tied_with_best"))
                     ? " =" : "");
}

int tt_report_ties_sentence(const cJSON *results, char *buf, size_t len)
{
    const cJSON *best = cJSON_GetObjectItemCaseSensitive(results, "best");
    double tied = tt_rj_num(best, "tied");
    const char *metric = tt_rj_str(results, "metric"), *rule = tt_rj_str(best, "rule");
    buf[0] = '\0';
    if (!isfinite(tied) || tied < 2)
        return 0;
    int n = snprintf(buf, len,
                     "%.0f%s candidates (the best included) are statistically "
                     "indistinguishable from the best: their %s is within 2 standard errors "
                     "of the best's (paired differences on the same validation rows; marked "
                     "=).",
                     tied,
                     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(best, "tied_at_least"))
                         ? " (at least)" : "", metric ? metric : "objective");
    if (n <= 0 || (size_t)n >= len)
        return 1;
    if (rule && !strcmp(rule, "one_se"))
        snprintf(buf + n, len - (size_t)n,
                 " The winner is the simplest of them (search.selection = \"one_se\", the "
                 "default: among so many ties the best objective is mostly the luckiest draw "
                 "of the validation noise).");
    else if (rule && !strcmp(rule, "medoid"))
        snprintf(buf + n, len - (size_t)n,
                 " The winner is the one of them whose effects are nearest the mean of their "
                 "effects (search.selection = \"medoid\"): the best objective among so many "
                 "ties is mostly the luckiest draw of the validation noise.");
    else
        snprintf(buf + n, len - (size_t)n,
                 " The winner is the best by objective (search.selection = \"best\"); the "
                 "default \"one_se\" would pick the simplest of them.");
    return 1;
}
