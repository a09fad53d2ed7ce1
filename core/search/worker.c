/* worker.c - the trial pool: one isolated child (isolate.h) per trial. */
#include "search/worker.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "search/isolate.h"
#include "search/protocol.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"
#include "util/paths.h"

typedef struct child {
    tt_isolate_child proc; /* not running = free */
    size_t slot;
} child;

struct tt_pool {
    tt_worker_limits lim;
    tt_isolate_limits iso;
    child *children;
};

tt_pool *tt_pool_new(const tt_worker_limits *limits)
{
    tt_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->lim = *limits;
    if (p->lim.jobs < 1)
        p->lim.jobs = 1;
    /* keep_log: each trial's last output lines go into its record (trial.h). */
    p->iso = (tt_isolate_limits){.timeout = p->lim.trial_timeout, .deadline = p->lim.deadline,
                                 .grace = p->lim.grace, .memory_cap = p->lim.memory_cap,
                                 .keep_log = 1, .own_group = p->lim.own_group};
    p->children = calloc((size_t)p->lim.jobs, sizeof *p->children);
    if (!p->children) {
        free(p);
        return NULL;
    }
    return p;
}

void tt_pool_kill_all(tt_pool *pool)
{
    for (int i = 0; i < pool->lim.jobs; i++)
        tt_isolate_abandon(&pool->children[i].proc);
}

void tt_pool_free(tt_pool *pool)
{
    if (!pool)
        return;
    tt_pool_kill_all(pool);
    free(pool->children);
    free(pool);
}

size_t tt_pool_running(const tt_pool *pool)
{
    size_t n = 0;
    for (int i = 0; i < pool->lim.jobs; i++)
        n += tt_isolate_running(&pool->children[i].proc) != 0;
    return n;
}

int tt_pool_has_room(const tt_pool *pool)
{
    return tt_pool_running(pool) < (size_t)pool->lim.jobs;
}

/* What one trial's child runs. */
typedef struct trial_job {
    const tt_trial_problem *problem;
    const tt_plugin_descriptor *desc;
    const double *point;
    uint64_t seed;
    double deadline;
    volatile sig_atomic_t *stop_flag;
} trial_job;

/* The child's log sink: one line per message, "warning: [plugin] text", in
 * one write on stderr (the output pipe), so the trial's log (log_tail.h)
 * holds the plugin's host->log lines in order with what it prints itself.
 * The parent's sink would prefix "tautune: ", which says nothing there. */
static void log_line(void *ctx, tt_log_level level, const char *msg)
{
    (void)ctx;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    char line[2200];
    int n = snprintf(line, sizeof line, "%s: %s\n", names[(unsigned)level <= 3 ? level : 3],
                     msg);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) { /* cut, but still one line */
        n = (int)sizeof line - 1;
        line[n - 1] = '\n';
    }
    (void)tt_write_all(STDERR_FILENO, line, (size_t)n);
}

static int run_trial(void *arg, tt_msg *out, char *err, size_t errlen)
{
    const trial_job *j = arg;
    /* This process only: the parent's sink is untouched. Debug lines stay
     * out, as they do of the command's own stderr. */
    tt_log_set_sink(log_line, NULL, TT_LOG_INFO);
    tt_trial_result r;
    memset(&r, 0, sizeof r);
    tt_trial_evaluate(j->problem, j->desc, j->point, j->seed, j->deadline, j->stop_flag, &r);
    int bad = tt_result_encode(&r, out) != TT_OK;
    tt_trial_result_clear(&r);
    if (bad)
        return snprintf(err, errlen, "out of memory encoding the trial's result"), -1;
    return 0;
}

tt_status tt_pool_launch(tt_pool *pool, size_t slot, const tt_trial_problem *problem,
                         const tt_plugin_descriptor *desc, const double *point, uint64_t seed,
                         volatile sig_atomic_t *stop_flag, char *err, size_t errlen)
{
    child *c = NULL;
    for (int i = 0; i < pool->lim.jobs && !c; i++)
        if (!tt_isolate_running(&pool->children[i].proc))
            c = &pool->children[i];
    if (!c)
        return tt_errf(err, errlen, TT_ERR_INVALID, "worker pool is full");
    trial_job job = {problem, desc, point, seed, pool->lim.deadline, stop_flag};
    tt_status st = tt_isolate_start(&c->proc, &pool->iso, run_trial, &job, err, errlen);
    if (st == TT_OK)
        c->slot = slot;
    return st;
}

/* A trial's result from how its child ended. */
static void to_result(const tt_pool *pool, tt_isolate_report *rep, tt_trial_result *r)
{
    r->n_scores = r->n_oracle = 0;
    r->scores = NULL; /* like the terms: decode hands back new ones */
    r->oracle = NULL;
    r->objective = NAN;
    r->objective_se = NAN;
    r->terms = NULL; /* decode hands back new terms; a failure has none */
    r->n_terms = 0;
    r->effects = NULL;
    r->n_effects = 0;
    r->ate = NAN;
    r->fit_seconds = NAN;
    r->error = NULL;
    /* The output lines, however the child ended: the record's, until the
     * search has handed the trial to its sink (search.c). */
    r->log = rep->log;
    rep->log = NULL;
    if (rep->end == TT_ISOLATE_OK &&
        tt_result_decode(rep->result.data, rep->result.len, r) == TT_OK) {
        if (r->status != TT_TRIAL_OK || !(r->seconds > 0))
            r->seconds = rep->seconds;
        return;
    }
    char extra[TT_ISOLATE_TAIL + 16] = "";
    if (rep->tail[0])
        snprintf(extra, sizeof extra, "; stderr: %s", rep->tail);
    r->status = TT_TRIAL_FAILED;
    r->seconds = rep->seconds;
    if (rep->end == TT_ISOLATE_TIMEOUT || rep->end == TT_ISOLATE_STOPPED) {
        r->status = TT_TRIAL_TIMEOUT;
        tt_trial_set_error(r, "killed after the per-trial timeout of %g s%s",
                           pool->lim.trial_timeout, extra);
    } else if (rep->end == TT_ISOLATE_DEADLINE) {
        r->status = TT_TRIAL_TIMEOUT;
        tt_trial_set_error(r, "killed: still running %g s after the search's deadline%s",
                           pool->lim.grace, extra);
    } else {
        if (rep->end == TT_ISOLATE_OK) /* an answer that does not decode */
            rep->end = TT_ISOLATE_EXITED;
        char why[1024];
        tt_isolate_describe(rep, &pool->iso, "worker", why, sizeof why);
        tt_trial_set_error(r, "%s", why);
    }
}

int tt_pool_wait(tt_pool *pool, double max_wait, size_t *slot, tt_trial_result *result)
{
    double until = tt_now() + max_wait;
    for (;;) {
        int jobs = pool->lim.jobs;
        struct pollfd fds[2 * jobs];
        size_t nfds = 0;
        double now = tt_now(), wake = until;
        for (int i = 0; i < jobs; i++) {
            child *c = &pool->children[i];
            tt_isolate_report rep;
            if (tt_isolate_check(&c->proc, now, &wake, &rep)) {
                *slot = c->slot;
                to_result(pool, &rep, result);
                tt_isolate_report_free(&rep);
                return 1;
            }
            nfds += tt_isolate_fill_pollfds(&c->proc, fds + nfds);
        }
        if (now >= until || tt_pool_running(pool) == 0)
            return 0;
        int ms = (int)fmin(fmax(0.0, wake - now) * 1000.0 + 1.0, 1000.0);
        int n = poll(fds, nfds, ms);
        if (n < 0 && errno != EINTR)
            return 0;
        for (int i = 0; i < jobs; i++)
            tt_isolate_drain(&pool->children[i].proc);
        if (n < 0) /* EINTR: let the caller look at its stop flag */
            return 0;
    }
}

/* ---- the pool as a search backend (pool.h) ----------------------------------- */

static size_t backend_running(void *impl)
{
    return tt_pool_running(impl);
}

static int backend_has_room(void *impl)
{
    return tt_pool_has_room(impl);
}

static tt_status backend_launch(void *impl, const tt_trial_launch *t, char *err, size_t errlen)
{
    return tt_pool_launch(impl, t->slot, t->problem, t->desc, t->point, t->seed, t->stop_flag,
                          err, errlen);
}

static int backend_wait(void *impl, double max_wait, size_t *slot, tt_trial_result *result)
{
    return tt_pool_wait(impl, max_wait, slot, result);
}

static void backend_kill_all(void *impl)
{
    tt_pool_kill_all(impl);
}

static const tt_trial_pool_ops local_ops = {backend_running, backend_has_room, backend_launch,
                                            backend_wait, backend_kill_all};

tt_trial_pool tt_pool_backend(tt_pool *pool)
{
    return (tt_trial_pool){&local_ops, pool};
}
