/* run_nuisance_stage.c - one cross-fitting stage of nuisance models in a
 * worker process (run.h, run_nu_stage): the child selects every planned role
 * and writes the models to a file; the parent shows the child's progress,
 * answers the stop flag within 0.1 s by killing it, gives up at a deadline,
 * and reads the file back. The same machinery fits the training rows'
 * models before the search and every row's for the final fit. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/run.h"
#include "nuisance/nuisance_io.h"
#include "util/clock.h"

/* What the models are fitted for: the training rows, the fold plan's seed
 * and size, and the planned candidates. A resumed run reuses the saved
 * models only when all of these are the same. */
uint64_t tt_run_nu_fingerprint(const run_nu_stage *st)
{
    const tt_nuisance_data *d = st->data;
    uint64_t h = tt_fnv1a(TT_FNV_START, "tautune-nuisance-1", 18);
    uint64_t seed = st->seed;
    size_t shape[4] = {d->n, d->p, d->n_arms, st->folds};
    h = tt_fnv1a(h, &seed, sizeof seed);
    h = tt_fnv1a(h, shape, sizeof shape);
    h = tt_fnv1a(h, d->x, sizeof *d->x * d->n * d->p);
    h = tt_fnv1a(h, d->y, sizeof *d->y * d->n);
    h = tt_fnv1a(h, d->arm, sizeof *d->arm * d->n);
    if (d->weight)
        h = tt_fnv1a(h, d->weight, sizeof *d->weight * d->n);
    for (size_t r = 0; r < st->n_roles; r++) {
        const tt_nuisance_plan_role *pr = &st->roles[r];
        int head[2] = {(int)pr->role, pr->arm};
        h = tt_fnv1a(h, head, sizeof head);
        for (size_t c = 0; c < pr->n_cands; c++) {
            if (!pr->take[c])
                continue;
            const tt_nuisance_spec *sp = &pr->cands[c];
            h = tt_fnv1a(h, sp->learner, strlen(sp->learner) + 1);
            for (size_t j = 0; j < sp->n_params; j++) {
                h = tt_fnv1a(h, sp->keys[j], strlen(sp->keys[j]) + 1);
                h = tt_fnv1a(h, &sp->values[j], sizeof sp->values[j]);
            }
        }
    }
    return h;
}

/* ---- the worker ---------------------------------------------------------- */

typedef struct child_ctx {
    int fd;
} child_ctx;

static void send_line(int fd, const char *line)
{
    size_t len = strlen(line), off = 0;
    while (off < len) {
        ssize_t w = write(fd, line + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        off += (size_t)w;
    }
}

static void child_progress(void *ctx, tt_nuisance_role role, int arm, const char *learner,
                           size_t fold, size_t folds)
{
    char line[160];
    snprintf(line, sizeof line, "P %s %d %s %zu %zu\n", tt_nuisance_role_name(role), arm,
             learner, fold, folds);
    send_line(((child_ctx *)ctx)->fd, line);
}

/* In the child: select every planned role, write the file, exit. */
static void child_main(const run_nu_stage *stg, int fd, const char path[4200], uint64_t fp)
{
    child_ctx ctx = {.fd = fd};
    char err[4400], line[4500], tmp[4210];
    tt_nuisance_set_progress(stg->engine, child_progress, &ctx);
    const tt_nuisance_result **res = calloc(stg->n_roles + 1, sizeof *res);
    tt_nuisance_spec *take = calloc(TT_NUISANCE_MAX_CANDS, sizeof *take);
    if (!res || !take) {
        send_line(fd, "E 1 out of memory\n");
        _exit(TT_EXIT_ERROR);
    }
    for (size_t r = 0; r < stg->n_roles; r++) {
        const tt_nuisance_plan_role *pr = &stg->roles[r];
        size_t m = 0;
        for (size_t c = 0; c < pr->n_cands; c++)
            if (pr->take[c])
                take[m++] = pr->cands[c];
        snprintf(line, sizeof line, "R %zu %zu\n", r, m);
        send_line(fd, line);
        tt_status st = tt_nuisance_select(stg->engine, pr->role, pr->arm, take, m, &res[r], err,
                                          sizeof err);
        if (st != TT_OK) {
            snprintf(line, sizeof line, "E %d cannot fit the %s nuisance model%s: %s\n",
                     st == TT_ERR_DATA ? TT_EXIT_DATA : TT_EXIT_ERROR,
                     tt_nuisance_role_name(pr->role), pr->arm >= 0 ? " of an arm" : "", err);
            send_line(fd, line);
            _exit(st == TT_ERR_DATA ? TT_EXIT_DATA : TT_EXIT_ERROR);
        }
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    tt_status st = f ? tt_nuisance_write(f, fp, res, stg->n_roles, err, sizeof err)
                     : TT_ERR_IO;
    if (!f)
        snprintf(err, sizeof err, "cannot write %s: %s", tmp, strerror(errno));
    if (f && fclose(f) != 0 && st == TT_OK)
        st = TT_ERR_IO;
    if (st == TT_OK && rename(tmp, path) != 0) {
        snprintf(err, sizeof err, "cannot rename %s: %s", tmp, strerror(errno));
        st = TT_ERR_IO;
    }
    if (st != TT_OK) {
        snprintf(line, sizeof line, "E 1 %s\n", err);
        send_line(fd, line);
        _exit(TT_EXIT_ERROR);
    }
    /* The results stay the engine's (freed with the process); the lists
     * are ours. */
    free(res);
    free(take);
    _exit(0);
}

/* ---- progress in the parent ------------------------------------------------ */

typedef struct stage_view {
    const run_state *s;
    const run_nu_stage *stg;
    int live;
    double start;
    size_t role, n_cands, cand;
    char learner[TT_NUISANCE_NAME_LEN];
    double last_print;        /* seconds into the stage of the last plain line; 0 none */
    double last_tick;         /* tt_now() of the last refresh while nothing new came */
    char role_name[32];       /* what the child said last, for those refreshes */
    int arm;
    size_t fold, folds;
    char error[1200];
    int error_code;
} stage_view;

static void show(stage_view *v, const char *role, int arm, size_t fold, size_t folds)
{
    const run_state *s = v->s;
    if (s->quiet)
        return;
    char what[96];
    if (arm >= 0 && strcmp(role, tt_nuisance_role_name(TT_NUISANCE_TREATMENT_GIVEN_Z)) == 0)
        snprintf(what, sizeof what, "treatment given instrument = %d", arm);
    else if (arm >= 0)
        snprintf(what, sizeof what, "%s of arm %s", role, s->data->arm_labels[arm]);
    else
        snprintf(what, sizeof what, "%s", role);
    double el = tt_now() - v->start;
    if (v->live) {
        fprintf(stderr, "\r\033[K%s: %s, %s (candidate %zu of %zu), fold %zu of "
                        "%zu, %.1fs (plan ~%.0fs)", v->stg->what, what, v->learner, v->cand,
                v->n_cands, fold < folds ? fold + 1 : folds, folds, el, v->stg->planned);
    } else if ((fold == 0 && (v->last_print == 0 || el - v->last_print >= 5.0)) ||
               el - v->last_print >= 30.0) {
        /* Plain lines (logs, CI): the first, then one per new candidate
         * every 5 s at most, and one every 30 s while a long fit runs. */
        v->last_print = el > 0 ? el : 1e-9;
        fprintf(stderr, "tautune: %s: %s, %s (candidate %zu of %zu), %.1fs "
                        "(plan ~%.0fs)\n", v->stg->what, what, v->learner, v->cand, v->n_cands,
                el, v->stg->planned);
    }
    fflush(stderr);
}

/* One line from the child. */
static void on_line(stage_view *v, char *line)
{
    if (line[0] == 'R') {
        sscanf(line + 1, "%zu %zu", &v->role, &v->n_cands);
        v->cand = 0;
    } else if (line[0] == 'P') {
        char role[32], learner[TT_NUISANCE_NAME_LEN];
        int arm;
        size_t fold, folds;
        if (sscanf(line + 1, "%31s %d %31s %zu %zu", role, &arm, learner, &fold, &folds) != 5)
            return;
        if (fold == 0)
            v->cand++;
        snprintf(v->learner, sizeof v->learner, "%s", learner);
        snprintf(v->role_name, sizeof v->role_name, "%s", role);
        v->arm = arm;
        v->fold = fold;
        v->folds = folds;
        show(v, role, arm, fold, folds);
    } else if (line[0] == 'E') {
        char *msg = NULL;
        v->error_code = (int)strtol(line + 1, &msg, 10);
        while (msg && *msg == ' ')
            msg++;
        snprintf(v->error, sizeof v->error, "%s", msg ? msg : "");
        size_t len = strlen(v->error);
        if (len && v->error[len - 1] == '\n')
            v->error[len - 1] = '\0';
    }
}

/* ---- the stage --------------------------------------------------------------- */

int tt_run_nu_adopt(const run_nu_stage *stg, const char *path, uint64_t want, int *mismatch)
{
    char err[1024];
    FILE *f = fopen(path, "r");
    *mismatch = 0;
    if (!f)
        return -1;
    uint64_t fp = 0;
    tt_nuisance_result **res = NULL;
    size_t n = 0;
    tt_status st = tt_nuisance_read(f, &fp, &res, &n, err, sizeof err);
    fclose(f);
    if (st != TT_OK) {
        fprintf(stderr, "tautune: %s: %s\n", path, err);
        *mismatch = -1;
        return -1;
    }
    size_t i = 0;
    if (fp != want) {
        *mismatch = 1;
        st = TT_ERR_DATA;
    }
    for (; st == TT_OK && i < n; i++)
        if ((st = tt_nuisance_adopt(stg->engine, res[i], err, sizeof err)) != TT_OK)
            fprintf(stderr, "tautune: %s: %s\n", path, err);
    for (size_t j = i; j < n; j++) {
        tt_nuisance_result_clear(res[j]);
        free(res[j]);
    }
    free(res);
    return st == TT_OK ? 0 : -1;
}

/* Run the child; returns a TT_EXIT_* code: TT_EXIT_NO_TRIAL when deadline
 * passed (quiet about it when soft: the caller has a fallback). */
int tt_run_nu_fit(const run_state *s, const run_nu_stage *stg, const char *path, uint64_t fp,
                  volatile sig_atomic_t *stop, double deadline, int soft)
{
    if (s->nu_adopt_only) {
        /* An MPI worker rank: rank 0 fits, every rank adopts. Fitting here
         * could give other models than rank 0's and other trials. */
        fprintf(stderr, "tautune: %s: the models rank 0 sent do not match this rank's plan "
                        "(rank 0 and this rank read different configs or data)\n", stg->what);
        return TT_EXIT_DATA;
    }
    if (deadline > 0 && tt_now() >= deadline) {
        /* Nothing started: not a busy machine, the budget is spent. */
        if (!soft)
            fprintf(stderr, "tautune: the budget has no time left for the %s\n", stg->what);
        return TT_EXIT_NO_TRIAL;
    }
    int fds[2];
    if (pipe(fds) != 0) {
        fprintf(stderr, "tautune: nuisance stage: pipe: %s\n", strerror(errno));
        return TT_EXIT_ERROR;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "tautune: nuisance stage: fork: %s\n", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return TT_EXIT_ERROR;
    }
    if (pid == 0) {
        /* The parent answers signals (and kills this child at once); the
         * child must not die on its own of a terminal's Ctrl-C first, or
         * its end would read as a crash. */
        close(fds[0]);
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        child_main(stg, fds[1], path, fp);
    }
    close(fds[1]);
    stage_view v = {.s = s, .stg = stg, .live = s->live, .start = tt_now()};
    char buf[4096];
    size_t used = 0;
    int rc = TT_EXIT_OK, open_fd = 1, status = 0;
    while (open_fd) {
        if (stop && *stop) {
            rc = TT_EXIT_INTERRUPTED;
            break;
        }
        if (deadline > 0 && tt_now() > deadline) {
            rc = TT_EXIT_NO_TRIAL;
            break;
        }
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int got = poll(&p, 1, 100);
        if (got <= 0) {
            /* A single fit can take minutes on big data: keep the clock moving. */
            double t = tt_now();
            if (v.role_name[0] && t - v.last_tick >= 1.0) {
                v.last_tick = t;
                show(&v, v.role_name, v.arm, v.fold, v.folds);
            }
            continue;
        }
        ssize_t r = read(fds[0], buf + used, sizeof buf - 1 - used);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            open_fd = 0;
            break;
        }
        used += (size_t)r;
        buf[used] = '\0';
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
            *nl = '\0';
            on_line(&v, line);
            line = nl + 1;
        }
        used = strlen(line);
        memmove(buf, line, used + 1);
        if (used >= sizeof buf - 1)
            used = 0; /* an over-long line: drop it */
    }
    close(fds[0]);
    if (rc != TT_EXIT_OK) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (v.live)
            fputs("\r\033[K", stderr);
        if (rc == TT_EXIT_NO_TRIAL && !soft)
            fprintf(stderr, "tautune: the %s did not finish within the budget (%.1fs spent, "
                            "~%.1fs planned for this machine): the machine may be busy; give a "
                            "larger --budget, fewer nuisance candidates (nuisance.outcome = "
                            "\"ridge\") or fewer rows\n", stg->what, tt_now() - v.start,
                    stg->planned);
        return rc;
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (v.live && !s->quiet)
        fputs("\r\033[K", stderr);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return TT_EXIT_OK;
    if (v.error[0]) {
        fprintf(stderr, "tautune: %s: %s\n", s->data->source, v.error);
        return v.error_code > 0 ? v.error_code : TT_EXIT_ERROR;
    }
    if (WIFSIGNALED(status))
        fprintf(stderr, "tautune: the nuisance stage crashed (signal %d: %s)\n",
                WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        fprintf(stderr, "tautune: the nuisance stage failed (exit %d)\n", WEXITSTATUS(status));
    return TT_EXIT_ERROR;
}

