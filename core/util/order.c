/* order.c - ordering doubles (order.h). */
#include "util/order.h"

#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

int tt_cmp_double(const void *a, const void *b)
{
    const double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

int tt_median_split(const double *v, size_t n, int *strata)
{
    if (n == 0)
        return 0;
    double *sorted = tt_malloc_array(n, sizeof *sorted);
    if (!sorted)
        return -1;
    memcpy(sorted, v, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, tt_cmp_double);
    const double med = sorted[(n - 1) / 2];
    const int two = sorted[0] != sorted[n - 1];
    const int ge = sorted[n - 1] == med; /* nothing above the median */
    free(sorted);
    for (size_t i = 0; i < n; i++)
        strata[i] = ge ? v[i] >= med : v[i] > med;
    return two;
}
