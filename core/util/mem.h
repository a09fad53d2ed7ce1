/*
 * mem.h - small allocation helpers that check for overflow.
 */
#ifndef TT_UTIL_MEM_H
#define TT_UTIL_MEM_H

#include <stddef.h>

/* malloc(count * size) or NULL when the product overflows or malloc fails. */
void *tt_malloc_array(size_t count, size_t size);
/* strdup that returns NULL for NULL input. Caller frees. */
char *tt_strdup(const char *s);
/* Free a NULL-or-array of n strings and the array itself. */
void tt_free_strings(char **strings, size_t n);

/* This process's peak resident memory in MB (VmHWM of /proc/self/status;
 * worker processes are not counted), or NaN where it cannot be read. */
double tt_peak_rss_mb(void);

/* The largest peak resident memory in MB of this process's children that
 * have ended and been waited for (trial workers, the nuisance stage, refits;
 * getrusage RUSAGE_CHILDREN), 0 before any, NaN where it cannot be read. */
double tt_peak_child_rss_mb(void);

#endif
