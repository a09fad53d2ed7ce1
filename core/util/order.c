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

static void swap(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

double tt_select_double(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        /* Median of three as the pivot, placed at lo. */
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < v[lo])
            swap(&v[mid], &v[lo]);
        if (v[hi] < v[lo])
            swap(&v[hi], &v[lo]);
        if (v[hi] < v[mid])
            swap(&v[hi], &v[mid]);
        swap(&v[lo], &v[mid]);
        const double pivot = v[lo];
        /* Hoare partition: equal keys split across both sides, so a column
         * of one repeated value still halves each round. */
        size_t i = lo, j = hi + 1;
        for (;;) {
            do
                i++;
            while (i <= hi && v[i] < pivot);
            do
                j--;
            while (v[j] > pivot);
            if (i >= j)
                break;
            swap(&v[i], &v[j]);
        }
        swap(&v[lo], &v[j]);
        if (j == k)
            return v[k];
        if (k < j)
            hi = j - 1;
        else
            lo = j + 1;
    }
    return v[k];
}

double tt_median_double(double *v, size_t n)
{
    double upper = tt_select_double(v, n, n / 2);
    if (n % 2)
        return upper;
    /* The lower middle is the largest of the part before n / 2. */
    double lower = v[0];
    for (size_t i = 1; i < n / 2; i++)
        lower = v[i] > lower ? v[i] : lower;
    return 0.5 * (lower + upper);
}

int tt_median_split(const double *v, size_t n, int *strata)
{
    if (n == 0)
        return 0;
    double *sorted = tt_malloc_array(n, sizeof *sorted);
    if (!sorted)
        return -1;
    memcpy(sorted, v, n * sizeof *sorted);
    const double med = tt_select_double(sorted, n, (n - 1) / 2);
    double lo = sorted[0], hi = sorted[0];
    for (size_t i = 1; i < n; i++)
        lo = sorted[i] < lo ? sorted[i] : lo, hi = sorted[i] > hi ? sorted[i] : hi;
    const int two = lo != hi;
    const int ge = hi == med; /* nothing above the median */
    free(sorted);
    for (size_t i = 0; i < n; i++)
        strata[i] = ge ? v[i] >= med : v[i] > med;
    return two;
}
