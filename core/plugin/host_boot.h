/*
 * host_boot.h - bootstrap intervals made by the host for a plugin that has
 * none of its own: no effect_interval, no average_effect, not a line of the
 * plugin's code.
 *
 * The host refits the plugin B times through its own descriptor (create
 * with the trial's parameters, fit on a resample of the training rows) and
 * asks each replica for its effects. Resamples are n draws with
 * replacement, stratified by arm (every arm keeps its row count, so no
 * replica loses one; a continuous treatment is resampled whole), seeded
 * from the caller's seed, replica b's draw depending on (seed, b) only.
 * Intervals are normal-approximation bootstrap intervals around the
 * plugin's own point estimate, tau_hat(x) +- z_{1-alpha/2} sd_b(tau_b(x)),
 * the rule the built-ins' kit uses (plugins/common/pu_boot.h), so intervals
 * read the same whoever makes them; the average effect is the mean of the
 * point effects +- z sd_b of each replica's mean effect over the rows.
 * Method text: "bootstrap by the host (normal, B refits)".
 *
 * Which plugins: those without TT_PLUGIN_CAP_INTERVALS that need none of
 * the run's nuisance models (tt_host_boot_applies). A plugin that reads the
 * host's out-of-fold nuisances gets values for the training rows, which a
 * resample reorders and repeats: refitting it on one would be wrong, so it
 * gets no host intervals (and the run says it has none, as before).
 *
 * The replicas live in the instance's process (a trial's or a refit's
 * worker): a plugin crash while fitting one costs that worker's job, as
 * any of the plugin's own calls would. should_stop (the host table's) is
 * polled between replicas; stopped after two or more, the intervals use
 * those fitted (the method text says how many).
 */
#ifndef TT_PLUGIN_HOST_BOOT_H
#define TT_PLUGIN_HOST_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "tautune/plugin.h"

#define TT_HOST_BOOT_DEFAULT_RESAMPLES 30
#define TT_HOST_BOOT_MAX_RESAMPLES 10000

typedef struct tt_host_boot tt_host_boot;

/* Whether the host bootstraps d (see above). */
int tt_host_boot_applies(const tt_plugin_descriptor *d);

/* Fit the replicas of d with params on resamples of train (the rows the
 * point instance was fitted on). host: the table replicas are created with
 * (valid until tt_host_boot_free). resamples 0: the default.
 * TT_ERR_STOPPED when stopped before two replicas; the plugin's own error,
 * prefixed "bootstrap replica b: ", when one fails. */
tt_status tt_host_boot_fit(const tt_plugin_descriptor *d, const tt_plugin_host *host,
                           const double *params, const tt_plugin_data *train,
                           size_t resamples, uint64_t seed, tt_host_boot **out, char *err,
                           size_t errlen);
void tt_host_boot_free(tt_host_boot *b); /* NULL-safe */

/* Row intervals: point is the plugin's own effect on rows (rows->n x (K-1),
 * column-major); lo and hi shaped alike. */
tt_status tt_host_boot_interval(const tt_host_boot *b, const tt_plugin_data *rows,
                                const double *point, double alpha, double *lo, double *hi,
                                char *err, size_t errlen);

/* Average effect per treated arm over rows: ate, lo, hi hold K-1 values;
 * point as for tt_host_boot_interval. */
tt_status tt_host_boot_average(const tt_host_boot *b, const tt_plugin_data *rows,
                               const double *point, double alpha, double *ate, double *lo,
                               double *hi, char *err, size_t errlen);

/* "bootstrap by the host (normal, B refits)": static storage in b. */
const char *tt_host_boot_method(const tt_host_boot *b);

#endif
