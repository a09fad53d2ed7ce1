/*
 * learn_pool.c - the learners' threads: the thread count, one-shot parallel
 * loops (tt_learn_parallel: threads started and joined per call, for the few
 * long phases of a forest fit or a prediction) and the persistent pool
 * (tt_learn_pool: for the many short phases of a boosting fit).
 *
 * The pool keeps n_threads - 1 workers. A worker that finishes a job spins
 * for up to SPIN_NS before it sleeps on a condition variable. Why: a boosting
 * fit runs a parallel phase per tree level, ~1,600 jobs on 10k rows, with
 * ~0.1 ms of serial work between them. Waking a sleeping worker costs tens
 * of microseconds on this class of machine, as much as the phase itself at
 * these sizes, so a blocking handoff made 2 threads no faster than 1 there.
 * The spin is bounded, so an idle pool costs no CPU, and a loaded machine
 * loses at most SPIN_NS per job to a worker with nothing to do (the spin
 * yields the core every 64 pauses to whatever else is runnable).
 *
 * Results never depend on scheduling: a task is identified by its index
 * whatever thread runs it, and callers make each task's output a function
 * of the index alone (the thread index only picks scratch buffers).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "learn/learner_impl.h"

/* How long an idle worker spins before sleeping. */
#ifndef SPIN_NS
#define SPIN_NS 200000L
#endif

size_t tt_learn_threads(double requested)
{
    if (requested >= 1.0)
        return (size_t)requested;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? (size_t)n : 1;
}

/* ---- one-shot parallel loop --------------------------------------------- */

typedef struct job {
    void (*fn)(void *ctx, size_t task, size_t thread);
    void *ctx;
    size_t n_tasks;
    atomic_size_t next;
} job;

typedef struct worker {
    job *jb;
    size_t index;
} worker;

/* Takes tasks in index order until none are left. */
static void run_tasks(job *jb, size_t index)
{
    for (;;) {
        size_t t = atomic_fetch_add(&jb->next, 1);
        if (t >= jb->n_tasks)
            break;
        jb->fn(jb->ctx, t, index);
    }
}

static void *oneshot_main(void *arg)
{
    worker *w = arg;
    run_tasks(w->jb, w->index);
    return NULL;
}

void tt_learn_parallel(size_t n_threads, size_t n_tasks,
                       void (*fn)(void *ctx, size_t task, size_t thread), void *ctx)
{
    if (n_threads > n_tasks)
        n_threads = n_tasks;
    job jb = {.fn = fn, .ctx = ctx, .n_tasks = n_tasks};
    atomic_init(&jb.next, 0);
    if (n_threads <= 1) {
        run_tasks(&jb, 0);
        return;
    }
    pthread_t *tid = calloc(n_threads, sizeof *tid);
    worker *wk = calloc(n_threads, sizeof *wk);
    size_t started = 0;
    if (tid && wk)
        for (size_t t = 1; t < n_threads; t++) {
            wk[t] = (worker){&jb, t};
            if (pthread_create(&tid[t], NULL, oneshot_main, &wk[t]) != 0)
                break;
            started = t;
        }
    /* The caller is worker 0; tasks left by threads that failed to start
     * are simply picked up by the ones that run. */
    run_tasks(&jb, 0);
    for (size_t t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
    free(tid);
    free(wk);
}

/* ---- persistent pool ------------------------------------------------------ */

typedef struct pool_worker {
    tt_learn_pool *lp;
    size_t index;
} pool_worker;

struct tt_learn_pool {
    pthread_t *tid;
    pool_worker *workers;
    size_t started;            /* threads running besides the caller */
    pthread_mutex_t mu;        /* guards sleeping: with go, wakes sleepers */
    pthread_cond_t go;
    atomic_uint_fast64_t gen;  /* job number: bumped to publish a job */
    atomic_int quit;
    atomic_size_t acked;       /* workers done with the current job */
    atomic_size_t sleepers;    /* workers asleep or about to sleep on go */
    job jb;
};

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Waits until a job after `seen` is published (or quit): spins, yielding
 * the core now and then, and sleeps once SPIN_NS have passed. */
static void wait_for_job(tt_learn_pool *lp, uint_fast64_t seen)
{
    const long t0 = now_ns();
    for (unsigned i = 1; atomic_load(&lp->gen) == seen && !atomic_load(&lp->quit); i++) {
        cpu_relax();
        if ((i & 63) != 0)
            continue;
        sched_yield();
        if (now_ns() - t0 <= SPIN_NS)
            continue;
        /* sleepers is raised before gen is checked under the mutex, and run
         * bumps gen before it reads sleepers (both sequentially consistent):
         * either run sees a sleeper and broadcasts, or this check sees the
         * new job. No wake-up is lost. */
        pthread_mutex_lock(&lp->mu);
        atomic_fetch_add(&lp->sleepers, 1);
        while (atomic_load(&lp->gen) == seen && !atomic_load(&lp->quit))
            pthread_cond_wait(&lp->go, &lp->mu);
        atomic_fetch_sub(&lp->sleepers, 1);
        pthread_mutex_unlock(&lp->mu);
        return;
    }
}

static void *pool_main(void *arg)
{
    const pool_worker *w = arg;
    tt_learn_pool *lp = w->lp;
    uint_fast64_t seen = 0;
    for (;;) {
        wait_for_job(lp, seen);
        if (atomic_load(&lp->quit))
            return NULL;
        seen = atomic_load(&lp->gen);
        run_tasks(&lp->jb, w->index);
        atomic_fetch_add(&lp->acked, 1);
    }
}

tt_learn_pool *tt_learn_pool_new(size_t n_threads)
{
    tt_learn_pool *lp = calloc(1, sizeof *lp);
    if (!lp)
        return NULL;
    pthread_mutex_init(&lp->mu, NULL);
    pthread_cond_init(&lp->go, NULL);
    atomic_init(&lp->gen, 0);
    atomic_init(&lp->quit, 0);
    atomic_init(&lp->acked, 0);
    atomic_init(&lp->sleepers, 0);
    atomic_init(&lp->jb.next, 0);
    if (n_threads > 1) {
        lp->tid = calloc(n_threads, sizeof *lp->tid);
        lp->workers = calloc(n_threads, sizeof *lp->workers);
        for (size_t t = 1; lp->tid && lp->workers && t < n_threads; t++) {
            lp->workers[t] = (pool_worker){lp, t};
            if (pthread_create(&lp->tid[t], NULL, pool_main, &lp->workers[t]) != 0)
                break;
            lp->started = t;
        }
    }
    return lp;
}

void tt_learn_pool_run(tt_learn_pool *lp, size_t n_tasks,
                       void (*fn)(void *ctx, size_t task, size_t thread), void *ctx)
{
    if (!lp || lp->started == 0 || n_tasks < 2) {
        tt_learn_parallel(1, n_tasks, fn, ctx);
        return;
    }
    /* Every worker acknowledged the previous job before run returned, so
     * none reads the job while it is rewritten here. */
    lp->jb.fn = fn;
    lp->jb.ctx = ctx;
    lp->jb.n_tasks = n_tasks;
    atomic_store(&lp->jb.next, 0);
    atomic_store(&lp->acked, 0);
    atomic_fetch_add(&lp->gen, 1); /* publishes the job */
    if (atomic_load(&lp->sleepers) > 0) {
        pthread_mutex_lock(&lp->mu);
        pthread_cond_broadcast(&lp->go);
        pthread_mutex_unlock(&lp->mu);
    }
    run_tasks(&lp->jb, 0);
    /* Every worker acknowledges the job, having run tasks or not. */
    for (unsigned i = 1; atomic_load(&lp->acked) < lp->started; i++) {
        cpu_relax();
        if ((i & 63) == 0)
            sched_yield();
    }
}

size_t tt_learn_pool_threads(const tt_learn_pool *lp)
{
    return lp ? lp->started + 1 : 1;
}

void tt_learn_pool_free(tt_learn_pool *lp)
{
    if (!lp)
        return;
    pthread_mutex_lock(&lp->mu);
    atomic_store(&lp->quit, 1);
    pthread_cond_broadcast(&lp->go);
    pthread_mutex_unlock(&lp->mu);
    for (size_t t = 1; t <= lp->started; t++)
        pthread_join(lp->tid[t], NULL);
    free(lp->tid);
    free(lp->workers);
    pthread_mutex_destroy(&lp->mu);
    pthread_cond_destroy(&lp->go);
    free(lp);
}
