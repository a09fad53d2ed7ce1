/* pu_final_model.c - callbacks of plugins that are one final stage
 * (pu_final_model.h). */
#include "pu_final_model.h"

#include <string.h>

#include "pu.h"
#include "pu_plugin.h"

/* An unfitted instance: host, name, save version, arms; NULL when out of memory. */
static pu_final_model *alloc_model(const tt_plugin_host *host, const char *name,
                                   int save_version, int n_arms)
{
    pu_final_model *m = host->alloc_zero(1, sizeof *m);
    if (m) {
        m->host = host;
        m->name = name;
        m->save_version = save_version;
        m->n_arms = n_arms;
    }
    return m;
}

int pu_final_model_create(const tt_plugin_host *host, const char *name, int save_version,
                          const tt_plugin_param *schema, size_t n_params, const double *params,
                          int n_arms, void **instance, char *err, size_t errlen)
{
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, "%s: need at least 2 arms, got %d", name,
                       n_arms);
    if (n_params > PU_FINAL_MODEL_MAX_PARAMS)
        return pu_errf(err, errlen, TT_ERR_INVALID, "%s: %zu parameters, at most %d", name,
                       n_params, PU_FINAL_MODEL_MAX_PARAMS);
    int rc = pu_check_params(name, schema, n_params, params, err, errlen);
    if (rc)
        return rc;
    pu_final_model *m = alloc_model(host, name, save_version, n_arms);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    memcpy(m->params, params, n_params * sizeof *params);
    *instance = m;
    return TT_OK;
}

void pu_final_model_destroy(void *instance)
{
    pu_final_model *m = instance;
    if (!m)
        return;
    pu_final_free(m->final);
    m->host->release(m);
}

static int check_rows(const pu_final_model *m, const tt_plugin_data *rows, char *err,
                      size_t errlen)
{
    return pu_check_rows(m->name, m->final != NULL, m->p_x, rows, err, errlen);
}

int pu_final_model_effect(void *instance, const tt_plugin_data *rows, double *out, char *err,
                          size_t errlen)
{
    pu_final_model *m = instance;
    int rc = check_rows(m, rows, err, errlen);
    return rc ? rc : pu_final_effect(m->final, rows, out, err, errlen);
}

int pu_final_model_interval(void *instance, const tt_plugin_data *rows, double alpha,
                            double *lo, double *hi, char *err, size_t errlen)
{
    pu_final_model *m = instance;
    int rc = check_rows(m, rows, err, errlen);
    if (rc == TT_OK)
        rc = pu_check_alpha(alpha, err, errlen);
    return rc ? rc : pu_final_interval(m->final, rows, alpha, lo, hi, err, errlen);
}

int pu_final_model_average(void *instance, const tt_plugin_data *rows, double alpha,
                           double *ate, double *lo, double *hi, char *err, size_t errlen)
{
    pu_final_model *m = instance;
    int rc = check_rows(m, rows, err, errlen);
    if (rc == TT_OK)
        rc = pu_check_alpha(alpha, err, errlen);
    return rc ? rc : pu_final_average(m->final, rows, alpha, ate, lo, hi, err, errlen);
}

int pu_final_model_save(void *instance, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    pu_final_model *m = instance;
    if (!m->final)
        return pu_errf(err, errlen, TT_ERR_INVALID, "%s: not fitted", m->name);
    int rc = pu_save_header(sink, m->name, m->save_version, m->n_arms, m->p_x, err, errlen);
    return rc ? rc : pu_final_save(m->final, sink, err, errlen);
}

int pu_final_model_load(const tt_plugin_host *host, const char *name, int save_version,
                        const tt_plugin_source *src, void **instance, char *err,
                        size_t errlen)
{
    int arms;
    size_t p_x;
    int rc = pu_load_header(src, name, save_version, &arms, &p_x, err, errlen);
    if (rc)
        return rc;
    pu_final_model *m = alloc_model(host, name, save_version, arms);
    if (!m)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    m->p_x = p_x;
    rc = pu_final_load(host, src, &m->final, err, errlen);
    if (rc) {
        pu_final_model_destroy(m);
        return rc;
    }
    *instance = m;
    return TT_OK;
}
