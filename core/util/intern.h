/*
 * intern.h - process-lifetime copies of short names.
 *
 * tt_score_value names must outlive every result that carries them. Names
 * that arrive as text (from a worker's message, from a trials.jsonl being
 * resumed) are interned here: one copy per distinct name, kept until exit.
 * Thread-safe.
 */
#ifndef TT_UTIL_INTERN_H
#define TT_UTIL_INTERN_H

/* The interned copy of name, or NULL if the table (256 names) is full or
 * memory runs out. */
const char *tt_intern(const char *name);

#endif
