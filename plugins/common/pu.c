/* pu.c - helpers shared by the built-in plugins. */
#include "pu.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pu_errf(char *err, size_t errlen, int status, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return status;
}

/* The process locale may use ',' as the decimal mark; saved models must not
 * depend on it, so formatting and parsing switch the thread to "C". */
static locale_t g_c_locale;

static void make_c_locale(void)
{
    g_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static locale_t c_locale(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_c_locale);
    return g_c_locale;
}

static int vwritef(const tt_plugin_sink *sink, const char *fmt, va_list ap)
{
    char small[512];
    locale_t old = uselocale(c_locale());
    va_list copy;
    va_copy(copy, ap);
    int len = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    int rc = -1;
    if (len >= 0 && (size_t)len < sizeof small) {
        rc = sink->write(sink->ctx, small, (size_t)len);
    } else if (len >= 0) {
        char *big = malloc((size_t)len + 1);
        if (big) {
            vsnprintf(big, (size_t)len + 1, fmt, ap);
            rc = sink->write(sink->ctx, big, (size_t)len);
            free(big);
        }
    }
    uselocale(old);
    return rc;
}

int pu_writef(const tt_plugin_sink *sink, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vwritef(sink, fmt, ap);
    va_end(ap);
    return rc;
}

int pu_write_doubles(const tt_plugin_sink *sink, const char *key, const double *v, size_t n)
{
    if (pu_writef(sink, "%s", key) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (pu_writef(sink, " %.17g", v[i]) != 0)
            return -1;
    return pu_writef(sink, "\n");
}

int pu_read_line(const tt_plugin_source *src, char *buf, size_t len)
{
    size_t i = 0;
    for (;;) {
        char c;
        if (src->read(src->ctx, &c, 1) != 0)
            return -1;
        if (c == '\n')
            break;
        if (i + 1 >= len)
            return -1;
        buf[i++] = c;
    }
    buf[i] = '\0';
    return 0;
}

/* Lines holding many doubles can be long: read them into a growing buffer. */
static char *read_long_line(const tt_plugin_source *src)
{
    size_t cap = 256, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        char c;
        if (src->read(src->ctx, &c, 1) != 0) {
            free(buf);
            return NULL;
        }
        if (c == '\n') {
            buf[n] = '\0';
            return buf;
        }
        if (n + 1 >= cap) {
            char *grown = realloc(buf, cap *= 2);
            if (!grown)
                free(buf);
            buf = grown;
            if (!buf)
                return NULL;
        }
        buf[n++] = c;
    }
    return NULL;
}

const char *const pu_featurizers[] = {"none", "poly2", NULL};

int pu_read_doubles_upto(const tt_plugin_source *src, const char *key, double *v, size_t n_min,
                         size_t n_max, size_t *n_read)
{
    char *line = read_long_line(src);
    if (!line)
        return -1;
    size_t klen = strlen(key);
    int rc = -1;
    if (strncmp(line, key, klen) == 0 && (line[klen] == ' ' || line[klen] == '\0')) {
        char *p = line + klen, *end;
        size_t i = 0;
        for (; i < n_max; i++) {
            v[i] = strtod_l(p, &end, c_locale());
            if (end == p)
                break;
            p = end;
        }
        while (*p == ' ')
            p++;
        if (i >= n_min && *p == '\0') {
            *n_read = i;
            rc = 0;
        }
    }
    free(line);
    return rc;
}

int pu_read_doubles(const tt_plugin_source *src, const char *key, double *v, size_t n)
{
    size_t got;
    return pu_read_doubles_upto(src, key, v, n, n, &got);
}

int pu_read_long(const tt_plugin_source *src, const char *key, long *v)
{
    char line[256], *end;
    size_t klen = strlen(key);
    if (pu_read_line(src, line, sizeof line) != 0 || strncmp(line, key, klen) != 0 ||
        line[klen] != ' ')
        return -1;
    *v = strtol(line + klen + 1, &end, 10);
    return (end == line + klen + 1 || *end != '\0') ? -1 : 0;
}

/* Growing in-memory buffer used to measure a learner's saved bytes. */
typedef struct membuf {
    const tt_plugin_host *host;
    char *data;
    size_t len, cap, pos;
} membuf;

static int membuf_write(void *ctx, const void *bytes, size_t len)
{
    membuf *m = ctx;
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 256;
        while (cap < m->len + len)
            cap *= 2;
        char *grown = m->host->resize(m->data, cap);
        if (!grown)
            return -1;
        m->data = grown;
        m->cap = cap;
    }
    memcpy(m->data + m->len, bytes, len);
    m->len += len;
    return 0;
}

static int membuf_read(void *ctx, void *bytes, size_t len)
{
    membuf *m = ctx;
    if (len > m->len - m->pos)
        return -1;
    memcpy(bytes, m->data + m->pos, len);
    m->pos += len;
    return 0;
}

int pu_save_learner(const tt_plugin_host *host, const tt_learner *l, const tt_plugin_sink *sink,
                    char *err, size_t errlen)
{
    membuf m = {.host = host};
    tt_plugin_sink ms = {.struct_size = sizeof ms, .ctx = &m, .write = membuf_write};
    int rc = host->learner_save(l, &ms, err, errlen);
    if (rc == 0 && (pu_writef(sink, "learner %zu\n", m.len) != 0 ||
                    sink->write(sink->ctx, m.data, m.len) != 0))
        rc = pu_errf(err, errlen, TT_ERR_IO, "cannot write the saved learner");
    host->release(m.data);
    return rc;
}

int pu_load_learner(const tt_plugin_host *host, const tt_plugin_source *src, tt_learner **out,
                    char *err, size_t errlen)
{
    long len;
    if (pu_read_long(src, "learner", &len) != 0 || len < 0)
        return pu_errf(err, errlen, TT_ERR_PARSE, "saved model: expected 'learner <bytes>'");
    membuf m = {.host = host, .len = (size_t)len, .cap = (size_t)len};
    m.data = host->alloc((size_t)len + 1);
    if (!m.data)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    int rc;
    if (src->read(src->ctx, m.data, (size_t)len) != 0) {
        rc = pu_errf(err, errlen, TT_ERR_PARSE, "saved model: learner truncated");
    } else {
        tt_plugin_source ms = {.struct_size = sizeof ms, .ctx = &m, .read = membuf_read};
        rc = host->learner_load(host->host_ctx, &ms, out, err, errlen);
    }
    host->release(m.data);
    return rc;
}

void pu_column_means(const double *m, size_t n, size_t p, double *out)
{
    for (size_t j = 0; j < p; j++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += m[j * n + i];
        out[j] = n ? s / (double)n : 0.0;
    }
}

double *pu_features_xw(const tt_plugin_host *host, const tt_plugin_data *rows, size_t p_w,
                       const double *w_fixed)
{
    size_t n = rows->n, p = rows->p_x + p_w;
    double *f = host->alloc(sizeof *f * (n * p + 1));
    if (!f)
        return NULL;
    if (rows->p_x)
        memcpy(f, rows->x, sizeof *f * n * rows->p_x);
    for (size_t j = 0; j < p_w; j++) {
        double *col = f + (rows->p_x + j) * n;
        for (size_t i = 0; i < n; i++)
            col[i] = w_fixed ? w_fixed[j] : rows->w[j * n + i];
    }
    return f;
}

double pu_normal_quantile(double p)
{
    double lo = -40, hi = 40;
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (0.5 * erfc(-mid / sqrt(2.0)) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}
