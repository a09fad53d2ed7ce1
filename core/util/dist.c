/* dist.c - distribution functions (dist.h). */
#include "util/dist.h"

#include <math.h>

double tt_normal_quantile(double p)
{
    if (!(p > 0.0 && p < 1.0))
        return NAN;
    double lo = -40.0, hi = 40.0;
    for (int i = 0; i < 200 && lo < hi; i++) {
        const double mid = 0.5 * (lo + hi);
        if (mid == lo || mid == hi)
            break;
        if (0.5 * erfc(-mid / sqrt(2.0)) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* Regularized lower incomplete gamma P(a, x) by its series (x < a + 1). */
static double gamma_p_series(double a, double x)
{
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < 1000; n++) {
        term *= x / (a + n);
        sum += term;
        if (fabs(term) < fabs(sum) * 1e-16)
            break;
    }
    return sum * exp(-x + a * log(x) - lgamma(a));
}

/* Regularized upper incomplete gamma Q(a, x) by Lentz's continued fraction
 * (x >= a + 1). */
static double gamma_q_fraction(double a, double x)
{
    const double tiny = 1e-300;
    double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
    for (int i = 1; i < 1000; i++) {
        double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < tiny)
            d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-16)
            break;
    }
    return exp(-x + a * log(x) - lgamma(a)) * h;
}

double tt_chi2_sf(double x, double k)
{
    if (!(k > 0.0) || isnan(x))
        return NAN;
    if (x <= 0.0)
        return 1.0;
    if (isinf(x))
        return 0.0;
    double a = 0.5 * k, h = 0.5 * x;
    return h < a + 1.0 ? 1.0 - gamma_p_series(a, h) : gamma_q_fraction(a, h);
}

/* The continued fraction converges in O(sqrt(df)) terms when it is slowest;
 * this bound covers df beyond 1e9. */
#define BETA_CF_MAX_TERMS 200000

/* ---- Student t tail (written for insight/blp.c, kept here for every layer) ---- */

/* ln Gamma(a + 1/2) - ln Gamma(a). For large a the difference of two lgamma
 * values loses about log10(a ln a) digits to cancellation, so there the
 * asymptotic series (error below 2e-15 from a = 50 on) is used instead. */
static double lgamma_half_step(double a)
{
    if (a >= 50.0) {
        const double a2 = a * a, a3 = a2 * a;
        return 0.5 * log(a) - 1.0 / (8.0 * a) + 1.0 / (192.0 * a3) - 1.0 / (640.0 * a3 * a2);
    }
    int sign;
    return lgamma_r(a + 0.5, &sign) - lgamma_r(a, &sign); /* lgamma_r: no signgam race */
}

/* The continued fraction of the incomplete beta function (DLMF 8.17.22),
 * evaluated by the modified Lentz method. Converges quickly for
 * x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1.0;
    double d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < tiny)
        d = tiny;
    d = 1.0 / d;
    double f = d;
    for (int m = 1; m <= BETA_CF_MAX_TERMS; m++) {
        const double k = 2.0 * m;
        /* even step: d_2m = m (b - m) x / ((a + 2m - 1)(a + 2m)) */
        double coef = m * (b - m) * x / ((a + k - 1.0) * (a + k));
        d = 1.0 + coef * d;
        c = 1.0 + coef / c;
        if (fabs(d) < tiny)
            d = tiny;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        f *= d * c;
        /* odd step: d_2m+1 = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)) */
        coef = -(a + m) * (a + b + m) * x / ((a + k) * (a + k + 1.0));
        d = 1.0 + coef * d;
        c = 1.0 + coef / c;
        if (fabs(d) < tiny)
            d = tiny;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        const double delta = d * c;
        f *= delta;
        if (fabs(delta - 1.0) < 1e-16)
            break;
    }
    return f;
}

/* P(|T_df| >= |t|) = I_x(df/2, 1/2) with x = df / (df + t^2). Both x and
 * 1 - x are formed directly so neither tail loses digits. */
static double t_two_sided(double t, double df)
{
    if (isnan(t) || isnan(df) || df <= 0.0)
        return NAN;
    if (isinf(t))
        return 0.0;
    if (isinf(df))
        return erfc(fabs(t) / sqrt(2.0));
    if (t == 0.0)
        return 1.0;
    const double t2 = t * t;
    const double x = df / (df + t2), y = t2 / (df + t2);
    const double a = 0.5 * df, b = 0.5;
    /* ln B(a, 1/2) = ln Gamma(a) + ln Gamma(1/2) - ln Gamma(a + 1/2) */
    const double lbeta = 0.5 * log(M_PI) - lgamma_half_step(a);
    /* log x = -log1p(t^2 / df): log of an x near 1 would turn its last-bit
     * rounding into a relative error of df * 1e-16 in the result. */
    const double lfront = -a * log1p(t2 / df) + b * log(y) - lbeta;
    if (x < (a + 1.0) / (a + b + 2.0))
        return exp(lfront) * beta_cf(a, b, x) / a;
    return 1.0 - exp(lfront) * beta_cf(b, a, y) / b;
}

double tt_student_t_sf(double t, double df)
{
    const double p2 = t_two_sided(t, df);
    if (isnan(p2))
        return NAN;
    return t >= 0.0 ? 0.5 * p2 : 1.0 - 0.5 * p2;
}


double tt_student_t_isf(double p, double df)
{
    if (!(p > 0.0 && p < 1.0) || !(df > 0.0))
        return NAN;
    if (p > 0.5)
        return -tt_student_t_isf(1.0 - p, df);
    /* The tail falls as t grows: bracket, then halve to the last bit. */
    double lo = 0.0, hi = 1.0;
    while (tt_student_t_sf(hi, df) > p && hi < 1e300)
        hi *= 2.0;
    for (int i = 0; i < 2000; i++) {
        const double mid = 0.5 * (lo + hi);
        if (mid <= lo || mid >= hi)
            break;
        if (tt_student_t_sf(mid, df) > p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

double tt_nct_cdf(double t, double df, double delta)
{
    if (isnan(t) || isnan(delta) || !(df > 0.0))
        return NAN;
    if (isinf(df))
        return 0.5 * erfc(-(t - delta) / sqrt(2.0));
    /* For t < 0: F(t; df, delta) = 1 - F(-t; df, -delta). */
    const int neg = t < 0.0;
    const double tt = neg ? -t : t, del = neg ? -delta : delta;
    double tnc = 0.0;
    if (tt > 0.0) {
        const double x = tt * tt / (tt * tt + df), lambda = del * del;
        double p = 0.5 * exp(-0.5 * lambda);
        double q = sqrt(2.0 / M_PI) * p * del;
        double s = 0.5 - p, a = 0.5;
        const double b = 0.5 * df;
        const double rxb = pow(1.0 - x, b);
        const double albeta = 0.5 * log(M_PI) + lgamma(b) - lgamma(a + b);
        /* I_x(1/2, df/2) = P(|T_df| < t): the central t's two-sided mass. */
        double xodd = 1.0 - 2.0 * tt_student_t_sf(tt, df);
        double godd = 2.0 * rxb * exp(a * log(x) - albeta);
        double xeven = 1.0 - rxb, geven = b * x * rxb;
        tnc = p * xodd + q * xeven;
        for (int en = 1; en <= 5000; en++) {
            a += 1.0;
            xodd -= godd;
            xeven -= geven;
            godd *= x * (a + b - 1.0) / a;
            geven *= x * (a + b - 0.5) / (a + 0.5);
            p *= lambda / (2.0 * en);
            q *= lambda / (2.0 * en + 1.0);
            s -= p;
            tnc += p * xodd + q * xeven;
            if (2.0 * s * (xodd - godd) <= 1e-13 && en > 2)
                break;
        }
    }
    tnc += 0.5 * erfc(del / sqrt(2.0)); /* Phi(-del) */
    if (tnc > 1.0)
        tnc = 1.0;
    if (tnc < 0.0)
        tnc = 0.0;
    return neg ? 1.0 - tnc : tnc;
}
