/*
 * gen.h - the family of seeded synthetic data generators (DGPs) with every
 * truth column, for tests, examples and benchmarks.
 *
 * Common draws, per row in this order: x_1..x_p ~ N(0,1) (p = 5 unless
 * options.p_x says otherwise; only x_1, x_2 matter), w_1, w_2 ~ N(0,1), then
 * the DGP's own draws in the order listed. sigma(s) = 1/(1+exp(-s)); for K
 * arms, P(T = k) = softmax_k(s_k) with s_0 = 0. tau_k is the effect of arm k
 * versus arm 0, mu0 = E[Y(0) | x, w] (the baseline potential outcome), and
 * e_k = P(T = k | x, w[, z]).
 *
 *  synthetic            the built-in default (synth.h), unchanged.
 *  rct_linear           T uniform over K arms; tau_k = k (1 + 0.5 x_1);
 *                       Y = x_2 + 0.5 w_1 + tau_T + N(0,1).
 *  rct_nonlinear        T uniform; tau_k = k (sin(2 x_1) + 0.5 x_2^2);
 *                       Y = x_2 + 0.5 w_1 + tau_T + N(0,1).
 *  confounded_linear    s_k = 0.8 x_1 + 0.8 w_1 + 0.2 (k - 1); tau_k = k (1 + 0.5 x_1);
 *                       Y = x_2 + w_1 + tau_T + N(0,1)   (naive contrast biased up).
 *  confounded_nonlinear s_k = x_1 w_1 + 0.5 w_2 - 0.25 + 0.2 (k - 1);
 *                       tau_k = k (1 + max(x_1, 0) + 0.5 sin(pi x_2));
 *                       Y = x_2 + w_1 + 0.5 w_2^2 + tau_T + N(0,1).
 *  known_propensity     partially random assignment: e = 0.5 u + 0.5 softmax(s),
 *                       u uniform over arms, s_k = 1.2 x_1 + 0.6 w_1 + 0.2 (k - 1);
 *                       the design's e_k is written as p0..p_{K-1} (use as data.propensity);
 *                       tau_k = k (1 + 0.5 x_1); Y = x_2 + w_1 + tau_T + N(0,1).
 *  iv                   binary only. Z ~ Bernoulli(0.5) (randomized instrument),
 *                       U ~ N(0,1) unobserved (not written), e_noise ~ N(0,1):
 *                       T = 1{-0.5 + 1.5 Z + 0.5 x_1 + U + e_noise > 0} (non-compliance);
 *                       tau = 1 + 0.5 x_1; Y = x_2 + w_1 + tau T + U + N(0,1).
 *                       e_1 = Phi((-0.5 + 1.5 Z + 0.5 x_1) / sqrt 2). U confounds T and Y,
 *                       so only Z identifies the effect (LATE for compliers).
 *  pricing              a continuous treatment (t_value; dataset.h): T = log price,
 *                       T = 0.4 x_1 + 0.6 w_1 + 0.3 w_2 + 0.7 N(0,1) (discounts go to
 *                       low-w_1 customers, who also buy less: confounded);
 *                       theta(x) = -1 - 0.5 x_1 + 0.3 (x_2^2 - 1) (the price elasticity,
 *                       mean -1; column tau1); Y = log demand =
 *                       2 + 0.5 x_2 + w_1 + 0.5 w_2^2 + theta(x) T + N(0,1);
 *                       mu0 = E[Y | x, w, T = 0]; t_mean = E[T | x, w]. arms must be 2.
 * Draw order after x, w: rct_*: the arm's uniform, the noise; confounded_* and
 * known_propensity: the arm's uniform, the noise; iv: Z's uniform, U, e_noise,
 * the noise; pricing: the price's noise, the noise. CSV columns
 * (tt_gen_write_csv): y, t, [z,] x1..x_p, w1, w2, tau1..tau_{K-1},
 * e0..e_{K-1}, [p0..p_{K-1},] mu0; pricing: y, t (the log price), x1..x_p,
 * w1, w2, tau1, mu0, t_mean.
 */
#ifndef TT_DATA_GEN_H
#define TT_DATA_GEN_H

#include <stdio.h>

#include "data/synth.h"

typedef struct tt_gen_options {
    size_t rows;    /* >= 10 */
    int arms;       /* K in [2, 16] (iv: 2) */
    uint64_t seed;
    size_t p_x;     /* effect modifiers written, >= 2 (0 = 5); synthetic: always 5 */
} tt_gen_options;

void tt_gen_options_init(tt_gen_options *opt); /* 4000 rows, 2 arms, seed 1, p_x 5 */

/* NULL-terminated list of generator names. */
const char *const *tt_gen_names(void);
int tt_gen_known(const char *name);
/* One line: what the DGP is (for `tautune gen --help`). */
const char *tt_gen_summary(const char *name);

tt_status tt_gen_generate(const char *name, const tt_gen_options *opt, tt_dataset **out,
                          char *err, size_t errlen);

/* pricing: the true E[T | x, w] of row i of a pricing dataset (its t_mean column). */
double tt_gen_pricing_price_mean(const tt_dataset *ds, size_t i);

/* Columns as in the header comment; numbers in %.17g (exact), C locale. */
tt_status tt_gen_write_csv(const tt_dataset *ds, FILE *fp, char *err, size_t errlen);

#endif
