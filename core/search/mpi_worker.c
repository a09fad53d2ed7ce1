/* mpi_worker.c - a worker rank's loop (mpi_worker.h). */
#include "search/mpi_worker.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search/log_tail.h"
#include "search/mpi_wire.h"
#include "search/protocol.h"
#include "util/clock.h"

/* Largest point a request may carry (a plugin's parameters). */
#define MAX_PARAMS 256

typedef struct serving {
    tt_pool *pool;
    size_t *ids;                 /* per local slot: the trial id running there */
    unsigned char *used;         /* per local slot */
    int slots;
    const tt_trial_problem *problem;
    const tt_plugin_descriptor *const *descs;
    size_t n_descs;
    volatile sig_atomic_t *stop;
    tt_msg in, out, part;
    double last_sent;
    double last_heard;           /* the last message from rank 0 */
    double rank0_timeout;        /* seconds of rank 0's silence (or of a send it does not
                                  * take) after which it counts as gone */
    int quiet;                   /* the search is over: no heartbeats either way */
    tt_mpi_worker_stats *stats;
} serving;

/* TT_TAG_RESULT for trial id: u64 id, u64 n, the result, then the log. */
static int send_result(serving *w, size_t id, tt_trial_result *r)
{
    w->out.len = w->part.len = 0;
    tt_status st = tt_result_encode(r, &w->part);
    if (st == TT_OK && (tt_msg_put_u64(&w->out, id) || tt_msg_put_u64(&w->out, w->part.len) ||
                        tt_msg_put(&w->out, w->part.data, w->part.len)))
        st = TT_ERR_NOMEM;
    if (st == TT_OK)
        st = tt_log_encode(r->log, &w->out);
    if (st == TT_OK) {
        st = tt_mpi_send(0, TT_TAG_RESULT, w->out.data, w->out.len, w->rank0_timeout);
        if (st == TT_ERR_INVALID) { /* over MPI's 2 GiB: the trial fails, the rank goes on */
            tt_trial_result small;
            memset(&small, 0, sizeof small);
            small.status = TT_TRIAL_FAILED;
            small.seconds = r->seconds;
            small.objective = small.objective_se = small.ate = small.fit_seconds = NAN;
            tt_trial_set_error(&small, "its result (%zu bytes) is too large for one MPI "
                                       "message", w->out.len);
            st = send_result(w, id, &small);
            tt_trial_result_clear(&small);
        }
    }
    w->last_sent = tt_now();
    w->stats->trials++;
    return st == TT_OK || st == TT_ERR_NOMEM ? 0 : -1;
}

/* A request that cannot start still gets an answer: a failed trial. */
static int send_failure(serving *w, size_t id, const char *why)
{
    tt_trial_result r;
    memset(&r, 0, sizeof r);
    r.status = TT_TRIAL_FAILED;
    r.objective = r.objective_se = r.ate = r.fit_seconds = NAN;
    tt_trial_set_error(&r, "%s", why);
    int rc = send_result(w, id, &r);
    tt_trial_result_clear(&r);
    return rc;
}

static int start_trial(serving *w)
{
    double point[MAX_PARAMS];
    tt_trial_request rq;
    if (tt_request_decode(w->in.data, w->in.len, &rq, point, MAX_PARAMS) != TT_OK)
        return 0; /* not a request: nothing to answer to */
    if (rq.estimator >= w->n_descs || rq.n_params != w->descs[rq.estimator]->n_params)
        return send_failure(w, (size_t)rq.id, "the worker rank's config has no such estimator "
                                              "(rank 0 and this rank read different configs)");
    int s = 0;
    while (s < w->slots && w->used[s])
        s++;
    if (s == w->slots)
        return send_failure(w, (size_t)rq.id, "the worker rank had no free slot");
    char err[512];
    if (tt_pool_launch(w->pool, (size_t)s, w->problem, w->descs[rq.estimator], rq.point,
                       rq.seed, w->stop, err, sizeof err) != TT_OK)
        return send_failure(w, (size_t)rq.id, err);
    w->used[s] = 1;
    w->ids[s] = (size_t)rq.id;
    return 0;
}

/* Messages from rank 0: 1 at TT_TAG_STOP, -1 when MPI fails, else 0. */
static int read_messages(serving *w)
{
    for (;;) {
        int flag = 0;
        MPI_Status probe;
        if (MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &probe) != MPI_SUCCESS)
            return -1;
        if (!flag)
            return 0;
        if (tt_mpi_recv(&probe, &w->in) != TT_OK)
            return -1;
        w->last_heard = tt_now();
        switch (probe.MPI_TAG) {
        case TT_TAG_TRIAL:
            if (start_trial(w))
                return -1;
            break;
        case TT_TAG_QUIET:
            w->quiet = 1;
            break;
        case TT_TAG_CANCEL:
            tt_pool_kill_all(w->pool);
            memset(w->used, 0, (size_t)w->slots);
            break;
        case TT_TAG_STOP:
            if (w->in.len == sizeof(uint32_t)) {
                uint32_t lost;
                memcpy(&lost, w->in.data, sizeof lost);
                w->stats->peer_lost = lost != 0;
            }
            return 1;
        default:
            break;
        }
    }
}

int tt_mpi_worker_serve(const tt_trial_problem *problem, const tt_plugin_descriptor *const *descs,
                        size_t n_descs, const tt_worker_limits *limits, double beat,
                        volatile sig_atomic_t *stop, tt_mpi_worker_stats *stats)
{
    serving w = {.problem = problem, .descs = descs, .n_descs = n_descs, .stop = stop,
                 .slots = limits->jobs > 0 ? limits->jobs : 1, .stats = stats};
    memset(stats, 0, sizeof *stats);
    w.pool = tt_pool_new(limits);
    w.ids = calloc((size_t)w.slots, sizeof *w.ids);
    w.used = calloc((size_t)w.slots, 1);
    int rc = !w.pool || !w.ids || !w.used ? -1 : 0;
    w.last_sent = w.last_heard = tt_now();
    w.rank0_timeout = TT_MPI_RANK0_TIMEOUTS * TT_MPI_BEATS_PER_TIMEOUT * beat;
    while (rc == 0 && !*stop) {
        int got = read_messages(&w);
        if (got) {
            rc = got > 0 ? 0 : -1;
            break;
        }
        size_t s;
        tt_trial_result r;
        memset(&r, 0, sizeof r); /* wait fills the computed fields only */
        if (tt_pool_running(w.pool) > 0) {
            /* Short waits: rank 0's messages are read between them. */
            if (tt_pool_wait(w.pool, 0.02, &s, &r)) {
                w.used[s] = 0;
                /* After mpirun's SIGTERM the job is ending: a trial that
                 * ended now is not rank 0's to record. */
                if (!*stop)
                    rc = send_result(&w, w.ids[s], &r);
                tt_trial_result_clear(&r);
            }
        } else {
            tt_mpi_pause();
        }
        if (!w.quiet && tt_now() - w.last_heard > w.rank0_timeout) {
            stats->rank0_lost = 1; /* it died; mpirun --enable-recovery kept us */
            break;
        }
        if (rc == 0 && !w.quiet && tt_now() - w.last_sent >= beat) {
            uint32_t running = (uint32_t)tt_pool_running(w.pool);
            rc = tt_mpi_send(0, TT_TAG_BEAT, &running, sizeof running, w.rank0_timeout) == TT_OK
                     ? 0
                     : -1;
            w.last_sent = tt_now();
        }
    }
    tt_pool_free(w.pool); /* kills any trial still running */
    free(w.ids);
    free(w.used);
    tt_msg_free(&w.in);
    tt_msg_free(&w.out);
    tt_msg_free(&w.part);
    return rc;
}
