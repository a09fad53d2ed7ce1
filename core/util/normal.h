/*
 * normal.h - the standard normal's quantile, for normal intervals in the
 * core (the plugins' kit has its own, pu_normal_quantile: plugins link
 * nothing of the core).
 */
#ifndef TT_UTIL_NORMAL_H
#define TT_UTIL_NORMAL_H

/* z with Phi(z) = p, for p in (0, 1) (NaN outside): bisection on erfc to
 * the last bit, about 200 erfc calls - for a handful of intervals per run,
 * never in a loop over rows. */
double tt_normal_quantile(double p);

#endif
