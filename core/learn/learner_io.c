/*
 * learner_io.c - the line format every saved learner shares, and the small
 * thread pool the tree learners use.
 *
 * Lines end in '\n'; numbers are printed in the C locale as %.17g so doubles
 * read back bit-identical. The reader takes one byte at a time so a learner
 * embedded in a larger stream (a plugin's saved model) is never over-read.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strtod_l */
#endif
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "learn/learner_impl.h"
#include "util/err.h"

tt_status tt_learn_emit(tt_learn_writer *w, const char *fmt, ...)
{
    char line[TT_LEARN_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof line)
        return tt_errf(w->err, w->errlen, TT_ERR_INVALID, "learner save: line too long");
    if (w->sink->write(w->sink->ctx, line, (size_t)len) != 0)
        return tt_errf(w->err, w->errlen, TT_ERR_IO, "learner save: the sink refused %d bytes",
                       len);
    return TT_OK;
}

tt_status tt_learn_parse_error(tt_learn_reader *r, const char *what)
{
    return tt_errf(r->err, r->errlen, TT_ERR_PARSE, "saved learner, line %zu: %s (got '%.60s')",
                   r->line_no, what, r->line);
}

tt_status tt_learn_read_line(tt_learn_reader *r)
{
    size_t len = 0;
    r->line_no++;
    r->line[0] = '\0';
    for (;;) {
        char c;
        if (r->src->read(r->src->ctx, &c, 1) != 0)
            return tt_errf(r->err, r->errlen, TT_ERR_PARSE,
                           "saved learner, line %zu: unexpected end of data", r->line_no);
        if (c == '\n')
            break;
        if (len + 1 >= sizeof r->line) {
            r->line[len] = '\0';
            return tt_learn_parse_error(r, "line too long");
        }
        r->line[len++] = c;
        r->line[len] = '\0';
    }
    return TT_OK;
}

tt_status tt_learn_read_item(tt_learn_reader *r, const char *keyword, const char **rest)
{
    tt_status st = tt_learn_read_line(r);
    if (st != TT_OK)
        return st;
    size_t k = strlen(keyword);
    if (strncmp(r->line, keyword, k) != 0 || r->line[k] != ' ' || r->line[k + 1] == '\0') {
        char what[64];
        snprintf(what, sizeof what, "expected '%s <value>'", keyword);
        return tt_learn_parse_error(r, what);
    }
    *rest = r->line + k + 1;
    return TT_OK;
}

tt_status tt_learn_parse_double(tt_learn_reader *r, const char *s, double *out)
{
    char *end = NULL;
    double v = strtod_l(s, &end, r->c_loc);
    if (end == s || *end != '\0' || !isfinite(v))
        return tt_learn_parse_error(r, "expected a finite number");
    *out = v;
    return TT_OK;
}

tt_status tt_learn_parse_u64(tt_learn_reader *r, const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0')
        return tt_learn_parse_error(r, "expected an unsigned integer");
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return tt_learn_parse_error(r, "expected an unsigned integer");
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return TT_OK;
}

tt_status tt_learn_next_double(tt_learn_reader *r, const char **s, double *out)
{
    char *end = NULL;
    double v = strtod_l(*s, &end, r->c_loc);
    if (end == *s || (*end != '\0' && *end != ' ') || !isfinite(v))
        return tt_learn_parse_error(r, "expected a finite number");
    *out = v;
    *s = *end ? end + 1 : end;
    return TT_OK;
}

tt_status tt_learn_next_long(tt_learn_reader *r, const char **s, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(*s, &end, 10);
    if (end == *s || (*end != '\0' && *end != ' ') || errno != 0)
        return tt_learn_parse_error(r, "expected an integer");
    *out = v;
    *s = *end ? end + 1 : end;
    return TT_OK;
}

/* ---- threads -------------------------------------------------------------- */

size_t tt_learn_threads(double requested)
{
    if (requested >= 1.0)
        return (size_t)requested;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? (size_t)n : 1;
}

typedef struct pool {
    void (*fn)(void *ctx, size_t task, size_t thread);
    void *ctx;
    size_t n_tasks;
    atomic_size_t next;
} pool;

typedef struct worker {
    pool *pl;
    size_t index;
} worker;

static void *worker_main(void *arg)
{
    worker *wk = arg;
    for (;;) {
        size_t t = atomic_fetch_add(&wk->pl->next, 1);
        if (t >= wk->pl->n_tasks)
            break;
        wk->pl->fn(wk->pl->ctx, t, wk->index);
    }
    return NULL;
}

void tt_learn_parallel(size_t n_threads, size_t n_tasks,
                       void (*fn)(void *ctx, size_t task, size_t thread), void *ctx)
{
    if (n_threads > n_tasks)
        n_threads = n_tasks;
    pool pl = {.fn = fn, .ctx = ctx, .n_tasks = n_tasks};
    atomic_init(&pl.next, 0);
    if (n_threads <= 1) {
        worker w0 = {&pl, 0};
        worker_main(&w0);
        return;
    }
    pthread_t *tid = calloc(n_threads, sizeof *tid);
    worker *wk = calloc(n_threads, sizeof *wk);
    size_t started = 0;
    if (tid && wk)
        for (size_t t = 1; t < n_threads; t++) {
            wk[t] = (worker){&pl, t};
            if (pthread_create(&tid[t], NULL, worker_main, &wk[t]) != 0)
                break;
            started = t;
        }
    /* The caller is worker 0; tasks left by threads that failed to start
     * are simply picked up by the ones that run. */
    worker w0 = {&pl, 0};
    worker_main(&w0);
    for (size_t t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
    free(tid);
    free(wk);
}

/* ---- persistent pool: for many short parallel phases (boosting levels) ---- */

typedef struct pool_worker {
    tt_learn_pool *lp;
    size_t index;
} pool_worker;

struct tt_learn_pool {
    pthread_t *tid;
    pool_worker *workers;
    size_t started; /* threads running besides the caller */
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    uint64_t generation;
    size_t running; /* workers still inside the current job */
    int quit;
    pool job;
};

static void *pool_main(void *arg)
{
    pool_worker *pw = arg;
    tt_learn_pool *lp = pw->lp;
    uint64_t seen = 0;
    for (;;) {
        pthread_mutex_lock(&lp->mu);
        while (!lp->quit && lp->generation == seen)
            pthread_cond_wait(&lp->go, &lp->mu);
        if (lp->quit) {
            pthread_mutex_unlock(&lp->mu);
            return NULL;
        }
        seen = lp->generation;
        pthread_mutex_unlock(&lp->mu);
        worker w = {&lp->job, pw->index};
        worker_main(&w);
        pthread_mutex_lock(&lp->mu);
        if (--lp->running == 0)
            pthread_cond_signal(&lp->done);
        pthread_mutex_unlock(&lp->mu);
    }
}

tt_learn_pool *tt_learn_pool_new(size_t n_threads)
{
    tt_learn_pool *lp = calloc(1, sizeof *lp);
    if (!lp)
        return NULL;
    pthread_mutex_init(&lp->mu, NULL);
    pthread_cond_init(&lp->go, NULL);
    pthread_cond_init(&lp->done, NULL);
    atomic_init(&lp->job.next, 0);
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
    if (!lp || lp->started == 0) {
        tt_learn_parallel(1, n_tasks, fn, ctx);
        return;
    }
    pthread_mutex_lock(&lp->mu);
    lp->job.fn = fn;
    lp->job.ctx = ctx;
    lp->job.n_tasks = n_tasks;
    atomic_store(&lp->job.next, 0);
    lp->running = lp->started;
    lp->generation++;
    pthread_cond_broadcast(&lp->go);
    pthread_mutex_unlock(&lp->mu);
    worker w0 = {&lp->job, 0};
    worker_main(&w0);
    pthread_mutex_lock(&lp->mu);
    while (lp->running > 0)
        pthread_cond_wait(&lp->done, &lp->mu);
    pthread_mutex_unlock(&lp->mu);
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
    lp->quit = 1;
    pthread_cond_broadcast(&lp->go);
    pthread_mutex_unlock(&lp->mu);
    for (size_t t = 1; t <= lp->started; t++)
        pthread_join(lp->tid[t], NULL);
    free(lp->tid);
    free(lp->workers);
    pthread_mutex_destroy(&lp->mu);
    pthread_cond_destroy(&lp->go);
    pthread_cond_destroy(&lp->done);
    free(lp);
}
