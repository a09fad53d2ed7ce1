/*
 * msg.h - self-contained byte messages: a growable buffer to append fixed
 * width integers, doubles and strings to, and a cursor to read them back.
 * The trial protocol (protocol.h), isolated children (isolate.h) and the
 * run's isolated refits build their messages from these, so every message
 * that crosses a pipe is written and checked the same way.
 *
 * Integers and doubles are in the host's byte order (both ends are the same
 * build of tautune on the same machine). A string is u32 length + bytes, no
 * terminator.
 */
#ifndef TT_UTIL_MSG_H
#define TT_UTIL_MSG_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer owned by its user; {0} is an empty message. */
typedef struct tt_msg {
    unsigned char *data;
    size_t len, cap;
} tt_msg;

void tt_msg_free(tt_msg *m); /* frees data and zeroes m */

/* Appends; each returns 0, or -1 on out of memory (m is then unchanged). */
int tt_msg_put(tt_msg *m, const void *bytes, size_t len);
int tt_msg_put_u32(tt_msg *m, uint32_t v);
int tt_msg_put_u64(tt_msg *m, uint64_t v);
int tt_msg_put_f64(tt_msg *m, double v);
int tt_msg_put_str(tt_msg *m, const char *s); /* NULL is sent as "" */
/* An array of doubles: u64 count + values; v NULL is sent as count 0. */
int tt_msg_put_f64s(tt_msg *m, const double *v, size_t n);

/* A read cursor over borrowed bytes. Any short read sets bad and yields
 * zeros (empty strings, NULL pointers), so a caller checks bad once at the end. */
typedef struct tt_msg_reader {
    const unsigned char *p, *end;
    int bad;
} tt_msg_reader;

tt_msg_reader tt_msg_reader_of(const unsigned char *data, size_t len);
void tt_msg_get(tt_msg_reader *c, void *out, size_t len);
uint32_t tt_msg_get_u32(tt_msg_reader *c);
uint64_t tt_msg_get_u64(tt_msg_reader *c);
double tt_msg_get_f64(tt_msg_reader *c);
/* Copies a string into buf (truncated to len - 1 bytes, always terminated). */
void tt_msg_get_str(tt_msg_reader *c, char *buf, size_t len);
/* The next len bytes in place (borrowed from the message), or NULL when short. */
const unsigned char *tt_msg_get_bytes(tt_msg_reader *c, size_t len);
/* An array sent by tt_msg_put_f64s into a new array (*out, caller frees);
 * count 0 gives *out NULL. -1 (with *out NULL) when malformed, out of
 * memory, or the count is neither 0 nor n. */
int tt_msg_get_f64s(tt_msg_reader *c, size_t n, double **out);
/* 1 when every byte was read and none was missing. */
int tt_msg_done(const tt_msg_reader *c);

#endif
