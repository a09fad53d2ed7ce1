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

/* The same for texts of any number (the reasons of null scores: a finished
 * trial carries 64 score slots, and an inline 160-byte reason each made its
 * record 12 KB - over 10,000 trials, 120 MB of mostly empty text): one copy
 * per distinct text in a hash set, kept until exit. NULL or "" gives "";
 * out of memory gives a fixed text saying the reason was lost. Never NULL. */
const char *tt_intern_text(const char *text);

#endif
