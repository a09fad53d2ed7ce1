/* test_iv_data.h - the iv generator's data (core/data/gen.h) for the
 * instrumental-variable tests: the data set, its plugin view and the true
 * P(T = 1 | x, Z = z). Header-only, for the test programs. */
#ifndef TT_TEST_IV_DATA_H
#define TT_TEST_IV_DATA_H

#include <math.h>

#include "data/gen.h"
#include "tautune/plugin.h"

/* rows rows of `tautune gen iv --seed seed`; fails the test on error. */
static tt_dataset *test_iv_data(size_t rows, uint64_t seed)
{
    tt_gen_options opt;
    tt_gen_options_init(&opt);
    opt.rows = rows;
    opt.seed = seed;
    char err[256];
    tt_dataset *d = NULL;
    if (tt_gen_generate("iv", &opt, &d, err, sizeof err) != TT_OK)
        fail_msg("iv: %s", err);
    return d;
}

/* The training view a plugin gets: x, w, t, y and the instrument. */
static inline tt_plugin_data test_iv_view(const tt_dataset *d)
{
    return (tt_plugin_data){.struct_size = sizeof(tt_plugin_data), .n = d->n, .p_x = d->p_x,
                            .p_w = d->p_w, .x = d->x, .w = d->w, .t = d->t, .y = d->y,
                            .n_arms = 2, .x_names = (const char *const *)d->x_names,
                            .w_names = (const char *const *)d->w_names, .p_z = d->p_z,
                            .z = d->z, .z_names = (const char *const *)d->z_names};
}

/* gen.h: P(T = 1 | x, Z = z) = Phi((-0.5 + 1.5 z + 0.5 x1) / sqrt 2). */
static inline double test_iv_true_pz(const tt_dataset *d, size_t i, int z)
{
    return 0.5 * erfc(-(-0.5 + 1.5 * z + 0.5 * d->x[i]) / 2.0);
}

#endif
