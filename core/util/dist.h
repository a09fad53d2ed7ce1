/*
 * dist.h - the few distribution functions the core's intervals and tests
 * need (the plugins' kit has its own normal quantile, pu_normal_quantile:
 * plugins link nothing of the core).
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

/* P(T > t) for Student's t with df > 0 degrees of freedom (df = INFINITY:
 * the standard normal). NaN for a NaN argument or df <= 0. Agrees with
 * scipy to about 1e-11 relative up to df = 1e6 (tails down to 1e-229
 * included) and to a few 1e-9 at df = 1e9. */
double tt_student_t_sf(double t, double df);

/* t with P(T > t) = p for Student's t (df > 0; INFINITY: the normal), p in
 * (0, 1), NaN otherwise: bisection on tt_student_t_sf to the last bit. */
double tt_student_t_isf(double p, double df);

/* P(T <= t) for the noncentral t with df > 0 degrees of freedom and
 * noncentrality delta: Lenth's algorithm AS 243 (Appl. Statist. 38, 1989),
 * its series summed to 1e-13; Phi(t - delta) when df is INFINITY. */
double tt_nct_cdf(double t, double df, double delta);

#endif
