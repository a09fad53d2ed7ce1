/* report_util.c - the text buffer, results.json accessors, leaderboard order
 * and caveats shared by report.html and summary.md. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/report_int.h"
#include "util/err.h"

/* ---- text buffer ------------------------------------------------------ */

void tt_rb_free(tt_rbuf *b)
{
    free(b->s);
    *b = (tt_rbuf){0};
}

/* Room for extra more bytes plus the NUL; 0 on failure (sticky). */
static int reserve(tt_rbuf *b, size_t extra)
{
    if (b->oom)
        return 0;
    if (b->len + extra + 1 <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = 1;
        return 0;
    }
    b->s = s;
    b->cap = cap;
    return 1;
}

static void put_n(tt_rbuf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void tt_rb_puts(tt_rbuf *b, const char *s)
{
    put_n(b, s, strlen(s));
}

void tt_rb_printf(tt_rbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        put_n(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void tt_rb_esc(tt_rbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': tt_rb_puts(b, "&amp;"); break;
        case '<': tt_rb_puts(b, "&lt;"); break;
        case '>': tt_rb_puts(b, "&gt;"); break;
        case '"': tt_rb_puts(b, "&quot;"); break;
        case '\'': tt_rb_puts(b, "&#39;"); break;
        default: put_n(b, s, 1); break;
        }
    }
}

void tt_rb_md(tt_rbuf *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            tt_rb_puts(b, "\\|");
        else if (*s == '\n' || *s == '\r')
            tt_rb_puts(b, " ");
        else
            put_n(b, s, 1);
    }
}

void tt_rb_num(tt_rbuf *b, double v)
{
    char t[32];
    if (isfinite(v)) {
        tt_report_fmt(v, t, sizeof t); /* the pages' one number format */
        tt_rb_puts(b, t);
    } else {
        tt_rb_puts(b, "\xe2\x80\x94"); /* em dash */
    }
}

void tt_rb_num_cell(tt_rbuf *b, double v, const char *cls, const char *why)
{
    tt_rb_printf(b, "<td class=\"num%s%s\"", cls ? " " : "", cls ? cls : "");
    if (isfinite(v)) {
        char t[32];
        tt_report_fmt(v, t, sizeof t);
        tt_rb_printf(b, " data-value=\"%.17g\" title=\"%.17g\">%s</td>", v, v, t);
        return;
    }
    tt_rb_puts(b, " data-value=\"null\"");
    if (why) {
        tt_rb_puts(b, " title=\"");
        tt_rb_esc(b, why);
        tt_rb_puts(b, "\"");
    }
    tt_rb_puts(b, ">\xe2\x80\x94</td>");
}

void tt_rb_data_list(tt_rbuf *b, const char *name, size_t n, const double *v)
{
    tt_rb_printf(b, " %s=\"", name);
    for (size_t i = 0; i < n; i++) {
        if (isfinite(v[i]))
            tt_rb_printf(b, "%s%.17g", i ? " " : "", v[i]);
        else
            tt_rb_printf(b, "%snan", i ? " " : "");
    }
    tt_rb_puts(b, "\"");
}

tt_status tt_rb_write_atomic(const tt_rbuf *b, const char *dir, const char *name, char *err,
                             size_t errlen)
{
    if (b->oom)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory writing %s", name);
    char tmp[4096], final[4096];
    snprintf(final, sizeof final, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    FILE *fp = fopen(tmp, "w");
    if (!fp)
        return tt_errf(err, errlen, TT_ERR_IO, "%s: %s", tmp, strerror(errno));
    int bad = (b->len && fwrite(b->s, 1, b->len, fp) != b->len) || fflush(fp) != 0;
    bad |= fclose(fp) != 0;
    if (bad || rename(tmp, final) != 0) {
        int e = errno;
        unlink(tmp);
        return tt_errf(err, errlen, TT_ERR_IO, "%s: %s", final, strerror(e));
    }
    return TT_OK;
}

/* ---- results.json accessors ----------------------------------------- */

double tt_rj_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

const char *tt_rj_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int tt_report_minimize(const cJSON *results)
{
    const char *d = tt_rj_str(results, "direction");
    return !(d && !strcmp(d, "max"));
}

const char *tt_report_arm_label(const tt_report_input *in, int k, char *buf, size_t len)
{
    if (in->arm_labels && k >= 0 && k < in->n_arms && in->arm_labels[k])
        return in->arm_labels[k];
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(in->results, "data"), "arm_labels");
    const cJSON *l = cJSON_GetArrayItem(labels, k);
    if (cJSON_IsString(l))
        return l->valuestring;
    snprintf(buf, len, "%d", k);
    return buf;
}

/* ---- caveats ---------------------------------------------------------- */

typedef struct strlist {
    char **s;
    size_t n, cap;
    int oom;
} strlist;

static void add_caveat(strlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_caveat(strlist *l, const char *fmt, ...)
{
    if (l->oom)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        char **s = realloc(l->s, sizeof *s * cap);
        if (!s) {
            l->oom = 1;
            return;
        }
        l->s = s;
        l->cap = cap;
    }
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    char *copy = strdup(text);
    if (!copy) {
        l->oom = 1;
        return;
    }
    l->s[l->n++] = copy;
}

/* Rows whose scoring propensity of any arm lies outside [clip, 1 - clip]. */
static size_t rows_outside_clip(const tt_report_input *in)
{
    size_t out = 0;
    for (size_t i = 0; in->prop && i < in->n; i++) {
        int bad = 0;
        for (int k = 0; k < in->n_arms; k++) {
            double e = in->prop[(size_t)k * in->n + i];
            bad |= !(e >= in->clip && e <= 1 - in->clip);
        }
        out += (size_t)bad;
    }
    return out;
}

/* The winner's refit failed (run_winner.c): what was written instead. */
static void refit_caveats(strlist *l, const cJSON *results)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(results, "winner");
    const cJSON *fails = cJSON_GetObjectItemCaseSensitive(w, "refit_failures");
    const cJSON *first = cJSON_GetArrayItem(fails, 0);
    if (!cJSON_IsObject(first))
        return;
    const char *est = tt_rj_str(first, "estimator"), *step = tt_rj_str(first, "step");
    const char *error = tt_rj_str(first, "error");
    double trial = tt_rj_num(first, "trial");
    if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(w, "fallback_from")))
        add_caveat(l,
                   "The winner's refit failed: %s (trial %.0f) failed at %s (%s). The effects, "
                   "intervals and model file are those of the next best trial that refitted: "
                   "%s (trial %.0f).",
                   est ? est : "?", trial, step ? step : "?", error ? error : "?",
                   tt_rj_str(w, "estimator") ? tt_rj_str(w, "estimator") : "?",
                   tt_rj_num(w, "trial"));
    else
        add_caveat(l,
                   "The winner's refit failed: %s (trial %.0f) failed at %s (%s), and no "
                   "fallback refit worked (%d tried): there are no refitted effects, no "
                   "cate.csv and no model file.",
                   est ? est : "?", trial, step ? step : "?", error ? error : "?",
                   cJSON_GetArraySize(fails));
}

static void arm_caveats(strlist *l, const tt_report_input *in)
{
    for (int k = 0; in->t && k < in->n_arms; k++) {
        size_t c = 0;
        for (size_t i = 0; i < in->n; i++)
            c += in->t[i] == k;
        if (c < 50) {
            char buf[32];
            add_caveat(l,
                       "Arm '%s' has only %zu validation rows (< 50): its scores and "
                       "plots are noisy.",
                       tt_report_arm_label(in, k, buf, sizeof buf), c);
        }
    }
}

char **tt_report_caveats(const tt_report_input *in, size_t *n, int *oom)
{
    strlist l = {0};
    const cJSON *r = in->results;
    const char *status = tt_rj_str(r, "status");
    if (status && !strcmp(status, "interrupted"))
        add_caveat(&l, "The run was interrupted: these are the trials that finished before "
                       "the stop; a longer run may find a better estimator.");
    const cJSON *best = cJSON_GetObjectItemCaseSensitive(r, "best");
    if (!cJSON_IsObject(best))
        add_caveat(&l, "No trial succeeded: there is no winner, and only the run facts and "
                       "the failures are shown.");
    refit_caveats(&l, r);
    size_t outside = rows_outside_clip(in);
    if (outside > 0 && in->n > 0)
        add_caveat(&l,
                   "Weak overlap: %zu of %zu validation rows (%.1f %%) have a scoring "
                   "propensity outside [%g, %g]; their weights are clipped, so weighted "
                   "scores rely on extrapolation there.",
                   outside, in->n, 100.0 * (double)outside / (double)in->n, in->clip,
                   1 - in->clip);
    arm_caveats(&l, in);
    /* Overlap by the propensity model the headline average used (run_estimand.c). */
    const cJSON *est = cJSON_GetObjectItemCaseSensitive(r, "estimand");
    const cJSON *eov = cJSON_GetObjectItemCaseSensitive(est, "overlap");
    const char *prop = tt_rj_str(cJSON_GetObjectItemCaseSensitive(est, "nuisances"),
                                 "propensity");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(eov, "poor")))
        add_caveat(&l,
                   "Poor overlap for the headline average: %.0f of %.0f rows (%.1f %%) have a "
                   "propensity outside [%g, %g] by the model the average uses (%s); %s.",
                   tt_rj_num(eov, "rows_outside"), tt_rj_num(est, "n"),
                   100.0 * tt_rj_num(eov, "share_outside"), tt_rj_num(eov, "bounds_lo"),
                   tt_rj_num(eov, "bounds_hi"), prop ? prop : "?",
                   tt_rj_str(eov, "advice") ? tt_rj_str(eov, "advice") : "");
    /* The instrument's (results.json iv.caveats, score/iv_diag.h). */
    const cJSON *ivc = cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(r, "iv"), "caveats"), *c;
    cJSON_ArrayForEach(c, ivc)
        if (cJSON_IsString(c))
            add_caveat(&l, "Instrument: %s; IV effects there are not to be trusted.",
                       c->valuestring);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(r, "data");
    /* Said only when some figure is on the page (a trial succeeded). */
    int oracle = cJSON_IsObject(best) &&
                 (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, "has_true_effect")) ||
                  cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(best, "oracle")));
    if (oracle)
        add_caveat(&l, "Oracle figures (pehe, ate_error, cate_corr, policy_true) are shown "
                       "because this data set carries its true effects (synthetic or "
                       "semi-synthetic data); they are not available on real data, where "
                       "only the scores can be used.");
    double rows = tt_rj_num(cJSON_GetObjectItemCaseSensitive(r, "scoring"), "energy_rows");
    double vrows = tt_rj_num(data, "validation_rows");
    if (isfinite(rows) && isfinite(vrows) && rows < vrows)
        add_caveat(&l, "The energy scores used a subsample of %.0f of %.0f validation rows.",
                   rows, vrows);
    *oom = l.oom;
    *n = l.n;
    if (l.n == 0) {
        free(l.s);
        return NULL;
    }
    return l.s;
}

void tt_report_free_strings(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

void tt_report_append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + (*used < len ? *used : len), *used < len ? len - *used : 0, fmt, ap);
    va_end(ap);
    if (w > 0)
        *used += (size_t)w;
}
