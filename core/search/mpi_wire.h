/*
 * mpi_wire.h - what rank 0 and the worker ranks say to each other over MPI
 * (built only with MPI: TT_HAVE_MPI).
 *
 * The trial messages are protocol.h's, unchanged: MPI carries the bytes a
 * pipe carries for a local worker. Each MPI message is one tagged byte
 * buffer in MPI_COMM_WORLD:
 *   TT_TAG_TRIAL   0 -> w  a protocol.h request
 *   TT_TAG_RESULT  w -> 0  u64 trial id, u64 n, n bytes of a protocol.h
 *                          result, then a protocol.h log message
 *   TT_TAG_BEAT    w -> 0  u32 trials running: "still here" every beat;
 *                  0 -> w  (empty) rank 0's own, during the search
 *   TT_TAG_CANCEL  0 -> w  (empty) drop every running trial (a stop)
 *   TT_TAG_STOP    0 -> w  u32 a rank died: the search is over, leave the loop
 *   TT_TAG_READY   w -> 0  u32 trial slots, str host name, u32 BLAS threads:
 *                          set up, waiting
 *   TT_TAG_REFUSE  w -> 0  str why this rank cannot take trials
 *   TT_TAG_QUIET   0 -> w  (empty) the search is over: no more heartbeats (rank 0
 *                          refits and reports, and reads none), wait for STOP
 * Before those, one broadcast from rank 0 (tt_mpi_setup, fixed size), then
 * a second one with the nuisance models' files when it says so.
 *
 * Children forked to run trials never call MPI; only the rank's own process
 * does.
 */
#ifndef TT_SEARCH_MPI_WIRE_H
#define TT_SEARCH_MPI_WIRE_H

#include <mpi.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/msg.h"

/* Heartbeats per timeout: one late beat on a busy machine never makes a
 * rank look dead. */
#define TT_MPI_BEATS_PER_TIMEOUT 6.0
/* A worker leaves when rank 0 is silent this many timeouts during the
 * search (rank 0 beats as often as the workers do). */
#define TT_MPI_RANK0_TIMEOUTS 3.0

enum {
    TT_TAG_TRIAL = 101,
    TT_TAG_RESULT,
    TT_TAG_BEAT,
    TT_TAG_CANCEL,
    TT_TAG_STOP,
    TT_TAG_READY,
    TT_TAG_REFUSE,
    TT_TAG_QUIET
};

/* The set-up rank 0 broadcasts once its nuisance models exist (or to say
 * the run is off). Plain numbers of fixed width: every rank is the same
 * build on the same kind of machine (protocol.h). */
typedef struct tt_mpi_setup {
    uint32_t go;             /* 1: take trials; 0: the run ended before the search */
    uint32_t reserved;
    uint64_t data_hash;      /* tt_run_data_hash of rank 0's rows */
    double trial_timeout;    /* seconds per trial; 0 = none */
    double grace;            /* seconds past the deadline before a trial is killed */
    double deadline_in;      /* seconds from the broadcast to the search's deadline; 0 = none */
    uint64_t payload_len;    /* bytes of the second broadcast (0: none) */
    double beat;             /* seconds between a worker's heartbeats */
} tt_mpi_setup;

/* Post a non-blocking broadcast from rank 0 and wait for it by polling
 * (MPI_Test, then a short sleep), so a rank waiting here leaves the CPU to
 * the ranks that work - Open MPI's blocking calls spin. Messages over 1 GiB
 * go in pieces. Gives up after timeout seconds (0 = never) or when *stop
 * (may be NULL) is set: TT_ERR_IO. */
tt_status tt_mpi_bcast(void *buf, size_t len, double timeout, volatile sig_atomic_t *stop,
                       char *err, size_t errlen);

/* Send len bytes to rank `to` with tag, waiting at most `within` seconds
 * (0 = for ever) for MPI to take them: a non-blocking send polled like the
 * broadcast, because a blocking one to a peer that died spins for ever
 * (seen: a worker's result to a killed rank 0 under --enable-recovery).
 * The message is the caller's again on return. TT_ERR_IO when MPI reports
 * an error or the time ran out (the send is then cancelled), TT_ERR_INVALID
 * when len does not fit MPI's int count (2 GiB). */
tt_status tt_mpi_send(int to, int tag, const void *data, size_t len, double within);

/* Receive a message that MPI_Iprobe found waiting (status from the probe)
 * into m (reset first). TT_ERR_IO / TT_ERR_NOMEM on failure. */
tt_status tt_mpi_recv(const MPI_Status *probe, tt_msg *m);

/* MPI_Finalize, guarded: a peer that died can make it wait for ever, so
 * after `seconds` the process leaves with _exit(exit_code) (its output was
 * flushed before). */
void tt_mpi_finalize_guarded(unsigned seconds, int exit_code);

/* Sleep a little: the pause of a polling loop that found nothing to do. */
void tt_mpi_pause(void);

#endif
