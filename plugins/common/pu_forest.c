/* pu_forest.c - the forest plugins' shared pieces (see pu_forest.h). */
#include "pu_forest.h"

#include <stddef.h>

#include <math.h>
#include <string.h>

#include "pu.h"

void pu_forest_read(const double *params, size_t first, pu_forest_cfg *cfg)
{
    const double *v = params + first;
    cfg->trees = (size_t)v[0];
    cfg->min_node_size = (size_t)v[1];
    cfg->sample_fraction = v[2];
    cfg->mtry_share = v[3];
    cfg->honesty = v[4] != 0;
    cfg->honesty_fraction = v[5];
    cfg->alpha = v[6];
}

void pu_forest_options(const pu_forest_cfg *cfg, size_t p, tt_forest_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
    opt->n_trees = cfg->trees;
    opt->sample_fraction = cfg->sample_fraction;
    opt->honesty = cfg->honesty ? 1 : 2;
    opt->honesty_fraction = cfg->honesty_fraction;
    opt->min_node_size = cfg->min_node_size;
    /* alpha 0 would read as "grf's default 0.05"; the engine takes a negative
     * value as 0, which is what a schema value of 0 means. */
    opt->alpha = cfg->alpha > 0 ? cfg->alpha : -1.0;
    if (cfg->mtry_share > 0 && p > 0) {
        size_t m = (size_t)ceil(cfg->mtry_share * (double)p);
        opt->mtry = m < 1 ? 1 : (m > p ? p : m);
    }
    opt->ci_group_size = 2;
    opt->threads = PU_FOREST_THREADS;
}

int pu_forest_check_host(const tt_plugin_host *host, const char *name, char *err, size_t errlen)
{
    if (host->abi_minor < 3 ||
        host->struct_size < offsetof(tt_plugin_host, forest_destroy) + sizeof host->forest_destroy ||
        !host->forest_fit || !host->forest_predict || !host->forest_save || !host->forest_load ||
        !host->forest_destroy)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       "%s needs a host with forests (plugin ABI 1.3 or newer; this host is 1.%u)",
                       name, (unsigned)host->abi_minor);
    return TT_OK;
}

int pu_forest_bounds(size_t m, const double *est, const double *var, double alpha, double *lo,
                     double *hi, char *err, size_t errlen)
{
    double z = pu_normal_quantile(1.0 - alpha / 2.0);
    for (size_t i = 0; i < m; i++) {
        if (isnan(var[i]))
            return pu_errf(err, errlen, TT_ERR_NUMERIC,
                           "the forest gave no variance estimate (no variance groups)");
        double s = var[i] > 0 ? sqrt(var[i]) : 0.0;
        lo[i] = est[i] - z * s;
        hi[i] = est[i] + z * s;
    }
    return TT_OK;
}

/* ---- save / load: the forest's bytes measured in memory first ---- */

typedef struct fbuf {
    const tt_plugin_host *host;
    char *data;
    size_t len, cap, pos;
} fbuf;

static int fbuf_write(void *ctx, const void *bytes, size_t len)
{
    fbuf *b = ctx;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len)
            cap *= 2;
        char *grown = b->host->resize(b->data, cap);
        if (!grown)
            return -1;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, len);
    b->len += len;
    return 0;
}

static int fbuf_read(void *ctx, void *bytes, size_t len)
{
    fbuf *b = ctx;
    if (len > b->len - b->pos)
        return -1;
    memcpy(bytes, b->data + b->pos, len);
    b->pos += len;
    return 0;
}

int pu_forest_save(const tt_plugin_host *host, const tt_forest *forest,
                   const tt_plugin_sink *sink, char *err, size_t errlen)
{
    fbuf b = {.host = host};
    tt_plugin_sink bs = {.struct_size = sizeof bs, .ctx = &b, .write = fbuf_write};
    int rc = host->forest_save(forest, &bs, err, errlen);
    if (rc == TT_OK && (pu_writef(sink, "forest %zu\n", b.len) != 0 ||
                        sink->write(sink->ctx, b.data, b.len) != 0))
        rc = pu_errf(err, errlen, TT_ERR_IO, "cannot write the saved forest");
    host->release(b.data);
    return rc;
}

int pu_forest_load(const tt_plugin_host *host, const tt_plugin_source *src, tt_forest **out,
                   char *err, size_t errlen)
{
    long len;
    *out = NULL;
    if (pu_read_long(src, "forest", &len) != 0 || len < 0)
        return pu_errf(err, errlen, TT_ERR_PARSE, "saved model: expected 'forest <bytes>'");
    fbuf b = {.host = host, .len = (size_t)len, .cap = (size_t)len};
    b.data = host->alloc((size_t)len + 1);
    if (!b.data)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    int rc;
    if (src->read(src->ctx, b.data, (size_t)len) != 0) {
        rc = pu_errf(err, errlen, TT_ERR_PARSE, "saved model: forest truncated");
    } else {
        tt_plugin_source bs = {.struct_size = sizeof bs, .ctx = &b, .read = fbuf_read};
        rc = host->forest_load(host->host_ctx, &bs, out, err, errlen);
    }
    host->release(b.data);
    return rc;
}

int pu_forest_importance(const tt_plugin_host *host, const tt_forest *forest, double *out,
                         size_t p, char *err, size_t errlen)
{
    if (host->abi_minor < 9 ||
        host->struct_size < offsetof(tt_plugin_host, forest_variable_importance) +
                                sizeof host->forest_variable_importance ||
        !host->forest_variable_importance)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED, "the host gives no forest variable "
                       "importance (plugin ABI 1.9 needed, host has 1.%u)",
                       (unsigned)host->abi_minor);
    if (!forest)
        return pu_errf(err, errlen, TT_ERR_INVALID, "not fitted");
    return host->forest_variable_importance(forest, out, p, err, errlen);
}
