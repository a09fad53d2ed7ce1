/*
 * dist.h - the few distribution functions the core's intervals and tests
 * need (the plugins' kit has its own normal quantile, pu_normal_quantile:
 * plugins link nothing of the core; Student's t is insight/blp.h's).
 */
#ifndef TT_UTIL_DIST_H
#define TT_UTIL_DIST_H

/* z with Phi(z) = p, for p in (0, 1) (NaN outside): bisection on erfc to
 * the last bit, about 200 erfc calls - for a handful of intervals per run,
 * never in a loop over rows. */
double tt_normal_quantile(double p);

/* P(X > x) for X chi-square with k > 0 degrees of freedom (1 for x <= 0,
 * NaN for bad arguments): the regularized upper incomplete gamma Q(k/2, x/2)
 * by its series below x/2 < k/2 + 1 and its continued fraction above
 * (Numerical Recipes' split), to about 1e-14 relative. */
double tt_chi2_sf(double x, double k);

#endif
