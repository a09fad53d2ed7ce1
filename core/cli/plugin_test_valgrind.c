/* plugin_test_valgrind.c - the memory check of `tautune plugin-test`
 * (plugin_test.h): one fit/effect/interval/save/load cycle of the plugin
 * run by `tautune plugin-test --cycle` under valgrind, in a child process.
 *
 * Why a separate process: valgrind has to start the program; and the cycle
 * runs its calls in-process (pt_call_here) rather than in forked children,
 * whose exits valgrind would each report on. The cycle frees everything the
 * host allocated before it returns, so a definite leak is the plugin's. */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/plugin_test.h"
#include "plugin/registry.h"
#include "util/clock.h"

/* valgrind's exit code when it found an error (never the program's own). */
#define PT_VG_ERROR_EXIT 99
/* A cycle under valgrind runs 20-50 times slower than natively. */
#define PT_VG_TIMEOUT 900.0

int pt_find_valgrind(char *buf, size_t len)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/bin:/bin";
    const char *p = path;
    while (*p) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0 && (size_t)snprintf(buf, len, "%.*s/valgrind", (int)n, p) < len &&
            access(buf, X_OK) == 0)
            return 0;
        p += n + (end != NULL);
    }
    return -1;
}

/* The first error valgrind reported and the first frame under it that is
 * not its allocator ("Invalid write of size 8 at pt_fit (x.c:12)"), from
 * its log; "" when the log has none. */
static void first_error(const char *log, char *out, size_t len)
{
    FILE *fp = fopen(log, "r");
    char line[1024], head[512] = "", frame[512] = "", summary[256] = "";
    out[0] = '\0';
    if (!fp)
        return;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        const char *body = line;
        if (line[0] == '=' && line[1] == '=') { /* "==PID== text" */
            const char *sp = strchr(line + 2, ' ');
            body = sp ? sp + 1 : line;
        }
        if (strncmp(body, "ERROR SUMMARY:", 14) == 0) {
            snprintf(summary, sizeof summary, "%.200s", body);
            continue;
        }
        if (!head[0] && (strstr(body, "definitely lost in loss record") ||
                         strncmp(body, "Invalid ", 8) == 0 ||
                         strncmp(body, "Conditional jump", 16) == 0 ||
                         strncmp(body, "Use of uninitialised", 20) == 0 ||
                         strncmp(body, "Mismatched free", 15) == 0 ||
                         strncmp(body, "Syscall param", 13) == 0 ||
                         strstr(body, "overlap"))) {
            snprintf(head, sizeof head, "%.400s", body);
            continue;
        }
        if (head[0] && !frame[0] && (strncmp(body, "   at ", 6) == 0 ||
                                     strncmp(body, "   by ", 6) == 0) &&
            !strstr(body, "vg_replace_malloc") && !strstr(body, "vgpreload") &&
            !strstr(body, ": ???")) {
            const char *colon = strstr(body, ": ");
            snprintf(frame, sizeof frame, "%.400s", colon ? colon + 2 : body + 6);
        }
    }
    fclose(fp);
    if (head[0])
        snprintf(out, len, "%s%s%s%s%s", head, frame[0] ? " at " : "", frame,
                 summary[0] ? "; " : "", summary);
    else
        snprintf(out, len, "%s", summary);
}

/* The last line of a file (a failed cycle's message), into out. */
static void last_line(const char *file, char *out, size_t len)
{
    FILE *fp = fopen(file, "r");
    char line[1024];
    out[0] = '\0';
    while (fp && fgets(line, sizeof line, fp))
        if (line[0] != '\n' && strncmp(line, "==", 2) != 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(out, len, "%s", line);
        }
    if (fp)
        fclose(fp);
}

void pt_valgrind_check(const char *valgrind, const char *path, const pt_settings *s,
                       pt_table *t)
{
    char dir[] = "/tmp/tautune-plugin-test-XXXXXX";
    const char *tmp = getenv("TMPDIR");
    char dirbuf[4096];
    if (tmp && tmp[0] == '/')
        snprintf(dirbuf, sizeof dirbuf, "%s/tautune-plugin-test-XXXXXX", tmp);
    else
        snprintf(dirbuf, sizeof dirbuf, "%s", dir);
    if (!mkdtemp(dirbuf)) {
        pt_row(t, "valgrind", PT_SKIP, "cannot make a scratch folder: %s", strerror(errno));
        return;
    }
    char self[4096], log[4200], out[4200], logopt[4300], seed[32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        pt_row(t, "valgrind", PT_SKIP, "cannot find the tautune binary (/proc/self/exe)");
        rmdir(dirbuf);
        return;
    }
    self[n] = '\0';
    snprintf(log, sizeof log, "%s/valgrind.log", dirbuf);
    snprintf(out, sizeof out, "%s/cycle.txt", dirbuf);
    snprintf(logopt, sizeof logopt, "--log-file=%s", log);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
    char errexit[32];
    snprintf(errexit, sizeof errexit, "--error-exitcode=%d", PT_VG_ERROR_EXIT);
    char *argv[] = {(char *)valgrind, errexit, "--leak-check=full",
                    "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
                    "--num-callers=30", logopt, self, "plugin-test", "--cycle", (char *)path,
                    "--seed", seed, NULL};
    /* One BLAS thread: valgrind serialises threads anyway, and OpenBLAS's
     * idle workers only slow it down further. The environment is built
     * before fork: the child only execs. */
    extern char **environ;
    size_t n_env = 0;
    while (environ[n_env])
        n_env++;
    char **envp = calloc(n_env + 2, sizeof *envp);
    if (!envp) {
        pt_row(t, "valgrind", PT_SKIP, "out of memory");
        rmdir(dirbuf);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++)
        if (strncmp(environ[i], "OPENBLAS_NUM_THREADS=", 21) != 0)
            envp[k++] = environ[i];
    envp[k++] = "OPENBLAS_NUM_THREADS=1";
    fflush(NULL);
    double start = tt_now();
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execve(valgrind, argv, envp);
        _exit(127);
    }
    int status = 0, done = pid < 0;
    while (!done) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            break;
        if (tt_now() - start > PT_VG_TIMEOUT) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            done = 2;
            break;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    double secs = tt_now() - start;
    free(envp);
    char what[1400];
    if (pid < 0) {
        pt_row(t, "valgrind", PT_SKIP, "cannot start valgrind: %s", strerror(errno));
    } else if (done == 2) {
        pt_row(t, "valgrind", PT_SKIP, "no verdict: the cycle did not finish within %g s under "
               "valgrind", PT_VG_TIMEOUT);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        pt_row(t, "valgrind", PT_PASS, "one fit/effect/interval/save/load cycle on %zu rows: "
               "no invalid access, no definite leak (%.0f s under valgrind)", s->n_train, secs);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == PT_VG_ERROR_EXIT) {
        first_error(log, what, sizeof what);
        pt_row(t, "valgrind", PT_FAIL, "%s (log: %s)", what[0] ? what : "valgrind reported "
               "errors", log);
        return; /* the log is the evidence: keep it */
    } else {
        last_line(out, what, sizeof what);
        pt_row(t, "valgrind", PT_FAIL, "the cycle under valgrind %s %d%s%s",
               WIFEXITED(status) ? "exited with" : "died of signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
               what[0] ? ": " : "", what);
    }
    unlink(log);
    unlink(out);
    rmdir(dirbuf);
}

int pt_cycle(const char *path, const pt_settings *s)
{
    tt_registry *reg = tt_registry_new();
    char err[1024];
    if (!reg || tt_registry_load_file(reg, path, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune plugin-test --cycle: %s\n", reg ? err : "out of memory");
        tt_registry_free(reg);
        return 1;
    }
    /* Pinned: valgrind names a leak's frames only while the library is
     * still mapped at exit, and the registry's free would dlclose it. */
    dlopen(path, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    const tt_plugin_descriptor *d = tt_registry_at(reg, 0)->desc;
    pt_problem pb;
    pt_kind kind = (d->capabilities & TT_PLUGIN_CAP_IV) ? PT_IV : PT_TWO_ARMS;
    if (pt_problem_make(kind, s->seed, s->n_train, s->n_eval, d->capabilities, &pb, err,
                        sizeof err) != TT_OK) {
        fprintf(stderr, "tautune plugin-test --cycle: %s\n", err);
        tt_registry_free(reg);
        return 1;
    }
    double *point = calloc(d->n_params + 1, sizeof *point);
    for (size_t i = 0; point && i < d->n_params; i++)
        point[i] = d->params[i].default_value;
    int save = (d->capabilities & TT_PLUGIN_CAP_SAVE_LOAD) != 0;
    pt_call c = {.pb = &pb, .desc = d, .point = point, .seed = s->seed, .fits = 1,
                 .intervals = 1, .save = save, .resamples = s->resamples};
    pt_outcome a, b;
    memset(&b, 0, sizeof b);
    int rc = point ? pt_call_here(&c, &a) : (memset(&a, 0, sizeof a), -1);
    if (rc == 0 && save) {
        pt_call load = c;
        load.save = 0;
        load.state = a.state;
        load.state_len = a.state_len;
        rc = pt_call_here(&load, &b);
        if (rc)
            fprintf(stderr, "tautune plugin-test --cycle: %s\n", b.why);
    } else if (rc) {
        fprintf(stderr, "tautune plugin-test --cycle: %s\n", point ? a.why : "out of memory");
    }
    pt_outcome_free(&a);
    pt_outcome_free(&b);
    free(point);
    pt_problem_free(&pb);
    tt_registry_free(reg);
    return rc ? 1 : 0;
}
