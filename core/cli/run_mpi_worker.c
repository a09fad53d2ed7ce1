/* run_mpi_worker.c - an MPI worker rank (run_mpi.h): the same config, data,
 * split, scores and plan as rank 0, the nuisance models rank 0 sent, then
 * trials until rank 0 says stop. Never writes a run folder. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "cli/run_mpi.h"
#include "linalg/linalg.h"
#include "search/mpi_wire.h"
#include "search/mpi_worker.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/msg.h"

static volatile sig_atomic_t w_stop;
static int w_rank;

/* SIGTERM (mpirun ending the job, Ctrl-C on mpirun) or SIGINT: leave the
 * loop; the running trials are killed on the way out. */
static void on_signal(int sig)
{
    (void)sig;
    w_stop = 1;
}

/* Only errors, naming the rank: N ranks repeating rank 0's warnings would
 * bury them. */
static void log_errors(void *ctx, tt_log_level level, const char *msg)
{
    (void)ctx;
    (void)level;
    fprintf(stderr, "tautune: rank %d: %s\n", w_rank, msg);
}

/* Every stage a trial depends on, as execute() in cmd_run.c runs them up
 * to the nuisance models, quietly. */
static int set_up(run_state *s, run_cli *cli, double start)
{
    run_args *a = &cli->a;
    int rc = tt_cli_load_config(a->config, &s->cfg);
    if (rc)
        return rc;
    tt_run_apply_args(s->cfg, a);
    if (s->cfg->n_estimators == 0)
        return TT_EXIT_USAGE; /* rank 0 says why */
    if ((rc = tt_run_resolve_plugins(s, a, 0)) || (rc = tt_run_load_data(s, a)) ||
        (rc = tt_run_check_data(s)) || (rc = tt_run_split(s)) ||
        (rc = tt_run_build_scores(s)) || (rc = tt_run_make_plan(s, start)))
        return rc;
    return TT_EXIT_OK;
}

/* Writes the files of rank 0's payload into dir. -1 when malformed. */
static int unpack_models(const unsigned char *data, size_t len, const char *dir)
{
    tt_msg_reader c = tt_msg_reader_of(data, len);
    uint32_t count = tt_msg_get_u32(&c);
    for (uint32_t i = 0; i < count && !c.bad; i++) {
        char name[64], path[4200];
        tt_msg_get_str(&c, name, sizeof name);
        uint64_t n = tt_msg_get_u64(&c);
        const unsigned char *bytes = c.bad ? NULL : tt_msg_get_bytes(&c, (size_t)n);
        if (!bytes || strchr(name, '/') || name[0] == '.' || !name[0])
            return -1;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        FILE *f = fopen(path, "wb");
        int bad = !f || fwrite(bytes, 1, (size_t)n, f) != (size_t)n;
        if (f && fclose(f) != 0)
            bad = 1;
        if (bad)
            return -1;
    }
    return c.bad || !tt_msg_done(&c) ? -1 : 0;
}

static void remove_dir(const char *dir)
{
    char path[4200];
    const char *names[] = {"nuisance.ttn"};
    for (size_t i = 0; i < 1; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    for (int k = 1; k < 64; k++) {
        snprintf(path, sizeof path, "%s/nuisance_fold%d.ttn", dir, k);
        unlink(path);
    }
    rmdir(dir);
}

/* The nuisance models from rank 0's files, adopted the way --resume adopts
 * them (never fitted here: s->nu_adopt_only). */
static int adopt_models(run_state *s, const unsigned char *data, size_t len, char *why,
                        size_t whylen)
{
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tautune-rank%d-XXXXXX", tmp && *tmp ? tmp : "/tmp", w_rank);
    if (!mkdtemp(dir)) {
        snprintf(why, whylen, "cannot make a folder for the nuisance models: %s",
                 strerror(errno));
        return TT_EXIT_ERROR;
    }
    int rc = TT_EXIT_OK;
    if (unpack_models(data, len, dir) != 0) {
        snprintf(why, whylen, "cannot write the nuisance models rank 0 sent into %.900s", dir);
        rc = TT_EXIT_ERROR;
    }
    s->resuming = 1;
    s->nu_adopt_only = 1;
    if (rc == TT_EXIT_OK && ((rc = tt_run_fit_nuisances(s, dir, &w_stop, 0)) ||
                             (rc = tt_run_fit_fold_nuisances(s, dir, &w_stop, 0))))
        snprintf(why, whylen, "cannot adopt the nuisance models rank 0 sent (see its message "
                              "above)");
    remove_dir(dir);
    return rc;
}

static size_t memory_cap(const run_state *s, int slots)
{
    size_t cap = 0;
    struct sysinfo si;
    if (s->cfg->memory_mb >= 0)
        cap = (size_t)s->cfg->memory_mb << 20;
    else if (sysinfo(&si) == 0)
        cap = (size_t)((double)si.totalram * si.mem_unit * 0.8 / slots);
#if defined(__SANITIZE_ADDRESS__)
    cap = 0; /* AddressSanitizer reserves terabytes of address space */
#endif
    return cap;
}

/* How long a send to rank 0 may wait before rank 0 counts as gone. */
static double rank0_wait(const tt_mpi_setup *h)
{
    return TT_MPI_RANK0_TIMEOUTS * TT_MPI_BEATS_PER_TIMEOUT * h->beat;
}

static void refuse(const char *why, const tt_mpi_setup *h)
{
    tt_msg m = {0};
    if (tt_msg_put_str(&m, why) == 0)
        (void)tt_mpi_send(0, TT_TAG_REFUSE, m.data, m.len, rank0_wait(h));
    tt_msg_free(&m);
}

/* Returns 1 when rank 0 said a rank died. */
static int serve(run_state *s, run_mpi *m, const tt_mpi_setup *h)
{
    tt_trial_problem problem;
    tt_trial_fold *folds = NULL;
    if (tt_run_trial_problem(s, &problem, &folds)) {
        refuse("out of memory", h);
        return 0;
    }
    tt_worker_limits lim = {.jobs = m->slots, .trial_timeout = h->trial_timeout,
                            .deadline = h->deadline_in > 0 ? tt_now() + h->deadline_in : 0,
                            .grace = h->grace, .memory_cap = memory_cap(s, m->slots),
                            .own_group = 1};
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    tt_msg ready = {0};
    if (tt_msg_put_u32(&ready, (uint32_t)m->slots) || tt_msg_put_str(&ready, host) ||
        tt_msg_put_u32(&ready, (uint32_t)tt_linalg_threads()) ||
        tt_mpi_send(0, TT_TAG_READY, ready.data, ready.len, rank0_wait(h)) != TT_OK) {
        tt_msg_free(&ready);
        free(folds);
        return 0;
    }
    tt_msg_free(&ready);
    tt_mpi_worker_stats st;
    if (tt_mpi_worker_serve(&problem, s->descs, s->cfg->n_estimators, &lim, h->beat, &w_stop,
                            &st) != 0)
        fprintf(stderr, "tautune: rank %d: lost rank 0; leaving\n", w_rank);
    else if (st.rank0_lost)
        fprintf(stderr, "tautune: rank %d: rank 0 stopped answering during the search; "
                        "leaving\n", w_rank);
    free(folds);
    return st.peer_lost || st.rank0_lost;
}

int tt_run_mpi_worker(run_mpi *m, run_cli *cli)
{
    w_rank = m->rank;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    tt_log_set_sink(log_errors, NULL, TT_LOG_ERROR);
    cli->a.quiet = 1;
    cli->a.out = NULL;
    cli->a.resume = NULL; /* rank 0 reads the run folder; it sends what this rank needs */

    run_state s;
    memset(&s, 0, sizeof s);
    s.outcome.best = -1;
    s.quiet = 1;
    double start = tt_now();
    int rc = set_up(&s, cli, start);
    char why[1024] = "";
    if (rc)
        snprintf(why, sizeof why, "could not set up the run (exit code %d; its message is on "
                                  "stderr, or rank 0's explains it)", rc);

    /* Rank 0's set-up: sent once its nuisance models exist. Waiting costs
     * this rank nothing (a polled broadcast), so there is no time limit:
     * rank 0 decides. */
    tt_mpi_setup h;
    char err[512];
    unsigned char *payload = NULL;
    int peer_lost = 0;
    if (tt_mpi_bcast(&h, sizeof h, 0, &w_stop, err, sizeof err) != TT_OK || !h.go)
        goto out;
    payload = malloc(h.payload_len + 1);
    if (!payload ||
        tt_mpi_bcast(payload, h.payload_len, 0, &w_stop, err, sizeof err) != TT_OK)
        goto out; /* rank 0 counts this rank as dead */
    if (rc == TT_EXIT_OK) {
        uint64_t mine = tt_run_data_hash(&s);
        if (mine != h.data_hash) {
            snprintf(why, sizeof why, "its data differ from rank 0's (row hash %016llx, rank "
                                      "0's %016llx): every rank must read the same data file "
                                      "with the same contents (data.path or --data)",
                     (unsigned long long)mine, (unsigned long long)h.data_hash);
            rc = TT_EXIT_DATA;
        }
    }
    if (rc == TT_EXIT_OK)
        rc = adopt_models(&s, payload, h.payload_len, why, sizeof why);
    if (rc)
        refuse(why, &h);
    else
        peer_lost = serve(&s, m, &h);
out:
    free(payload);
    tt_run_state_free(&s);
    /* After a signal mpirun is ending the job, and a dead rank can keep
     * MPI_Finalize waiting: guarded either way. */
    tt_mpi_finalize_guarded(w_stop || peer_lost ? 3 : 30, TT_EXIT_OK);
    free(m);
    return TT_EXIT_OK;
}
