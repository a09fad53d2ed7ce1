/* csv_num.c - locale-independent, exact and fast number parsing for the CSV
 * reader, and the shortest-text formatter.
 *
 * Reading is the hot path of big files: strtod costs ~200 ns per 17-digit
 * number, which alone is 10 s for 1,000,000 x 50 cells. Plain decimals
 * ("-12.5", "0.12345678901234567", "3e-4") are converted here instead:
 *  - mantissa m <= 2^53 and |exponent| <= 22: m and 10^|e| are exact doubles,
 *    so one IEEE multiplication or division is correctly rounded (Clinger);
 *  - otherwise, m < 2^64 and 10^k < 2^64: m / 10^k or m * 10^k computed in
 *    128-bit integers with an explicit round-half-to-even from the remainder.
 * Anything else (more digits, big exponents, inf, nan, blanks) falls back to
 * strtod_l, so every path returns the correctly rounded double. */
#include "data/csv_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv.h"

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

locale_t tt_csv_c_locale(void)
{
    pthread_once(&c_locale_once, make_c_locale);
    return c_locale;
}

static const double pow10_d[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static const uint64_t pow10_u[20] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
    100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
    10000000000000ull, 100000000000000ull, 1000000000000000ull, 10000000000000000ull,
    100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull};

/* 2^e as a double, for e in the normal range (exact; cheaper than ldexp). */
static double pow2(int e)
{
    uint64_t bits = (uint64_t)(e + 1023) << 52;
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static int bit_length(uint64_t v)
{
    return v ? 64 - __builtin_clzll(v) : 0;
}

/* Correctly rounded m / d (both nonzero, d = 10^k). 0 if out of this
 * method's range. */
static int div_rounded(uint64_t m, uint64_t d, double *out)
{
    int s = 54 + bit_length(d) - bit_length(m);
    if (s < 0)
        return 0;
    unsigned __int128 num = (unsigned __int128)m << s;
    uint64_t q, r;
#if defined(__x86_64__)
    /* One divq: the quotient fits 64 bits (it is below 2^55), which is the
     * instruction's condition; the generic 128-bit division is much slower. */
    __asm__("divq %4" : "=a"(q), "=d"(r) : "a"((uint64_t)num), "d"((uint64_t)(num >> 64)), "r"(d));
#else
    q = (uint64_t)(num / d);
    r = (uint64_t)(num % d);
#endif
    int extra = bit_length(q) - 53; /* q has 54 or 55 bits */
    uint64_t mant = q >> extra, low = q & ((1ull << extra) - 1), half = 1ull << (extra - 1);
    int up = low > half || (low == half && (r > 0 || (mant & 1)));
    *out = (double)(mant + (uint64_t)up) * pow2(extra - s);
    return 1;
}

/* Eight ASCII digits at once (little-endian SWAR): all bytes in '0'..'9'? */
static int eight_digits(uint64_t v)
{
    return ((v & 0xF0F0F0F0F0F0F0F0ull) |
            (((v + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4)) ==
           0x3333333333333333ull;
}

/* Their value: pairs, then quads, then the eight, by multiply-and-shift. */
static uint64_t eight_value(uint64_t v)
{
    v -= 0x3030303030303030ull;
    v = (v * 10) + (v >> 8);
    v = (((v & 0x000000FF000000FFull) * 0x000F424000000064ull) +
         (((v >> 16) & 0x000000FF000000FFull) * 0x0000271000000001ull)) >> 32;
    return v;
}

/* Digits at *pp into *m (m = m * 10^count + digits). 0 when m would pass
 * 2^64 (the caller falls back to strtod). */
static inline __attribute__((always_inline)) int take_digits(const char **pp, const char *e,
                                                             uint64_t *m, int *count)
{
    const char *p = *pp;
    uint64_t v = *m;
    while (e - p >= 8 && v < 100000000000ull) {
        uint64_t w;
        memcpy(&w, p, 8);
        if (!eight_digits(w))
            break;
        v = v * 100000000ull + eight_value(w);
        p += 8;
    }
    for (; p < e && (unsigned)(*p - '0') < 10; p++) {
        if (v > 1844674407370955160ull)
            return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *count = (int)(p - *pp);
    *pp = p;
    *m = v;
    return 1;
}

static int parse_plain(const char *p, size_t len, double *out)
{
    const char *e = p + len;
    int neg = 0;
    if (p < e && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    uint64_t m = 0;
    int int_digits = 0, frac_digits = 0, exp10 = 0;
    if (!take_digits(&p, e, &m, &int_digits))
        return 0;
    if (p < e && *p == '.') {
        p++;
        if (!take_digits(&p, e, &m, &frac_digits))
            return 0;
        exp10 = -frac_digits;
    }
    if (int_digits + frac_digits == 0)
        return 0;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0, ev = 0, edigits = 0;
        if (p < e && (*p == '-' || *p == '+'))
            eneg = *p++ == '-';
        for (; p < e && (unsigned)(*p - '0') < 10; p++, edigits++) {
            if (ev > 10000)
                return 0;
            ev = ev * 10 + (*p - '0');
        }
        if (edigits == 0)
            return 0;
        exp10 += eneg ? -ev : ev;
    }
    if (p != e)
        return 0;
    double v;
    if (m == 0) {
        v = 0.0;
    } else if (m <= (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        v = exp10 < 0 ? (double)m / pow10_d[-exp10] : (double)m * pow10_d[exp10];
    } else if (exp10 < 0 && exp10 >= -19) {
        if (!div_rounded(m, pow10_u[-exp10], &v))
            return 0;
    } else if (exp10 >= 0 && exp10 <= 19) {
        unsigned __int128 big = (unsigned __int128)m * pow10_u[exp10];
        v = (double)big; /* libgcc converts 128-bit integers correctly rounded */
    } else {
        return 0;
    }
    *out = neg ? -v : v;
    return 1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int parse_number_l(const char *s, locale_t loc, double *out)
{
    while (is_blank(*s))
        s++;
    if (*s == '\0')
        return 0;
    /* strtod also takes hex ("0x1f"); identifiers and hashes look like that,
     * so a column of them must stay STRING. */
    if (strpbrk(s, "xX"))
        return 0;
    char *end;
    double v = strtod_l(s, &end, loc);
    if (end == s)
        return 0;
    while (is_blank(*end))
        end++;
    if (*end != '\0')
        return 0;
    *out = v;
    return 1;
}

int tt_csv_number(const char *s, size_t len, double *out)
{
    if (parse_plain(s, len, out))
        return 1;
    locale_t loc = tt_csv_c_locale();
    if (loc == (locale_t)0 || memchr(s, '\0', len))
        return 0;
    char small[64];
    char *buf = len < sizeof small ? small : malloc(len + 1);
    if (!buf)
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    int ok = parse_number_l(buf, loc, out);
    if (buf != small)
        free(buf);
    return ok;
}

int tt_csv_parse_number(const char *s, double *out)
{
    if (!s)
        return 0;
    return tt_csv_number(s, strlen(s), out);
}

void tt_csv_format_number(double v, char *buf, size_t len)
{
    if (!buf || len == 0)
        return;
    if (v == 0.0)
        v = 0.0; /* print -0 as "0": it is the same arm */
    locale_t loc = tt_csv_c_locale();
    locale_t old = loc ? uselocale(loc) : (locale_t)0;
    /* Shortest text that reads back as the same double, so 2.5 stays "2.5"
     * rather than "2.5000000000000000". */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (prec == 17 || !isfinite(v) || strtod(buf, NULL) == v)
            break;
    }
    if (loc)
        uselocale(old);
}
