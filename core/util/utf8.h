/*
 * utf8.h - checking and repairing UTF-8 text, for what goes into JSON:
 * results.json, trials.jsonl and the other files tautune writes must be
 * valid JSON, and JSON is UTF-8, while a CSV cell or a plugin's message may
 * hold any bytes.
 *
 * Valid means well-formed UTF-8 (RFC 3629): no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
 */
#ifndef TT_UTIL_UTF8_H
#define TT_UTIL_UTF8_H

#include <stddef.h>

/* 1 when s[0..len) is valid UTF-8; else 0 with *bad (may be NULL) the
 * offset of the first byte of the first invalid sequence. */
int tt_utf8_valid(const char *s, size_t len, size_t *bad);

/* A copy of the NUL-terminated s with every invalid sequence replaced by
 * U+FFFD (the replacement character), or NULL out of memory. Valid text
 * comes back byte for byte. */
char *tt_utf8_repair(const char *s);

#endif
