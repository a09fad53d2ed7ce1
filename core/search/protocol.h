/*
 * protocol.h - trial requests and results as self-contained byte messages.
 *
 * A worker (a forked process today, an MPI rank later) receives a request,
 * runs tt_trial_evaluate and sends the result back. Both cross as messages
 * that carry no pointers, so the same encoding works over a pipe or a network:
 *
 *   request: "TTRQ" u32 version, u64 id, u64 estimator, u64 seed,
 *            u32 n_params, f64 point[n_params]
 *   result:  "TTRS" u32 version, i32 status, f64 seconds, f64 fit_seconds,
 *            f64 objective,
 *            f64 ate, str error, u32 n_scores, score[n_scores],
 *            u32 n_oracle, score[n_oracle], f64 objective_se,
 *            u64 n_terms, u64 n_terms, f64 terms[n_terms]   (the count, then
 *            tt_msg_put_f64s's own count)
 *   score:   str name, f64 value, u8 is_null, str reason
 *   str:     u32 length, bytes (no terminator)
 * Integers and doubles are in the host's byte order (the peers are the same
 * build of tautune on the same kind of machine; MPI would add its own
 * conversion if that ever changes).
 */
#ifndef TT_SEARCH_PROTOCOL_H
#define TT_SEARCH_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "util/msg.h"
#include "search/trial.h"

typedef struct tt_trial_request {
    uint64_t id, estimator, seed;
    uint32_t n_params;
    const double *point; /* decode: points into the message buffer's copy */
} tt_trial_request;

tt_status tt_request_encode(const tt_trial_request *rq, tt_msg *out);
/* point_out: caller's array of rq->n_params doubles (at most max_params). */
tt_status tt_request_decode(const unsigned char *data, size_t len, tt_trial_request *rq,
                            double *point_out, size_t max_params);

/* Encodes the fields a worker computes (status .. oracle). */
tt_status tt_result_encode(const tt_trial_result *r, tt_msg *out);

/* Fills those fields of r. Score names are interned: the returned pointers
 * stay valid for the life of the process, as tt_score_value requires. A
 * truncated or malformed message is TT_ERR_PARSE. r->terms is set to a new
 * array the caller owns (NULL when none was sent), and r->error and r->scores
 * new copies it owns; their old values are not freed. */
tt_status tt_result_decode(const unsigned char *data, size_t len, tt_trial_result *r);

/* A trial's log (log_tail.h) as a message of its own, for a worker that is
 * not a child of the process recording the trial (an MPI rank: the local
 * pool reads the log off the child's pipe instead):
 *   log:     "TTLG" u32 version, u64 dropped, u32 n_lines, str line[n_lines]
 * NULL (no output) is sent as no lines. Decode: *out is a new tail the
 * caller owns, NULL when the message has no lines; TT_ERR_PARSE when
 * malformed. */
struct tt_log_tail;
tt_status tt_log_encode(const struct tt_log_tail *log, tt_msg *out);
tt_status tt_log_decode(const unsigned char *data, size_t len, struct tt_log_tail **out);

#endif
