/* run_mpi_share.c - rank 0 hands the worker ranks what they need to run
 * trials (run_mpi.h): a hash of its rows, the trial limits and the nuisance
 * models' files, in one broadcast; then it waits for every rank's answer. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run_mpi.h"
#include "nuisance/nuisance_io.h"
#include "search/mpi_pool.h"
#include "search/mpi_wire.h"
#include "util/clock.h"
#include "util/msg.h"

static uint64_t hash_doubles(uint64_t h, const double *v, size_t n)
{
    return v ? tt_fnv1a(h, v, n * sizeof *v) : tt_fnv1a(h, "-", 1);
}

static uint64_t hash_dataset(uint64_t h, const tt_dataset *d)
{
    uint64_t shape[5] = {d->n, d->p_x, d->p_w, d->p_z, (uint64_t)d->n_arms};
    h = tt_fnv1a(h, shape, sizeof shape);
    h = hash_doubles(h, d->y, d->n);
    h = tt_fnv1a(h, d->t, d->n * sizeof *d->t);
    h = hash_doubles(h, d->x, d->n * d->p_x);
    h = hash_doubles(h, d->w, d->n * d->p_w);
    h = hash_doubles(h, d->z, d->n * d->p_z);
    h = hash_doubles(h, d->weight, d->n);
    h = hash_doubles(h, d->propensity, d->n * (size_t)d->n_arms);
    h = hash_doubles(h, d->t_value, d->n);
    return hash_doubles(h, d->tau, d->n * (size_t)(d->n_arms - 1));
}

uint64_t tt_run_data_hash(const run_state *s)
{
    uint64_t h = TT_FNV_START;
    h = hash_dataset(h, s->train);
    h = hash_dataset(h, s->valid);
    for (int k = 1; k < s->n_folds; k++)
        h = hash_dataset(h, tt_run_fold_train(s, k));
    return h;
}

/* Appends dir/name to m as str name, u64 length, bytes; 0 when it is not
 * there (a run without those models), -1 after a message. */
static int pack_file(tt_msg *m, const char *dir, const char *name, uint32_t *count)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? 0 : (fprintf(stderr, "tautune: mpi: cannot read %s: %s\n",
                                              path, strerror(errno)), -1);
    int bad = fseek(f, 0, SEEK_END) != 0;
    long len = bad ? -1 : ftell(f);
    unsigned char *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
    bad = !buf || fseek(f, 0, SEEK_SET) != 0 || fread(buf, 1, (size_t)len, f) != (size_t)len;
    fclose(f);
    if (!bad)
        bad = tt_msg_put_str(m, name) || tt_msg_put_u64(m, (uint64_t)len) ||
              tt_msg_put(m, buf, (size_t)len);
    free(buf);
    if (bad) {
        fprintf(stderr, "tautune: mpi: cannot read %s for the worker ranks\n", path);
        return -1;
    }
    (*count)++;
    return 0;
}

/* The nuisance models' files of the run folder: u32 count, then each. */
static int pack_models(const run_state *s, const char *dir, tt_msg *m)
{
    uint32_t count = 0;
    tt_msg files = {0};
    int rc = pack_file(&files, dir, "nuisance.ttn", &count);
    for (int k = 1; rc == 0 && s->engine && k < s->n_folds; k++) {
        char name[64];
        snprintf(name, sizeof name, "nuisance_fold%d.ttn", k);
        rc = pack_file(&files, dir, name, &count);
    }
    if (rc == 0 && (tt_msg_put_u32(m, count) || tt_msg_put(m, files.data, files.len)))
        rc = -1;
    tt_msg_free(&files);
    return rc;
}

int tt_run_mpi_share(run_mpi *m, run_state *s, const char *dir, tt_search_options *opt,
                     volatile sig_atomic_t *stop)
{
    char err[1200];
    tt_msg payload = {0};
    if (pack_models(s, dir, &payload) != 0) {
        tt_msg_free(&payload);
        return TT_EXIT_ERROR;
    }
    double setup_wait = 10.0 * m->timeout; /* workers read the data meanwhile */
    tt_mpi_setup h = {.go = 1, .data_hash = tt_run_data_hash(s),
                      .trial_timeout = opt->trial_timeout, .grace = opt->grace,
                      .deadline_in = opt->deadline > 0 ? fmax(1e-3, opt->deadline - tt_now()) : 0,
                      .payload_len = payload.len, .beat = m->timeout / TT_MPI_BEATS_PER_TIMEOUT};
    m->shared = 1;
    tt_status st = tt_mpi_bcast(&h, sizeof h, setup_wait, stop, err, sizeof err);
    if (st == TT_OK)
        st = tt_mpi_bcast(payload.data, payload.len, setup_wait, stop, err, sizeof err);
    tt_msg_free(&payload);
    if (st != TT_OK) {
        fprintf(stderr, "tautune: mpi: %s\n", err);
        return stop && *stop ? TT_EXIT_INTERRUPTED : TT_EXIT_ERROR;
    }
    m->pool = tt_mpi_pool_new(m->size, m->timeout);
    if (!m->pool) {
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    st = tt_mpi_pool_gather(m->pool, setup_wait, stop, err, sizeof err);
    if (stop && *stop)
        return TT_EXIT_INTERRUPTED;
    if (st != TT_OK) {
        fprintf(stderr, "tautune: mpi: %s\n", err);
        return st == TT_ERR_DATA ? TT_EXIT_DATA : TT_EXIT_ERROR;
    }
    tt_mpi_pool_stats ps;
    tt_mpi_pool_stats_of(m->pool, &ps);
    if (!s->quiet)
        fprintf(stderr, "tautune: mpi: %d of %d worker rank%s ready (%d trial slot%s); the "
                        "searcher's batch width (--jobs) is %d\n",
                ps.ranks_ready, m->size - 1, m->size == 2 ? "" : "s", ps.slots,
                ps.slots == 1 ? "" : "s", opt->jobs);
    m->backend = tt_mpi_pool_backend(m->pool);
    opt->pool = &m->backend;
    return TT_EXIT_OK;
}
