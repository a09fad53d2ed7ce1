/* mem.c - overflow-checked allocation helpers, and the process's peak memory. */
#include "util/mem.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void *tt_malloc_array(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    size_t bytes = count * size;
    return malloc(bytes ? bytes : 1); /* malloc(0) may return NULL */
}

double *tt_gather_rows(const double *m, size_t n, size_t p, const size_t *idx, size_t k,
                       int *ok)
{
    if (!m || p == 0)
        return NULL;
    double *d = tt_malloc_array(k ? k : 1, p * sizeof(double));
    if (!d) {
        *ok = 0;
        return NULL;
    }
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < k; i++)
            d[j * k + i] = m[j * n + idx[i]];
    return d;
}

char *tt_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

void tt_free_strings(char **strings, size_t n)
{
    if (!strings)
        return;
    for (size_t i = 0; i < n; i++)
        free(strings[i]);
    free(strings);
}

double tt_peak_rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double mb = NAN;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            mb = strtod(line + 6, NULL) / 1024.0;
    if (f)
        fclose(f);
    return mb;
}

double tt_peak_child_rss_mb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
        return NAN;
    return (double)ru.ru_maxrss / 1024.0; /* kilobytes on Linux */
}

void tt_mem_give_back(void)
{
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}
