/*
 * synth.h - the built-in synthetic data generator (the embedded default).
 *
 * "synthetic" DGP, seeded, with known effects, confounded assignment and a
 * nonlinear effect:
 *   x_1..x_5 ~ N(0, 1)             effect modifiers, columns "x1".."x5"
 *   w_1, w_2 ~ N(0, 1)             common causes, columns "w1","w2"
 *   binary:  e(x, w) = logistic(0.8 x_1 + 0.6 w_1)
 *   K arms:  P(T = k) = softmax_k(s_k), s_0 = 0, s_k = 0.8 x_1 + 0.6 w_1 + 0.2 (k - 1)
 *   tau_k(x) = k * (1 + x_1 + 0.5 x_2^2 - 0.5)  (mean 1 * k, nonlinear in x_2)
 *   Y = 0.5 x_3 + w_1 + 0.5 w_2 + tau_T(x) + N(0, 1)     (tau_0 = 0)
 * Columns of the equivalent CSV: y, t, x1..x5, w1, w2, tau1..tau_{K-1}.
 * Confounding: w_1 raises both Y and the chance of treatment, and x_1 raises
 * both the chance of treatment and the effect, so the naive difference in
 * means is biased upward (about 1.8 against a true ATE of 1 for K = 2).
 * Draw order (fixes the numbers a seed gives): per row, x_1..x_5, w_1, w_2,
 * one uniform for the arm (inverse CDF over arms 0..K-1), then the noise.
 */
#ifndef TT_DATA_SYNTH_H
#define TT_DATA_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"

typedef struct tt_synth_options {
    size_t rows;    /* >= 10 */
    int arms;       /* K in [2, 16] */
    uint64_t seed;
} tt_synth_options;

/* Defaults: 4000 rows, 2 arms, seed 1. */
void tt_synth_options_init(tt_synth_options *opt);

/* Generate by name ("synthetic" is the only one today). Unknown names and
 * out-of-range options are TT_ERR_CONFIG. */
tt_status tt_synth_generate(const char *name, const tt_synth_options *opt, tt_dataset **out,
                            char *err, size_t errlen);

#endif
