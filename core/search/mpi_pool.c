/* mpi_pool.c - rank 0's pool of MPI worker ranks (mpi_pool.h). */
#include "search/mpi_pool.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linalg/linalg.h"
#include "search/log_tail.h"
#include "search/mpi_wire.h"
#include "search/protocol.h"
#include "util/clock.h"
#include "util/log.h"

typedef enum rank_phase { RANK_PENDING, RANK_READY, RANK_DEAD, RANK_REFUSED } rank_phase;

/* A trial a rank is running for us. */
typedef struct remote {
    size_t slot, id;
    double started;
    int live;
} remote;

typedef struct rank_info {
    rank_phase phase;
    int slots;
    char host[64];
    double last_heard;
    remote *trials;              /* slots entries */
    size_t running;
} rank_info;

/* A trial of a dead rank, to be handed back by wait() as failed. */
typedef struct lost_trial {
    size_t slot;
    double seconds;
    char why[256];
} lost_trial;

struct tt_mpi_pool {
    int size;                    /* ranks, rank 0 included */
    double timeout;
    rank_info *ranks;            /* [size]; [0] unused */
    lost_trial *lost;
    size_t n_lost, cap_lost;
    tt_msg in, out;
    char refusal[1024];          /* the first refusal's message */
    /* statistics */
    size_t n_requests, n_results, n_lost_total;
    double request_bytes, result_bytes;
    double first_launch, last_result, idle;
    double cpu_first, cpu_last;  /* tt_cpu_now() at those two moments */
    double last_beat;            /* when rank 0 last told the ranks it is alive */
    int slots_at_start, n_dead;
    int warned_threads;
};

tt_mpi_pool *tt_mpi_pool_new(int size, double timeout)
{
    tt_mpi_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->size = size;
    p->timeout = timeout > 0 ? timeout : 30.0;
    p->ranks = calloc((size_t)(size > 1 ? size : 1), sizeof *p->ranks);
    if (!p->ranks) {
        free(p);
        return NULL;
    }
    double now = tt_now();
    for (int r = 1; r < size; r++)
        p->ranks[r].last_heard = now;
    return p;
}

void tt_mpi_pool_free(tt_mpi_pool *pool)
{
    if (!pool)
        return;
    /* Says whether a rank died: the workers then guard their MPI_Finalize
     * with a short wait. */
    static uint32_t lost;
    lost = pool->n_dead > 0;
    for (int r = 1; r < pool->size; r++) {
        if (pool->ranks[r].phase == RANK_READY) {
            (void)tt_mpi_send(r, TT_TAG_STOP, &lost, sizeof lost, pool->timeout);
        } else if (pool->ranks[r].phase == RANK_DEAD) {
            /* A rank marked dead may only have been slow (a set-up past its
             * time, a stalled node): told to stop, it does not wait for
             * trials for ever. Not waited for: it may be gone. */
            MPI_Request rq;
            if (MPI_Isend(&lost, (int)sizeof lost, MPI_BYTE, r, TT_TAG_STOP, MPI_COMM_WORLD,
                          &rq) == MPI_SUCCESS)
                MPI_Request_free(&rq);
        }
        free(pool->ranks[r].trials);
    }
    free(pool->ranks);
    free(pool->lost);
    tt_msg_free(&pool->in);
    tt_msg_free(&pool->out);
    free(pool);
}

int tt_mpi_pool_lost_a_rank(const tt_mpi_pool *pool)
{
    return pool && pool->n_dead > 0;
}

/* A rank gone silent: its trials become lost trials, reported by wait(). */
static void mark_dead(tt_mpi_pool *p, int r, const char *why)
{
    rank_info *ri = &p->ranks[r];
    double now = tt_now();
    for (int i = 0; ri->trials && i < ri->slots; i++) {
        remote *t = &ri->trials[i];
        if (!t->live)
            continue;
        if (p->n_lost == p->cap_lost) {
            size_t cap = p->cap_lost ? 2 * p->cap_lost : 8;
            lost_trial *l = realloc(p->lost, cap * sizeof *l);
            if (!l)
                continue; /* out of memory: the trial stays unrecorded */
            p->lost = l;
            p->cap_lost = cap;
        }
        lost_trial *l = &p->lost[p->n_lost++];
        l->slot = t->slot;
        l->seconds = now - t->started;
        snprintf(l->why, sizeof l->why, "worker rank %d%s%s%s %s", r, ri->host[0] ? " (" : "",
                 ri->host, ri->host[0] ? ")" : "", why);
        t->live = 0;
    }
    ri->running = 0;
    if (ri->phase == RANK_READY || ri->phase == RANK_PENDING)
        p->n_dead++;
    ri->phase = RANK_DEAD;
    tt_log(TT_LOG_WARN, "worker rank %d%s%s%s %s; the search goes on with the other ranks", r,
           ri->host[0] ? " (" : "", ri->host, ri->host[0] ? ")" : "", why);
}

static void on_ready(tt_mpi_pool *p, int r)
{
    rank_info *ri = &p->ranks[r];
    tt_msg_reader c = tt_msg_reader_of(p->in.data, p->in.len);
    uint32_t slots = tt_msg_get_u32(&c);
    tt_msg_get_str(&c, ri->host, sizeof ri->host);
    uint32_t threads = tt_msg_get_u32(&c);
    if (c.bad || slots < 1 || slots > 4096 || ri->phase != RANK_PENDING)
        return;
    if (threads != (uint32_t)tt_linalg_threads() && !p->warned_threads) {
        p->warned_threads = 1;
        tt_log(TT_LOG_WARN, "worker rank %d (%s) computes with %u BLAS threads, rank 0 with %d: "
               "scores may differ from a local run's in their last bits; give every rank the "
               "same OPENBLAS_NUM_THREADS (mpirun -x OPENBLAS_NUM_THREADS=1)", r, ri->host,
               (unsigned)threads, tt_linalg_threads());
    }
    ri->trials = calloc(slots, sizeof *ri->trials);
    if (!ri->trials)
        return;
    ri->slots = (int)slots;
    ri->phase = RANK_READY;
}

static void on_refuse(tt_mpi_pool *p, int r)
{
    char why[900];
    tt_msg_reader c = tt_msg_reader_of(p->in.data, p->in.len);
    tt_msg_get_str(&c, why, sizeof why);
    if (!p->refusal[0])
        snprintf(p->refusal, sizeof p->refusal, "worker rank %d: %s", r,
                 c.bad ? "refused the run" : why);
    p->ranks[r].phase = RANK_REFUSED;
}

/* A result message: 1 with *slot and *result filled when it is one of ours. */
static int on_result(tt_mpi_pool *p, int r, size_t *slot, tt_trial_result *result)
{
    rank_info *ri = &p->ranks[r];
    tt_msg_reader c = tt_msg_reader_of(p->in.data, p->in.len);
    uint64_t id = tt_msg_get_u64(&c), n = tt_msg_get_u64(&c);
    if (c.bad || ri->phase != RANK_READY || n > (uint64_t)(c.end - c.p))
        return 0;
    remote *t = NULL;
    for (int i = 0; i < ri->slots && !t; i++)
        if (ri->trials[i].live && ri->trials[i].id == id)
            t = &ri->trials[i];
    if (!t)
        return 0; /* cancelled at a stop: dropped */
    const unsigned char *res = tt_msg_get_bytes(&c, (size_t)n);
    tt_log_tail *log = NULL;
    tt_status st = tt_result_decode(res, (size_t)n, result);
    if (st == TT_OK && tt_log_decode(c.p, (size_t)(c.end - c.p), &log) != TT_OK)
        log = NULL; /* a log that does not decode costs the log, not the trial */
    if (st != TT_OK) {
        result->status = TT_TRIAL_FAILED;
        result->seconds = tt_now() - t->started;
        result->objective = result->objective_se = result->ate = result->fit_seconds = NAN;
        result->n_oracle = 0;
        tt_trial_set_error(result, "worker rank %d sent a result that does not decode", r);
    }
    result->log = log;
    *slot = t->slot;
    t->live = 0;
    ri->running--;
    p->n_results++;
    p->result_bytes += (double)p->in.len;
    p->last_result = tt_now();
    p->cpu_last = tt_cpu_now();
    return 1;
}

/* Read one waiting message, if any; 1 when it was a result of ours. */
static int take_message(tt_mpi_pool *p, int *any, size_t *slot, tt_trial_result *result)
{
    int flag = 0;
    MPI_Status probe;
    *any = 0;
    if (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &probe) != MPI_SUCCESS ||
        !flag)
        return 0;
    *any = 1;
    int r = probe.MPI_SOURCE;
    if (tt_mpi_recv(&probe, &p->in) != TT_OK || r < 1 || r >= p->size)
        return 0;
    rank_info *ri = &p->ranks[r];
    if (ri->phase == RANK_DEAD || ri->phase == RANK_REFUSED)
        return 0; /* too late: its trials were recorded as lost */
    ri->last_heard = tt_now();
    switch (probe.MPI_TAG) {
    case TT_TAG_READY:
        on_ready(p, r);
        return 0;
    case TT_TAG_REFUSE:
        on_refuse(p, r);
        return 0;
    case TT_TAG_RESULT:
        return on_result(p, r, slot, result);
    default: /* TT_TAG_BEAT: being heard was the point */
        return 0;
    }
}

/* Ranks silent for longer than the timeout are dead. */
static void check_silence(tt_mpi_pool *p, double now)
{
    for (int r = 1; r < p->size; r++) {
        rank_info *ri = &p->ranks[r];
        if ((ri->phase == RANK_READY) && now - ri->last_heard > p->timeout) {
            char why[128];
            snprintf(why, sizeof why, "stopped answering (no message for %.0f s)",
                     now - ri->last_heard);
            mark_dead(p, r, why);
        }
    }
}

/* Rank 0's own heartbeat, as often as the workers': a worker that hears
 * nothing from rank 0 for long during the search leaves (mpi_worker.h)
 * instead of waiting for ever for a rank 0 that died. */
static void beat_ranks(tt_mpi_pool *p, double now)
{
    if (now - p->last_beat < p->timeout / TT_MPI_BEATS_PER_TIMEOUT)
        return;
    p->last_beat = now;
    for (int r = 1; r < p->size; r++)
        if (p->ranks[r].phase == RANK_READY)
            if (tt_mpi_send(r, TT_TAG_BEAT, "", 0, p->timeout) != TT_OK)
                mark_dead(p, r, "cannot be reached");
}

tt_status tt_mpi_pool_gather(tt_mpi_pool *pool, double setup_timeout,
                             volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    double start = tt_now();
    for (;;) {
        int pending = 0, ready = 0, any;
        size_t slot;
        tt_trial_result ignored;
        while (take_message(pool, &any, &slot, &ignored), any)
            ;
        for (int r = 1; r < pool->size; r++) {
            pending += pool->ranks[r].phase == RANK_PENDING;
            ready += pool->ranks[r].phase == RANK_READY;
        }
        if (pool->refusal[0])
            return tt_errf(err, errlen, TT_ERR_DATA, "%s", pool->refusal);
        if (!pending || (stop && *stop) || tt_now() - start > setup_timeout) {
            for (int r = 1; pending && r < pool->size; r++)
                if (pool->ranks[r].phase == RANK_PENDING) {
                    char why[128];
                    snprintf(why, sizeof why, "did not finish its set-up within %.0f s",
                             setup_timeout);
                    if (!(stop && *stop))
                        mark_dead(pool, r, why);
                }
            if (!ready)
                return tt_errf(err, errlen, TT_ERR_IO, "no worker rank is ready to run trials");
            for (int r = 1; r < pool->size; r++)
                if (pool->ranks[r].phase == RANK_READY) {
                    pool->slots_at_start += pool->ranks[r].slots;
                    pool->ranks[r].last_heard = tt_now();
                }
            return TT_OK;
        }
        tt_mpi_pause();
    }
}

/* ---- the search loop's backend ---------------------------------------------- */

static size_t pool_running(void *impl)
{
    tt_mpi_pool *p = impl;
    size_t n = p->n_lost;
    for (int r = 1; r < p->size; r++)
        if (p->ranks[r].phase == RANK_READY)
            n += p->ranks[r].running;
    return n;
}

static int pool_has_room(void *impl)
{
    tt_mpi_pool *p = impl;
    for (int r = 1; r < p->size; r++)
        if (p->ranks[r].phase == RANK_READY && p->ranks[r].running < (size_t)p->ranks[r].slots)
            return 1;
    return 0;
}

static tt_status pool_launch(void *impl, const tt_trial_launch *t, char *err, size_t errlen)
{
    tt_mpi_pool *p = impl;
    tt_trial_request rq = {.id = t->id, .estimator = t->estimator, .seed = t->seed,
                           .n_params = (uint32_t)t->desc->n_params, .point = t->point};
    p->out.len = 0;
    if (tt_request_encode(&rq, &p->out) != TT_OK)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    for (;;) {
        /* The ready rank with the most free slots (the lowest on a tie), so
         * trials spread over machines before they queue on one. */
        int best = 0;
        size_t best_free = 0;
        for (int r = 1; r < p->size; r++) {
            rank_info *ri = &p->ranks[r];
            size_t free_slots = ri->phase == RANK_READY ? (size_t)ri->slots - ri->running : 0;
            if (free_slots > best_free) {
                best = r;
                best_free = free_slots;
            }
        }
        if (!best)
            return tt_errf(err, errlen, TT_ERR_IO, "no worker rank has room for a trial");
        rank_info *ri = &p->ranks[best];
        if (tt_mpi_send(best, TT_TAG_TRIAL, p->out.data, p->out.len, p->timeout) != TT_OK) {
            mark_dead(p, best, "cannot be reached");
            continue;
        }
        remote *slot = NULL;
        for (int i = 0; i < ri->slots && !slot; i++)
            if (!ri->trials[i].live)
                slot = &ri->trials[i];
        double now = tt_now();
        *slot = (remote){.slot = t->slot, .id = t->id, .started = now, .live = 1};
        ri->running++;
        if (p->n_requests++ == 0) {
            p->first_launch = now;
            p->cpu_first = tt_cpu_now();
        }
        p->request_bytes += (double)p->out.len;
        return TT_OK;
    }
}

static int pool_wait(void *impl, double max_wait, size_t *slot, tt_trial_result *result)
{
    tt_mpi_pool *p = impl;
    double until = tt_now() + max_wait;
    for (;;) {
        if (p->n_lost > 0) {
            lost_trial *l = &p->lost[--p->n_lost];
            memset(result, 0, sizeof *result);
            result->status = TT_TRIAL_FAILED;
            result->seconds = l->seconds;
            result->objective = result->objective_se = result->ate = result->fit_seconds = NAN;
            tt_trial_set_error(result, "%s", l->why);
            *slot = l->slot;
            p->n_results++;
            p->n_lost_total++;
            p->last_result = tt_now();
            p->cpu_last = tt_cpu_now();
            return 1;
        }
        int any;
        while (take_message(p, &any, slot, result) == 0 && any)
            ;
        if (any)
            return 1; /* take_message stopped at one of our results */
        double now = tt_now();
        check_silence(p, now);
        beat_ranks(p, now);
        if (p->n_lost > 0)
            continue;
        if (now >= until || pool_running(p) == 0)
            return 0;
        double t0 = tt_now();
        tt_mpi_pause();
        p->idle += tt_now() - t0;
    }
}

static void pool_kill_all(void *impl)
{
    tt_mpi_pool *p = impl;
    for (int r = 1; r < p->size; r++) {
        rank_info *ri = &p->ranks[r];
        if (ri->phase != RANK_READY || ri->running == 0)
            continue;
        (void)tt_mpi_send(r, TT_TAG_CANCEL, "", 0, p->timeout);
        for (int i = 0; i < ri->slots; i++)
            ri->trials[i].live = 0;
        ri->running = 0;
    }
    p->n_lost = 0;
}

void tt_mpi_pool_quiet(tt_mpi_pool *pool)
{
    for (int r = 1; pool && r < pool->size; r++)
        if (pool->ranks[r].phase == RANK_READY)
            (void)tt_mpi_send(r, TT_TAG_QUIET, "", 0, pool->timeout);
}

static const tt_trial_pool_ops mpi_ops = {pool_running, pool_has_room, pool_launch, pool_wait,
                                          pool_kill_all};

tt_trial_pool tt_mpi_pool_backend(tt_mpi_pool *pool)
{
    return (tt_trial_pool){&mpi_ops, pool};
}

void tt_mpi_pool_stats_of(const tt_mpi_pool *pool, tt_mpi_pool_stats *st)
{
    memset(st, 0, sizeof *st);
    for (int r = 1; r < pool->size; r++)
        st->ranks_ready += pool->ranks[r].phase == RANK_READY;
    st->ranks_dead = pool->n_dead;
    st->slots = pool->slots_at_start;
    st->trials = pool->n_results;
    st->lost = pool->n_lost_total;
    st->request_bytes = pool->n_requests ? pool->request_bytes / (double)pool->n_requests : 0;
    size_t received = pool->n_results - pool->n_lost_total;
    st->result_bytes = received ? pool->result_bytes / (double)received : 0;
    if (pool->n_requests && pool->last_result > pool->first_launch) {
        st->span_seconds = pool->last_result - pool->first_launch;
        st->busy_seconds = fmax(0.0, st->span_seconds - pool->idle);
        st->cpu_seconds = fmax(0.0, pool->cpu_last - pool->cpu_first);
    }
}
