/*
 * abtest_print.c - the terminal table of `tautune abtest`, read from the
 * results object (abtest.h) so it shows results.json's numbers.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/abtest.h"

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* A p-value: 4 significant digits, "<1e-300" style below what doubles hold. */
static void pval(double p, char *buf, size_t len)
{
    if (isnan(p))
        snprintf(buf, len, "-");
    else if (p < 1e-300)
        snprintf(buf, len, "<1e-300");
    else
        snprintf(buf, len, "%.3g", p);
}

static void print_srm(const cJSON *r, FILE *out)
{
    const cJSON *srm = cJSON_GetObjectItemCaseSensitive(r, "sample_ratio");
    if (!srm)
        return;
    const char *skipped = str(srm, "skipped");
    if (skipped[0]) {
        fprintf(out, "sample ratio  not checked: %s\n", skipped);
        return;
    }
    char p[32];
    pval(num(srm, "p"), p, sizeof p);
    fprintf(out, "sample ratio  chi2 %.4g (df %.0f), p %s against %s: %s\n", num(srm, "chi2"),
            num(srm, "df"), p, str(srm, "against"),
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(srm, "flagged"))
                ? "MISMATCH - the assignment did not follow the design; the comparisons "
                  "below are suspect"
                : "ok");
}

static void print_outcome(const cJSON *o, const char *control, double alpha, FILE *out)
{
    fprintf(out, "\noutcome %s\n", str(o, "name"));
    const cJSON *arms = cJSON_GetObjectItemCaseSensitive(o, "arms"), *a;
    int weighted = 0;
    cJSON_ArrayForEach(a, arms)
        weighted |= cJSON_GetObjectItemCaseSensitive(a, "weighted_mean") != NULL;
    fprintf(out, "  %-22s %10s %12s %12s%s\n", "arm", "rows", "mean", "s.e.",
            weighted ? "  weighted mean" : "");
    cJSON_ArrayForEach(a, arms) {
        fprintf(out, "  %-22.22s %10.0f %12.6g %12.4g", str(a, "label"), num(a, "n"),
                num(a, "mean"), num(a, "se"));
        if (weighted)
            fprintf(out, "  %13.6g", num(a, "weighted_mean"));
        fprintf(out, "\n");
    }
    char head[64];
    snprintf(head, sizeof head, "vs %s", control);
    fprintf(out, "  %-22.22s %-48s %11s  %-27s %9s %9s\n", head, "method", "effect",
            "interval", "p", "p adj.");
    /* Grouped by arm: one arm's estimates by every method together. */
    const cJSON *methods = cJSON_GetObjectItemCaseSensitive(o, "methods"), *m;
    const cJSON *first = methods ? methods->child : NULL, *arm;
    cJSON_ArrayForEach(arm, cJSON_GetObjectItemCaseSensitive(first, "effects")) {
        const char *label = str(arm, "arm");
        int shown = 0;
        cJSON_ArrayForEach(m, methods) {
            const cJSON *e;
            cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(m, "effects")) {
                if (strcmp(str(e, "arm"), label))
                    continue;
                char iv[64], p[32], pa[32];
                snprintf(iv, sizeof iv, "[%.5g, %.5g]", num(e, "lo"), num(e, "hi"));
                pval(num(e, "p"), p, sizeof p);
                pval(num(e, "p_adjusted"), pa, sizeof pa);
                fprintf(out, "  %-22.22s %-48.48s %11.5g  %-27s %9s %9s\n",
                        shown++ ? "" : label, str(m, "label"), num(e, "estimate"), iv, p, pa);
            }
        }
    }
    cJSON_ArrayForEach(m, methods) {
        const cJSON *mo;
        if (!strcmp(str(m, "method"), "aipw")) {
            int k = 0;
            fprintf(out, "  AIPW's outcome models:");
            cJSON_ArrayForEach(mo, cJSON_GetObjectItemCaseSensitive(m, "models"))
                fprintf(out, "%s %s %s (R2 %.3f)", k++ ? "," : "", str(mo, "arm"),
                        str(mo, "learner"), num(mo, "r2"));
            fprintf(out, "\n");
        }
    }
    cJSON_ArrayForEach(m, methods)
        if (!strcmp(str(m, "method"), "cuped"))
            fprintf(out, "  CUPED on %s: theta %.4g; it removed %.1f %% of the outcome's "
                         "variance\n", str(m, "pre"), num(m, "theta"),
                    100 * num(m, "variance_reduction"));
    const cJSON *dv = cJSON_GetObjectItemCaseSensitive(o, "design_value");
    if (dv) {
        const cJSON *sh;
        int k = 0;
        fprintf(out, "  design");
        cJSON_ArrayForEach(sh, cJSON_GetObjectItemCaseSensitive(dv, "design"))
            fprintf(out, "%s%.4g", k++ ? " : " : " ", sh->valuedouble);
        fprintf(out, "\n  under that design: mean outcome %.6g [%.6g, %.6g]; the assignment used "
                     "earned %.6g, uplift %.6g [%.6g, %.6g] (%.0f %%, %.0f bootstrap "
                     "resamples)\n",
                num(dv, "value"), num(dv, "lo"), num(dv, "hi"), num(dv, "actual"),
                num(dv, "uplift"), num(dv, "uplift_lo"), num(dv, "uplift_hi"),
                100 * (1 - alpha), num(dv, "resamples"));
    }
    const cJSON *note;
    cJSON_ArrayForEach(note, cJSON_GetObjectItemCaseSensitive(o, "notes"))
        if (cJSON_IsString(note))
            fprintf(out, "  note: %s\n", note->valuestring);
}

void tt_ab_print(const cJSON *r, FILE *out)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(r, "data");
    const double alpha = num(r, "alpha");
    fprintf(out, "abtest %s: %.0f rows, %.0f arms (control %s), %s\n", str(r, "name"),
            num(data, "rows"), num(data, "arms"), str(data, "control"), str(data, "source"));
    fprintf(out, "intervals     %.0f %% per comparison; %s\n", 100 * (1 - alpha),
            str(r, "correction_text"));
    print_srm(r, out);
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(r, "outcomes"))
        print_outcome(o, str(data, "control"), alpha, out);
}
