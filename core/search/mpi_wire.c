/* mpi_wire.c - sending, receiving and broadcasting byte messages over MPI. */
#include "search/mpi_wire.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <time.h>

#include "util/clock.h"

/* Polling waits sleep this long between looks: short against a trial
 * (milliseconds at least), long enough that an idle rank costs nothing. */
#define PAUSE_NS 1000000L

/* MPI counts are ints: a longer message goes in pieces of this size. */
#define PIECE ((size_t)1 << 30)

void tt_mpi_pause(void)
{
    struct timespec ts = {0, PAUSE_NS};
    nanosleep(&ts, NULL);
}

tt_status tt_mpi_bcast(void *buf, size_t len, double timeout, volatile sig_atomic_t *stop,
                       char *err, size_t errlen)
{
    double until = timeout > 0 ? tt_now() + timeout : 0;
    for (size_t off = 0; off < len || (len == 0 && off == 0); off += PIECE) {
        size_t n = len - off < PIECE ? len - off : PIECE;
        MPI_Request rq;
        if (MPI_Ibcast((char *)buf + off, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD, &rq) !=
            MPI_SUCCESS)
            return tt_errf(err, errlen, TT_ERR_IO, "MPI broadcast failed");
        for (;;) {
            int done = 0;
            if (MPI_Test(&rq, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
                return tt_errf(err, errlen, TT_ERR_IO, "MPI broadcast failed");
            if (done)
                break;
            if ((stop && *stop) || (until > 0 && tt_now() > until))
                /* The request is left pending: the process is about to end. */
                return tt_errf(err, errlen, TT_ERR_IO,
                               stop && *stop ? "interrupted while broadcasting the set-up"
                                             : "not every rank took the set-up broadcast "
                                               "within %g s", timeout);
            tt_mpi_pause();
        }
        if (len == 0)
            break;
    }
    return TT_OK;
}

tt_status tt_mpi_send(int to, int tag, const void *data, size_t len, double within)
{
    if (len > (size_t)INT_MAX)
        return TT_ERR_INVALID; /* MPI counts are ints */
    MPI_Request rq;
    if (MPI_Isend(data, (int)len, MPI_BYTE, to, tag, MPI_COMM_WORLD, &rq) != MPI_SUCCESS)
        return TT_ERR_IO;
    double until = within > 0 ? tt_now() + within : 0;
    for (;;) {
        int done = 0;
        if (MPI_Test(&rq, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return TT_ERR_IO;
        if (done)
            return TT_OK;
        if (until > 0 && tt_now() > until) {
            MPI_Cancel(&rq);
            MPI_Request_free(&rq);
            return TT_ERR_IO;
        }
        tt_mpi_pause();
    }
}

tt_status tt_mpi_recv(const MPI_Status *probe, tt_msg *m)
{
    int count = 0;
    m->len = 0;
    if (MPI_Get_count(probe, MPI_BYTE, &count) != MPI_SUCCESS || count < 0)
        return TT_ERR_IO;
    if ((size_t)count + 1 > m->cap) {
        unsigned char *p = realloc(m->data, (size_t)count + 1);
        if (!p)
            return TT_ERR_NOMEM;
        m->data = p;
        m->cap = (size_t)count + 1;
    }
    if (MPI_Recv(m->data, count, MPI_BYTE, probe->MPI_SOURCE, probe->MPI_TAG, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE) != MPI_SUCCESS)
        return TT_ERR_IO;
    m->len = (size_t)count;
    return TT_OK;
}

static volatile sig_atomic_t g_exit_code;

static void on_alarm(int sig)
{
    (void)sig;
    _exit(g_exit_code);
}

void tt_mpi_finalize_guarded(unsigned seconds, int exit_code)
{
    fflush(stdout);
    fflush(stderr);
    g_exit_code = exit_code;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    alarm(seconds);
    MPI_Finalize();
    alarm(0);
}
