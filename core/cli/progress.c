/* progress.c - the live progress line and its plain-text fallback. */
#include "cli/progress.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "search/log_tail.h"
#include "util/clock.h"

void tt_progress_init(tt_progress *p, FILE *out, int quiet, double start, double budget,
                      long max_trials, const char *metric)
{
    p->out = out;
    p->quiet = quiet;
    p->verbose = 0;
    p->live = !quiet && isatty(fileno(out));
    p->start = start;
    p->budget = budget;
    p->max_trials = max_trials;
    p->interval = 5.0;
    p->last_print = start;
    p->metric = metric;
    p->maximize = 0;
    p->done = p->failed = 0;
    p->best = NAN;
    p->best_name = NULL;
}

void tt_progress_plain(tt_progress *p)
{
    p->live = 0;
}

static void status_line(const tt_progress *p, double now)
{
    double elapsed = now - p->start;
    fprintf(p->out, "%zu trial%s", p->done, p->done == 1 ? "" : "s");
    if (p->max_trials > 0)
        fprintf(p->out, " of %ld", p->max_trials);
    if (p->failed)
        fprintf(p->out, " (%zu failed)", p->failed);
    if (!isnan(p->best))
        fprintf(p->out, ", best %s %.6g (%s)", p->metric, p->best, p->best_name);
    fprintf(p->out, ", %.1fs", elapsed);
    if (p->budget > 0)
        fprintf(p->out, " of %.0fs, %.1fs left", p->budget, fmax(0.0, p->budget - elapsed));
}

static void count(tt_progress *p, const tt_trial_result *r)
{
    p->done++;
    if (r->status != TT_TRIAL_OK)
        p->failed++;
    if (r->status == TT_TRIAL_OK && !isnan(r->objective) &&
        (isnan(p->best) || (p->maximize ? r->objective > p->best : r->objective < p->best))) {
        p->best = r->objective;
        p->best_name = r->desc->name;
    }
}

void tt_progress_seed(tt_progress *p, const tt_trial_result *prior, size_t n)
{
    for (size_t i = 0; i < n; i++)
        count(p, &prior[i]);
}

/* One log line, indented, with control bytes (escape sequences, carriage
 * returns, bells) shown as '?': the text is the plugin's. */
static void log_line(FILE *out, const char *s)
{
    fputs("  | ", out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        fputc((c < 0x20 && c != '\t') || c == 0x7f ? '?' : c, out);
    }
    fputc('\n', out);
}

/* The trial's log: all of it (verbose), or its last few lines under a
 * failure, saying where the rest is. */
static void show_log(const tt_progress *p, const tt_trial_result *r)
{
    size_t n = tt_log_tail_count(r->log), dropped = tt_log_tail_dropped(r->log);
    if (n == 0)
        return;
    size_t from = 0;
    char note[160];
    if (!p->verbose && n > TT_PROGRESS_FAILED_LINES) {
        from = n - TT_PROGRESS_FAILED_LINES;
        snprintf(note, sizeof note, "(%zu earlier line%s in trials.jsonl's log; --verbose "
                                    "shows them)", from, from == 1 ? "" : "s");
        log_line(p->out, note);
    } else if (dropped) {
        snprintf(note, sizeof note, "[%zu earlier line%s dropped]", dropped,
                 dropped == 1 ? "" : "s");
        log_line(p->out, note);
    }
    for (size_t i = from; i < n; i++)
        log_line(p->out, tt_log_tail_line(r->log, i));
}

/* The error, without the "; stderr: a|b|c" tail the worker appends to a
 * crash's message when the log's own lines follow it anyway. */
static void error_line(const tt_progress *p, const tt_trial_result *r)
{
    const char *error = tt_trial_error(r);
    const char *tail = tt_log_tail_count(r->log) ? strstr(error, "; stderr: ") : NULL;
    int len = tail ? (int)(tail - error) : (int)strlen(error);
    fprintf(p->out, "trial %zu (%s) %s: %.*s\n", r->id, r->desc->name,
            tt_trial_status_name(r->status), len, error);
}

void tt_progress_trial(tt_progress *p, const tt_trial_result *r)
{
    count(p, r);
    if (p->quiet)
        return;
    double now = tt_now();
    if (p->live)
        fputs("\r\033[K", p->out);
    if (r->status != TT_TRIAL_OK) {
        error_line(p, r);
        show_log(p, r);
    } else if (p->verbose && tt_log_tail_count(r->log)) {
        fprintf(p->out, "trial %zu (%s) ok, its log:\n", r->id, r->desc->name);
        show_log(p, r);
    }
    if (p->live) {
        status_line(p, now);
    } else if (now - p->last_print >= p->interval) {
        status_line(p, now);
        fputc('\n', p->out);
        p->last_print = now;
    }
    fflush(p->out);
}

void tt_progress_end(tt_progress *p)
{
    if (p->quiet)
        return;
    if (p->live)
        fputs("\r\033[K", p->out);
    status_line(p, tt_now());
    fputc('\n', p->out);
    fflush(p->out);
}
