/*
 * gbm_pool.c - the gbm learner's thread pool: tt_learn_pool's contract
 * (n_threads - 1 parked threads plus the caller, tasks taken in any order),
 * but a worker that finishes a job spins for up to SPIN_NS before it sleeps.
 *
 * Why: a boosting fit runs a parallel phase per tree level, ~1,600 jobs on
 * 10k rows, with ~0.1 ms of serial work between them. Waking a sleeping
 * worker through a condition variable costs tens of microseconds on this
 * class of machine, as much as the phase itself at these sizes, so the
 * pool's blocking handoff made 2 threads no faster than 1 there. Spinning
 * is bounded, so an idle fit costs no CPU, and a loaded machine only loses
 * SPIN_NS per job to a worker with nothing to do.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "learn/gbm_impl.h"

#ifndef SPIN_NS
#define SPIN_NS 200000L
#endif

struct tt_gbm_pool {
    size_t n_threads, started;
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t go;
    atomic_uint_fast64_t gen;
    atomic_int quit;
    atomic_size_t next, done, sleepers;
    void (*fn)(void *ctx, size_t task, size_t thread);
    void *ctx;
    size_t n_tasks;
};

typedef struct worker_arg {
    tt_gbm_pool *gp;
    size_t index;
} worker_arg;

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

static void run_tasks(tt_gbm_pool *gp, size_t index)
{
    for (;;) {
        size_t t = atomic_fetch_add(&gp->next, 1);
        if (t >= gp->n_tasks)
            break;
        gp->fn(gp->ctx, t, index);
    }
}

static void *worker_main(void *arg)
{
    worker_arg *wa = arg;
    tt_gbm_pool *gp = wa->gp;
    const size_t index = wa->index;
    free(wa);
    uint_fast64_t seen = 0;
    for (;;) {
        /* Spin a while for the next job, then sleep. */
        long t0 = now_ns();
        for (unsigned i = 1; atomic_load(&gp->gen) == seen && !atomic_load(&gp->quit); i++) {
            cpu_relax();
            if ((i & 63) != 0)
                continue;
            /* Gives the core up to a runnable thread (the caller's, when
             * the machine's other core is busy), then keeps waiting. */
            sched_yield();
            if (now_ns() - t0 > SPIN_NS) {
                pthread_mutex_lock(&gp->mu);
                atomic_fetch_add(&gp->sleepers, 1);
                while (atomic_load(&gp->gen) == seen && !atomic_load(&gp->quit))
                    pthread_cond_wait(&gp->go, &gp->mu);
                atomic_fetch_sub(&gp->sleepers, 1);
                pthread_mutex_unlock(&gp->mu);
                break;
            }
        }
        if (atomic_load(&gp->quit))
            return NULL;
        seen = atomic_load(&gp->gen);
        run_tasks(gp, index);
        atomic_fetch_add(&gp->done, 1);
    }
}

tt_gbm_pool *tt_gbm_pool_new(size_t n_threads)
{
    tt_gbm_pool *gp = calloc(1, sizeof *gp);
    if (!gp)
        return NULL;
    pthread_mutex_init(&gp->mu, NULL);
    pthread_cond_init(&gp->go, NULL);
    atomic_init(&gp->gen, 0);
    atomic_init(&gp->quit, 0);
    atomic_init(&gp->next, 0);
    atomic_init(&gp->done, 0);
    atomic_init(&gp->sleepers, 0);
    gp->n_threads = n_threads ? n_threads : 1;
    if (gp->n_threads > 1 && (gp->tid = calloc(gp->n_threads, sizeof *gp->tid)))
        for (size_t t = 1; t < gp->n_threads; t++) {
            worker_arg *wa = malloc(sizeof *wa);
            if (!wa)
                break;
            *wa = (worker_arg){gp, t};
            if (pthread_create(&gp->tid[t], NULL, worker_main, wa) != 0) {
                free(wa);
                break;
            }
            gp->started = t;
        }
    return gp;
}

void tt_gbm_pool_run(tt_gbm_pool *gp, size_t n_tasks,
                     void (*fn)(void *ctx, size_t task, size_t thread), void *ctx)
{
    if (!gp || gp->started == 0 || n_tasks < 2) {
        for (size_t t = 0; t < n_tasks; t++)
            fn(ctx, t, 0);
        return;
    }
    gp->fn = fn;
    gp->ctx = ctx;
    gp->n_tasks = n_tasks;
    atomic_store(&gp->next, 0);
    atomic_store(&gp->done, 0);
    atomic_fetch_add(&gp->gen, 1); /* publishes the job (seq_cst) */
    if (atomic_load(&gp->sleepers) > 0) {
        pthread_mutex_lock(&gp->mu);
        pthread_cond_broadcast(&gp->go);
        pthread_mutex_unlock(&gp->mu);
    }
    run_tasks(gp, 0);
    /* Every worker acknowledges the job, having run tasks or not. */
    for (unsigned i = 1; atomic_load(&gp->done) < gp->started; i++) {
        cpu_relax();
        if ((i & 63) == 0)
            sched_yield();
    }
}

size_t tt_gbm_pool_threads(const tt_gbm_pool *gp)
{
    return gp ? gp->started + 1 : 1;
}

void tt_gbm_pool_free(tt_gbm_pool *gp)
{
    if (!gp)
        return;
    pthread_mutex_lock(&gp->mu);
    atomic_store(&gp->quit, 1);
    pthread_cond_broadcast(&gp->go);
    pthread_mutex_unlock(&gp->mu);
    for (size_t t = 1; t <= gp->started; t++)
        pthread_join(gp->tid[t], NULL);
    free(gp->tid);
    pthread_mutex_destroy(&gp->mu);
    pthread_cond_destroy(&gp->go);
    free(gp);
}
