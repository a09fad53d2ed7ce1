/* plugin_test_judge.c - the verdicts of `tautune plugin-test` on the
 * numbers a child sent back (plugin_test.h): plain functions of arrays, no
 * plugin code, so what counts as a FAIL is written in one place. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/plugin_test.h"

/* Shape: every cell of the n x (K - 1) block written, none after it. */
pt_verdict pt_judge_shape(const pt_problem *pb, const double *e, char *why, size_t len)
{
    size_t n = pb->n_eval, k = (size_t)pb->n_arms - 1, cells = n * k, past = 0;
    size_t missing[PT_MAX_ARMS] = {0}, total = 0;
    for (size_t c = 0; c < k; c++)
        for (size_t i = 0; i < n; i++)
            if (pt_is_unwritten(e[c * n + i]))
                missing[c]++, total++;
    for (size_t g = 0; g < PT_GUARD; g++)
        past += !pt_is_unwritten(e[cells + g]);
    if (past) {
        snprintf(why, len, "effect() wrote past the end of its %zu x %zu output (%zu of the "
                 "next %d cells changed)", n, k, past, PT_GUARD);
        return PT_FAIL;
    }
    if (total) {
        size_t off = (size_t)snprintf(why, len, "effect() left %zu of %zu cells unwritten "
                                      "(output n x (arms - 1) = %zu x %zu, column-major):",
                                      total, cells, n, k);
        for (size_t c = 0; c < k && off < len; c++)
            if (missing[c])
                off += (size_t)snprintf(why + off, len - off, " arm %zu's column %zu of %zu",
                                        c + 1, missing[c], n);
        return PT_FAIL;
    }
    snprintf(why, len, "%zu x %zu effects (rows x treated arms) written, nothing past them",
             n, k);
    return PT_PASS;
}

/* Finite: every written cell. */
pt_verdict pt_judge_finite(const pt_problem *pb, const double *e, char *why, size_t len)
{
    size_t n = pb->n_eval, k = (size_t)pb->n_arms - 1, bad[PT_MAX_ARMS] = {0}, total = 0;
    size_t first = (size_t)-1, written = 0;
    for (size_t c = 0; c < k; c++)
        for (size_t i = 0; i < n; i++) {
            double v = e[c * n + i];
            if (pt_is_unwritten(v))
                continue;
            written++;
            if (!isfinite(v)) {
                bad[c]++, total++;
                if (first == (size_t)-1)
                    first = c * n + i;
            }
        }
    if (total) {
        size_t off = (size_t)snprintf(why, len, "%zu non-finite effects (first: row %zu, arm "
                                      "%zu = %g);", total, first % n + 1, first / n + 1,
                                      e[first]);
        for (size_t c = 0; c < k && off < len; c++)
            if (bad[c])
                off += (size_t)snprintf(why + off, len - off, " arm %zu: %zu of %zu", c + 1,
                                        bad[c], n);
        return PT_FAIL;
    }
    snprintf(why, len, "all %zu effects written are finite", written);
    return PT_PASS;
}

/* Recovery: per arm, the mean effect on the new rows within the problem's
 * tolerance of the constant truth. Arms with an unwritten or non-finite
 * cell are not judged (shape or finite said why). */
pt_verdict pt_judge_recovery(const pt_problem *pb, const double *e, char *why, size_t len)
{
    size_t n = pb->n_eval, k = (size_t)pb->n_arms - 1, off = 0;
    int failed = 0, skipped = 0;
    for (size_t c = 0; c < k && off < len; c++) {
        double s = 0;
        int usable = 1;
        for (size_t i = 0; i < n && usable; i++) {
            usable = isfinite(e[c * n + i]);
            s += e[c * n + i];
        }
        if (!usable) {
            skipped = 1;
            off += (size_t)snprintf(why + off, len - off, "%sarm %zu not judged (effects not "
                                    "all finite)", off ? "; " : "", c + 1);
            continue;
        }
        double m = s / (double)n, d = fabs(m - pb->truth[c]);
        int ok = d <= pb->tol[c];
        char arm[32] = "";
        if (k > 1)
            snprintf(arm, sizeof arm, "arm %zu ", c + 1);
        failed |= !ok;
        off += (size_t)snprintf(why + off, len - off, "%s%smean %.4g vs true %g: |error| "
                                "%.3g %s %.3g", off ? "; " : "", arm, m, pb->truth[c], d,
                                ok ? "<=" : ">", pb->tol[c]);
    }
    if (off < len)
        snprintf(why + off, len - off, " (%g %s on %zu training rows)", PT_TOL_SE,
                 pb->tol_rule, pb->n_train);
    return failed ? PT_FAIL : skipped ? PT_SKIP : PT_PASS;
}

/* The first cell where a and b differ bit for bit, or (size_t)-1; *count
 * gets how many do. */
size_t pt_first_difference(const double *a, const double *b, size_t n, size_t *count)
{
    size_t first = (size_t)-1;
    *count = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0) {
            if (first == (size_t)-1)
                first = i;
            (*count)++;
        }
    return first;
}

/* Row intervals and the average effect's interval: written, finite,
 * ordered, and covering the truth often enough over the seeds' problems. */
void pt_tally_intervals(const pt_problem *pb, const pt_outcome *o, pt_interval_tally *tl)
{
    size_t n = pb->n_eval, k = (size_t)pb->n_arms - 1, cells = n * k;
    tl->seeds++;
    if (o->lo) {
        tl->has_rows = 1;
        if (o->interval_error[0] && !tl->fail[0])
            snprintf(tl->fail, sizeof tl->fail, "effect_interval failed (seed %llu): %s",
                     (unsigned long long)pb->seed, o->interval_error);
        for (size_t i = 0; i < cells && !tl->fail[0]; i++) {
            double lo = o->lo[i], hi = o->hi[i];
            if (!isfinite(lo) || !isfinite(hi))
                snprintf(tl->fail, sizeof tl->fail, "effect_interval: row %zu, arm %zu has "
                         "%s bound (lo %g, hi %g)", i % n + 1, i / n + 1,
                         pt_is_unwritten(lo) || pt_is_unwritten(hi) ? "an unwritten"
                                                                     : "a non-finite", lo, hi);
            else if (lo > hi)
                snprintf(tl->fail, sizeof tl->fail, "effect_interval: inverted at row %zu, arm "
                         "%zu: lo %.6g > hi %.6g", i % n + 1, i / n + 1, lo, hi);
            tl->rows++;
            tl->rows_covered += lo <= pb->truth[i / n] && pb->truth[i / n] <= hi;
        }
        for (size_t g = 0; g < PT_GUARD && !tl->fail[0]; g++)
            if (!pt_is_unwritten(o->lo[cells + g]) || !pt_is_unwritten(o->hi[cells + g]))
                snprintf(tl->fail, sizeof tl->fail, "effect_interval wrote past the end of "
                         "its %zu x %zu outputs", n, k);
    }
    if (o->has_average) {
        tl->has_avg = 1;
        if (o->average_error[0] && !tl->fail[0])
            snprintf(tl->fail, sizeof tl->fail, "average_effect failed (seed %llu): %s",
                     (unsigned long long)pb->seed, o->average_error);
        for (size_t c = 0; c < k && !tl->fail[0]; c++) {
            double a = o->ate[c], lo = o->ate_lo[c], hi = o->ate_hi[c];
            if (!isfinite(a) || !isfinite(lo) || !isfinite(hi))
                snprintf(tl->fail, sizeof tl->fail, "average_effect: arm %zu: not finite "
                         "(ate %g, lo %g, hi %g)", c + 1, a, lo, hi);
            else if (lo > hi)
                snprintf(tl->fail, sizeof tl->fail, "average_effect: arm %zu: inverted "
                         "interval, lo %.6g > hi %.6g", c + 1, lo, hi);
            tl->avg_seeds++;
            tl->avg_covered += lo <= pb->truth[c] && pb->truth[c] <= hi;
        }
    }
}
