/*
 * report_int.h - shared pieces of report.html and summary.md (private to
 * core/report): a growable text buffer with HTML escaping, results.json
 * accessors, the atomic file write, and the curves the plots draw.
 *
 * The curves are exposed (not static) so the unit tests can compare them
 * with brute-force references.
 */
#ifndef TT_REPORT_REPORT_INT_H
#define TT_REPORT_REPORT_INT_H

#include <stdarg.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "report/report.h"

/* report.html's inline stylesheet ("<style>...</style>\n"), shared by every
 * page tautune writes (report_html.c). */
extern const char tt_report_style[];

/* ---- text buffer ------------------------------------------------------ */

/* Errors are sticky: after a failed allocation every append is a no-op and
 * oom stays set, so writers check once at the end. s is always
 * NUL-terminated once anything was appended. The buffer owns s. */
typedef struct tt_rbuf {
    char *s;
    size_t len, cap;
    int oom;
} tt_rbuf;

void tt_rb_free(tt_rbuf *b);
void tt_rb_puts(tt_rbuf *b, const char *s);
void tt_rb_printf(tt_rbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with & < > " ' escaped for HTML text and attribute values (NULL: ""). */
void tt_rb_esc(tt_rbuf *b, const char *s);
/* s for a Markdown table cell: '|' escaped, newlines as spaces. */
void tt_rb_md(tt_rbuf *b, const char *s);
/* A number for display: %.4g, or an em dash when non-finite. */
void tt_rb_num(tt_rbuf *b, double v);
/* A table cell with a number: shown %.4g, exact (%.17g) in data-value and
 * title; non-finite (JSON null) shows a dash with data-value="null" and
 * why (escaped) as title when given. cls may be NULL. */
void tt_rb_num_cell(tt_rbuf *b, double v, const char *cls, const char *why);
/* " name=\"v1 v2 ...\"" with %.17g values (non-finite as "nan"). */
void tt_rb_data_list(tt_rbuf *b, const char *name, size_t n, const double *v);

/* Write b into dir/name via dir/.name.tmp and rename. */
tt_status tt_rb_write_atomic(const tt_rbuf *b, const char *dir, const char *name, char *err,
                             size_t errlen);

/* ---- results.json accessors ----------------------------------------- */

/* A member's number, NaN when absent, null or not a number. */
double tt_rj_num(const cJSON *o, const char *key);
/* A member's string, NULL when absent or not a string. */
const char *tt_rj_str(const cJSON *o, const char *key);

/* ---- the run's trials (report_trials.c) ------------------------------ */

/* Is the objective minimised (results.direction != "max")? */
int tt_report_minimize(const cJSON *results);

/* Trial counts by status over in->trials. */
typedef struct tt_report_counts {
    size_t total, ok, failed, timeout;
} tt_report_counts;
void tt_report_count_trials(const tt_report_input *in, tt_report_counts *c);

/* Trials of estimator est with the given status (a tt_trial_status; -1: any). */
size_t tt_report_trials_of(const tt_report_input *in, const char *est, int status);

/* r's estimator name ("?" without a descriptor). */
const char *tt_report_trial_estimator(const tt_trial_result *r);

/* r's score `name` as results.json has it: NaN when absent, null or not finite. */
double tt_report_trial_score(const tt_trial_result *r, const char *name);

/* The best ok trial (finite objective) of each estimator, best first, each
 * as its results.json object (tt_trial_to_json). Returns how many; *out is
 * the caller's (tt_report_leaders_free); 0 with *out NULL when none (or out
 * of memory: *oom). */
size_t tt_report_leaders(const tt_report_input *in, cJSON ***out, int *oom);
void tt_report_leaders_free(cJSON **lead, size_t n);

/* The estimators of in->trials in order of first appearance (names
 * borrowed from the descriptors); *out is the caller's (free). */
size_t tt_report_estimators(const tt_report_input *in, const char ***out, int *oom);

/* The leaderboard cell of a trial's paired difference to the best
 * (search/rank.h): "+0.012 ± 0.0041 =" ("=": tied), "best", or "-" when
 * results.json has none for it (report_ties.c). */
void tt_report_vs_best(const cJSON *results, const cJSON *trial, char *buf, size_t len);

/* "N candidates (the best included) are statistically indistinguishable ..." into buf;
 * 1 when there is a tie to report (best.tied >= 2), else 0 and buf "". */
int tt_report_ties_sentence(const cJSON *results, char *buf, size_t len);

/* How the candidates were scored ("... by 5-fold cross-validation ...") and
 * what became of the ensemble of the best trials (report_ensemble.c): plain
 * text into buf; 1 when results.json has the facts, else 0 and buf "". */
int tt_report_validation_sentence(const cJSON *results, char *buf, size_t len);
int tt_report_ensemble_sentence(const cJSON *results, char *buf, size_t len);

/* The instrument's diagnostics (results.json "iv", report_iv.c): one plain
 * sentence with its caveats (1 when there are any, else 0 and buf ""), and
 * report.html's "Instrument" section (nothing without them). */
int tt_report_iv_sentence(const cJSON *results, char *buf, size_t len);
void tt_report_iv_section(tt_rbuf *b, const cJSON *results);

/* The run's answer (report_answer.c): the headline average effect of
 * results.json "estimand" as one plain sentence (per treated arm, how it was
 * made, a poor-overlap warning); 1 when there is one, else 0 and buf "". */
int tt_report_headline(const cJSON *results, char *buf, size_t len);

/* What drives the effect and the policy (report_insight.c, results.json
 * "insight" and "policy"): the heterogeneity verdict and the policy's worth
 * as plain sentences (1 when there is one, else 0 and buf ""), and
 * report.html's two sections (nothing without them). */
int tt_report_verdict(const cJSON *results, char *buf, size_t len);
int tt_report_policy_sentence(const cJSON *results, char *buf, size_t len);
void tt_report_insight_section(tt_rbuf *b, const cJSON *results);
void tt_report_policy_section(tt_rbuf *b, const cJSON *results);

/* snprintf appended at buf + *used (len the whole buffer), *used counting
 * the full length even past len, so a sentence builder can report what it
 * needed (report_util.c). */
void tt_report_append(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* One number format for the pages: whole units with thousands separators
 * from 1,000 ("13,640"), four significant digits below ("0.1315",
 * "-2.345"), "%.3g" under 1e-4, "n/a" when not finite. */
void tt_report_fmt(double v, char *buf, size_t len);

/* The label of arm k: in->arm_labels, else results data.arm_labels, else
 * the number (in a static buffer of the caller's: buf). */
const char *tt_report_arm_label(const tt_report_input *in, int k, char *buf, size_t len);

/* Caveats as plain sentences (caller frees each and the array); *n set.
 * NULL with *n = 0 when there are none; *oom set on allocation failure. */
char **tt_report_caveats(const tt_report_input *in, size_t *n, int *oom);
void tt_report_free_strings(char **s, size_t n);

/* ---- curves ----------------------------------------------------------- */

/* Qini curve of treated arm `arm` (1..K-1) against the control on the rows
 * of arms {0, arm}, ranked by tau (one column of n values) descending, ties
 * as one group with the curve linear inside it (uplift.h). npts >= 2 points
 * at shares x = j / (npts - 1) of those m rows: q(k) = Y_t - Y_c N_t / N_c
 * (0 when N_c = 0), k = share * m, unweighted. *m receives the pair's row
 * count (0: nothing written). TT_ERR_NOMEM only. */
tt_status tt_report_qini_curve(size_t n, const int *t, const double *y, const double *tau,
                               int arm, size_t npts, double *x, double *q, size_t *m);

/* Policy value of treating the top share[j] of rows by tau - cost[arm]
 * (tau: that arm's column) with `arm` and the rest with the control:
 * value[j] = ERUPT(pi) - mean cost (policy.h, IPW with the clipped scoring
 * propensity). The top round(share * n) rows are treated, ties broken by
 * row order. value[j] is NaN when no row agrees with the policy. */
tt_status tt_report_policy_curve(size_t n, int n_arms, const int *t, const double *y,
                                 const double *prop, double clip, const double *tau,
                                 const double *cost, int arm, size_t n_share,
                                 const double *share, double *value);

/* Calibration by bins of tau (quantile bins: rows sorted by tau ascending,
 * ties by row order; bin b holds sorted rows [b n / bins, (b + 1) n / bins)).
 * Per bin: mean tau, mean pseudo, and the 95 % normal interval of the mean
 * pseudo-outcome (sample sd / sqrt(count)), count rows. Bins with no rows
 * get NaN and count 0. */
tt_status tt_report_calibration(size_t n, const double *tau, const double *pseudo, int bins,
                                double *tau_mean, double *pseudo_mean, double *lo, double *hi,
                                size_t *count);

/* counts[b] of finite v in bin b of [lo, hi] split into `bins` equal bins
 * (the last bin closed on the right; values outside are put in the edge
 * bins). */
void tt_report_histogram(size_t n, const double *v, double lo, double hi, int bins,
                         size_t *counts);

/* ---- sections (report_plots.c) ---------------------------------------- */

/* The plots section's figures. */
void tt_report_plots(tt_rbuf *b, const tt_report_input *in);

#endif
