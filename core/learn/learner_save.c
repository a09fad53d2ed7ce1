/*
 * learner_save.c - the saved text of every learner.
 *
 * Format (lines of learner_io.c):
 *   tautune-learner <name> <format_version>
 *   param <key> <value>        one per hyperparameter (on load: any order,
 *                              a missing key takes its default)
 *   seed <u64>
 *   p <features>
 *   linear learners:  intercept <b0>, then coef <b_j> (q lines: p, or
 *                     p + p(p+1)/2 with poly2), in the raw feature scale;
 *                     multinomial logistic: classes <K>, then K such blocks
 *   model learners:   outputs <K>, then the learner's own body
 *   end
 * load() reads one byte at a time and stops right after "end", so a learner
 * can sit inside a larger stream (a plugin's saved model) without over-reading.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* newlocale, uselocale */
#endif
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learner_impl.h"
#include "util/err.h"
#include "util/mem.h"

#define TAG "tautune-learner"

/* ---- save ----------------------------------------------------------------- */

static tt_status save_body(const tt_learner *l, tt_learn_writer *w)
{
    const tt_learner_ops *ops = l->ops;
    tt_status st = tt_learn_emit(w, TAG " %s %d\n", ops->name, ops->format_version);
    for (size_t i = 0; i < ops->n_params && st == TT_OK; i++)
        st = tt_learn_emit(w, "param %s %.17g\n", ops->params[i].name, l->param[i]);
    if (st == TT_OK)
        st = tt_learn_emit(w, "seed %" PRIu64 "\np %zu\n", l->seed, l->p);
    if (ops->fit && l->n_outputs > 1) {
        size_t q = tt_learn_feature_width(l->p, tt_learn_flag(l, "poly2"));
        if (st == TT_OK)
            st = tt_learn_emit(w, "classes %zu\n", l->n_outputs);
        for (size_t c = 0; c < l->n_outputs && st == TT_OK; c++) {
            st = tt_learn_emit(w, "intercept %.17g\n", l->coef[c * (q + 1)]);
            for (size_t j = 0; j < q && st == TT_OK; j++)
                st = tt_learn_emit(w, "coef %.17g\n", l->coef[c * (q + 1) + 1 + j]);
        }
    } else if (ops->fit) {
        size_t q = tt_learn_feature_width(l->p, tt_learn_flag(l, "poly2"));
        if (st == TT_OK)
            st = tt_learn_emit(w, "intercept %.17g\n", l->intercept);
        for (size_t j = 0; j < q && st == TT_OK; j++)
            st = tt_learn_emit(w, "coef %.17g\n", l->coef[j]);
    } else {
        if (st == TT_OK)
            st = tt_learn_emit(w, "outputs %zu\n", l->n_outputs);
        if (st == TT_OK)
            st = ops->model_save(l->model, w);
    }
    if (st == TT_OK)
        st = tt_learn_emit(w, "end\n");
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
    tt_learn_writer w = {sink, err, errlen};
    tt_status st = save_body(learner, &w);
    uselocale(old);
    freelocale(c_loc);
    return st;
}

/* ---- load ----------------------------------------------------------------- */

static tt_status load_header(tt_learn_reader *r, const tt_learner_ops **ops)
{
    tt_status st = tt_learn_read_line(r);
    if (st != TT_OK)
        return st;
    const size_t k = strlen(TAG);
    if (strncmp(r->line, TAG " ", k + 1) != 0)
        return tt_learn_parse_error(r, "not a saved tautune learner");
    char *name = r->line + k + 1;
    char *space = strchr(name, ' ');
    if (!space)
        return tt_learn_parse_error(r, "expected '" TAG " <name> <version>'");
    *space = '\0';
    *ops = tt_learn_find_ops(name);
    if (!*ops) {
        char what[96];
        snprintf(what, sizeof what, "unknown learner '%.40s'", name);
        *space = ' ';
        return tt_learn_parse_error(r, what);
    }
    *space = ' ';
    uint64_t version = 0;
    st = tt_learn_parse_u64(r, space + 1, &version);
    if (st != TT_OK)
        return st;
    if (version != (uint64_t)(*ops)->format_version)
        return tt_learn_parse_error(r, "unsupported format version");
    return TT_OK;
}

/* "param" lines in any order up to the "seed" line, which is consumed. */
static tt_status load_params(tt_learn_reader *r, tt_learner *l, const char **seed_rest)
{
    const tt_learner_ops *ops = l->ops;
    for (size_t i = 0; i < ops->n_params; i++)
        l->param[i] = ops->params[i].default_value;
    for (;;) {
        tt_status st = tt_learn_read_line(r);
        if (st != TT_OK)
            return st;
        if (strncmp(r->line, "seed ", 5) == 0) {
            *seed_rest = r->line + 5;
            return TT_OK;
        }
        if (strncmp(r->line, "param ", 6) != 0)
            return tt_learn_parse_error(r, "expected 'param <key> <value>' or 'seed'");
        char *key = r->line + 6, *sp = strchr(key, ' ');
        if (!sp)
            return tt_learn_parse_error(r, "expected 'param <key> <value>'");
        *sp = '\0';
        int idx = tt_learn_find_param(ops, key);
        *sp = ' ';
        if (idx < 0)
            return tt_learn_parse_error(r, "unknown hyperparameter");
        double v = 0.0;
        if ((st = tt_learn_parse_double(r, sp + 1, &v)) != TT_OK)
            return st;
        if (tt_learn_check_param(ops, (size_t)idx, v, TT_ERR_PARSE, NULL, 0) != TT_OK)
            return tt_learn_parse_error(r, "hyperparameter out of range");
        l->param[idx] = v;
    }
}

static tt_status load_multinomial(tt_learn_reader *r, tt_learner *l)
{
    uint64_t k = 0;
    tt_status st = tt_learn_parse_u64(r, r->line + 8, &k);
    if (st != TT_OK)
        return st;
    if (k < 3 || k > 64)
        return tt_learn_parse_error(r, "class count out of range");
    const size_t q = tt_learn_feature_width(l->p, tt_learn_flag(l, "poly2"));
    if (!(l->coef = tt_malloc_array((size_t)k, (q + 1) * sizeof *l->coef)))
        return tt_errf(r->err, r->errlen, TT_ERR_NOMEM, "learner load: no memory");
    l->n_outputs = (size_t)k;
    const char *rest = NULL;
    for (size_t c = 0; c < k && st == TT_OK; c++) {
        if ((st = tt_learn_read_item(r, "intercept", &rest)) == TT_OK)
            st = tt_learn_parse_double(r, rest, &l->coef[c * (q + 1)]);
        for (size_t j = 0; j < q && st == TT_OK; j++)
            if ((st = tt_learn_read_item(r, "coef", &rest)) == TT_OK)
                st = tt_learn_parse_double(r, rest, &l->coef[c * (q + 1) + 1 + j]);
    }
    return st;
}

static tt_status load_body(tt_learn_reader *r, tt_learner **out)
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
    uint64_t u = 0;
    st = load_params(r, l, &rest);
    if (st == TT_OK)
        st = tt_learn_parse_u64(r, rest, &l->seed);
    if (st == TT_OK && (st = tt_learn_read_item(r, "p", &rest)) == TT_OK &&
        (st = tt_learn_parse_u64(r, rest, &u)) == TT_OK) {
        if (u >= (uint64_t)INT_MAX)
            st = tt_learn_parse_error(r, "feature count too large");
        else
            l->p = (size_t)u;
    }
    if (ops->fit && st == TT_OK && ops->multinomial) {
        /* "classes K" marks a multinomial fit; otherwise this is the intercept. */
        if ((st = tt_learn_read_line(r)) == TT_OK && strncmp(r->line, "classes ", 8) == 0) {
            st = load_multinomial(r, l);
            goto tail;
        }
        if (st == TT_OK && strncmp(r->line, "intercept ", 10) != 0)
            st = tt_learn_parse_error(r, "expected 'intercept <value>' or 'classes <K>'");
        if (st == TT_OK)
            st = tt_learn_parse_double(r, r->line + 10, &l->intercept);
    } else if (ops->fit && st == TT_OK) {
        if ((st = tt_learn_read_item(r, "intercept", &rest)) == TT_OK)
            st = tt_learn_parse_double(r, rest, &l->intercept);
    }
    if (ops->fit) {
        size_t q = st == TT_OK ? tt_learn_feature_width(l->p, tt_learn_flag(l, "poly2")) : 0;
        if (st == TT_OK && q > 0 && !(l->coef = tt_malloc_array(q, sizeof *l->coef)))
            st = tt_errf(r->err, r->errlen, TT_ERR_NOMEM, "learner load: no memory for %zu "
                         "coefficients", q);
        for (size_t j = 0; j < q && st == TT_OK; j++)
            if ((st = tt_learn_read_item(r, "coef", &rest)) == TT_OK)
                st = tt_learn_parse_double(r, rest, &l->coef[j]);
        l->n_outputs = 1;
    } else {
        if (st == TT_OK && (st = tt_learn_read_item(r, "outputs", &rest)) == TT_OK &&
            (st = tt_learn_parse_u64(r, rest, &u)) == TT_OK) {
            if (u < 1 || u > 4096)
                st = tt_learn_parse_error(r, "bad output count");
            else
                l->n_outputs = (size_t)u;
        }
        if (st == TT_OK)
            st = ops->model_load(r, l->param, l->p, l->n_outputs, &l->model);
    }
tail:
    if (st == TT_OK && (st = tt_learn_read_line(r)) == TT_OK && strcmp(r->line, "end") != 0)
        st = tt_learn_parse_error(r, "expected 'end'");
    if (st != TT_OK) {
        tt_learner_destroy(l);
        return st;
    }
    memcpy(l->fit_param, l->param, sizeof l->param);
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
    tt_learn_reader r = {.src = source, .err = err, .errlen = errlen};
    r.c_loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (r.c_loc == (locale_t)0)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "learner load: cannot create the C locale");
    tt_status st = load_body(&r, out);
    freelocale(r.c_loc);
    return st;
}
