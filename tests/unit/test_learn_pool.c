/* test_learn_pool.c - the learners' persistent thread pool (learn_pool.c):
 * every task of every job runs exactly once with a valid thread index, back
 * to back (workers still spinning) and after pauses long enough for the
 * workers to fall asleep; degenerate pools and jobs run on the caller. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "learn/learner_impl.h"

enum { MAX_TASKS = 257, THREADS = 3 };

typedef struct counts {
    atomic_int hits[MAX_TASKS];
    atomic_int bad_thread;
    atomic_int by_thread[THREADS];
    size_t n_threads;
} counts;

static void count_task(void *ctx, size_t task, size_t thread)
{
    counts *c = ctx;
    atomic_fetch_add(&c->hits[task], 1);
    if (thread >= c->n_threads)
        atomic_fetch_add(&c->bad_thread, 1);
    else
        atomic_fetch_add(&c->by_thread[thread], 1);
}

/* Runs a job of n tasks and checks each ran exactly once. */
static void run_and_check(tt_learn_pool *lp, size_t n_threads, size_t n)
{
    counts c = {.n_threads = n_threads};
    for (size_t t = 0; t < MAX_TASKS; t++)
        atomic_init(&c.hits[t], 0);
    atomic_init(&c.bad_thread, 0);
    tt_learn_pool_run(lp, n, count_task, &c);
    for (size_t t = 0; t < MAX_TASKS; t++)
        assert_int_equal(atomic_load(&c.hits[t]), t < n ? 1 : 0);
    assert_int_equal(atomic_load(&c.bad_thread), 0);
}

static void test_back_to_back_jobs(void **state)
{
    (void)state;
    tt_learn_pool *lp = tt_learn_pool_new(THREADS);
    assert_non_null(lp);
    assert_int_equal(tt_learn_pool_threads(lp), THREADS);
    /* Many short jobs of varying sizes: workers never get to sleep. */
    for (size_t r = 0; r < 3000; r++)
        run_and_check(lp, THREADS, (r * 37) % MAX_TASKS);
    tt_learn_pool_free(lp);
}

static void test_jobs_after_sleep(void **state)
{
    (void)state;
    tt_learn_pool *lp = tt_learn_pool_new(THREADS);
    assert_non_null(lp);
    /* 3 ms between jobs: past the 0.2 ms spin, so workers are asleep and
     * each job must wake them (a lost wake-up would hang here). */
    const struct timespec pause = {0, 3000000};
    for (size_t r = 0; r < 30; r++) {
        nanosleep(&pause, NULL);
        run_and_check(lp, THREADS, 2 + r * 7);
    }
    tt_learn_pool_free(lp);
}

/* Counted after the work, and the workers' tasks take longer than the
 * caller's, so a run that returned when the caller ran out of tasks,
 * before its workers finished theirs, leaves a task uncounted. */
static void slow_task(void *ctx, size_t task, size_t thread)
{
    const struct timespec ms = {0, thread == 0 ? 200000 : 3000000};
    nanosleep(&ms, NULL);
    count_task(ctx, task, thread);
}

/* Tasks of 0.2-3 ms: the worker takes some (whatever the load, a job of
 * 200 such tasks outlasts a wake-up) and run waits for it to finish. */
static void test_workers_take_tasks(void **state)
{
    (void)state;
    tt_learn_pool *lp = tt_learn_pool_new(2);
    counts c = {.n_threads = 2};
    tt_learn_pool_run(lp, 200, slow_task, &c);
    for (size_t t = 0; t < 200; t++)
        assert_int_equal(atomic_load(&c.hits[t]), 1);
    assert_true(atomic_load(&c.by_thread[1]) > 0);
    assert_int_equal(atomic_load(&c.by_thread[0]) + atomic_load(&c.by_thread[1]), 200);
    tt_learn_pool_free(lp);
}

static void test_degenerate_pools(void **state)
{
    (void)state;
    /* NULL (no memory) and one-thread pools run on the caller, thread 0. */
    assert_int_equal(tt_learn_pool_threads(NULL), 1);
    run_and_check(NULL, 1, 17);
    tt_learn_pool_free(NULL);
    tt_learn_pool *one = tt_learn_pool_new(1);
    assert_int_equal(tt_learn_pool_threads(one), 1);
    run_and_check(one, 1, 17);
    tt_learn_pool_free(one);
    /* Jobs of 0 and 1 tasks on a real pool, then a normal one. */
    tt_learn_pool *lp = tt_learn_pool_new(THREADS);
    run_and_check(lp, 1, 0);
    run_and_check(lp, 1, 1);
    run_and_check(lp, THREADS, 100);
    tt_learn_pool_free(lp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_back_to_back_jobs),
        cmocka_unit_test(test_jobs_after_sleep),
        cmocka_unit_test(test_workers_take_tasks),
        cmocka_unit_test(test_degenerate_pools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
