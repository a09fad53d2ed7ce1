/* protocol.c - encoding and decoding trial messages. */
#include "search/protocol.h"

#include "util/intern.h"

#include <stdlib.h>
#include <string.h>

#define RQ_MAGIC "TTRQ"
#define RS_MAGIC "TTRS"
#define PROTOCOL_VERSION 1u

void tt_msg_free(tt_msg *m)
{
    free(m->data);
    memset(m, 0, sizeof *m);
}

static int put(tt_msg *m, const void *bytes, size_t len)
{
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 256;
        while (cap < m->len + len)
            cap *= 2;
        unsigned char *grown = realloc(m->data, cap);
        if (!grown)
            return -1;
        m->data = grown;
        m->cap = cap;
    }
    memcpy(m->data + m->len, bytes, len);
    m->len += len;
    return 0;
}

static int put_u32(tt_msg *m, uint32_t v) { return put(m, &v, sizeof v); }
static int put_u64(tt_msg *m, uint64_t v) { return put(m, &v, sizeof v); }
static int put_f64(tt_msg *m, double v) { return put(m, &v, sizeof v); }

static int put_str(tt_msg *m, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return put_u32(m, (uint32_t)n) || put(m, s, n);
}

/* A read cursor; any short read sets bad and yields zeros. */
typedef struct cursor {
    const unsigned char *p, *end;
    int bad;
} cursor;

static void get(cursor *c, void *out, size_t len)
{
    if (c->bad || (size_t)(c->end - c->p) < len) {
        c->bad = 1;
        memset(out, 0, len);
        return;
    }
    memcpy(out, c->p, len);
    c->p += len;
}

static uint32_t get_u32(cursor *c) { uint32_t v; get(c, &v, sizeof v); return v; }
static uint64_t get_u64(cursor *c) { uint64_t v; get(c, &v, sizeof v); return v; }
static double get_f64(cursor *c) { double v; get(c, &v, sizeof v); return v; }

/* Copies a string into buf (truncating to len - 1). */
static void get_str(cursor *c, char *buf, size_t len)
{
    uint32_t n = get_u32(c);
    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = 1;
        buf[0] = '\0';
        return;
    }
    size_t keep = n < len - 1 ? n : len - 1;
    memcpy(buf, c->p, keep);
    buf[keep] = '\0';
    c->p += n;
}

tt_status tt_request_encode(const tt_trial_request *rq, tt_msg *out)
{
    int bad = put(out, RQ_MAGIC, 4) || put_u32(out, PROTOCOL_VERSION) || put_u64(out, rq->id) ||
              put_u64(out, rq->estimator) || put_u64(out, rq->seed) ||
              put_u32(out, rq->n_params);
    for (uint32_t i = 0; !bad && i < rq->n_params; i++)
        bad = put_f64(out, rq->point[i]);
    return bad ? TT_ERR_NOMEM : TT_OK;
}

tt_status tt_request_decode(const unsigned char *data, size_t len, tt_trial_request *rq,
                            double *point_out, size_t max_params)
{
    cursor c = {data, data + len, 0};
    char magic[4];
    get(&c, magic, 4);
    if (c.bad || memcmp(magic, RQ_MAGIC, 4) != 0 || get_u32(&c) != PROTOCOL_VERSION)
        return TT_ERR_PARSE;
    rq->id = get_u64(&c);
    rq->estimator = get_u64(&c);
    rq->seed = get_u64(&c);
    rq->n_params = get_u32(&c);
    if (c.bad || rq->n_params > max_params)
        return TT_ERR_PARSE;
    for (uint32_t i = 0; i < rq->n_params; i++)
        point_out[i] = get_f64(&c);
    rq->point = point_out;
    return c.bad || c.p != c.end ? TT_ERR_PARSE : TT_OK;
}

static int put_scores(tt_msg *m, const tt_score_value *s, size_t n)
{
    if (put_u32(m, (uint32_t)n))
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char is_null = (unsigned char)(s[i].is_null != 0);
        if (put_str(m, s[i].name) || put_f64(m, s[i].value) || put(m, &is_null, 1) ||
            put_str(m, s[i].reason))
            return -1;
    }
    return 0;
}

tt_status tt_result_encode(const tt_trial_result *r, tt_msg *out)
{
    int bad = put(out, RS_MAGIC, 4) || put_u32(out, PROTOCOL_VERSION) ||
              put_u32(out, (uint32_t)r->status) || put_f64(out, r->seconds) ||
              put_f64(out, r->objective) || put_f64(out, r->ate) || put_str(out, r->error) ||
              put_scores(out, r->scores, r->n_scores) || put_scores(out, r->oracle, r->n_oracle);
    return bad ? TT_ERR_NOMEM : TT_OK;
}

static size_t get_scores(cursor *c, tt_score_value *s, size_t max)
{
    uint32_t n = get_u32(c);
    if (n > max) {
        c->bad = 1;
        return 0;
    }
    for (uint32_t i = 0; i < n && !c->bad; i++) {
        char name[64];
        unsigned char is_null;
        memset(&s[i], 0, sizeof s[i]);
        get_str(c, name, sizeof name);
        s[i].value = get_f64(c);
        get(c, &is_null, 1);
        s[i].is_null = is_null;
        get_str(c, s[i].reason, sizeof s[i].reason);
        s[i].name = tt_intern(name);
        if (!s[i].name)
            c->bad = 1;
    }
    return n;
}

tt_status tt_result_decode(const unsigned char *data, size_t len, tt_trial_result *r)
{
    cursor c = {data, data + len, 0};
    char magic[4];
    get(&c, magic, 4);
    if (c.bad || memcmp(magic, RS_MAGIC, 4) != 0 || get_u32(&c) != PROTOCOL_VERSION)
        return TT_ERR_PARSE;
    uint32_t status = get_u32(&c);
    r->status = status <= TT_TRIAL_TIMEOUT ? (tt_trial_status)status : TT_TRIAL_FAILED;
    r->seconds = get_f64(&c);
    r->objective = get_f64(&c);
    r->ate = get_f64(&c);
    get_str(&c, r->error, sizeof r->error);
    r->n_scores = get_scores(&c, r->scores, TT_MAX_SCORES);
    r->n_oracle = get_scores(&c, r->oracle, TT_MAX_SCORES);
    return c.bad || c.p != c.end ? TT_ERR_PARSE : TT_OK;
}
