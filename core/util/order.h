/*
 * order.h - ordering doubles: the one qsort comparator the core uses, and the
 * median split that turns a continuous treatment into two strata (dataset.h)
 * wherever one is read, generated or scored. The plugins' kit keeps its own
 * (pu_continuous_strata): plugins link nothing of the core.
 */
#ifndef TT_UTIL_ORDER_H
#define TT_UTIL_ORDER_H

#include <stddef.h>

/* qsort/bsearch comparator for doubles, ascending (NaNs compare equal to
 * everything: callers sort finite values). */
int tt_cmp_double(const void *a, const void *b);

/* The k-th smallest of v[0..n) (k < n, v finite), by selection in O(n)
 * expected time: v is reordered so that v[k] holds it, everything before
 * is <= and everything after >=. The same answer as sorting, without the
 * n log n (a million-row column's median in milliseconds). */
double tt_select_double(double *v, size_t n, size_t k);

/* The median of finite v[0..n), n > 0: the middle value, or the mean of the
 * two middle values for even n. v is reordered. */
double tt_median_double(double *v, size_t n);

/* strata[i] = 1 when v[i] lies above the median of v[0..n), else 0; ">="
 * when nothing lies above the median, so both strata have rows whenever v
 * takes two values (one value: every row in stratum 1). v must be finite.
 * Returns 1 when both strata have rows, 0 when v takes one value or n == 0,
 * -1 out of memory (strata untouched). */
int tt_median_split(const double *v, size_t n, int *strata);

#endif
