/*
 * pu.h - small helpers shared by the built-in plugins ("plugin utilities").
 *
 * Compiled into each built-in plugin (never exported, never part of the core):
 * it uses only the public ABI, exactly as a third party's helper code would.
 */
#ifndef TT_PLUGINS_PU_H
#define TT_PLUGINS_PU_H

#include <stddef.h>

#include <tautune/plugin.h>

/* Error helper: format into (err, errlen), return status. */
int pu_errf(char *err, size_t errlen, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Text lines on a sink/source. Doubles are written with %.17g under the C
 * locale so they read back bit for bit. */
int pu_writef(const tt_plugin_sink *sink, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int pu_write_doubles(const tt_plugin_sink *sink, const char *key, const double *v, size_t n);
/* Reads one line (without '\n') into buf; non-zero at end or if too long. */
int pu_read_line(const tt_plugin_source *src, char *buf, size_t len);
/* Reads a line "key v1 v2 ... vn"; non-zero if the key or count differs. */
int pu_read_doubles(const tt_plugin_source *src, const char *key, double *v, size_t n);
/* The same for a line of n_min..n_max values (a format that grew fields at
 * its end); *n_read says how many there were. */
int pu_read_doubles_upto(const tt_plugin_source *src, const char *key, double *v, size_t n_min,
                         size_t n_max, size_t *n_read);
/* Reads a line "key <integer>". */
int pu_read_long(const tt_plugin_source *src, const char *key, long *v);

/* Featurizer choices shared by every schema that offers one (the linear
 * final stages' phi, the learner slots): {"none", "poly2", NULL}. */
extern const char *const pu_featurizers[];

/* A host learner saved into the stream as "learner <bytes>\n" followed by its
 * bytes, so loading never depends on how much the learner's reader consumes. */
int pu_save_learner(const tt_plugin_host *host, const tt_learner *l, const tt_plugin_sink *sink,
                    char *err, size_t errlen);
int pu_load_learner(const tt_plugin_host *host, const tt_plugin_source *src, tt_learner **out,
                    char *err, size_t errlen);

/* Mean of each w column over the rows (for evaluating models at "typical" w).
 * out: p_w values. */
void pu_column_means(const double *m, size_t n, size_t p, double *out);

/* Column-major feature matrix [x | w] for rows, where the w block is either
 * rows' own w (w_fixed == NULL) or the constant row w_fixed. Allocated with
 * host->alloc; NULL on out of memory. */
double *pu_features_xw(const tt_plugin_host *host, const tt_plugin_data *rows,
                       size_t p_w, const double *w_fixed);



/* z with P(N(0,1) <= z) = p, for p in (0, 1) (bisection on erfc: slow but
 * exact to double precision, and only called once per interval request). */
double pu_normal_quantile(double p);
#endif
