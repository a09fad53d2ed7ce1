/*
 * example_shrunk_diff.c - a complete tautune estimator plugin, built out of
 * tree against the installed headers only: the plugin template (README.md
 * next to this file says how to copy, rename and build it; plugins.md in
 * tautune's documentation is the guide).
 *
 * What it estimates: a constant effect per arm, the difference of the
 * (weighted) outcome means of arm k and the control arm 0, shrunk toward zero
 * by the hyperparameter `shrink`:
 *
 *     tau_k = (1 - shrink) * (mean_k - mean_0),   k = 1..K-1
 *
 * shrink = 0 is the plain difference in means; shrink = 1 always says "no
 * effect". The search tunes it like any other hyperparameter.
 *
 * What it shows a plugin author:
 *  - the only include is <tautune/plugin.h> (plus libc), and nothing from
 *    tautune is linked: the host hands everything over in tt_plugin_host;
 *  - all memory comes from host->alloc* and goes back through host->release;
 *  - long loops poll host->should_stop and return TT_ERR_STOPPED;
 *  - errors are written into (err, errlen) and returned as a tt_status;
 *  - SAVE_LOAD: the fitted state is written as a few lines of text and read
 *    back through the host's byte streams;
 *  - no effect_interval: the host makes bootstrap intervals by refitting it
 *    on resamples (add TT_PLUGIN_CAP_INTERVALS and the callback to give
 *    your own).
 */
#include <math.h> /* isfinite: a macro, so no libm to link */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tautune/plugin.h>

#define PLUGIN_NAME "example_shrunk_diff"
#define FORMAT_VERSION 1

/* Index of each hyperparameter in the schema, and so in create()'s params[]. */
enum { P_SHRINK, N_PARAMS };

static const tt_plugin_param schema[N_PARAMS] = {
    [P_SHRINK] = {.name = "shrink",
                  .kind = TT_PARAM_REAL,
                  .lo = 0.0,
                  .hi = 1.0,
                  .default_value = 0.0,
                  .help = "fraction by which each mean difference is pulled toward 0"},
};

typedef struct model {
    const tt_plugin_host *host; /* valid until destroy; owns our memory */
    int n_arms;
    double shrink;
    int fitted;
    double *tau; /* n_arms - 1 effects, arm k at tau[k - 1] */
} model;

/* Allocates the instance and its effect array in one place so that create
 * and load cannot drift apart. */
static model *model_new(const tt_plugin_host *host, int n_arms, double shrink)
{
    model *m = host->alloc_zero(1, sizeof *m);
    if (!m)
        return NULL;
    m->tau = host->alloc_zero((size_t)n_arms - 1, sizeof *m->tau);
    if (!m->tau) {
        host->release(m);
        return NULL;
    }
    m->host = host;
    m->n_arms = n_arms;
    m->shrink = shrink;
    return m;
}

static void sd_destroy(void *instance)
{
    model *m = instance;
    if (!m)
        return;
    const tt_plugin_host *host = m->host;
    host->release(m->tau);
    host->release(m);
}

static int sd_create(const tt_plugin_host *host, const double *params, int n_arms,
                     void **instance, char *err, size_t errlen)
{
    if (n_arms < 2) {
        snprintf(err, errlen, "needs at least 2 arms, got %d", n_arms);
        return TT_ERR_INVALID;
    }
    /* The host validated params against the schema; no range check here. */
    model *m = model_new(host, n_arms, params[P_SHRINK]);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return TT_ERR_NOMEM;
    }
    *instance = m;
    return TT_OK;
}

static int sd_fit(void *instance, const tt_plugin_data *train, char *err, size_t errlen)
{
    model *m = instance;
    const tt_plugin_host *host = m->host;
    if (!train->t || !train->y) {
        snprintf(err, errlen, "training rows need treatment and outcome");
        return TT_ERR_INVALID;
    }
    if (train->n_arms != m->n_arms) {
        snprintf(err, errlen, "data has %d arms but the instance was created for %d",
                 train->n_arms, m->n_arms);
        return TT_ERR_INVALID;
    }

    size_t k = (size_t)m->n_arms;
    double *sum = host->alloc_zero(k, sizeof *sum);
    double *wsum = host->alloc_zero(k, sizeof *wsum);
    int status = TT_OK;
    if (!sum || !wsum) {
        snprintf(err, errlen, "out of memory");
        status = TT_ERR_NOMEM;
        goto done;
    }

    for (size_t i = 0; i < train->n; i++) {
        /* Polling every row would cost more than the work itself. */
        if (i % 65536 == 65535 && host->should_stop(host->host_ctx)) {
            snprintf(err, errlen, "stopped by the host");
            status = TT_ERR_STOPPED;
            goto done;
        }
        int arm = train->t[i];
        if (arm < 0 || arm >= m->n_arms) {
            snprintf(err, errlen, "row %zu: arm %d outside 0..%d", i, arm, m->n_arms - 1);
            status = TT_ERR_DATA;
            goto done;
        }
        double w = train->weight ? train->weight[i] : 1.0;
        sum[arm] += w * train->y[i];
        wsum[arm] += w;
    }

    for (size_t a = 0; a < k; a++) {
        if (!(wsum[a] > 0)) {
            snprintf(err, errlen, "arm %zu has no training rows (or zero total weight)", a);
            status = TT_ERR_DATA;
            goto done;
        }
    }
    double mean0 = sum[0] / wsum[0];
    for (size_t a = 1; a < k; a++)
        m->tau[a - 1] = (1.0 - m->shrink) * (sum[a] / wsum[a] - mean0);
    m->fitted = 1;
    host->log(host->host_ctx, TT_LOG_DEBUG, "fitted %zu rows, %zu arms, shrink %g", train->n, k,
              m->shrink);

done:
    host->release(sum);
    host->release(wsum);
    return status;
}

static int sd_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                     size_t errlen)
{
    const model *m = instance;
    if (!m->fitted) {
        snprintf(err, errlen, "effect() called before fit()");
        return TT_ERR_INVALID;
    }
    /* Constant effect: every row of column k-1 gets tau_k. */
    for (int a = 1; a < m->n_arms; a++) {
        double *col = out + (size_t)(a - 1) * rows->n;
        for (size_t i = 0; i < rows->n; i++)
            col[i] = m->tau[a - 1];
    }
    return TT_OK;
}

/* ---- save / load ------------------------------------------------------------
 *
 * Format (text, one item per line, doubles as %.17g so they round-trip):
 *     example_shrunk_diff 1
 *     n_arms K
 *     shrink S
 *     tau T1
 *     ...            (K - 1 tau lines)
 *     end
 * tautune runs in the C locale, so '.' is the decimal point on both sides.
 */

static int put_line(const tt_plugin_sink *sink, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int put_line(const tt_plugin_sink *sink, char *err, size_t errlen, const char *fmt, ...)
{
    char line[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) {
        snprintf(err, errlen, "internal error: save line too long");
        return TT_ERR_INVALID;
    }
    if (sink->write(sink->ctx, line, (size_t)n) != 0) {
        snprintf(err, errlen, "cannot write saved model");
        return TT_ERR_IO;
    }
    return TT_OK;
}

static int sd_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    const model *m = instance;
    if (!m->fitted) {
        snprintf(err, errlen, "save() called before fit()");
        return TT_ERR_INVALID;
    }
    int st = put_line(sink, err, errlen, "%s %d\n", PLUGIN_NAME, FORMAT_VERSION);
    if (!st)
        st = put_line(sink, err, errlen, "n_arms %d\n", m->n_arms);
    if (!st)
        st = put_line(sink, err, errlen, "shrink %.17g\n", m->shrink);
    for (int a = 1; a < m->n_arms && !st; a++)
        st = put_line(sink, err, errlen, "tau %.17g\n", m->tau[a - 1]);
    if (!st)
        st = put_line(sink, err, errlen, "end\n");
    return st;
}

/* The source hands out exact byte counts, with no notion of lines, so read
 * one byte at a time up to '\n'. Returns 0 on a complete line. */
static int get_line(const tt_plugin_source *source, char *line, size_t len)
{
    size_t n = 0;
    for (;;) {
        char c;
        if (source->read(source->ctx, &c, 1) != 0)
            return -1;
        if (c == '\n')
            break;
        if (n + 1 >= len)
            return -1;
        line[n++] = c;
    }
    line[n] = '\0';
    return 0;
}

/* Parses "<key> <number>" with nothing after the number. */
static int get_number(const tt_plugin_source *source, const char *key, double *value)
{
    char line[128];
    if (get_line(source, line, sizeof line) != 0)
        return -1;
    size_t klen = strlen(key);
    if (strncmp(line, key, klen) != 0 || line[klen] != ' ')
        return -1;
    char *end;
    *value = strtod(line + klen + 1, &end);
    return end == line + klen + 1 || *end != '\0' || !isfinite(*value) ? -1 : 0;
}

static int sd_load(const tt_plugin_host *host, const tt_plugin_source *source, void **instance,
                   char *err, size_t errlen)
{
    char line[128], magic[64];
    int version = 0;
    if (get_line(source, line, sizeof line) != 0 ||
        sscanf(line, "%63s %d", magic, &version) != 2 || strcmp(magic, PLUGIN_NAME) != 0) {
        snprintf(err, errlen, "not an %s saved model", PLUGIN_NAME);
        return TT_ERR_PARSE;
    }
    if (version != FORMAT_VERSION) {
        snprintf(err, errlen, "saved model format %d, this plugin reads %d", version,
                 FORMAT_VERSION);
        return TT_ERR_PARSE;
    }
    double arms, shrink;
    if (get_number(source, "n_arms", &arms) != 0 || arms < 2 || arms > 1e6 ||
        arms != (double)(int)arms || get_number(source, "shrink", &shrink) != 0 || shrink < 0 ||
        shrink > 1) {
        snprintf(err, errlen, "saved model: bad header");
        return TT_ERR_PARSE;
    }
    model *m = model_new(host, (int)arms, shrink);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return TT_ERR_NOMEM;
    }
    for (int a = 1; a < m->n_arms; a++) {
        if (get_number(source, "tau", &m->tau[a - 1]) != 0) {
            snprintf(err, errlen, "saved model: bad or missing effect of arm %d", a);
            sd_destroy(m);
            return TT_ERR_PARSE;
        }
    }
    if (get_line(source, line, sizeof line) != 0 || strcmp(line, "end") != 0) {
        snprintf(err, errlen, "saved model: missing end line");
        sd_destroy(m);
        return TT_ERR_PARSE;
    }
    m->fitted = 1;
    *instance = m;
    return TT_OK;
}

/* ---- the descriptor ---------------------------------------------------------- */

static const tt_plugin_descriptor descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = PLUGIN_NAME,
    .version = "1.0.0",
    .summary = "difference in arm means, shrunk toward zero by `shrink`",
    .capabilities = TT_PLUGIN_CAP_MULTI_ARM | TT_PLUGIN_CAP_SAVE_LOAD,
    .params = schema,
    .n_params = N_PARAMS,
    .create = sd_create,
    .fit = sd_fit,
    .effect = sd_effect,
    .save = sd_save,
    .load = sd_load,
    .destroy = sd_destroy,
};

/* The one exported symbol; everything else is hidden (-fvisibility=hidden
 * comes with `pkg-config --cflags tautune-plugin`). */
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &descriptor;
}
