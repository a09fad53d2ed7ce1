/* report_ensemble.c - the sentences the report and summary.md give about
 * how candidates were scored (one holdout or K folds) and about the ensemble
 * of the best trials (results.json "data.validation" and "ensemble"). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"

/* snprintf that keeps appending at *used. */
static void add(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
    if (*used >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *used, len - *used, fmt, ap);
    va_end(ap);
    if (w > 0)
        *used += (size_t)w;
}

int tt_report_validation_sentence(const cJSON *results, char *buf, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(results, "data"), "validation");
    size_t used = 0;
    buf[0] = '\0';
    if (!cJSON_IsObject(v))
        return 0;
    const char *kind = tt_rj_str(v, "kind"), *rule = tt_rj_str(v, "rule");
    double rows = tt_rj_num(v, "rows_scored");
    if (kind && strcmp(kind, "cross-validated") == 0)
        add(buf, len, &used, "Candidates were scored by %.0f-fold cross-validation: every one "
                             "of the %.0f rows out of fold", tt_rj_num(v, "folds"), rows);
    else
        add(buf, len, &used, "Candidates were scored on one holdout of %.0f rows (%.0f %%)",
            rows, 100 * tt_rj_num(v, "share"));
    if (rule)
        add(buf, len, &used, " (%s).", rule);
    else
        add(buf, len, &used, ".");
    return 1;
}

int tt_report_ensemble_sentence(const cJSON *results, char *buf, size_t len)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(results, "ensemble");
    size_t used = 0;
    buf[0] = '\0';
    if (!cJSON_IsObject(e))
        return 0;
    const char *metric = tt_rj_str(results, "metric");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "built"))) {
        add(buf, len, &used, "No ensemble of trials: %s.",
            tt_rj_str(e, "reason") ? tt_rj_str(e, "reason") : "not built");
        return 1;
    }
    const cJSON *members = cJSON_GetObjectItemCaseSensitive(e, "members"), *m;
    add(buf, len, &used, "Ensemble of %d trial%s (", cJSON_GetArraySize(members),
        cJSON_GetArraySize(members) == 1 ? "" : "s");
    int first = 1;
    cJSON_ArrayForEach(m, members)
    {
        add(buf, len, &used, "%s%s %.0f \xc3\x97 %.2f", first ? "" : ", ",
            tt_rj_str(m, "estimator") ? tt_rj_str(m, "estimator") : "?", tt_rj_num(m, "trial"),
            tt_rj_num(m, "weight"));
        first = 0;
    }
    add(buf, len, &used, "): honest %s %.6g \xc2\xb1 %.2g against %.6g for the best single "
                         "trial (difference %+.3g \xc2\xb1 %.2g, by nested halves)",
        metric ? metric : "objective", tt_rj_num(e, "honest"), tt_rj_num(e, "honest_se"),
        tt_rj_num(e, "single_honest"), tt_rj_num(e, "diff"), tt_rj_num(e, "diff_se"));
    const cJSON *oracle = cJSON_GetObjectItemCaseSensitive(e, "oracle");
    if (isfinite(tt_rj_num(oracle, "pehe")))
        add(buf, len, &used, "; its out-of-sample \xe2\x88\x9aPEHE %.4g", tt_rj_num(oracle, "pehe"));
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "chosen")))
        add(buf, len, &used, ". It is the model handed on (model.ttm, cate.csv).");
    else if (tt_rj_str(e, "not_handed_on"))
        add(buf, len, &used, ". It won but was not handed on: %s.", tt_rj_str(e, "not_handed_on"));
    else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "wins")))
        add(buf, len, &used, ". It won.");
    else
        add(buf, len, &used, ". It does not beat the best trial, which is handed on.");
    return 1;
}
