/*
 * isolate.h - running a piece of plugin code in a forked child process.
 *
 * Plugin code may crash, abort, hang or eat memory; in a child, that costs
 * the job, not the process that asked for it. The child inherits the parent's
 * memory copy-on-write (data, fitted nuisance models, loaded plugins), runs
 * the job callback and sends the job's result message back over a pipe; the
 * parent reads it while enforcing a timeout, a deadline (plus a grace) and,
 * in tt_isolate_run, a stop flag, and reports how the child ended: with a
 * result, with the job's own error message, killed by a signal (which one),
 * exited with a code, or killed for its timeout/deadline/stop. The last bytes
 * the child wrote are kept for the message and, when asked (keep_log), its
 * last lines (search/log_tail.h) for the caller to record.
 *
 * The child's output: its stdout and stderr both go down one pipe to the
 * parent (stdout line-buffered), so a plugin's printf never reaches the
 * command's own stdout (a leaderboard, predictions on "-") and the lines of
 * both streams arrive in the order they were written. Bytes written to a
 * pipe are the kernel's at once: a child killed by SIGKILL (its timeout, the
 * memory cap's OOM killer) or a crash leaves every whole line it printed in
 * the pipe, and the parent reads them after the child is gone. Only a
 * printf'd line still without its newline in the child's stdio buffer is
 * lost with the child.
 *
 * Two ways to use it:
 *  - tt_isolate_run: one job, start to end (the winner's refit, predict).
 *  - tt_isolate_start / _fill_pollfds / _check: many children driven by one
 *    poll loop (the trial pool, worker.c).
 *
 * Not thread-safe: a child is driven by one thread. The parent must not have
 * other threads holding locks the child needs (fork copies only the caller).
 */
#ifndef TT_SEARCH_ISOLATE_H
#define TT_SEARCH_ISOLATE_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "search/log_tail.h"
#include "util/err.h"
#include "util/msg.h"

typedef struct tt_isolate_limits {
    double timeout;       /* seconds of wall time from the start; 0 = none */
    double deadline;      /* tt_now() value; 0 = none. The job should stop by itself
                           * (its plugin's should_stop turns true); the child is
                           * killed grace seconds after it */
    double grace;
    size_t memory_cap;    /* bytes of address space (RLIMIT_AS); 0 = none */
    int echo_stderr;      /* also copy what the child prints (stderr and stdout) to
                           * our stderr as it comes (warnings of a refit), not just
                           * keep the tail */
    int keep_log;         /* keep the child's last output lines (log_tail.h) for
                           * report.log */
    int own_group;        /* the child leads a process group of its own and is
                           * killed (SIGKILL) when its parent dies: signals a
                           * launcher sends the parent's group (mpirun's SIGTERM at
                           * Ctrl-C) are then the parent's to act on, and a killed
                           * parent leaves no orphan behind (MPI worker ranks) */
} tt_isolate_limits;

/* The job, run in the child: append its result to *out and return 0, or
 * write a message into err and return non-zero. It may print on stderr or
 * stdout (both reach the parent's pipe, see above).
 * The child then leaves with _exit: no atexit handlers, no stdio flush. */
typedef int (*tt_isolate_job)(void *arg, tt_msg *out, char *err, size_t errlen);

typedef enum tt_isolate_end {
    TT_ISOLATE_OK = 0,    /* the job returned 0: result holds its message */
    TT_ISOLATE_FAILED,    /* the job returned non-zero: error holds its message */
    TT_ISOLATE_CRASHED,   /* killed by a signal it got (sig) */
    TT_ISOLATE_EXITED,    /* exited (exit_code) without a readable answer */
    TT_ISOLATE_TIMEOUT,   /* killed after limits.timeout */
    TT_ISOLATE_DEADLINE,  /* killed grace seconds after limits.deadline */
    TT_ISOLATE_STOPPED    /* killed because the stop flag was set (tt_isolate_run) */
} tt_isolate_end;

#define TT_ISOLATE_TAIL 512
#define TT_ISOLATE_STAGE 32

typedef struct tt_isolate_report {
    tt_isolate_end end;
    int sig;              /* CRASHED: the signal */
    int exit_code;        /* EXITED: the code (0: it exited without an answer) */
    double seconds;       /* wall time from start to end */
    tt_msg result;        /* OK: the job's message; owned, free with tt_msg_free */
    char error[1024];     /* FAILED: the job's message */
    char tail[TT_ISOLATE_TAIL + 1]; /* last bytes of its output, on one line ('|' for
                                     * line breaks); "" when it printed nothing */
    char stage[TT_ISOLATE_STAGE];   /* the step the job last named (tt_isolate_stage),
                                     * so a crash says where; "" when it named none */
    tt_log_tail *log;     /* with limits.keep_log: its last output lines, however it
                           * ended; owned (tt_isolate_report_free, or take it and set
                           * NULL); NULL without keep_log or when it printed nothing */
} tt_isolate_report;

/* A running child. Fields are private; the struct is public so a pool can
 * hold an array of them. A zeroed struct is "not running". */
typedef struct tt_isolate_child {
    pid_t pid;            /* 0 = not running */
    tt_isolate_limits lim;
    int answer_fd, err_fd; /* -1 once closed */
    tt_msg answer;
    char tail[TT_ISOLATE_TAIL + 1];
    size_t tail_len;
    char *stage;          /* a page shared with the child (tt_isolate_stage) */
    tt_log_tail *log;     /* keep_log: the output's last lines so far */
    double started, kill_at;
    tt_isolate_end kill_reason; /* TIMEOUT, DEADLINE or STOPPED, once killed */
    int killed;
} tt_isolate_child;

/* Fork a child that runs job(arg). c must not be running. TT_ERR_IO when
 * pipe or fork fails. The child ignores SIGINT (the parent decides) and
 * dies of SEGV/BUS/FPE/ILL/ABRT/TERM whatever handlers the parent has. */
tt_status tt_isolate_start(tt_isolate_child *c, const tt_isolate_limits *lim,
                           tt_isolate_job job, void *arg, char *err, size_t errlen);

int tt_isolate_running(const tt_isolate_child *c);

/* Called by a job in the child: the step it is entering ("fit", "save"),
 * which the parent sees in report.stage even when the child then crashes.
 * Does nothing outside an isolated child. Async-signal-safe. */
void tt_isolate_stage(const char *name);

/* Kill a running child for reason (TIMEOUT, DEADLINE, STOPPED); its end is
 * then picked up by tt_isolate_check. */
void tt_isolate_kill(tt_isolate_child *c, tt_isolate_end reason);

/* Kill, reap and forget a running child without a report. */
void tt_isolate_abandon(tt_isolate_child *c);

/* Enforce the limits at now, and when the child has ended fill *rep, free
 * the child's resources and return 1; otherwise 0 and *next_wake is lowered
 * to when it next needs a look. */
int tt_isolate_check(tt_isolate_child *c, double now, double *next_wake, tt_isolate_report *rep);

/* Add the child's open pipes to fds (room for 2); returns how many (0 when
 * it is not running). */
size_t tt_isolate_fill_pollfds(const tt_isolate_child *c, struct pollfd *fds);

/* Read whatever the child has written so far (non-blocking; nothing when it
 * is not running). */
void tt_isolate_drain(tt_isolate_child *c);

/* Start job, wait for it, report. While waiting, *stop_flag (may be NULL)
 * is looked at at least every 0.1 s: once set, the child is killed and the
 * end is STOPPED. TT_ERR_IO when the child could not be started. */
tt_status tt_isolate_run(const tt_isolate_limits *lim, tt_isolate_job job, void *arg,
                         volatile sig_atomic_t *stop_flag, tt_isolate_report *rep, char *err,
                         size_t errlen);

/* One line on how a child that did not answer OK ended, naming it as who
 * ("worker", "the refit", ...): "<who> died of signal 11 (Segmentation
 * fault)", "<who> was killed after its timeout of 5 s", ...; with "; stderr:
 * <tail>" when it printed anything. FAILED gives the job's own message. */
void tt_isolate_describe(const tt_isolate_report *rep, const tt_isolate_limits *lim,
                         const char *who, char *buf, size_t len);

/* Frees rep->result and rep->log. */
void tt_isolate_report_free(tt_isolate_report *rep);

#endif
