/* run_nuisance.c - the nuisance models of a run: planned by estimated work
 * (nuisance_cost.h), fitted once before any trial in a worker process, kept
 * in the run folder, and shared by every trial.
 *
 * Why a worker process: the stage can run for minutes on large data inside
 * learners that do not poll a stop flag; in a child it can be killed the
 * moment Ctrl-C or the budget says so, and a crash in it costs the stage,
 * not the terminal. Why a file: the child hands its models over through
 * it, and `--resume` reuses the same models instead of selecting again. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/run.h"
#include "nuisance/nuisance_cost.h"
#include "nuisance/nuisance_io.h"
#include "util/clock.h"
#include "util/rng.h"

#define NUISANCE_FILE "nuisance.ttn"

static uint32_t needed(const run_state *s)
{
    uint32_t caps = 0;
    for (size_t i = 0; i < s->cfg->n_estimators; i++)
        caps |= s->descs[i]->capabilities;
    return caps & (TT_PLUGIN_CAP_NEEDS_PROPENSITY | TT_PLUGIN_CAP_NEEDS_OUTCOME |
                   TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES);
}

/* Candidate specs from the config's learner names (defaults for the rest),
 * or the role's default candidates when the config says "auto". */
static int candidates(run_state *s, tt_nuisance_role role, const tt_nuisance_spec **out,
                      size_t *n)
{
    const tt_config *c = s->cfg;
    char **names = role == TT_NUISANCE_PROPENSITY ? c->nu_propensity : c->nu_outcome;
    size_t count = role == TT_NUISANCE_PROPENSITY ? c->n_nu_propensity : c->n_nu_outcome;
    if (!names) {
        tt_nuisance_default_candidates(role, out, n);
        return 0;
    }
    tt_nuisance_spec *specs = calloc(count, sizeof *specs);
    if (!specs)
        return -1;
    for (size_t i = 0; i < count; i++)
        specs[i].learner = names[i];
    /* One allocation per role list; freed with the plan. */
    tt_nuisance_spec **keep = realloc(s->nu_owned, (s->n_nu_owned + 1) * sizeof *keep);
    if (!keep) {
        free(specs);
        return -1;
    }
    s->nu_owned = keep;
    s->nu_owned[s->n_nu_owned++] = specs;
    *out = specs;
    *n = count;
    return 0;
}

/* The propensity without a model: given columns, or the arm shares of the
 * training rows when the data are randomized (every row had the same odds,
 * so the shares are the propensity; a model could only add noise). */
static int fixed_propensity(run_state *s)
{
    const tt_dataset *tr = s->train;
    size_t n = tr->n;
    int k_arms = s->data->n_arms;
    size_t width = k_arms == 2 ? 1 : (size_t)k_arms;
    const tt_nuisance_result *r = NULL;
    char err[1024];
    double *shares = NULL;
    const double *prop;
    if (tr->propensity) {
        /* Known propensities bypass fitting; two arms keep P(T = 1) only. */
        prop = k_arms == 2 ? tr->propensity + n : tr->propensity;
    } else {
        shares = malloc(sizeof *shares * n * width);
        if (!shares) {
            fprintf(stderr, "tautune: out of memory\n");
            return TT_EXIT_ERROR;
        }
        for (size_t c = 0; c < width; c++) {
            size_t arm = k_arms == 2 ? 1 : c;
            double share = (double)s->train_counts[arm] / (double)n;
            for (size_t i = 0; i < n; i++)
                shares[c * n + i] = share;
        }
        prop = shares;
    }
    tt_status st = tt_nuisance_set_propensity(s->engine, prop, width, &r, err, sizeof err);
    free(shares);
    if (st != TT_OK) {
        fprintf(stderr, "tautune: %s: %s propensities: %s\n", s->data->source,
                tr->propensity ? "known" : "randomized", err);
        return TT_EXIT_DATA;
    }
    if (!tr->propensity)
        snprintf(((tt_nuisance_result *)r)->diag.learner, TT_NUISANCE_NAME_LEN, "arm_shares");
    s->nuisances.propensity = r;
    return TT_EXIT_OK;
}

static int add_role(run_state *s, tt_nuisance_role role, int arm, size_t n_rows)
{
    tt_nuisance_plan_role *pr = &s->nu_roles[s->n_nu_roles];
    memset(pr, 0, sizeof *pr);
    pr->role = role;
    pr->arm = arm;
    pr->n_rows = n_rows;
    pr->classes = role == TT_NUISANCE_PROPENSITY ? (size_t)s->data->n_arms : 1;
    if (candidates(s, role, &pr->cands, &pr->n_cands)) {
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    s->n_nu_roles++;
    return TT_EXIT_OK;
}

/* Plans the roles already listed within the allowance. */
static void replan(run_state *s, double allowance)
{
    const tt_dataset *tr = s->train;
    size_t folds = s->cfg->nu_folds > 0 ? (size_t)s->cfg->nu_folds : 5;
    s->nu_allowance = allowance;
    s->nu_planned = tt_nuisance_plan(s->nu_roles, s->n_nu_roles, tr->p_x + tr->p_w, folds,
                                     allowance, &s->nu_minimum);
}

int tt_run_plan_nuisances(run_state *s, double allowance)
{
    if (s->nu_roles) {
        replan(s, allowance);
        return TT_EXIT_OK;
    }
    uint32_t need = needed(s);
    s->nu_need = need;
    if (!need)
        return TT_EXIT_OK;
    const tt_dataset *tr = s->train;
    int k_arms = s->data->n_arms;
    s->nu_roles = calloc((size_t)k_arms + 2, sizeof *s->nu_roles);
    if (!s->nu_roles) {
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    int rc = TT_EXIT_OK;
    s->nu_fixed_propensity = (need & TT_PLUGIN_CAP_NEEDS_PROPENSITY) &&
                             (tr->propensity || s->cfg->randomized);
    if ((need & TT_PLUGIN_CAP_NEEDS_PROPENSITY) && !s->nu_fixed_propensity)
        rc = add_role(s, TT_NUISANCE_PROPENSITY, -1, tr->n);
    if (!rc && (need & TT_PLUGIN_CAP_NEEDS_OUTCOME))
        rc = add_role(s, TT_NUISANCE_OUTCOME, -1, tr->n);
    for (int k = 0; !rc && (need & TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES) && k < k_arms; k++)
        rc = add_role(s, TT_NUISANCE_ARM_OUTCOME, k, s->train_counts[k]);
    if (rc)
        return rc;
    replan(s, allowance);
    return TT_EXIT_OK;
}

/* What the models are fitted for: the training rows, the fold plan's seed
 * and size, and the planned candidates. A resumed run reuses the saved
 * models only when all of these are the same. */
static uint64_t fingerprint(const run_state *s, size_t folds)
{
    const tt_nuisance_data *d = &s->nu_data;
    uint64_t h = tt_fnv1a(TT_FNV_START, "tautune-nuisance-1", 18);
    uint64_t seed = tt_rng_derive(s->cfg->seed, "nuisance");
    size_t shape[4] = {d->n, d->p, d->n_arms, folds};
    h = tt_fnv1a(h, &seed, sizeof seed);
    h = tt_fnv1a(h, shape, sizeof shape);
    h = tt_fnv1a(h, d->x, sizeof *d->x * d->n * d->p);
    h = tt_fnv1a(h, d->y, sizeof *d->y * d->n);
    h = tt_fnv1a(h, d->arm, sizeof *d->arm * d->n);
    if (d->weight)
        h = tt_fnv1a(h, d->weight, sizeof *d->weight * d->n);
    for (size_t r = 0; r < s->n_nu_roles; r++) {
        const tt_nuisance_plan_role *pr = &s->nu_roles[r];
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
static void child_main(run_state *s, int fd, const char path[4200], uint64_t fp)
{
    child_ctx ctx = {.fd = fd};
    char err[4400], line[4500], tmp[4210];
    tt_nuisance_set_progress(s->engine, child_progress, &ctx);
    const tt_nuisance_result **res = calloc(s->n_nu_roles + 1, sizeof *res);
    tt_nuisance_spec *take = calloc(TT_NUISANCE_MAX_CANDS, sizeof *take);
    if (!res || !take) {
        send_line(fd, "E 1 out of memory\n");
        _exit(TT_EXIT_ERROR);
    }
    for (size_t r = 0; r < s->n_nu_roles; r++) {
        const tt_nuisance_plan_role *pr = &s->nu_roles[r];
        size_t m = 0;
        for (size_t c = 0; c < pr->n_cands; c++)
            if (pr->take[c])
                take[m++] = pr->cands[c];
        snprintf(line, sizeof line, "R %zu %zu\n", r, m);
        send_line(fd, line);
        tt_status st = tt_nuisance_select(s->engine, pr->role, pr->arm, take, m, &res[r], err,
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
    tt_status st = f ? tt_nuisance_write(f, fp, res, s->n_nu_roles, err, sizeof err)
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
    _exit(0);
}

/* ---- progress in the parent ------------------------------------------------ */

typedef struct stage_view {
    run_state *s;
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
    if (arm >= 0)
        snprintf(what, sizeof what, "%s of arm %s", role, s->data->arm_labels[arm]);
    else
        snprintf(what, sizeof what, "%s", role);
    double el = tt_now() - v->start;
    if (v->live) {
        fprintf(stderr, "\r\033[Knuisance models: %s, %s (candidate %zu of %zu), fold %zu of "
                        "%zu, %.1fs (plan ~%.0fs)", what, v->learner, v->cand, v->n_cands,
                fold < folds ? fold + 1 : folds, folds, el, s->nu_planned);
    } else if ((fold == 0 && (v->last_print == 0 || el - v->last_print >= 5.0)) ||
               el - v->last_print >= 30.0) {
        /* Plain lines (logs, CI): the first, then one per new candidate
         * every 5 s at most, and one every 30 s while a long fit runs. */
        v->last_print = el > 0 ? el : 1e-9;
        fprintf(stderr, "tautune: nuisance models: %s, %s (candidate %zu of %zu), %.1fs "
                        "(plan ~%.0fs)\n", what, v->learner, v->cand, v->n_cands, el,
                s->nu_planned);
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

static int adopt_file(run_state *s, const char *path, uint64_t want, int *mismatch)
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
        return -1;
    }
    size_t i = 0;
    if (fp != want) {
        *mismatch = 1;
        st = TT_ERR_DATA;
    }
    for (; st == TT_OK && i < n; i++)
        if ((st = tt_nuisance_adopt(s->engine, res[i], err, sizeof err)) != TT_OK)
            fprintf(stderr, "tautune: %s: %s\n", path, err);
    for (size_t j = i; j < n; j++) {
        tt_nuisance_result_clear(res[j]);
        free(res[j]);
    }
    free(res);
    return st == TT_OK ? 0 : -1;
}

/* Cuts the plan to the first candidate of every role; 1 if it was that
 * already. */
static int minimal(run_state *s)
{
    int was = 1;
    for (size_t r = 0; r < s->n_nu_roles; r++) {
        tt_nuisance_plan_role *pr = &s->nu_roles[r];
        for (size_t c = 1; c < pr->n_cands; c++) {
            was &= !pr->take[c];
            pr->take[c] = 0;
        }
        pr->n_take = pr->n_cands > 0;
    }
    return was;
}

/* Run the child; returns a TT_EXIT_* code: TT_EXIT_NO_TRIAL when deadline
 * passed (quiet about it when soft: the caller has a fallback). */
static int fit_in_child(run_state *s, const char *path, uint64_t fp,
                        volatile sig_atomic_t *stop, double deadline, int soft)
{
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
        child_main(s, fds[1], path, fp);
    }
    close(fds[1]);
    stage_view v = {.s = s, .live = s->live, .start = tt_now()};
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
            fprintf(stderr, "tautune: the nuisance stage did not finish within the budget (%.1fs "
                            "spent, ~%.1fs planned for this machine): the machine may be busy; "
                            "give a larger --budget, fewer nuisance candidates (nuisance.outcome "
                            "= \"ridge\") or fewer rows\n", tt_now() - v.start, s->nu_planned);
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

int tt_run_fit_nuisances(run_state *s, const char *dir, volatile sig_atomic_t *stop,
                         double deadline)
{
    uint32_t need = s->nu_need;
    if (!need)
        return TT_EXIT_OK;
    const tt_config *c = s->cfg;
    const tt_dataset *tr = s->train;
    size_t n = tr->n, p = tr->p_x + tr->p_w;
    int k_arms = s->data->n_arms;
    char err[1024], path[4200];
    double start = tt_now();
    s->nu_features = malloc(sizeof *s->nu_features * (n * p + 1));
    s->nu_arm_outcome = calloc((size_t)k_arms, sizeof *s->nu_arm_outcome);
    if (!s->nu_features || !s->nu_arm_outcome) {
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    if (tr->p_x)
        memcpy(s->nu_features, tr->x, sizeof(double) * n * tr->p_x);
    if (tr->p_w)
        memcpy(s->nu_features + n * tr->p_x, tr->w, sizeof(double) * n * tr->p_w);
    s->nu_data = (tt_nuisance_data){.n = n, .p = p, .x = s->nu_features, .y = tr->y,
                                    .arm = tr->t, .n_arms = (size_t)k_arms, .weight = tr->weight};
    size_t folds = c->nu_folds > 0 ? (size_t)c->nu_folds : 5;
    if (tt_nuisance_engine_new(&s->nu_data, folds, tt_rng_derive(c->seed, "nuisance"),
                               &s->engine, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune: %s: nuisance models: %s\n", s->data->source, err);
        return TT_EXIT_DATA;
    }
    int rc;
    if (s->nu_fixed_propensity && (rc = fixed_propensity(s)))
        return rc;
    if (s->n_nu_roles > 0) {
        uint64_t fp = fingerprint(s, folds);
        int mismatch = 0;
        snprintf(path, sizeof path, "%s/%s", dir, NUISANCE_FILE);
        int reused = s->resuming && adopt_file(s, path, fp, &mismatch) == 0;
        if (!reused && s->resuming && mismatch && !minimal(s)) {
            /* The run being resumed may have fallen back to the cheapest plan. */
            uint64_t fp_min = fingerprint(s, folds);
            reused = adopt_file(s, path, fp_min, &mismatch) == 0;
            if (reused) {
                fp = fp_min;
                s->nu_planned = s->nu_minimum;
                s->nu_degraded = 1;
            } else {
                tt_run_plan_nuisances(s, s->nu_allowance); /* back to the full plan */
            }
        }
        if (reused) {
            s->nu_reused = 1;
            if (!s->quiet)
                fprintf(stderr, "tautune: nuisance models: reused from %s (no new selection)\n",
                        path);
        } else {
            if (s->resuming && !s->quiet)
                fprintf(stderr, "tautune: nuisance models: %s\n",
                        mismatch ? "the saved ones were fitted for other data, seed or "
                                   "candidates; fitting again"
                                 : "none saved in the run folder; fitting them");
            /* The plan gets twice its estimate (at least its allowance)
             * before it counts as overrun: then the cheapest plan runs
             * instead, and the run says so. */
            double started = tt_now();
            double limit = started + fmax(2.0 * s->nu_planned, s->nu_allowance);
            if (deadline > 0 && limit > deadline)
                limit = deadline;
            if (deadline <= 0)
                limit = 0;
            rc = fit_in_child(s, path, fp, stop, limit, deadline > 0 && limit < deadline);
            if (rc == TT_EXIT_NO_TRIAL && limit > 0 && limit < deadline && !minimal(s)) {
                fp = fingerprint(s, folds);
                if (!s->quiet)
                    fprintf(stderr, "tautune: nuisance models: the plan (~%.1fs) overran %.1fs "
                                    "on this machine; fitting the cheapest models instead "
                                    "(results.json: plan.nuisance.degraded)\n",
                            s->nu_planned, tt_now() - started);
                s->nu_planned = s->nu_minimum;
                s->nu_degraded = 1;
                rc = fit_in_child(s, path, fp, stop, deadline, 0);
            }
            if (rc)
                return rc;
            if (adopt_file(s, path, fp, &mismatch) != 0) {
                fprintf(stderr, "tautune: nuisance models: cannot read back %s\n", path);
                return TT_EXIT_ERROR;
            }
        }
    }
    if (need & TT_PLUGIN_CAP_NEEDS_PROPENSITY)
        s->nuisances.propensity = tt_nuisance_chosen(s->engine, TT_NUISANCE_PROPENSITY, -1);
    if (need & TT_PLUGIN_CAP_NEEDS_OUTCOME)
        s->nuisances.outcome = tt_nuisance_chosen(s->engine, TT_NUISANCE_OUTCOME, -1);
    for (int k = 0; (need & TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES) && k < k_arms; k++)
        s->nu_arm_outcome[k] = tt_nuisance_chosen(s->engine, TT_NUISANCE_ARM_OUTCOME, k);
    s->nuisances.arm_outcome = (need & TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES) ? s->nu_arm_outcome : NULL;
    s->nuisances.n_arms = k_arms;
    s->nuisances.p_x = tr->p_x;
    s->nuisances.p_w = tr->p_w;
    s->nu_seconds_taken = tt_now() - start;
    if (!s->quiet && s->n_nu_roles > 0 && !s->nu_reused)
        fprintf(stderr, "tautune: nuisance models fitted in %.1fs (plan ~%.1fs)\n",
                s->nu_seconds_taken, s->nu_planned);
    return TT_EXIT_OK;
}

static void add_result(cJSON *arr, const tt_nuisance_result *r)
{
    if (!r)
        return;
    const tt_nuisance_diag *d = &r->diag;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "role", tt_nuisance_role_name(r->role));
    if (r->arm >= 0)
        cJSON_AddNumberToObject(o, "arm", r->arm);
    cJSON_AddStringToObject(o, "learner", d->learner);
    cJSON *params = cJSON_AddObjectToObject(o, "params");
    for (size_t i = 0; i < d->n_params; i++) {
        /* "auto" parameters (the lasso's penalty) are reported as chosen. */
        double v = d->values[i];
        if (v == TT_LEARNER_AUTO && r->full)
            v = tt_learner_param(r->full, d->keys[i]);
        cJSON_AddNumberToObject(params, d->keys[i], v);
    }
    const struct {
        const char *name;
        double v;
    } nums[] = {{"oof_loss", d->oof_loss}, {"r2", d->r2}, {"auc", d->auc},
                {"calibration", d->calibration}, {"propensity_min", d->prop_min},
                {"propensity_max", d->prop_max}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (isfinite(nums[i].v))
            cJSON_AddNumberToObject(o, nums[i].name, nums[i].v);
    if (r->role == TT_NUISANCE_PROPENSITY)
        cJSON_AddNumberToObject(o, "rows_outside_0.05_0.95", (double)d->n_outside);
    cJSON_AddNumberToObject(o, "candidates", (double)d->n_candidates);
    cJSON_AddNumberToObject(o, "seconds", d->seconds);
    cJSON_AddItemToArray(arr, o);
}

cJSON *tt_run_nuisance_facts(const run_state *s)
{
    if (!s->engine)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    add_result(arr, s->nuisances.propensity);
    add_result(arr, s->nuisances.outcome);
    for (int k = 0; s->nuisances.arm_outcome && k < s->nuisances.n_arms; k++)
        add_result(arr, s->nuisances.arm_outcome[k]);
    return arr;
}
