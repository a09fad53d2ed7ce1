/* protocol.c - encoding and decoding trial messages. */
#include "search/protocol.h"

#include "search/log_tail.h"
#include "util/intern.h"

#include <stdlib.h>
#include <string.h>

#define RQ_MAGIC "TTRQ"
#define RS_MAGIC "TTRS"
#define LG_MAGIC "TTLG"
/* 3: objective_se and the objective's per-row terms (score/score_terms.h).
 * 4: the out-of-sample effects. */
#define PROTOCOL_VERSION 4u

tt_status tt_request_encode(const tt_trial_request *rq, tt_msg *out)
{
    int bad = tt_msg_put(out, RQ_MAGIC, 4) || tt_msg_put_u32(out, PROTOCOL_VERSION) ||
              tt_msg_put_u64(out, rq->id) || tt_msg_put_u64(out, rq->estimator) ||
              tt_msg_put_u64(out, rq->seed) || tt_msg_put_u32(out, rq->n_params);
    for (uint32_t i = 0; !bad && i < rq->n_params; i++)
        bad = tt_msg_put_f64(out, rq->point[i]);
    return bad ? TT_ERR_NOMEM : TT_OK;
}

tt_status tt_request_decode(const unsigned char *data, size_t len, tt_trial_request *rq,
                            double *point_out, size_t max_params)
{
    tt_msg_reader c = tt_msg_reader_of(data, len);
    char magic[4];
    tt_msg_get(&c, magic, 4);
    if (c.bad || memcmp(magic, RQ_MAGIC, 4) != 0 || tt_msg_get_u32(&c) != PROTOCOL_VERSION)
        return TT_ERR_PARSE;
    rq->id = tt_msg_get_u64(&c);
    rq->estimator = tt_msg_get_u64(&c);
    rq->seed = tt_msg_get_u64(&c);
    rq->n_params = tt_msg_get_u32(&c);
    if (c.bad || rq->n_params > max_params)
        return TT_ERR_PARSE;
    for (uint32_t i = 0; i < rq->n_params; i++)
        point_out[i] = tt_msg_get_f64(&c);
    rq->point = point_out;
    return !tt_msg_done(&c) ? TT_ERR_PARSE : TT_OK;
}

static int put_scores(tt_msg *m, const tt_score_value *s, size_t n)
{
    if (tt_msg_put_u32(m, (uint32_t)n))
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char is_null = (unsigned char)(s[i].is_null != 0);
        if (tt_msg_put_str(m, s[i].name) || tt_msg_put_f64(m, s[i].value) ||
            tt_msg_put(m, &is_null, 1) || tt_msg_put_str(m, s[i].reason ? s[i].reason : ""))
            return -1;
    }
    return 0;
}

tt_status tt_result_encode(const tt_trial_result *r, tt_msg *out)
{
    int bad = tt_msg_put(out, RS_MAGIC, 4) || tt_msg_put_u32(out, PROTOCOL_VERSION) ||
              tt_msg_put_u32(out, (uint32_t)r->status) || tt_msg_put_f64(out, r->seconds) ||
              tt_msg_put_f64(out, r->fit_seconds) ||
              tt_msg_put_f64(out, r->objective) || tt_msg_put_f64(out, r->ate) ||
              tt_msg_put_str(out, tt_trial_error(r)) || put_scores(out, r->scores, r->n_scores) ||
              put_scores(out, r->oracle, r->n_oracle) || tt_msg_put_f64(out, r->objective_se) ||
              tt_msg_put_u64(out, r->terms ? (uint64_t)r->n_terms : 0) ||
              tt_msg_put_f64s(out, r->terms, r->terms ? r->n_terms : 0) ||
              tt_msg_put_u64(out, r->effects ? (uint64_t)r->n_effects : 0) ||
              tt_msg_put_f64s(out, r->effects, r->effects ? r->n_effects : 0);
    return bad ? TT_ERR_NOMEM : TT_OK;
}

static size_t get_scores(tt_msg_reader *c, tt_score_value *s, size_t max)
{
    uint32_t n = tt_msg_get_u32(c);
    if (n > max) {
        c->bad = 1;
        return 0;
    }
    for (uint32_t i = 0; i < n && !c->bad; i++) {
        char name[64];
        unsigned char is_null;
        memset(&s[i], 0, sizeof s[i]);
        tt_msg_get_str(c, name, sizeof name);
        s[i].value = tt_msg_get_f64(c);
        tt_msg_get(c, &is_null, 1);
        s[i].is_null = is_null;
        char reason[160];
        tt_msg_get_str(c, reason, sizeof reason);
        s[i].reason = tt_intern_text(reason);
        s[i].name = tt_intern(name);
        if (!s[i].name)
            c->bad = 1;
    }
    return n;
}

/* A count, then that many doubles; a count larger than the bytes left is bad. */
static int get_array(tt_msg_reader *c, double **out, size_t *n_out)
{
    uint64_t n = tt_msg_get_u64(c);
    if (!c->bad && n > (uint64_t)(c->end - c->p) / sizeof(double))
        c->bad = 1;
    if (!c->bad && tt_msg_get_f64s(c, (size_t)n, out) != 0)
        c->bad = 1;
    *n_out = (size_t)n;
    return c->bad ? -1 : 0;
}

tt_status tt_result_decode(const unsigned char *data, size_t len, tt_trial_result *r)
{
    tt_msg_reader c = tt_msg_reader_of(data, len);
    char magic[4];
    /* The terms are the caller's once decoded (r's old pointer is not freed:
     * r may be uninitialised); none on any failure. */
    r->terms = NULL;
    r->n_terms = 0;
    r->effects = NULL;
    r->n_effects = 0;
    r->error = NULL; /* likewise the error and the scores */
    r->scores = NULL;
    r->n_scores = 0;
    r->oracle = NULL;
    r->n_oracle = 0;
    tt_msg_get(&c, magic, 4);
    if (c.bad || memcmp(magic, RS_MAGIC, 4) != 0 || tt_msg_get_u32(&c) != PROTOCOL_VERSION)
        return TT_ERR_PARSE;
    uint32_t status = tt_msg_get_u32(&c);
    r->status = status <= TT_TRIAL_TIMEOUT ? (tt_trial_status)status : TT_TRIAL_FAILED;
    r->seconds = tt_msg_get_f64(&c);
    r->fit_seconds = tt_msg_get_f64(&c);
    r->objective = tt_msg_get_f64(&c);
    r->ate = tt_msg_get_f64(&c);
    char error[1024];
    tt_score_value scores[TT_MAX_SCORES], oracle[TT_MAX_ORACLE];
    tt_msg_get_str(&c, error, sizeof error);
    size_t n_scores = get_scores(&c, scores, TT_MAX_SCORES);
    size_t n_oracle = get_scores(&c, oracle, TT_MAX_ORACLE);
    r->objective_se = tt_msg_get_f64(&c);
    double *terms = NULL, *effects = NULL;
    size_t n_terms = 0, n_effects = 0;
    if (get_array(&c, &terms, &n_terms) || get_array(&c, &effects, &n_effects) ||
        !tt_msg_done(&c)) {
        free(terms);
        free(effects);
        return TT_ERR_PARSE;
    }
    if (tt_trial_set_scores(r, scores, n_scores) != 0 ||
        tt_trial_set_oracle(r, oracle, n_oracle) != 0) {
        free(r->scores);
        r->scores = NULL;
        r->n_scores = 0;
        free(terms);
        free(effects);
        return TT_ERR_NOMEM;
    }
    if (error[0])
        tt_trial_set_error(r, "%s", error);
    r->terms = terms;
    r->n_terms = terms ? n_terms : 0;
    r->effects = effects;
    r->n_effects = effects ? n_effects : 0;
    return TT_OK;
}

tt_status tt_log_encode(const tt_log_tail *log, tt_msg *out)
{
    size_t n = log ? tt_log_tail_count(log) : 0;
    int bad = tt_msg_put(out, LG_MAGIC, 4) || tt_msg_put_u32(out, PROTOCOL_VERSION) ||
              tt_msg_put_u64(out, log ? (uint64_t)tt_log_tail_dropped(log) : 0) ||
              tt_msg_put_u32(out, (uint32_t)n);
    for (size_t i = 0; !bad && i < n; i++)
        bad = tt_msg_put_str(out, tt_log_tail_line(log, i));
    return bad ? TT_ERR_NOMEM : TT_OK;
}

tt_status tt_log_decode(const unsigned char *data, size_t len, tt_log_tail **out)
{
    tt_msg_reader c = tt_msg_reader_of(data, len);
    char magic[4];
    *out = NULL;
    tt_msg_get(&c, magic, 4);
    if (c.bad || memcmp(magic, LG_MAGIC, 4) != 0 || tt_msg_get_u32(&c) != PROTOCOL_VERSION)
        return TT_ERR_PARSE;
    uint64_t dropped = tt_msg_get_u64(&c);
    uint32_t n = tt_msg_get_u32(&c);
    if (c.bad || n > TT_LOG_TAIL_LINES)
        return TT_ERR_PARSE;
    if (n == 0)
        return tt_msg_done(&c) ? TT_OK : TT_ERR_PARSE;
    tt_log_tail *t = tt_log_tail_new();
    if (!t)
        return TT_ERR_NOMEM;
    /* A kept line is at most LINE_CAP bytes and a note of what was cut. */
    char line[TT_LOG_TAIL_LINE_CAP + 64];
    for (uint32_t i = 0; i < n && !c.bad; i++) {
        tt_msg_get_str(&c, line, sizeof line);
        tt_log_tail_feed(t, line, strlen(line));
        tt_log_tail_feed(t, "\n", 1);
    }
    if (c.bad || !tt_msg_done(&c)) {
        tt_log_tail_free(t);
        return TT_ERR_PARSE;
    }
    tt_log_tail_add_dropped(t, (size_t)dropped);
    *out = t;
    return TT_OK;
}
