/* power.c - power and sample size of a two-sample comparison (power.h). */
#include "experiment/power.h"

#include <math.h>

#include "util/dist.h"
#include "util/err.h"

double tt_power_ttest(double d, double n1, double ratio, double alpha, int one_sided)
{
    if (!(d > 0.0) || !(ratio > 0.0) || !(alpha > 0.0 && alpha < 1.0) ||
        !(n1 * (1.0 + ratio) > 2.0) || !isfinite(n1))
        return NAN;
    const double n2 = ratio * n1, df = n1 + n2 - 2.0;
    const double nc = d * sqrt(n1 * n2 / (n1 + n2));
    if (one_sided)
        return 1.0 - tt_nct_cdf(tt_student_t_isf(alpha, df), df, nc);
    const double crit = tt_student_t_isf(alpha / 2.0, df);
    return (1.0 - tt_nct_cdf(crit, df, nc)) + tt_nct_cdf(-crit, df, nc);
}

static int check(double power, double ratio, double alpha, char *err, size_t errlen)
{
    if (!(alpha > 0.0 && alpha < 1.0))
        return tt_errf(err, errlen, TT_ERR_INVALID, "alpha must be in (0, 1), got %g", alpha);
    if (!(power > alpha && power < 1.0))
        return tt_errf(err, errlen, TT_ERR_INVALID, "power must be in (alpha, 1) = (%g, 1), "
                       "got %g", alpha, power);
    if (!(ratio > 0.0) || !isfinite(ratio))
        return tt_errf(err, errlen, TT_ERR_INVALID, "the ratio of the groups' sizes must be "
                       "positive, got %g", ratio);
    return TT_OK;
}

tt_status tt_power_solve_n(double d, double power, double ratio, double alpha, int one_sided,
                           double *n1, char *err, size_t errlen)
{
    tt_status st = check(power, ratio, alpha, err, errlen);
    if (st != TT_OK)
        return st;
    if (!(d > 0.0) || !isfinite(d))
        return tt_errf(err, errlen, TT_ERR_INVALID, "the effect to detect must be positive, "
                       "got %g", d);
    /* The power grows with n: bracket from the smallest n with df > 0. */
    double lo = 2.0 / (1.0 + ratio) + 1e-9, hi = 4.0;
    while (tt_power_ttest(d, hi, ratio, alpha, one_sided) < power) {
        lo = hi;
        hi *= 2.0;
        if (hi > 1e15)
            return tt_errf(err, errlen, TT_ERR_INVALID, "the effect %g is too small to detect "
                           "with any number of rows", d);
    }
    for (int i = 0; i < 300 && (hi - lo) > 1e-10 * hi; i++) {
        const double mid = 0.5 * (lo + hi);
        if (tt_power_ttest(d, mid, ratio, alpha, one_sided) < power)
            lo = mid;
        else
            hi = mid;
    }
    *n1 = hi;
    return TT_OK;
}

tt_status tt_power_solve_effect(double n1, double power, double ratio, double alpha,
                                int one_sided, double *d, char *err, size_t errlen)
{
    tt_status st = check(power, ratio, alpha, err, errlen);
    if (st != TT_OK)
        return st;
    if (!(n1 * (1.0 + ratio) > 2.0) || !isfinite(n1))
        return tt_errf(err, errlen, TT_ERR_INVALID, "%g rows per group leave no degrees of "
                       "freedom", n1);
    double lo = 0.0, hi = 1.0;
    while (tt_power_ttest(hi, n1, ratio, alpha, one_sided) < power) {
        lo = hi;
        hi *= 2.0;
        if (hi > 1e12)
            return tt_errf(err, errlen, TT_ERR_NUMERIC, "no effect reaches power %g", power);
    }
    for (int i = 0; i < 300 && (hi - lo) > 1e-12 * hi; i++) {
        const double mid = 0.5 * (lo + hi);
        if (!(mid > 0.0) || tt_power_ttest(mid, n1, ratio, alpha, one_sided) < power)
            lo = mid;
        else
            hi = mid;
    }
    *d = hi;
    return TT_OK;
}

double tt_power_cuped_sd(double sd, double rho)
{
    if (!(fabs(rho) < 1.0) || !(sd > 0.0))
        return NAN;
    return sd * sqrt(1.0 - rho * rho);
}
