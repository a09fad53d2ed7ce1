/* isolate.c - a job in a forked child, watched by the parent (isolate.h). */
#include "search/isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/paths.h"

/* The answer on the pipe starts with one tag byte, so the parent can tell
 * the job's result from the job's error message. */
#define TAG_RESULT 'R'
#define TAG_ERROR 'E'

/* How often tt_isolate_run looks at the stop flag, in seconds. */
#define STOP_POLL 0.1

/* In a child: the page its parent reads the current stage from. */
static char *g_stage;

void tt_isolate_stage(const char *name)
{
    if (!g_stage)
        return;
    size_t n = strlen(name);
    if (n > TT_ISOLATE_STAGE - 1)
        n = TT_ISOLATE_STAGE - 1;
    /* Terminator first: the parent only reads after the child is gone, but
     * a half-written name must never run past the page. */
    g_stage[n] = '\0';
    memcpy(g_stage, name, n);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The parent's pid, taken before the fork (own_group's orphan check). */
static pid_t g_parent;

/* The child: run the job, send its answer, leave without running the
 * parent's atexit handlers or flushing its stdio buffers a second time. */
static void child_main(const tt_isolate_limits *lim, int answer_fd, int err_fd, char *stage,
                       tt_isolate_job job, void *arg)
{
    g_stage = stage;
    if (lim->own_group) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != g_parent) /* the parent died before prctl took effect */
            _exit(127);
    }
    /* Ctrl-C is the parent's to handle: it kills children it no longer wants. */
    signal(SIGINT, SIG_IGN);
    /* A crash must kill the child so the parent sees the signal, whatever
     * handlers the parent process installed (a test harness, a debugger). */
    static const int fatal[] = {SIGTERM, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        signal(fatal[i], SIG_DFL);
    /* stdout joins stderr on the output pipe: nothing the job prints may
     * reach the parent's stdout, and one pipe keeps the two streams' lines
     * in the order they were written. Line-buffered, so each printf'd line
     * is in the pipe (and survives a SIGKILL or a crash) as soon as it ends,
     * not when a 4 KiB buffer fills. The parent flushed its stdio before the
     * fork, so the buffer being replaced is empty. A buffer of our own, not
     * NULL: glibc keeps the old buffer's pointers for NULL, and the first
     * line after the switch would then wait in it (seen: a printf'd line
     * arriving after a later stderr line). */
    static char line_buffer[BUFSIZ];
    dup2(err_fd, STDERR_FILENO);
    dup2(err_fd, STDOUT_FILENO);
    if (err_fd > STDERR_FILENO)
        close(err_fd);
    setvbuf(stdout, line_buffer, _IOLBF, sizeof line_buffer);
    if (lim->memory_cap > 0) {
        struct rlimit rl = {lim->memory_cap, lim->memory_cap};
        setrlimit(RLIMIT_AS, &rl);
    }
    tt_msg m = {0};
    char err[1024] = "";
    unsigned char tag = TAG_RESULT;
    int ok = tt_msg_put(&m, &tag, 1) == 0;
    if (ok && job(arg, &m, err, sizeof err) != 0) {
        m.len = 0;
        tag = TAG_ERROR;
        ok = tt_msg_put(&m, &tag, 1) == 0 &&
             tt_msg_put(&m, err[0] ? err : "failed without a message",
                        strlen(err[0] ? err : "failed without a message")) == 0;
    }
    /* A last printf'd line without its newline is output too. */
    fflush(stdout);
    ok = ok && tt_write_all(answer_fd, m.data, m.len) == 0;
    _exit(ok ? 0 : 3);
}

tt_status tt_isolate_start(tt_isolate_child *c, const tt_isolate_limits *lim,
                           tt_isolate_job job, void *arg, char *err, size_t errlen)
{
    int ap[2], ep[2];
    char *stage = mmap(NULL, TT_ISOLATE_STAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                       -1, 0);
    if (stage == MAP_FAILED)
        return tt_errf(err, errlen, TT_ERR_IO, "mmap: %s", strerror(errno));
    stage[0] = '\0';
    if (pipe(ap) != 0) {
        munmap(stage, TT_ISOLATE_STAGE);
        return tt_errf(err, errlen, TT_ERR_IO, "pipe: %s", strerror(errno));
    }
    if (pipe(ep) != 0) {
        close(ap[0]);
        close(ap[1]);
        munmap(stage, TT_ISOLATE_STAGE);
        return tt_errf(err, errlen, TT_ERR_IO, "pipe: %s", strerror(errno));
    }
    /* Whatever the parent has buffered must not be written twice. */
    fflush(NULL);
    g_parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(ap[0]);
        close(ap[1]);
        close(ep[0]);
        close(ep[1]);
        munmap(stage, TT_ISOLATE_STAGE);
        return tt_errf(err, errlen, TT_ERR_IO, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(ap[0]);
        close(ep[0]);
        child_main(lim, ap[1], ep[1], stage, job, arg);
    }
    close(ap[1]);
    close(ep[1]);
    memset(c, 0, sizeof *c);
    c->pid = pid;
    c->lim = *lim;
    c->answer_fd = ap[0];
    c->err_fd = ep[0];
    c->stage = stage;
    fcntl(c->answer_fd, F_SETFL, O_NONBLOCK);
    fcntl(c->err_fd, F_SETFL, O_NONBLOCK);
    /* Without memory for it the child only goes without a log. */
    c->log = lim->keep_log ? tt_log_tail_new() : NULL;
    c->started = tt_now();
    c->kill_at = INFINITY;
    if (lim->timeout > 0) {
        c->kill_at = c->started + lim->timeout;
        c->kill_reason = TT_ISOLATE_TIMEOUT;
    }
    if (lim->deadline > 0 && lim->deadline + lim->grace < c->kill_at) {
        c->kill_at = lim->deadline + lim->grace;
        c->kill_reason = TT_ISOLATE_DEADLINE;
    }
    return TT_OK;
}

int tt_isolate_running(const tt_isolate_child *c)
{
    return c->pid != 0;
}

void tt_isolate_kill(tt_isolate_child *c, tt_isolate_end reason)
{
    if (!c->pid || c->killed)
        return;
    c->killed = 1;
    c->kill_reason = reason;
    kill(c->pid, SIGKILL);
}

static void release(tt_isolate_child *c)
{
    close_fd(&c->answer_fd);
    close_fd(&c->err_fd);
    tt_msg_free(&c->answer);
    tt_log_tail_free(c->log);
    c->log = NULL;
    if (c->stage)
        munmap(c->stage, TT_ISOLATE_STAGE);
    c->stage = NULL;
    c->pid = 0;
}

void tt_isolate_abandon(tt_isolate_child *c)
{
    if (!c->pid)
        return;
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
    release(c);
}

/* Keep the last TT_ISOLATE_TAIL bytes of what the child printed. */
static void keep_tail(tt_isolate_child *c, const char *buf, size_t n)
{
    if (n >= TT_ISOLATE_TAIL) {
        memcpy(c->tail, buf + n - TT_ISOLATE_TAIL, TT_ISOLATE_TAIL);
        c->tail_len = TT_ISOLATE_TAIL;
    } else {
        size_t keep = c->tail_len + n > TT_ISOLATE_TAIL ? TT_ISOLATE_TAIL - n : c->tail_len;
        memmove(c->tail, c->tail + c->tail_len - keep, keep);
        memcpy(c->tail + keep, buf, n);
        c->tail_len = keep + n;
    }
    c->tail[c->tail_len] = '\0';
}

/* The answer pipe, to its end or until it is empty for now. */
static void drain_answer(tt_isolate_child *c)
{
    char buf[4096];
    while (c->answer_fd >= 0) {
        ssize_t n = read(c->answer_fd, buf, sizeof buf);
        if (n > 0) {
            /* A failed append only loses the answer, which then reads as
             * "no answer". */
            if (tt_msg_put(&c->answer, buf, (size_t)n) != 0)
                c->answer.len = 0;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            close_fd(&c->answer_fd);
        break;
    }
}

/* The output pipe: at most max_reads reads, so a child that prints without
 * pause cannot keep the parent in here past the limits it must enforce
 * (poll wakes it again for the rest). */
static void drain_output(tt_isolate_child *c, int max_reads)
{
    char buf[4096];
    for (int reads = 0; c->err_fd >= 0 && reads < max_reads; reads++) {
        ssize_t n = read(c->err_fd, buf, sizeof buf);
        if (n > 0) {
            if (c->lim.echo_stderr)
                fwrite(buf, 1, (size_t)n, stderr);
            keep_tail(c, buf, (size_t)n);
            tt_log_tail_feed(c->log, buf, (size_t)n);
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            close_fd(&c->err_fd);
        break;
    }
}

/* Reads per call of tt_isolate_drain: 64 KiB of output. */
#define DRAIN_READS 16
/* After the child has exited: whatever it left in the pipe, but not without
 * end (a grandchild it forked may still hold the pipe and write). */
#define REAP_READS 4096

void tt_isolate_drain(tt_isolate_child *c)
{
    if (!c->pid) /* a zeroed child's fds are 0, not "closed" */
        return;
    drain_answer(c);
    drain_output(c, DRAIN_READS);
}

size_t tt_isolate_fill_pollfds(const tt_isolate_child *c, struct pollfd *fds)
{
    size_t n = 0;
    if (!c->pid)
        return 0;
    if (c->answer_fd >= 0)
        fds[n++] = (struct pollfd){.fd = c->answer_fd, .events = POLLIN};
    if (c->err_fd >= 0)
        fds[n++] = (struct pollfd){.fd = c->err_fd, .events = POLLIN};
    return n;
}

/* The stderr tail on one line, for messages. */
static void one_line_tail(const tt_isolate_child *c, char *out)
{
    size_t n = c->tail_len;
    while (n > 0 && (c->tail[n - 1] == '\n' || c->tail[n - 1] == ' '))
        n--;
    for (size_t i = 0; i < n; i++)
        out[i] = c->tail[i] == '\n' ? '|' : c->tail[i];
    out[n] = '\0';
}

/* Turn a child that has exited (wstatus from waitpid) into a report. */
static void reap(tt_isolate_child *c, int wstatus, tt_isolate_report *rep)
{
    /* Whatever it wrote before it ended is still in the pipes, a SIGKILL
     * or a crash notwithstanding. */
    drain_answer(c);
    drain_output(c, REAP_READS);
    memset(rep, 0, sizeof *rep);
    tt_log_tail_end(c->log);
    if (tt_log_tail_count(c->log) > 0 || tt_log_tail_dropped(c->log) > 0) {
        rep->log = c->log; /* handed over; release() frees only what is left */
        c->log = NULL;
    }
    rep->seconds = tt_now() - c->started;
    one_line_tail(c, rep->tail);
    memcpy(rep->stage, c->stage, TT_ISOLATE_STAGE);
    rep->stage[TT_ISOLATE_STAGE - 1] = '\0';
    const tt_msg *a = &c->answer;
    if (c->killed) {
        rep->end = c->kill_reason;
    } else if (WIFSIGNALED(wstatus)) {
        rep->end = TT_ISOLATE_CRASHED;
        rep->sig = WTERMSIG(wstatus);
    } else if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 || a->len == 0) {
        rep->end = TT_ISOLATE_EXITED;
        rep->exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
    } else if (a->data[0] == TAG_ERROR) {
        rep->end = TT_ISOLATE_FAILED;
        size_t n = a->len - 1 < sizeof rep->error - 1 ? a->len - 1 : sizeof rep->error - 1;
        memcpy(rep->error, a->data + 1, n);
        rep->error[n] = '\0';
    } else if (a->data[0] == TAG_RESULT) {
        /* Hand the buffer over without a copy: drop the tag byte in place. */
        rep->end = TT_ISOLATE_OK;
        memmove(a->data, a->data + 1, a->len - 1);
        rep->result = c->answer;
        rep->result.len--;
        memset(&c->answer, 0, sizeof c->answer);
    } else {
        rep->end = TT_ISOLATE_EXITED;
    }
}

int tt_isolate_check(tt_isolate_child *c, double now, double *next_wake, tt_isolate_report *rep)
{
    if (!c->pid)
        return 0;
    if (now >= c->kill_at && !c->killed)
        tt_isolate_kill(c, c->kill_reason);
    /* Poll for the exit rather than block in waitpid: a child may close its
     * pipes and go on running, and must still meet its limits. */
    int wstatus;
    if (waitpid(c->pid, &wstatus, WNOHANG) == c->pid) {
        reap(c, wstatus, rep);
        release(c);
        return 1;
    }
    *next_wake = fmin(*next_wake, c->kill_at);
    if (c->answer_fd < 0 && c->err_fd < 0)
        *next_wake = fmin(*next_wake, now + 0.01); /* pipes closed: look for the exit soon */
    return 0;
}

tt_status tt_isolate_run(const tt_isolate_limits *lim, tt_isolate_job job, void *arg,
                         volatile sig_atomic_t *stop_flag, tt_isolate_report *rep, char *err,
                         size_t errlen)
{
    tt_isolate_child c;
    tt_status st = tt_isolate_start(&c, lim, job, arg, err, errlen);
    if (st != TT_OK)
        return st;
    for (;;) {
        double now = tt_now(), wake = now + STOP_POLL;
        if (stop_flag && *stop_flag)
            tt_isolate_kill(&c, TT_ISOLATE_STOPPED);
        if (tt_isolate_check(&c, now, &wake, rep))
            return TT_OK;
        struct pollfd fds[2];
        size_t nfds = tt_isolate_fill_pollfds(&c, fds);
        int ms = (int)fmin(fmax(0.0, wake - now) * 1000.0 + 1.0, STOP_POLL * 1000.0);
        /* EINTR (a signal set the stop flag) just goes round again. */
        poll(fds, nfds, ms);
        tt_isolate_drain(&c);
    }
}

void tt_isolate_describe(const tt_isolate_report *rep, const tt_isolate_limits *lim,
                         const char *who, char *buf, size_t len)
{
    char extra[TT_ISOLATE_TAIL + 16] = "", cap[64] = "";
    if (rep->tail[0])
        snprintf(extra, sizeof extra, "; stderr: %s", rep->tail);
    switch (rep->end) {
    case TT_ISOLATE_OK:
        snprintf(buf, len, "%s finished", who);
        break;
    case TT_ISOLATE_FAILED:
        snprintf(buf, len, "%s", rep->error);
        break;
    case TT_ISOLATE_CRASHED:
        if (lim && lim->memory_cap > 0)
            snprintf(cap, sizeof cap, " (memory cap %zu MiB)", lim->memory_cap >> 20);
        snprintf(buf, len, "%s died of signal %d (%s)%s%s", who, rep->sig, strsignal(rep->sig),
                 cap, extra);
        break;
    case TT_ISOLATE_EXITED:
        if (rep->exit_code != 0)
            snprintf(buf, len, "%s exited with code %d without a result%s", who, rep->exit_code,
                     extra);
        else
            snprintf(buf, len, "%s sent no readable result%s", who, extra);
        break;
    case TT_ISOLATE_TIMEOUT:
        snprintf(buf, len, "%s was killed after its timeout of %g s%s", who,
                 lim ? lim->timeout : 0.0, extra);
        break;
    case TT_ISOLATE_DEADLINE:
        snprintf(buf, len, "%s was killed: still running %g s after its deadline%s", who,
                 lim ? lim->grace : 0.0, extra);
        break;
    case TT_ISOLATE_STOPPED:
        snprintf(buf, len, "%s was stopped (interrupted)", who);
        break;
    }
}

void tt_isolate_report_free(tt_isolate_report *rep)
{
    tt_msg_free(&rep->result);
    tt_log_tail_free(rep->log);
    rep->log = NULL;
}
