/*
 * mem.h - small allocation helpers that check for overflow.
 */
#ifndef TT_UTIL_MEM_H
#define TT_UTIL_MEM_H

#include <stddef.h>

/* malloc(count * size) or NULL when the product overflows or malloc fails. */
void *tt_malloc_array(size_t count, size_t size);
/* A column-major copy of rows idx[0..k) of the n x p column-major block m
 * (malloc'd, caller frees). NULL when m is NULL or p is 0 (nothing to
 * copy), and NULL with *ok set to 0 when out of memory. */
double *tt_gather_rows(const double *m, size_t n, size_t p, const size_t *idx, size_t k,
                       int *ok);
/* strdup that returns NULL for NULL input. Caller frees. */
char *tt_strdup(const char *s);
/* Free a NULL-or-array of n strings and the array itself. */
void tt_free_strings(char **strings, size_t n);

/* This process's peak resident memory in MB (VmHWM of /proc/self/status;
 * worker processes are not counted), or NaN where it cannot be read. */
double tt_peak_rss_mb(void);

/* Hands the free memory inside the heap back to the system. Large blocks
 * carved out of space a freed table left in the heap stay resident when
 * freed (the heap cannot shrink past the blocks above them): call this
 * after releasing one. A no-op without glibc. */
void tt_mem_give_back(void);

/* The largest peak resident memory in MB of this process's children that
 * have ended and been waited for (trial workers, the nuisance stage, refits;
 * getrusage RUSAGE_CHILDREN), 0 before any, NaN where it cannot be read. */
double tt_peak_child_rss_mb(void);

#endif
