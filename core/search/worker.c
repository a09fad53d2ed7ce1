/* worker.c - forked worker processes for trials. */
#include "search/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "search/protocol.h"
#include "util/clock.h"
#include "util/err.h"

/* How much of a dying child's stderr is kept for the error message. */
#define STDERR_TAIL 512

typedef struct child {
    pid_t pid;              /* 0 = free */
    size_t slot;
    int result_fd, err_fd;  /* -1 once closed (EOF) */
    tt_msg result;
    char tail[STDERR_TAIL + 1];
    size_t tail_len;
    double started, kill_at;
    int kill_reason;        /* what kill_at is: 1 = per-trial timeout, 2 = run deadline */
    int killed;             /* kill_at passed and SIGKILL was sent */
} child;

struct tt_pool {
    tt_worker_limits lim;
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
    p->children = calloc((size_t)p->lim.jobs, sizeof *p->children);
    if (!p->children) {
        free(p);
        return NULL;
    }
    return p;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void release(child *c)
{
    close_fd(&c->result_fd);
    close_fd(&c->err_fd);
    tt_msg_free(&c->result);
    c->pid = 0;
}

void tt_pool_kill_all(tt_pool *pool)
{
    for (int i = 0; i < pool->lim.jobs; i++) {
        child *c = &pool->children[i];
        if (!c->pid)
            continue;
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
        release(c);
    }
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
        n += pool->children[i].pid != 0;
    return n;
}

int tt_pool_has_room(const tt_pool *pool)
{
    return tt_pool_running(pool) < (size_t)pool->lim.jobs;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The child: run the trial, send the result, leave without running the
 * parent's atexit handlers or flushing its stdio buffers. */
static void child_main(const tt_pool *pool, int result_fd, int err_fd,
                       const tt_trial_problem *problem, const tt_plugin_descriptor *desc,
                       const double *point, uint64_t seed, volatile sig_atomic_t *stop_flag)
{
    /* Ctrl-C is the parent's to handle: it kills children it no longer wants. */
    signal(SIGINT, SIG_IGN);
    /* A crash must kill the worker so the parent sees the signal, whatever
     * handlers the parent process installed (a test harness, a debugger). */
    static const int fatal[] = {SIGTERM, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        signal(fatal[i], SIG_DFL);
    dup2(err_fd, STDERR_FILENO);
    close(err_fd);
    if (pool->lim.memory_cap > 0) {
        struct rlimit rl = {pool->lim.memory_cap, pool->lim.memory_cap};
        setrlimit(RLIMIT_AS, &rl);
    }
    tt_trial_result r;
    memset(&r, 0, sizeof r);
    tt_trial_evaluate(problem, desc, point, seed, pool->lim.deadline, stop_flag, &r);
    tt_msg m = {0};
    int rc = tt_result_encode(&r, &m) == TT_OK && write_all(result_fd, m.data, m.len) == 0;
    _exit(rc ? 0 : 3);
}

tt_status tt_pool_launch(tt_pool *pool, size_t slot, const tt_trial_problem *problem,
                         const tt_plugin_descriptor *desc, const double *point, uint64_t seed,
                         volatile sig_atomic_t *stop_flag, char *err, size_t errlen)
{
    child *c = NULL;
    for (int i = 0; i < pool->lim.jobs && !c; i++)
        if (!pool->children[i].pid)
            c = &pool->children[i];
    if (!c)
        return tt_errf(err, errlen, TT_ERR_INVALID, "worker pool is full");
    int rp[2], ep[2];
    if (pipe(rp) != 0)
        return tt_errf(err, errlen, TT_ERR_IO, "pipe: %s", strerror(errno));
    if (pipe(ep) != 0) {
        close(rp[0]);
        close(rp[1]);
        return tt_errf(err, errlen, TT_ERR_IO, "pipe: %s", strerror(errno));
    }
    /* Whatever the parent has buffered must not be written twice. */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(rp[0]);
        close(rp[1]);
        close(ep[0]);
        close(ep[1]);
        return tt_errf(err, errlen, TT_ERR_IO, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(rp[0]);
        close(ep[0]);
        child_main(pool, rp[1], ep[1], problem, desc, point, seed, stop_flag);
    }
    close(rp[1]);
    close(ep[1]);
    memset(c, 0, sizeof *c);
    c->pid = pid;
    c->slot = slot;
    c->result_fd = rp[0];
    c->err_fd = ep[0];
    fcntl(c->result_fd, F_SETFL, O_NONBLOCK);
    fcntl(c->err_fd, F_SETFL, O_NONBLOCK);
    c->started = tt_now();
    c->kill_at = INFINITY;
    if (pool->lim.trial_timeout > 0) {
        c->kill_at = c->started + pool->lim.trial_timeout;
        c->kill_reason = 1;
    }
    if (pool->lim.deadline > 0 && pool->lim.deadline + pool->lim.grace < c->kill_at) {
        c->kill_at = pool->lim.deadline + pool->lim.grace;
        c->kill_reason = 2;
    }
    return TT_OK;
}

/* Keep the last STDERR_TAIL bytes of what the child printed. */
static void keep_tail(child *c, const char *buf, size_t n)
{
    if (n >= STDERR_TAIL) {
        memcpy(c->tail, buf + n - STDERR_TAIL, STDERR_TAIL);
        c->tail_len = STDERR_TAIL;
    } else {
        size_t keep = c->tail_len + n > STDERR_TAIL ? STDERR_TAIL - n : c->tail_len;
        memmove(c->tail, c->tail + c->tail_len - keep, keep);
        memcpy(c->tail + keep, buf, n);
        c->tail_len = keep + n;
    }
    c->tail[c->tail_len] = '\0';
}

static void drain(child *c)
{
    char buf[4096];
    for (;;) {
        ssize_t n = c->result_fd >= 0 ? read(c->result_fd, buf, sizeof buf) : 0;
        if (n > 0) {
            /* A failed append only loses the result, which then reads as
             * "no result" below. */
            unsigned char *grown = realloc(c->result.data, c->result.len + (size_t)n);
            if (grown) {
                memcpy(grown + c->result.len, buf, (size_t)n);
                c->result.data = grown;
                c->result.len += (size_t)n;
            }
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            close_fd(&c->result_fd);
        break;
    }
    for (;;) {
        ssize_t n = c->err_fd >= 0 ? read(c->err_fd, buf, sizeof buf) : 0;
        if (n > 0) {
            keep_tail(c, buf, (size_t)n);
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            close_fd(&c->err_fd);
        break;
    }
}

/* The last line(s) of stderr, on one line, for the error message. */
static const char *tail_text(child *c)
{
    while (c->tail_len > 0 && (c->tail[c->tail_len - 1] == '\n' || c->tail[c->tail_len - 1] == ' '))
        c->tail[--c->tail_len] = '\0';
    for (size_t i = 0; i < c->tail_len; i++)
        if (c->tail[i] == '\n')
            c->tail[i] = '|';
    return c->tail;
}

static void describe_death(const tt_pool *pool, child *c, int wstatus, tt_trial_result *r)
{
    char extra[STDERR_TAIL + 16] = "";
    if (c->tail_len)
        snprintf(extra, sizeof extra, "; stderr: %s", tail_text(c));
    if (c->killed) {
        r->status = TT_TRIAL_TIMEOUT;
        if (c->kill_reason == 1)
            snprintf(r->error, sizeof r->error, "killed after the per-trial timeout of %g s%s",
                     pool->lim.trial_timeout, extra);
        else
            snprintf(r->error, sizeof r->error, "killed: still running %g s after the budget ended%s",
                     pool->lim.grace, extra);
        return;
    }
    r->status = TT_TRIAL_FAILED;
    if (WIFSIGNALED(wstatus)) {
        int sig = WTERMSIG(wstatus);
        char cap[64] = "";
        if (pool->lim.memory_cap > 0)
            snprintf(cap, sizeof cap, " (memory cap %zu MiB)", pool->lim.memory_cap >> 20);
        snprintf(r->error, sizeof r->error, "worker died of signal %d (%s)%s%s", sig,
                 strsignal(sig), cap, extra);
    } else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0) {
        snprintf(r->error, sizeof r->error, "worker exited with code %d without a result%s",
                 WEXITSTATUS(wstatus), extra);
    } else {
        snprintf(r->error, sizeof r->error, "worker sent no readable result%s", extra);
    }
}

/* Turn a child that has exited (wstatus from waitpid) into a result. */
static void reap(const tt_pool *pool, child *c, int wstatus, tt_trial_result *r)
{
    drain(c);
    double elapsed = tt_now() - c->started;
    r->n_scores = r->n_oracle = 0;
    r->objective = NAN;
    r->ate = NAN;
    r->error[0] = '\0';
    int clean = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 && !c->killed;
    if (!clean || tt_result_decode(c->result.data, c->result.len, r) != TT_OK)
        describe_death(pool, c, wstatus, r);
    if (r->status != TT_TRIAL_OK || !(r->seconds > 0))
        r->seconds = elapsed;
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
            if (!c->pid)
                continue;
            if (now >= c->kill_at && !c->killed) {
                c->killed = 1;
                kill(c->pid, SIGKILL);
            }
            /* Poll for exit rather than block in waitpid: a child may close
             * its pipes and go on running, and must still meet its timeout. */
            int wstatus;
            if (waitpid(c->pid, &wstatus, WNOHANG) == c->pid) {
                *slot = c->slot;
                reap(pool, c, wstatus, result);
                release(c);
                return 1;
            }
            wake = fmin(wake, c->kill_at);
            if (c->result_fd >= 0)
                fds[nfds++] = (struct pollfd){.fd = c->result_fd, .events = POLLIN};
            if (c->err_fd >= 0)
                fds[nfds++] = (struct pollfd){.fd = c->err_fd, .events = POLLIN};
            if (c->result_fd < 0 && c->err_fd < 0)
                wake = fmin(wake, now + 0.01); /* pipes closed: check for its exit soon */
        }
        if (now >= until || tt_pool_running(pool) == 0)
            return 0;
        int ms = (int)fmin(fmax(0.0, wake - now) * 1000.0 + 1.0, 1000.0);
        int n = poll(fds, nfds, ms);
        if (n < 0 && errno != EINTR)
            return 0;
        for (int i = 0; i < jobs; i++)
            if (pool->children[i].pid)
                drain(&pool->children[i]);
        if (n < 0) /* EINTR: let the caller look at its stop flag */
            return 0;
    }
}
