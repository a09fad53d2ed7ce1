/* progress.c - the live progress line and its plain-text fallback. */
#include "cli/progress.h"

#include <math.h>
#include <unistd.h>

#include "util/clock.h"

void tt_progress_init(tt_progress *p, FILE *out, int quiet, double start, double budget,
                      long max_trials, const char *metric)
{
    p->out = out;
    p->quiet = quiet;
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

void tt_progress_trial(tt_progress *p, const tt_trial_result *r)
{
    count(p, r);
    if (p->quiet)
        return;
    double now = tt_now();
    if (p->live)
        fputs("\r\033[K", p->out);
    if (r->status != TT_TRIAL_OK)
        fprintf(p->out, "trial %zu (%s) %s: %s\n", r->id, r->desc->name,
                tt_trial_status_name(r->status), tt_trial_error(r));
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
