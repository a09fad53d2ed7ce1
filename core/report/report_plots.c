/* report_plots.c - the plots section of report.html (report.h, section 5).
 *
 * Each plot is a <figure class="plot" id="plot-..."> holding one inline SVG
 * from svg.h and a caption saying how to read it. Besides the SVG's own
 * data-* attributes, the figure carries the plotted numbers as data-* lists
 * (%.17g), so tests can compare them with independent computations. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "report/svg.h"
#include "score/policy.h"
#include "score/scores.h"

#define PLOT_W 560
#define PLOT_H 340
/* Per-arm plots beyond this many treated arms are left out (said so). */
#define MAX_ARM_PLOTS 4
#define QINI_POINTS 101
#define HIST_BINS 30
#define OVERLAP_BINS 20
#define CALIB_BINS 10
#define POLICY_STEPS 21

/* ---- helpers ---------------------------------------------------------- */

/* Extend [*lo, *hi] by the finite values of v. */
static void extend(double *lo, double *hi, size_t n, const double *v)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        *lo = fmin(*lo, v[i]);
        *hi = fmax(*hi, v[i]);
    }
}

/* A range with finite ends (svg widens lo == hi itself). */
static void settle(double *lo, double *hi)
{
    if (!isfinite(*lo) || !isfinite(*hi)) {
        *lo = 0;
        *hi = 1;
    }
}

static void figure_open(tt_rbuf *b, const char *id, int arm)
{
    if (arm > 0)
        tt_rb_printf(b, "<figure class=\"plot\" id=\"plot-%s-%d\" data-kind=\"%s\" data-arm=\"%d\"",
                     id, arm, id, arm);
    else
        tt_rb_printf(b, "<figure class=\"plot\" id=\"plot-%s\" data-kind=\"%s\"", id, id);
}

/* Finish g into b (g is consumed), then the caption and </figure>. The
 * figure's opening tag must be complete (">" written). */
static void figure_close(tt_rbuf *b, tt_svg *g, const char *caption)
{
    char *svg = g ? tt_svg_finish(g) : NULL;
    if (svg)
        tt_rb_puts(b, svg);
    else
        tt_rb_puts(b, "<p class=\"note\">The plot could not be drawn (out of memory).</p>");
    free(svg);
    tt_rb_puts(b, "<figcaption>");
    tt_rb_esc(b, caption);
    tt_rb_puts(b, "</figcaption></figure>\n");
}

/* "Not available" in place of a plot. */
static void unavailable(tt_rbuf *b, const char *id, const char *title, const char *why)
{
    tt_rb_printf(b, "<figure class=\"plot missing\" id=\"plot-%s\"><p><strong>", id);
    tt_rb_esc(b, title);
    tt_rb_puts(b, "</strong>: ");
    tt_rb_esc(b, why);
    tt_rb_puts(b, "</p></figure>\n");
}

static const char *arm_name(const tt_report_input *in, int k, char *buf, size_t len)
{
    return tt_report_arm_label(in, k, buf, len);
}

/* ---- objective over time ---------------------------------------------- */

typedef struct trial_pt {
    double t, obj;
    long id;
} trial_pt;

static int by_time(const void *a, const void *b)
{
    const trial_pt *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static void plot_time(tt_rbuf *b, const tt_report_input *in)
{
    size_t cap = in->n_trials, n = 0;
    trial_pt *p = malloc(sizeof *p * (cap + 1));
    double *xs = malloc(sizeof *xs * (cap + 1) * 3);
    if (!p || !xs) {
        free(p), free(xs);
        b->oom = 1;
        return;
    }
    for (size_t i = 0; i < in->n_trials; i++) {
        const tt_trial_result *r = &in->trials[i];
        /* results.json writes an unknown finishing time as 0. */
        double t = isfinite(r->finished) ? r->finished : 0.0;
        if (r->status == TT_TRIAL_OK && isfinite(r->objective))
            p[n++] = (trial_pt){t, r->objective, (long)r->id};
    }
    const char *metric = tt_rj_str(in->results, "metric");
    if (n == 0) {
        unavailable(b, "time", "Objective over time", "no successful trial");
        free(p), free(xs);
        return;
    }
    qsort(p, n, sizeof *p, by_time);
    double *ys = xs + cap + 1, *best = ys + cap + 1;
    int minimize = tt_report_minimize(in->results);
    double t_lo = 0, t_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    size_t best_i = 0;
    for (size_t i = 0; i < n; i++) {
        xs[i] = p[i].t, ys[i] = p[i].obj;
        int improve = i == 0 || (minimize ? ys[i] < best[i - 1] : ys[i] > best[i - 1]);
        best[i] = improve ? ys[i] : best[i - 1];
        best_i = improve ? i : best_i;
    }
    extend(&t_lo, &t_hi, n, xs);
    extend(&y_lo, &y_hi, n, ys);
    settle(&t_lo, &t_hi);
    settle(&y_lo, &y_hi);
    figure_open(b, "time", 0);
    tt_rb_data_list(b, "data-seconds", n, xs);
    tt_rb_data_list(b, "data-objective", n, ys);
    tt_rb_data_list(b, "data-best", n, best);
    tt_rb_puts(b, ">");
    tt_svg *g = tt_svg_new(PLOT_W, PLOT_H, "Objective over time");
    tt_svg_axes(g, t_lo, t_hi, y_lo, y_hi, "seconds since the start",
                metric ? metric : "objective");
    tt_svg_points(g, n, xs, ys, 0, "trials");
    tt_svg_steps(g, n, xs, best, 1, "best so far");
    tt_svg_highlight(g, xs[best_i], ys[best_i], "best");
    figure_close(b, g, minimize ? "Every successful trial's objective by the time it finished "
                                  "(lower is better), and the best so far."
                                : "Every successful trial's objective by the time it finished "
                                  "(higher is better), and the best so far.");
    free(p), free(xs);
}

/* ---- two scores --------------------------------------------------------- */

/* The first rankable score other than the objective with a finite value in
 * some ok trial. */
static const char *second_score(const tt_report_input *in, const char *metric)
{
    for (size_t i = 0; i < in->n_trials; i++) {
        const tt_trial_result *r = &in->trials[i];
        for (size_t j = 0; j < r->n_scores; j++) {
            const tt_score_value *s = &r->scores[j];
            const tt_score_info *info = tt_score_find(s->name);
            if (s->is_null || !isfinite(s->value) || (metric && !strcmp(s->name, metric)) ||
                (info && info->direction == TT_SCORE_REPORT))
                continue;
            return s->name;
        }
    }
    return NULL;
}

static void plot_scores(tt_rbuf *b, const tt_report_input *in)
{
    const char *metric = tt_rj_str(in->results, "metric");
    const char *other = second_score(in, metric);
    if (!metric || !other) {
        unavailable(b, "scores", "Two scores per trial",
                    "no successful trial has a rankable score besides the objective");
        return;
    }
    size_t cap = in->n_trials + 1;
    double *x = malloc(sizeof *x * cap * 2), *y = x ? x + cap : NULL;
    const char **est = malloc(sizeof *est * cap);
    if (!x || !est) {
        free(x), free(est);
        b->oom = 1;
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < in->n_trials; i++) {
        const tt_trial_result *r = &in->trials[i];
        double a = tt_report_trial_score(r, metric), c = tt_report_trial_score(r, other);
        if (r->status == TT_TRIAL_OK && isfinite(a) && isfinite(c))
            x[n] = a, y[n] = c, est[n++] = tt_report_trial_estimator(r);
    }
    double xl = INFINITY, xh = -INFINITY, yl = INFINITY, yh = -INFINITY;
    extend(&xl, &xh, n, x);
    extend(&yl, &yh, n, y);
    settle(&xl, &xh);
    settle(&yl, &yh);
    figure_open(b, "scores", 0);
    tt_rb_puts(b, " data-x-score=\"");
    tt_rb_esc(b, metric);
    tt_rb_puts(b, "\" data-y-score=\"");
    tt_rb_esc(b, other);
    tt_rb_puts(b, "\"");
    tt_rb_data_list(b, "data-x", n, x);
    tt_rb_data_list(b, "data-y", n, y);
    tt_rb_puts(b, ">");
    char title[160];
    snprintf(title, sizeof title, "%s against %s", other, metric);
    tt_svg *g = tt_svg_new(PLOT_W, PLOT_H, title);
    tt_svg_axes(g, xl, xh, yl, yh, metric, other);
    /* One series per estimator, in order of first appearance; the points of
     * an estimator are gathered at the front of a scratch copy. */
    double *sx = malloc(sizeof *sx * cap * 2), *sy = sx ? sx + cap : NULL;
    int series = 0;
    for (size_t i = 0; sx && i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen |= !strcmp(est[j], est[i]);
        if (seen)
            continue;
        size_t m = 0;
        for (size_t j = i; j < n; j++)
            if (!strcmp(est[j], est[i]))
                sx[m] = x[j], sy[m++] = y[j];
        tt_svg_points(g, m, sx, sy, series++, est[i]);
    }
    if (!sx)
        b->oom = 1;
    const cJSON *bs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(in->results, "best"), "scores");
    double bx = tt_rj_num(bs, metric), by = tt_rj_num(bs, other);
    if (isfinite(bx) && isfinite(by))
        tt_svg_highlight(g, bx, by, "winner");
    figure_close(b, g, "Each successful trial's objective (x) against another score (y), one "
                       "colour per estimator: where the two disagree, the ranking depends on "
                       "the choice of objective.");
    free(x), free(est), free(sx);
}

/* ---- Qini curves -------------------------------------------------------- */

static void plot_qini_arm(tt_rbuf *b, const tt_report_input *in, int arm)
{
    size_t nc = in->n_top, npts = QINI_POINTS;
    double *x = malloc(sizeof *x * npts * (nc + 1));
    if (!x) {
        b->oom = 1;
        return;
    }
    double *q = x + npts, lo = 0, hi = 0;
    size_t m = 0;
    for (size_t c = 0; c < nc; c++) {
        const double *tau = in->top[c].tau + (size_t)(arm - 1) * in->n;
        if (tt_report_qini_curve(in->n, in->t, in->y, tau, arm, npts, x, q + c * npts, &m)) {
            b->oom = 1;
            free(x);
            return;
        }
        extend(&lo, &hi, m ? npts : 0, q + c * npts);
    }
    char lab[32], title[160];
    const char *label = arm_name(in, arm, lab, sizeof lab);
    if (m == 0) {
        free(x);
        return;
    }
    figure_open(b, "qini", arm);
    tt_rb_data_list(b, "data-share", npts, x);
    tt_rb_data_list(b, "data-q", npts, q); /* the winner's */
    tt_rb_printf(b, " data-rows=\"%zu\">", m);
    snprintf(title, sizeof title, "Qini curves, arm %s vs control", label);
    tt_svg *g = tt_svg_new(PLOT_W, PLOT_H, title);
    tt_svg_axes(g, 0, 1, lo, hi, "share of rows targeted (highest effect first)",
                "incremental outcome (Qini)");
    for (size_t c = 0; c < nc; c++) {
        char name[160];
        snprintf(name, sizeof name, "%s (trial %zu)", in->top[c].estimator, in->top[c].trial);
        tt_svg_line(g, npts, x, q + c * npts, (int)c, name);
    }
    tt_svg_reference(g, 0, 0, 1, q[npts - 1], "random targeting");
    figure_close(b, g, "Cumulative incremental outcome when the rows of this arm and the "
                       "control are targeted in order of each candidate's effect, against "
                       "targeting at random (dashed): the higher above the line, the better "
                       "the candidate ranks rows.");
    free(x);
}

/* ---- histogram of tau --------------------------------------------------- */

static void plot_hist_arm(tt_rbuf *b, const tt_report_input *in, int arm)
{
    const double *tau = in->top[0].tau + (size_t)(arm - 1) * in->n;
    double lo = INFINITY, hi = -INFINITY;
    extend(&lo, &hi, in->n, tau);
    settle(&lo, &hi);
    if (hi - lo < 1e-12 * fmax(1.0, fabs(lo)))
        lo -= 0.5, hi += 0.5;
    size_t counts[HIST_BINS];
    double mid[HIST_BINS], cnt[HIST_BINS], edges[HIST_BINS + 1], top = 1;
    tt_report_histogram(in->n, tau, lo, hi, HIST_BINS, counts);
    double w = (hi - lo) / HIST_BINS;
    for (int k = 0; k <= HIST_BINS; k++)
        edges[k] = lo + w * k;
    for (int k = 0; k < HIST_BINS; k++) {
        mid[k] = lo + w * (k + 0.5);
        cnt[k] = (double)counts[k];
        top = fmax(top, cnt[k]);
    }
    char lab[32], title[160];
    snprintf(title, sizeof title, "Winner's effects, arm %s", arm_name(in, arm, lab, sizeof lab));
    figure_open(b, "hist", arm);
    tt_rb_data_list(b, "data-edges", HIST_BINS + 1, edges);
    tt_rb_data_list(b, "data-counts", HIST_BINS, cnt);
    tt_rb_printf(b, " data-rows=\"%zu\">", in->n);
    tt_svg *g = tt_svg_new(PLOT_W, PLOT_H, title);
    tt_svg_axes(g, lo, hi, 0, top, "effect estimate (tau_hat)", "validation rows");
    tt_svg_bars(g, HIST_BINS, mid, cnt, 0, w * 0.95, 0, NULL);
    figure_close(b, g, "How the winner's estimated effects spread over the validation rows: "
                       "a single spike means the estimator gives everyone the same effect.");
}

/* ---- calibration -------------------------------------------------------- */

static void plot_calib_arm(tt_rbuf *b, const tt_report_input *in, int arm)
{
    const double *tau = in->top[0].tau + (size_t)(arm - 1) * in->n;
    const double *ps = in->pseudo + (size_t)(arm - 1) * in->n;
    double tm[CALIB_BINS], pm[CALIB_BINS], lo[CALIB_BINS], hi[CALIB_BINS], cnt[CALIB_BINS];
    size_t count[CALIB_BINS];
    if (tt_report_calibration(in->n, tau, ps, CALIB_BINS, tm, pm, lo, hi, count)) {
        b->oom = 1;
        return;
    }
    for (int k = 0; k < CALIB_BINS; k++)
        cnt[k] = (double)count[k];
    double xl = INFINITY, xh = -INFINITY, yl = INFINITY, yh = -INFINITY;
    extend(&xl, &xh, CALIB_BINS, tm);
    settle(&xl, &xh);
    yl = xl, yh = xh;
    extend(&yl, &yh, CALIB_BINS, lo);
    extend(&yl, &yh, CALIB_BINS, hi);
    char lab[32], title[160];
    snprintf(title, sizeof title, "Calibration by decile, arm %s",
             arm_name(in, arm, lab, sizeof lab));
    figure_open(b, "calibration", arm);
    tt_rb_data_list(b, "data-tau-mean", CALIB_BINS, tm);
    tt_rb_data_list(b, "data-pseudo-mean", CALIB_BINS, pm);
    tt_rb_data_list(b, "data-lo", CALIB_BINS, lo);
    tt_rb_data_list(b, "data-hi", CALIB_BINS, hi);
    tt_rb_data_list(b, "data-count", CALIB_BINS, cnt);
    tt_rb_puts(b, ">");
    tt_svg *g = tt_svg_new(PLOT_W, PLOT_H, title);
    tt_svg_axes(g, xl, xh, yl, yh, "mean tau_hat in the decile",
                "mean doubly robust pseudo-outcome");
    tt_svg_reference(g, xl, xl, xh, xh, "perfect calibration");
    tt_svg_error_bars(g, CALIB_BINS, tm, lo, hi, 0);
    tt_svg_points(g, CALIB_BINS, tm, pm, 0, "deciles (95 % interval)");
    figure_close(b, g, "Rows grouped into deciles of the winner's effect: the mean estimate "
                       "(x) against the mean doubly robust pseudo-outcome (y) with its 95 % "
                       "interval. Points near the diagonal mean the effects are right on "
                       "average within each group; a flat pattern means they rank nothing.");
}

/* ---- policy value ------------------------------------------------------- */

static void plot_policy(tt_rbuf *b, const tt_report_input *in)
{
    int ke = in->n_arms - 1, shown = ke < MAX_ARM_PLOTS ? ke : MAX_ARM_PLOTS;
    double share[POLICY_STEPS], *v = malloc(sizeof *v * POLICY_STEPS * (size_t)shown + 1);
    if (!v) {
        b->oom = 1;
        return;
    }
    for (int j = 0; j < POLICY_STEPS; j++)
        share[j] = 0.05 * j;
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 1; k <= shown; k++) {
        double *vk = v + (size_t)(k - 1) * POLICY_STEPS;
        if (tt_report_policy_curve(in->n, in->n_arms, in->t, in->y, in->prop, in->clip,
                                   in->top[0].tau + (size_t)(k - 1) * in->n, in->cost, k,
                                   POLICY_STEPS, share, vk)) {
            b->oom = 1;
            free(v);
            return;
        }
        extend(&lo, &hi, POLICY_STEPS, vk);
    }
    settle(&lo, &hi);
    figure_open(b, "policy", 0);
    tt_rb_data_list(b, "data-shares", POLICY_STEPS, share);
    for (int k = 1; k <= shown; k++) {
        char name[32];
        snprintf(name, sizeof name, "data-value-arm-%d", k);
        tt_rb_data_list(b, name, POLICY_STEPS, v + (size_t)(k - 1) * POLICY_STEPS);
    }
    tt_rb_puts(b, ">");
    tt_svg *g = tt_svg_new(PLOT_W, PLOT_H, "Policy value by share treated");
    tt_svg_axes(g, 0, 1, lo, hi, "share of rows treated (highest effect net of cost first)",
                in->cost ? "policy value net of costs (IPW)" : "policy value (IPW)");
    for (int k = 1; k <= shown; k++) {
        char lab[32], name[96];
        snprintf(name, sizeof name, "treat with arm %s", arm_name(in, k, lab, sizeof lab));
        tt_svg_line(g, POLICY_STEPS, share, v + (size_t)(k - 1) * POLICY_STEPS, k - 1, name);
    }
    /* Random targeting of share q with arm 1 has the value linear in q. */
    tt_svg_reference(g, 0, v[0], 1, v[POLICY_STEPS - 1], "random targeting (arm 1)");
    figure_close(b, g, "Estimated mean outcome (inverse propensity weighted, net of costs) "
                       "if the top share of rows by the winner's effect minus cost were "
                       "treated and the rest left untreated. Share 0 is treating nobody; "
                       "the peak is the best share to treat.");
    free(v);
}

/* ---- propensity overlap ------------------------------------------------- */

static void plot_overlap_arm(tt_rbuf *b, const tt_report_input *in, int arm)
{
    const double *e = in->prop + (size_t)arm * in->n;
    double *vals = malloc(sizeof *vals * (in->n + 1));
    if (!vals) {
        b->oom = 1;
        return;
    }
    size_t c0[OVERLAP_BINS], c1[OVERLAP_BINS];
    double s0[OVERLAP_BINS], s1[OVERLAP_BINS], x0[OVERLAP_BINS], x1[OVERLAP_BINS],
        d0[OVERLAP_BINS], d1[OVERLAP_BINS], top = 0.01;
    size_t m0 = 0, m1 = 0;
    for (size_t i = 0; i < in->n; i++)
        if (in->t[i] == 0)
            vals[m0++] = e[i];
    tt_report_histogram(m0, vals, 0, 1, OVERLAP_BINS, c0);
    for (size_t i = 0; i < in->n; i++)
        if (in->t[i] == arm)
            vals[m1++] = e[i];
    tt_report_histogram(m1, vals, 0, 1, OVERLAP_BINS, c1);
    free(vals);
    double w = 1.0 / OVERLAP_BINS;
    for (int k = 0; k < OVERLAP_BINS; k++) {
        d0[k] = (double)c0[k], d1[k] = (double)c1[k];
        s0[k] = m0 ? d0[k] / (double)m0 : 0, s1[k] = m1 ? d1[k] / (double)m1 : 0;
        x0[k] = w * (k + 0.25), x1[k] = w * (k + 0.75);
        top = fmax(top, fmax(s0[k], s1[k]));
    }
    char l0[32], l1[32], title[160], n0[96], n1[96];
    const char *a0 = arm_name(in, 0, l0, sizeof l0), *a1 = arm_name(in, arm, l1, sizeof l1);
    snprintf(title, sizeof title, "Propensity overlap, arm %s", a1);
    snprintf(n0, sizeof n0, "observed arm %s", a0);
    snprintf(n1, sizeof n1, "observed arm %s", a1);
    figure_open(b, "overlap", arm);
    tt_rb_data_list(b, "data-counts-control", OVERLAP_BINS, d0);
    tt_rb_data_list(b, "data-counts-treated", OVERLAP_BINS, d1);
    tt_rb_puts(b, ">");
    tt_svg *g = tt_svg_new(PLOT_W, PLOT_H, title);
    char ylab[96];
    snprintf(ylab, sizeof ylab, "share of the arm's rows");
    char xlab[96];
    snprintf(xlab, sizeof xlab, "scoring propensity of arm %s", a1);
    tt_svg_axes(g, 0, 1, 0, top, xlab, ylab);
    tt_svg_bars(g, OVERLAP_BINS, x0, s0, 0, w * 0.45, 0, n0);
    tt_svg_bars(g, OVERLAP_BINS, x1, s1, 0, w * 0.45, 1, n1);
    tt_svg_reference(g, in->clip, 0, in->clip, top, "clip");
    tt_svg_reference(g, 1 - in->clip, 0, 1 - in->clip, top, NULL);
    figure_close(b, g, "The scoring propensity of the treated arm among rows that received "
                       "the control and rows that received the arm. Where one arm has rows "
                       "and the other has none, effects there are extrapolated; values "
                       "beyond the dashed clip lines get clipped weights.");
}

/* ---- the section ------------------------------------------------------ */

void tt_report_plots(tt_rbuf *b, const tt_report_input *in)
{
    int ke = in->n_arms - 1, shown = ke < MAX_ARM_PLOTS ? ke : MAX_ARM_PLOTS;
    int rows = in->n > 0 && in->t && in->y;
    tt_rb_puts(b, "<div class=\"plots\">\n");
    plot_time(b, in);
    plot_scores(b, in);
    if (in->n_top > 0 && rows) {
        for (int k = 1; k <= shown; k++)
            plot_qini_arm(b, in, k);
        for (int k = 1; k <= shown; k++)
            plot_hist_arm(b, in, k);
    } else {
        unavailable(b, "qini", "Qini curves", "no winner");
        unavailable(b, "hist", "Winner's effects", "no winner");
    }
    if (in->n_top > 0 && rows && in->pseudo)
        for (int k = 1; k <= shown; k++)
            plot_calib_arm(b, in, k);
    else
        unavailable(b, "calibration", "Calibration by decile",
                    in->n_top ? "this run has no doubly robust pseudo-outcomes" : "no winner");
    if (in->n_top > 0 && rows && in->prop)
        plot_policy(b, in);
    else
        unavailable(b, "policy", "Policy value by share treated",
                    in->n_top ? "no scoring propensity" : "no winner");
    if (rows && in->prop)
        for (int k = 1; k <= shown; k++)
            plot_overlap_arm(b, in, k);
    else
        unavailable(b, "overlap", "Propensity overlap", "no scoring propensity");
    tt_rb_puts(b, "</div>\n");
    if (ke > shown)
        tt_rb_printf(b, "<p class=\"note\">Per-arm plots show the first %d of %d treated "
                        "arms.</p>\n", shown, ke);
}
