/* test_isolate.c - search/isolate.c: a job in a child answers, fails with
 * its message, crashes (with the step it was in), exits, times out, is
 * killed after its deadline, and is stopped within 0.1 s of the stop flag;
 * its stdout and stderr lines come back (keep_log) in order, after a SIGKILL
 * too, and never reach the parent's stdout; msg.c's arrays round-trip. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "search/isolate.h"
#include "util/clock.h"

/* AddressSanitizer may catch the SEGV itself and exit 1 (as in test_worker). */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static int job_answers(void *arg, tt_msg *out, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    const double v[3] = {1.5, -2, *(const double *)arg};
    return tt_msg_put_f64s(out, v, 3);
}

static int job_fails(void *arg, tt_msg *out, char *err, size_t errlen)
{
    (void)arg;
    (void)out;
    tt_isolate_stage("fit");
    fprintf(stderr, "about to fail\n");
    snprintf(err, errlen, "did not converge");
    return -1;
}

static int job_crashes(void *arg, tt_msg *out, char *err, size_t errlen)
{
    (void)arg;
    (void)out;
    (void)err;
    (void)errlen;
    tt_isolate_stage("save");
    fprintf(stderr, "line one\nline two\n");
    raise(SIGSEGV);
    return 0;
}

static int job_exits(void *arg, tt_msg *out, char *err, size_t errlen)
{
    (void)arg;
    (void)out;
    (void)err;
    (void)errlen;
    _exit(9);
}

static int job_hangs(void *arg, tt_msg *out, char *err, size_t errlen)
{
    (void)arg;
    (void)out;
    (void)err;
    (void)errlen;
    tt_isolate_stage("effect");
    while (pause() != 12345) /* until killed */
        ;
    return 0;
}

static void run(const tt_isolate_limits *lim, tt_isolate_job job, void *arg,
                volatile sig_atomic_t *stop, tt_isolate_report *rep)
{
    char err[256];
    assert_int_equal(tt_isolate_run(lim, job, arg, stop, rep, err, sizeof err), TT_OK);
}

static void test_answer_round_trips(void **state)
{
    (void)state;
    tt_isolate_limits lim = {0};
    tt_isolate_report rep;
    double third = 0.125;
    run(&lim, job_answers, &third, NULL, &rep);
    assert_int_equal(rep.end, TT_ISOLATE_OK);
    tt_msg_reader c = tt_msg_reader_of(rep.result.data, rep.result.len);
    double *v;
    assert_int_equal(tt_msg_get_f64s(&c, 3, &v), 0);
    assert_true(tt_msg_done(&c));
    assert_true(v[0] == 1.5 && v[1] == -2 && v[2] == 0.125);
    free(v);
    /* The wrong count is refused. */
    c = tt_msg_reader_of(rep.result.data, rep.result.len);
    assert_int_equal(tt_msg_get_f64s(&c, 4, &v), -1);
    assert_null(v);
    tt_isolate_report_free(&rep);
}

static void test_failure_keeps_message_stage_and_tail(void **state)
{
    (void)state;
    tt_isolate_limits lim = {0};
    tt_isolate_report rep;
    char line[1024];
    run(&lim, job_fails, NULL, NULL, &rep);
    assert_int_equal(rep.end, TT_ISOLATE_FAILED);
    assert_string_equal(rep.error, "did not converge");
    assert_string_equal(rep.stage, "fit");
    assert_string_equal(rep.tail, "about to fail");
    tt_isolate_describe(&rep, &lim, "the refit", line, sizeof line);
    assert_string_equal(line, "did not converge");
    tt_isolate_report_free(&rep);
}

static void test_crash_names_signal_and_stage(void **state)
{
    (void)state;
    tt_isolate_limits lim = {0};
    tt_isolate_report rep;
    char line[1024];
    run(&lim, job_crashes, NULL, NULL, &rep);
    assert_string_equal(rep.stage, "save");
    tt_isolate_describe(&rep, &lim, "the refit", line, sizeof line);
    if (UNDER_ASAN && rep.end == TT_ISOLATE_EXITED) {
        assert_int_equal(rep.exit_code, 1);
    } else {
        assert_int_equal(rep.end, TT_ISOLATE_CRASHED);
        assert_int_equal(rep.sig, SIGSEGV);
        assert_non_null(strstr(line, "the refit died of signal 11"));
        assert_non_null(strstr(line, "stderr: line one|line two"));
    }
    tt_isolate_report_free(&rep);

    run(&lim, job_exits, NULL, NULL, &rep);
    assert_int_equal(rep.end, TT_ISOLATE_EXITED);
    assert_int_equal(rep.exit_code, 9);
    tt_isolate_describe(&rep, &lim, "worker", line, sizeof line);
    assert_string_equal(line, "worker exited with code 9 without a result");
    tt_isolate_report_free(&rep);
}

static void test_timeout_and_deadline_kill(void **state)
{
    (void)state;
    tt_isolate_limits lim = {.timeout = 0.3};
    tt_isolate_report rep;
    double t0 = tt_now();
    run(&lim, job_hangs, NULL, NULL, &rep);
    assert_int_equal(rep.end, TT_ISOLATE_TIMEOUT);
    assert_string_equal(rep.stage, "effect");
    assert_true(tt_now() - t0 < 2.0);
    tt_isolate_report_free(&rep);

    lim = (tt_isolate_limits){.deadline = tt_now() + 0.1, .grace = 0.2};
    t0 = tt_now();
    run(&lim, job_hangs, NULL, NULL, &rep);
    assert_int_equal(rep.end, TT_ISOLATE_DEADLINE);
    assert_true(tt_now() - t0 < 2.0);
    tt_isolate_report_free(&rep);
}

static volatile sig_atomic_t g_stop;

static void on_alarm(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* SIGALRM plays Ctrl-C: it sets the flag while the parent waits. */
static void test_stop_flag_kills_within_a_second(void **state)
{
    (void)state;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    g_stop = 0;
    tt_isolate_limits lim = {0};
    tt_isolate_report rep;
    double t0 = tt_now();
    ualarm(300000, 0);
    run(&lim, job_hangs, NULL, &g_stop, &rep);
    double took = tt_now() - t0;
    assert_int_equal(rep.end, TT_ISOLATE_STOPPED);
    assert_true(took >= 0.25 && took < 1.0);
    tt_isolate_report_free(&rep);
    signal(SIGALRM, SIG_DFL);
}

/* Prints on both streams, the last stdout line without its newline, and
 * answers. */
static int job_talks(void *arg, tt_msg *out, char *err, size_t errlen)
{
    (void)arg;
    (void)err;
    (void)errlen;
    printf("out one\n");
    fprintf(stderr, "err two\n");
    puts("out three");
    if (write(STDOUT_FILENO, "raw four\n", 9) != 9)
        return -1;
    printf("no newline five");
    const double v = 1;
    return tt_msg_put_f64s(out, &v, 1);
}

/* Prints, then hangs until its timeout's SIGKILL. */
static int job_talks_then_hangs(void *arg, tt_msg *out, char *err, size_t errlen)
{
    (void)arg;
    (void)out;
    (void)err;
    (void)errlen;
    printf("printed before the hang\n");
    fprintf(stderr, "warned before the hang\n");
    while (pause() != 12345)
        ;
    return 0;
}

/* The child's stdout and stderr reach report.log (keep_log) in the order
 * written, never the parent's stdout; what a child printed before a SIGKILL
 * is still there. */
static void test_output_lines_and_stdout(void **state)
{
    (void)state;
    fflush(stdout);
    char path[] = "/tmp/tt_test_isolate_stdout_XXXXXX";
    int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
    assert_true(fd >= 0 && saved >= 0);
    assert_true(dup2(fd, STDOUT_FILENO) >= 0);

    tt_isolate_limits lim = {.keep_log = 1};
    tt_isolate_report rep;
    run(&lim, job_talks, NULL, NULL, &rep);
    tt_isolate_limits hang = {.keep_log = 1, .timeout = 0.3};
    tt_isolate_report rep2;
    run(&hang, job_talks_then_hangs, NULL, NULL, &rep2);
    tt_isolate_limits nolog = {0};
    tt_isolate_report rep3;
    run(&nolog, job_talks, NULL, NULL, &rep3);

    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    off_t printed = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(path);
    assert_int_equal(printed, 0); /* nothing of the children on our stdout */

    assert_int_equal(rep.end, TT_ISOLATE_OK);
    const char *want[] = {"out one", "err two", "out three", "raw four", "no newline five"};
    assert_int_equal(tt_log_tail_count(rep.log), 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(tt_log_tail_line(rep.log, i), want[i]);
    tt_isolate_report_free(&rep);
    assert_null(rep.log);

    assert_int_equal(rep2.end, TT_ISOLATE_TIMEOUT);
    assert_int_equal(tt_log_tail_count(rep2.log), 2);
    assert_string_equal(tt_log_tail_line(rep2.log, 0), "printed before the hang");
    assert_string_equal(tt_log_tail_line(rep2.log, 1), "warned before the hang");
    tt_isolate_report_free(&rep2);

    /* Without keep_log: no lines, but the tail for messages as before. */
    assert_null(rep3.log);
    assert_non_null(strstr(rep3.tail, "err two|out three"));
    tt_isolate_report_free(&rep3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_round_trips),
        cmocka_unit_test(test_failure_keeps_message_stage_and_tail),
        cmocka_unit_test(test_crash_names_signal_and_stage),
        cmocka_unit_test(test_timeout_and_deadline_kill),
        cmocka_unit_test(test_stop_flag_kills_within_a_second),
        cmocka_unit_test(test_output_lines_and_stdout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
