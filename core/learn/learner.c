/*
 * learner.c - the shared half of every learner: hyperparameters, input
 * validation, prediction and the saved text format.
 *
 * Saved format (one item per line, '\n', C locale, doubles as %.17g so they
 * read back bit-identical):
 *   tautune-learner <name> <format_version>
 *   param <key> <value>        one per hyperparameter, in schema order
 *   seed <u64>
 *   p <features>
 *   intercept <b0>
 *   coef <b_j>                 p lines
 *   end
 * load() reads one byte at a time and stops right after "end", so a learner
 * can sit inside a larger stream (a plugin's saved model) without over-reading.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* newlocale, uselocale, strtod_l */
#endif
#include "learn/learner.h"

#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learner_impl.h"
#include "linalg/linalg.h"
#include "util/err.h"
#include "util/mem.h"

#define TAG "tautune-learner"
#define LINE_MAX_LEN 256

struct tt_learner {
    const tt_learner_ops *ops;
    double param[TT_LEARNER_MAX_PARAMS];
    uint64_t seed; /* unused by today's deterministic learners; kept for later ones */
    int fitted;
    size_t p;
    double intercept;
    double *coef; /* p values once fitted; NULL when p == 0 */
};

static const tt_learner_ops *const all_ops[] = {&tt_ridge_ops, &tt_logistic_ops};
#define N_OPS (sizeof all_ops / sizeof all_ops[0])

static const tt_learner_ops *find_ops(const char *name)
{
    for (size_t i = 0; i < N_OPS; i++)
        if (strcmp(all_ops[i]->name, name) == 0)
            return all_ops[i];
    return NULL;
}

static void list_names(char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_OPS && used < len; i++) {
        int k = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", all_ops[i]->name);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

static void list_keys(const tt_learner_ops *ops, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ops->n_params && used < len; i++) {
        int k = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", ops->params[i].name);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

static int find_param(const tt_learner_ops *ops, const char *key)
{
    for (size_t i = 0; i < ops->n_params; i++)
        if (strcmp(ops->params[i].name, key) == 0)
            return (int)i;
    return -1;
}

static tt_status check_param(const tt_learner_ops *ops, size_t idx, double v, tt_status status,
                             char *err, size_t errlen)
{
    const tt_learner_param_spec *s = &ops->params[idx];
    if (!isfinite(v) || v < s->lo || v > s->hi)
        return tt_errf(err, errlen, status, "%s: %s must be a finite number in [%g, %g], got %g",
                       ops->name, s->name, s->lo, s->hi, v);
    return TT_OK;
}

tt_status tt_learner_create(const char *name, const char *const *keys, const double *values,
                            size_t n_params, uint64_t seed, tt_learner **out,
                            char *err, size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "learner: out is NULL");
    *out = NULL;
    if (!name)
        return tt_errf(err, errlen, TT_ERR_INVALID, "learner: name is NULL");
    const tt_learner_ops *ops = find_ops(name);
    if (!ops) {
        char names[128];
        list_names(names, sizeof names);
        return tt_errf(err, errlen, TT_ERR_CONFIG, "unknown learner '%s'; valid names: %s", name,
                       names);
    }
    if (n_params > 0 && (!keys || !values))
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: %zu hyperparameters but keys or values "
                       "is NULL", ops->name, n_params);

    double param[TT_LEARNER_MAX_PARAMS];
    int seen[TT_LEARNER_MAX_PARAMS] = {0};
    for (size_t i = 0; i < ops->n_params; i++)
        param[i] = ops->params[i].default_value;
    for (size_t i = 0; i < n_params; i++) {
        if (!keys[i])
            return tt_errf(err, errlen, TT_ERR_INVALID, "%s: hyperparameter key %zu is NULL",
                           ops->name, i);
        int idx = find_param(ops, keys[i]);
        if (idx < 0) {
            char valid[128];
            list_keys(ops, valid, sizeof valid);
            return tt_errf(err, errlen, TT_ERR_CONFIG,
                           "%s: unknown hyperparameter '%s'; valid keys: %s", ops->name, keys[i],
                           valid);
        }
        if (seen[idx]++)
            return tt_errf(err, errlen, TT_ERR_CONFIG, "%s: hyperparameter '%s' given twice",
                           ops->name, keys[i]);
        tt_status st = check_param(ops, (size_t)idx, values[i], TT_ERR_CONFIG, err, errlen);
        if (st != TT_OK)
            return st;
        param[idx] = values[i];
    }

    tt_learner *l = calloc(1, sizeof *l);
    if (!l)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "%s: no memory", ops->name);
    l->ops = ops;
    memcpy(l->param, param, ops->n_params * sizeof param[0]);
    l->seed = seed;
    *out = l;
    return TT_OK;
}

static void forget_fit(tt_learner *l)
{
    free(l->coef);
    l->coef = NULL;
    l->fitted = 0;
    l->p = 0;
    l->intercept = 0.0;
}

static tt_status validate_inputs(const char *name, size_t n, size_t p, const double *x,
                                 const double *y, const double *w, double *w_sum,
                                 char *err, size_t errlen)
{
    if (n == 0)
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: fit needs at least one row", name);
    if ((p > 0 && !x) || !y)
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: x or y is NULL", name);
    tt_status st = tt_linalg_check_dims(n, p, err, errlen);
    if (st != TT_OK) {
        tt_err_prefix(err, errlen, "%s", name);
        return st;
    }
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < n; i++)
            if (!isfinite(x[j * n + i]))
                return tt_errf(err, errlen, TT_ERR_DATA,
                               "%s: x at row %zu, column %zu is not finite", name, i, j);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(y[i]))
            return tt_errf(err, errlen, TT_ERR_DATA, "%s: y at row %zu is not finite", name, i);
    double s = 0.0;
    if (w) {
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(w[i]) || w[i] < 0.0)
                return tt_errf(err, errlen, TT_ERR_DATA,
                               "%s: weight at row %zu is %g; weights must be finite and >= 0",
                               name, i, w[i]);
            s += w[i];
        }
    } else {
        s = (double)n;
    }
    if (!(s > 0.0) || !isfinite(s))
        return tt_errf(err, errlen, TT_ERR_DATA, "%s: the weights sum to %g; need a finite "
                       "positive total", name, s);
    *w_sum = s;
    return TT_OK;
}

tt_status tt_learner_fit(tt_learner *learner, size_t n, size_t p, const double *x,
                         const double *y, const double *weight, char *err, size_t errlen)
{
    if (!learner)
        return tt_errf(err, errlen, TT_ERR_INVALID, "learner: NULL learner");
    const char *name = learner->ops->name;
    forget_fit(learner);
    double w_sum = 0.0;
    tt_status st = validate_inputs(name, n, p, x, y, weight, &w_sum, err, errlen);
    if (st != TT_OK)
        return st;

    double *coef = NULL;
    if (p > 0 && !(coef = tt_malloc_array(p, sizeof *coef)))
        return tt_errf(err, errlen, TT_ERR_NOMEM, "%s: no memory for %zu coefficients", name, p);
    double b0 = 0.0;
    st = learner->ops->fit(learner->param, n, p, x, y, weight, w_sum, &b0, coef, err, errlen);
    if (st != TT_OK) {
        free(coef);
        tt_err_prefix(err, errlen, "%s", name);
        return st;
    }
    int finite = isfinite(b0);
    for (size_t j = 0; j < p && finite; j++)
        finite = isfinite(coef[j]);
    if (!finite) {
        free(coef);
        return tt_errf(err, errlen, TT_ERR_NUMERIC, "%s: the fit produced non-finite "
                       "coefficients", name);
    }
    learner->coef = coef;
    learner->p = p;
    learner->intercept = b0;
    learner->fitted = 1;
    return TT_OK;
}

tt_status tt_learner_predict(const tt_learner *learner, size_t n, size_t p, const double *x,
                             double *out, char *err, size_t errlen)
{
    if (!learner)
        return tt_errf(err, errlen, TT_ERR_INVALID, "learner: NULL learner");
    const char *name = learner->ops->name;
    if (!learner->fitted)
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: predict before a successful fit", name);
    if (p != learner->p)
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "%s: fitted on %zu features but asked to predict with %zu", name,
                       learner->p, p);
    if (n == 0)
        return TT_OK;
    if ((p > 0 && !x) || !out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: x or out is NULL", name);
    tt_status st = tt_linalg_check_dims(n, p, err, errlen);
    if (st != TT_OK) {
        tt_err_prefix(err, errlen, "%s", name);
        return st;
    }
    tt_linalg_affine(n, p, x, learner->intercept, learner->coef, out);
    if (learner->ops->inverse_link)
        learner->ops->inverse_link(n, out);
    return TT_OK;
}

/* ---- save ----------------------------------------------------------------- */

static tt_status emit(const tt_plugin_sink *sink, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static tt_status emit(const tt_plugin_sink *sink, char *err, size_t errlen, const char *fmt, ...)
{
    char line[LINE_MAX_LEN];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof line)
        return tt_errf(err, errlen, TT_ERR_INVALID, "learner save: line too long");
    if (sink->write(sink->ctx, line, (size_t)len) != 0)
        return tt_errf(err, errlen, TT_ERR_IO, "learner save: the sink refused %d bytes", len);
    return TT_OK;
}

static tt_status save_body(const tt_learner *l, const tt_plugin_sink *sink, char *err,
                           size_t errlen)
{
    const tt_learner_ops *ops = l->ops;
    tt_status st = emit(sink, err, errlen, TAG " %s %d\n", ops->name, ops->format_version);
    for (size_t i = 0; i < ops->n_params && st == TT_OK; i++)
        st = emit(sink, err, errlen, "param %s %.17g\n", ops->params[i].name, l->param[i]);
    if (st == TT_OK)
        st = emit(sink, err, errlen, "seed %" PRIu64 "\np %zu\nintercept %.17g\n", l->seed, l->p,
                  l->intercept);
    for (size_t j = 0; j < l->p && st == TT_OK; j++)
        st = emit(sink, err, errlen, "coef %.17g\n", l->coef[j]);
    if (st == TT_OK)
        st = emit(sink, err, errlen, "end\n");
    return st;
}

tt_status tt_learner_save(const tt_learner *learner, const tt_plugin_sink *sink,
                          char *err, size_t errlen)
{
    if (!learner || !sink || !sink->write)
        return tt_errf(err, errlen, TT_ERR_INVALID, "learner save: NULL learner or sink");
    if (!learner->fitted)
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: save before a successful fit",
                       learner->ops->name);
    /* The process locale may use a decimal comma; switch this thread only. */
    locale_t c_loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c_loc == (locale_t)0)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "learner save: cannot create the C locale");
    locale_t old = uselocale(c_loc);
    tt_status st = save_body(learner, sink, err, errlen);
    uselocale(old);
    freelocale(c_loc);
    return st;
}

/* ---- load ----------------------------------------------------------------- */

typedef struct reader {
    const tt_plugin_source *src;
    locale_t c_loc;
    size_t line_no;
    char line[LINE_MAX_LEN];
    char *err;
    size_t errlen;
} reader;

static tt_status parse_error(reader *r, const char *what)
{
    return tt_errf(r->err, r->errlen, TT_ERR_PARSE, "saved learner, line %zu: %s (got '%.60s')",
                   r->line_no, what, r->line);
}

static tt_status read_line(reader *r)
{
    size_t len = 0;
    r->line_no++;
    r->line[0] = '\0';
    for (;;) {
        char c;
        if (r->src->read(r->src->ctx, &c, 1) != 0)
            return tt_errf(r->err, r->errlen, TT_ERR_PARSE,
                           "saved learner, line %zu: unexpected end of data", r->line_no);
        if (c == '\n')
            break;
        if (len + 1 >= sizeof r->line) {
            r->line[len] = '\0';
            return parse_error(r, "line too long");
        }
        r->line[len++] = c;
        r->line[len] = '\0';
    }
    return TT_OK;
}

/* Reads a line "<keyword> <value>" and returns the value text in *rest. */
static tt_status read_item(reader *r, const char *keyword, const char **rest)
{
    tt_status st = read_line(r);
    if (st != TT_OK)
        return st;
    size_t k = strlen(keyword);
    if (strncmp(r->line, keyword, k) != 0 || r->line[k] != ' ' || r->line[k + 1] == '\0') {
        char what[64];
        snprintf(what, sizeof what, "expected '%s <value>'", keyword);
        return parse_error(r, what);
    }
    *rest = r->line + k + 1;
    return TT_OK;
}

static tt_status parse_double(reader *r, const char *s, double *out)
{
    char *end = NULL;
    double v = strtod_l(s, &end, r->c_loc);
    if (end == s || *end != '\0' || !isfinite(v))
        return parse_error(r, "expected a finite number");
    *out = v;
    return TT_OK;
}

static tt_status parse_u64(reader *r, const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0')
        return parse_error(r, "expected an unsigned integer");
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return parse_error(r, "expected an unsigned integer");
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return TT_OK;
}

static tt_status load_header(reader *r, const tt_learner_ops **ops)
{
    tt_status st = read_line(r);
    if (st != TT_OK)
        return st;
    const size_t k = strlen(TAG);
    if (strncmp(r->line, TAG " ", k + 1) != 0)
        return parse_error(r, "not a saved tautune learner");
    char *name = r->line + k + 1;
    char *space = strchr(name, ' ');
    if (!space)
        return parse_error(r, "expected '" TAG " <name> <version>'");
    *space = '\0';
    *ops = find_ops(name);
    if (!*ops) {
        char what[96];
        snprintf(what, sizeof what, "unknown learner '%.40s'", name);
        *space = ' ';
        return parse_error(r, what);
    }
    *space = ' ';
    uint64_t version = 0;
    st = parse_u64(r, space + 1, &version);
    if (st != TT_OK)
        return st;
    if (version != (uint64_t)(*ops)->format_version)
        return parse_error(r, "unsupported format version");
    return TT_OK;
}

static tt_status load_body(reader *r, tt_learner **out)
{
    const tt_learner_ops *ops = NULL;
    tt_status st = load_header(r, &ops);
    if (st != TT_OK)
        return st;
    tt_learner *l = calloc(1, sizeof *l);
    if (!l)
        return tt_errf(r->err, r->errlen, TT_ERR_NOMEM, "learner load: no memory");
    l->ops = ops;
    const char *rest = NULL;
    for (size_t i = 0; i < ops->n_params && st == TT_OK; i++) {
        st = read_item(r, "param", &rest);
        if (st != TT_OK)
            break;
        size_t klen = strlen(ops->params[i].name);
        if (strncmp(rest, ops->params[i].name, klen) != 0 || rest[klen] != ' ') {
            st = parse_error(r, "hyperparameters missing or out of order");
            break;
        }
        st = parse_double(r, rest + klen + 1, &l->param[i]);
        if (st == TT_OK && check_param(ops, i, l->param[i], TT_ERR_PARSE, NULL, 0) != TT_OK)
            st = parse_error(r, "hyperparameter out of range");
    }
    uint64_t u = 0;
    if (st == TT_OK && (st = read_item(r, "seed", &rest)) == TT_OK)
        st = parse_u64(r, rest, &l->seed);
    if (st == TT_OK && (st = read_item(r, "p", &rest)) == TT_OK &&
        (st = parse_u64(r, rest, &u)) == TT_OK) {
        if (u >= (uint64_t)INT_MAX)
            st = parse_error(r, "feature count too large");
        else
            l->p = (size_t)u;
    }
    if (st == TT_OK && (st = read_item(r, "intercept", &rest)) == TT_OK)
        st = parse_double(r, rest, &l->intercept);
    if (st == TT_OK && l->p > 0 && !(l->coef = tt_malloc_array(l->p, sizeof *l->coef)))
        st = tt_errf(r->err, r->errlen, TT_ERR_NOMEM, "learner load: no memory for %zu "
                     "coefficients", l->p);
    for (size_t j = 0; j < l->p && st == TT_OK; j++)
        if ((st = read_item(r, "coef", &rest)) == TT_OK)
            st = parse_double(r, rest, &l->coef[j]);
    if (st == TT_OK && (st = read_line(r)) == TT_OK && strcmp(r->line, "end") != 0)
        st = parse_error(r, "expected 'end'");
    if (st != TT_OK) {
        tt_learner_destroy(l);
        return st;
    }
    l->fitted = 1;
    *out = l;
    return TT_OK;
}

tt_status tt_learner_load(const tt_plugin_source *source, tt_learner **out,
                          char *err, size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "learner load: out is NULL");
    *out = NULL;
    if (!source || !source->read)
        return tt_errf(err, errlen, TT_ERR_INVALID, "learner load: NULL source");
    reader r = {.src = source, .err = err, .errlen = errlen};
    r.c_loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (r.c_loc == (locale_t)0)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "learner load: cannot create the C locale");
    tt_status st = load_body(&r, out);
    freelocale(r.c_loc);
    return st;
}

const char *tt_learner_name(const tt_learner *learner)
{
    return learner ? learner->ops->name : NULL;
}

void tt_learner_destroy(tt_learner *learner)
{
    if (!learner)
        return;
    free(learner->coef);
    free(learner);
}
