/*
 * report_answer.c - the answer a run gives, first on every page: the
 * headline average effect (results.json "estimand", cli/run_estimand.c) in
 * one sentence per treated arm, with how it was made, and numbers in one
 * format with thousands separators (tt_report_fmt).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"

void tt_report_fmt(double v, char *buf, size_t len)
{
    if (!len)
        return;
    if (!isfinite(v)) {
        snprintf(buf, len, "n/a");
        return;
    }
    double a = fabs(v);
    if (a >= 1000.0 && a < 1e15) {
        /* Whole units, grouped by thousands: 13,640 not 1.364e+04. */
        char digits[32];
        snprintf(digits, sizeof digits, "%.0f", a);
        size_t nd = strlen(digits), o = 0;
        char out[48];
        if (v < 0)
            out[o++] = '-';
        for (size_t i = 0; i < nd && o + 2 < sizeof out; i++) {
            if (i > 0 && (nd - i) % 3 == 0)
                out[o++] = ',';
            out[o++] = digits[i];
        }
        out[o] = '\0';
        snprintf(buf, len, "%s", out);
    } else if (v == floor(v)) {
        snprintf(buf, len, "%.0f", v); /* counts and whole numbers whole: 517, not 517.0 */
    } else if (a >= 1e-4) {
        /* Four significant digits, never an exponent in this range. */
        int decimals = a == 0.0 ? 0 : 3 - (int)floor(log10(a));
        decimals = decimals < 0 ? 0 : decimals > 8 ? 8 : decimals;
        snprintf(buf, len, "%.*f", decimals, v);
    } else {
        snprintf(buf, len, "%.3g", v);
    }
}

int tt_report_headline(const cJSON *results, char *buf, size_t len)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(results, "estimand");
    const cJSON *arms = cJSON_GetObjectItemCaseSensitive(e, "arms"), *a;
    if (!len)
        return 0;
    buf[0] = '\0';
    if (!cJSON_IsArray(arms) || cJSON_GetArraySize(arms) < 1)
        return 0;
    const char *name = tt_rj_str(e, "name"), *desc = tt_rj_str(e, "description");
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(results, "data"), "treatment");
    const char *kind = tt_rj_str(tr, "kind");
    int cont = kind && strcmp(kind, "continuous") == 0;
    size_t used = 0;
    char upper[16] = "";
    for (size_t i = 0; name && name[i] && i + 1 < sizeof upper; i++)
        upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    if (cont)
        tt_report_append(buf, len, &used, "Average effect per unit of '%s' (%s)", tt_rj_str(tr, "name") ? tt_rj_str(tr, "name")
                                                                           : "the treatment",
            desc ? desc : "every row");
    else
        tt_report_append(buf, len, &used, "Average effect (%s: %s)", strcmp(upper, "OVERLAP") ? upper : "overlap-weighted",
            desc ? desc : "");
    int many = cJSON_GetArraySize(arms) > 1, first = 1;
    cJSON_ArrayForEach(a, arms)
    {
        char est[32], lo[32], hi[32];
        tt_report_fmt(tt_rj_num(a, "estimate"), est, sizeof est);
        tt_report_fmt(tt_rj_num(a, "lo"), lo, sizeof lo);
        tt_report_fmt(tt_rj_num(a, "hi"), hi, sizeof hi);
        if (many)
            tt_report_append(buf, len, &used, "%s arm '%s': %s [%s, %s]", first ? ":" : ";", tt_rj_str(a, "arm"), est, lo, hi);
        else
            tt_report_append(buf, len, &used, ": %s [%s, %s]", est, lo, hi);
        first = 0;
    }
    double alpha = tt_rj_num(e, "alpha"), n = tt_rj_num(e, "n");
    char rows[32];
    tt_report_fmt(n, rows, sizeof rows);
    const char *which = tt_rj_str(e, "rows");
    tt_report_append(buf, len, &used, " (%g %% interval; %s, over %s %s rows).", isfinite(alpha) ? 100 * (1 - alpha) : 95.0,
        tt_rj_str(e, "method") ? tt_rj_str(e, "method") : "?",
        which && !strcmp(which, "all") ? "all" : "the", rows);
    const cJSON *ov = cJSON_GetObjectItemCaseSensitive(e, "overlap");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ov, "poor"))) {
        char out[32];
        tt_report_fmt(tt_rj_num(ov, "rows_outside"), out, sizeof out);
        tt_report_append(buf, len, &used, " Poor overlap: %s rows have a propensity outside [%g, %g]; %s.", out,
            tt_rj_num(ov, "bounds_lo"), tt_rj_num(ov, "bounds_hi"),
            tt_rj_str(ov, "advice") ? tt_rj_str(ov, "advice") : "");
    }
    return 1;
}
