/*
 * log_tail.h - the last lines a worker printed, within a fixed bound.
 *
 * A trial's log is what its worker process wrote on stdout and stderr: the
 * plugin's host->log lines, its printf/puts/write(1, ...), and the core's
 * own warnings in that process. The parent feeds the bytes in as they come
 * off the pipe (search/isolate.c); they are split into lines and only the
 * last TT_LOG_TAIL_LINES lines holding at most TT_LOG_TAIL_BYTES bytes are
 * kept (whichever bound is smaller), with a count of the earlier lines
 * dropped. A line longer than TT_LOG_TAIL_LINE_CAP bytes keeps its first
 * TT_LOG_TAIL_LINE_CAP bytes and says how many more it had. So a worker
 * that prints a gigabyte costs the parent the same few KiB as one that
 * prints a line.
 *
 * Lines are kept without their newline (and without a '\r' before it); a
 * NUL byte in the output becomes a space, so each line is one C string.
 *
 * Ownership: tt_log_tail_new's result is the caller's (tt_log_tail_free;
 * NULL is a no-op). Not thread-safe.
 */
#ifndef TT_SEARCH_LOG_TAIL_H
#define TT_SEARCH_LOG_TAIL_H

#include <stddef.h>

#define TT_LOG_TAIL_LINES 50
#define TT_LOG_TAIL_BYTES 16384
#define TT_LOG_TAIL_LINE_CAP 2048

typedef struct tt_log_tail tt_log_tail;

tt_log_tail *tt_log_tail_new(void); /* NULL on out of memory */
void tt_log_tail_free(tt_log_tail *t);

/* Bytes as the worker wrote them, in any pieces. Out of memory loses the
 * line that needed it (counted as dropped), never the tail. */
void tt_log_tail_feed(tt_log_tail *t, const char *bytes, size_t n);

/* The output has ended: a last line without its newline becomes a line. */
void tt_log_tail_end(tt_log_tail *t);

size_t tt_log_tail_count(const tt_log_tail *t);            /* lines kept */
const char *tt_log_tail_line(const tt_log_tail *t, size_t i); /* 0 = the oldest kept */
size_t tt_log_tail_dropped(const tt_log_tail *t);          /* earlier lines not kept */

/* Count n more earlier lines as dropped: a tail rebuilt from its kept lines
 * on another machine (an MPI worker rank's trial, protocol.h) says as much
 * as the original. */
void tt_log_tail_add_dropped(tt_log_tail *t, size_t n);

#endif
