/* report_trials.c - the report's view of the run's trials.
 *
 * The pages read the search's own records (tt_report_input.trials), not a
 * JSON tree of every trial: at 10,000 trials that tree, built at the run's
 * end for the pages alone, was the main process's largest growth (about
 * 3 KB a trial against the record's 1 KB). The few trials a table shows
 * (the best of each estimator) are turned into JSON one at a time, by the
 * same tt_trial_to_json that writes results.json, so their numbers are
 * results.json's numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "report/results.h"

const char *tt_report_trial_estimator(const tt_trial_result *r)
{
    return r->desc && r->desc->name ? r->desc->name : "?";
}

double tt_report_trial_score(const tt_trial_result *r, const char *name)
{
    for (size_t i = 0; name && i < r->n_scores; i++)
        if (!strcmp(r->scores[i].name, name))
            /* As results.json has it: null and non-finite values are no number. */
            return r->scores[i].is_null || !isfinite(r->scores[i].value) ? NAN
                                                                          : r->scores[i].value;
    return NAN;
}

void tt_report_count_trials(const tt_report_input *in, tt_report_counts *c)
{
    *c = (tt_report_counts){.total = in->n_trials};
    for (size_t i = 0; i < in->n_trials; i++) {
        tt_trial_status st = in->trials[i].status;
        c->ok += st == TT_TRIAL_OK;
        c->timeout += st == TT_TRIAL_TIMEOUT;
        c->failed += st == TT_TRIAL_FAILED;
    }
}

size_t tt_report_trials_of(const tt_report_input *in, const char *est, int status)
{
    size_t c = 0;
    for (size_t i = 0; est && i < in->n_trials; i++) {
        const tt_trial_result *r = &in->trials[i];
        c += !strcmp(tt_report_trial_estimator(r), est) &&
             (status < 0 || (int)r->status == status);
    }
    return c;
}

static int better(double a, double b, int minimize)
{
    return minimize ? a < b : a > b;
}

size_t tt_report_leaders(const tt_report_input *in, cJSON ***out, int *oom)
{
    *out = NULL;
    if (in->n_trials == 0)
        return 0;
    const tt_trial_result **lead = malloc(sizeof *lead * in->n_trials);
    if (!lead) {
        *oom = 1;
        return 0;
    }
    int minimize = tt_report_minimize(in->results);
    size_t n = 0;
    /* One slot per estimator, keeping the best; earlier trials win ties. */
    for (size_t i = 0; i < in->n_trials; i++) {
        const tt_trial_result *r = &in->trials[i];
        if (r->status != TT_TRIAL_OK || !isfinite(r->objective))
            continue;
        const char *est = tt_report_trial_estimator(r);
        size_t j = 0;
        while (j < n && strcmp(tt_report_trial_estimator(lead[j]), est))
            j++;
        if (j == n)
            lead[n++] = r;
        else if (better(r->objective, lead[j]->objective, minimize))
            lead[j] = r;
    }
    /* Insertion sort, best first: n is the number of estimators. */
    for (size_t i = 1; i < n; i++) {
        const tt_trial_result *x = lead[i];
        size_t j = i;
        while (j > 0 && better(x->objective, lead[j - 1]->objective, minimize)) {
            lead[j] = lead[j - 1];
            j--;
        }
        lead[j] = x;
    }
    cJSON **obj = n ? calloc(n, sizeof *obj) : NULL;
    for (size_t i = 0; obj && i < n; i++)
        if (!(obj[i] = tt_trial_to_json(lead[i]))) {
            tt_report_leaders_free(obj, i);
            obj = NULL;
        }
    free(lead);
    if (n && !obj) {
        *oom = 1;
        return 0;
    }
    *out = obj;
    return n;
}

void tt_report_leaders_free(cJSON **lead, size_t n)
{
    for (size_t i = 0; lead && i < n; i++)
        cJSON_Delete(lead[i]);
    free(lead);
}

size_t tt_report_estimators(const tt_report_input *in, const char ***out, int *oom)
{
    *out = NULL;
    size_t n = 0, cap = 0;
    const char **names = NULL;
    /* Few estimators, many trials: a scan of the names seen is cheap. */
    for (size_t i = 0; i < in->n_trials; i++) {
        const char *est = tt_report_trial_estimator(&in->trials[i]);
        size_t j = 0;
        while (j < n && strcmp(names[j], est))
            j++;
        if (j < n)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            const char **grown = realloc(names, cap * sizeof *names);
            if (!grown) {
                free(names);
                *oom = 1;
                return 0;
            }
            names = grown;
        }
        names[n++] = est;
    }
    *out = names;
    return n;
}
