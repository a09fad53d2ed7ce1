/* host_blob.c - named, checksummed records for plugins' saved state (host_blob.h). */
#include "plugin/host_blob.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learner.h"
#include "plugin/host_forest.h"
#include "util/crc32.h"
#include "util/err.h"
#include "util/msg.h"

#define BLOB_MAGIC "TTBLOB1"        /* with its terminator: 8 bytes */
#define BLOB_MAX_BODY (1ull << 36)  /* 64 GiB: a damaged length is refused, not allocated */
#define BLOB_NAME_MAX 128

struct tt_blob_writer {
    void *host_ctx;
    tt_msg body;        /* the records, after the header fields */
    uint32_t n_records;
    tt_msg head;        /* tag and version */
    tt_status status;   /* the first error, sticky */
    char why[256];
};

typedef struct blob_record {
    const char *name;   /* points into the body */
    size_t name_len;
    unsigned char kind;
    uint64_t count;
    const unsigned char *payload;
    size_t bytes;
} blob_record;

struct tt_blob_reader {
    void *host_ctx;
    unsigned char *body;
    blob_record *rec;
    uint32_t n_records;
    tt_status status;
    char why[256];
    char *texts;        /* copies handed out by get_text, chained */
};

/* ---- writing ---------------------------------------------------------------- */

static void writer_fail(tt_blob_writer *w, tt_status st, const char *fmt, ...)
{
    if (w->status != TT_OK)
        return;
    w->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->why, sizeof w->why, fmt, ap);
    va_end(ap);
}

tt_blob_writer *tt_blob_writer_new(void *host_ctx, const char *tag, uint32_t version)
{
    tt_blob_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->host_ctx = host_ctx;
    if (!tag || !*tag || strlen(tag) > BLOB_NAME_MAX)
        writer_fail(w, TT_ERR_INVALID, "blob tag must be 1 to %d characters", BLOB_NAME_MAX);
    else if (tt_msg_put_str(&w->head, tag) || tt_msg_put_u32(&w->head, version))
        writer_fail(w, TT_ERR_NOMEM, "out of memory");
    return w;
}

/* A record's header; 0 when the writer can go on. */
static int put_header(tt_blob_writer *w, const char *name, unsigned char kind, uint64_t count)
{
    if (!w || w->status != TT_OK)
        return -1;
    if (!name || !*name || strlen(name) > BLOB_NAME_MAX) {
        writer_fail(w, TT_ERR_INVALID, "blob record names must be 1 to %d characters",
                    BLOB_NAME_MAX);
        return -1;
    }
    if (tt_msg_put_str(&w->body, name) || tt_msg_put(&w->body, &kind, 1) ||
        tt_msg_put_u64(&w->body, count)) {
        writer_fail(w, TT_ERR_NOMEM, "out of memory writing record '%s'", name);
        return -1;
    }
    w->n_records++;
    return 0;
}

static void put_payload(tt_blob_writer *w, const char *name, const void *bytes, size_t len)
{
    if (len && (!bytes || tt_msg_put(&w->body, bytes, len)))
        writer_fail(w, bytes ? TT_ERR_NOMEM : TT_ERR_INVALID, "record '%s': %s", name,
                    bytes ? "out of memory" : "no values given");
}

void tt_blob_put_doubles(tt_blob_writer *w, const char *name, const double *v, size_t n)
{
    if (put_header(w, name, 'd', n) == 0)
        put_payload(w, name, v, n * sizeof *v);
}

void tt_blob_put_ints(tt_blob_writer *w, const char *name, const int64_t *v, size_t n)
{
    if (put_header(w, name, 'i', n) == 0)
        put_payload(w, name, v, n * sizeof *v);
}

void tt_blob_put_text(tt_blob_writer *w, const char *name, const char *text)
{
    size_t len = text ? strlen(text) : 0;
    if (put_header(w, name, 't', len) == 0)
        put_payload(w, name, text, len);
}

static int msg_write(void *ctx, const void *bytes, size_t len)
{
    return tt_msg_put(ctx, bytes, len);
}

/* A learner or forest: its own saved form, as bytes of the record. */
static void put_model(tt_blob_writer *w, const char *name, unsigned char kind, const void *model)
{
    if (!w || w->status != TT_OK)
        return;
    if (!model) {
        writer_fail(w, TT_ERR_INVALID, "record '%s': no %s given", name,
                    kind == 'L' ? "learner" : "forest");
        return;
    }
    tt_msg bytes = {0};
    tt_plugin_sink sink = {.struct_size = sizeof sink, .ctx = &bytes, .write = msg_write};
    char why[200] = "";
    tt_status st = kind == 'L' ? tt_learner_save(model, &sink, why, sizeof why)
                               : (tt_status)tt_host_forest_save(model, &sink, why, sizeof why);
    if (st != TT_OK)
        writer_fail(w, st, "record '%s': %s", name, why);
    else if (put_header(w, name, kind, bytes.len) == 0)
        put_payload(w, name, bytes.data, bytes.len);
    tt_msg_free(&bytes);
}

void tt_blob_put_learner(tt_blob_writer *w, const char *name, const tt_learner *learner)
{
    put_model(w, name, 'L', learner);
}

void tt_blob_put_forest(tt_blob_writer *w, const char *name, const tt_forest *forest)
{
    put_model(w, name, 'F', forest);
}

int tt_blob_writer_finish(tt_blob_writer *w, const tt_plugin_sink *sink, char *err,
                          size_t errlen)
{
    if (!w)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "blob: out of memory");
    tt_status st = w->status;
    if (st != TT_OK) {
        tt_errf(err, errlen, st, "blob: %s", w->why);
    } else {
        tt_msg all = {0};
        uint64_t body_len = (uint64_t)w->head.len + 4 + w->body.len;
        int bad = tt_msg_put(&all, BLOB_MAGIC, 8) || tt_msg_put_u64(&all, body_len) ||
                  tt_msg_put(&all, w->head.data, w->head.len) ||
                  tt_msg_put_u32(&all, w->n_records) ||
                  tt_msg_put(&all, w->body.data, w->body.len);
        if (!bad) {
            uint32_t crc = tt_crc32(0, all.data, all.len);
            bad = tt_msg_put_u32(&all, crc);
        }
        if (bad)
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "blob: out of memory");
        else if (sink->write(sink->ctx, all.data, all.len) != 0)
            st = tt_errf(err, errlen, TT_ERR_IO, "blob: the host's sink refused the bytes");
        tt_msg_free(&all);
    }
    tt_msg_free(&w->head);
    tt_msg_free(&w->body);
    free(w);
    return st;
}

/* ---- reading ---------------------------------------------------------------- */

static void reader_fail(tt_blob_reader *r, tt_status st, const char *fmt, ...)
{
    if (r->status != TT_OK)
        return;
    r->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

static void reader_free(tt_blob_reader *r)
{
    while (r->texts) {
        char *next;
        memcpy(&next, r->texts, sizeof next);
        free(r->texts);
        r->texts = next;
    }
    free(r->body);
    free(r->rec);
    free(r);
}

/* Splits the body into records; 0, or -1 with the reason in why. */
static int index_records(tt_blob_reader *r, size_t len, const char *tag, uint32_t *version,
                         char *why, size_t whylen)
{
    tt_msg_reader c = tt_msg_reader_of(r->body, len);
    uint32_t tag_len = tt_msg_get_u32(&c);
    const unsigned char *tag_bytes = tt_msg_get_bytes(&c, tag_len);
    uint32_t ver = tt_msg_get_u32(&c);
    uint32_t n = tt_msg_get_u32(&c);
    if (c.bad)
        return snprintf(why, whylen, "its header is cut short"), -1;
    if (tag_len != strlen(tag) || memcmp(tag_bytes, tag, tag_len) != 0)
        return snprintf(why, whylen, "it was written by another plugin (tag '%.*s', "
                        "expected '%s')", (int)(tag_len > 64 ? 64 : tag_len),
                        (const char *)tag_bytes, tag), -1;
    if (n > len / 14) /* the smallest record takes 14 bytes */
        return snprintf(why, whylen, "it claims %u records in %zu bytes", n, len), -1;
    r->rec = calloc((size_t)n + 1, sizeof *r->rec);
    if (!r->rec)
        return snprintf(why, whylen, "out of memory"), -1;
    for (uint32_t i = 0; i < n; i++) {
        blob_record *b = &r->rec[i];
        uint32_t name_len = tt_msg_get_u32(&c);
        b->name = (const char *)tt_msg_get_bytes(&c, name_len);
        b->name_len = name_len;
        tt_msg_get(&c, &b->kind, 1);
        b->count = tt_msg_get_u64(&c);
        size_t unit = b->kind == 'd' || b->kind == 'i' ? 8 : 1;
        if (c.bad || !strchr("ditLF", b->kind) || b->kind == 0 ||
            b->count > (uint64_t)(c.end - c.p) / unit)
            return snprintf(why, whylen, "record %u is malformed", i + 1), -1;
        b->bytes = (size_t)b->count * unit;
        b->payload = tt_msg_get_bytes(&c, b->bytes);
    }
    if (!tt_msg_done(&c))
        return snprintf(why, whylen, "bytes follow its last record"), -1;
    r->n_records = n;
    if (version)
        *version = ver;
    return 0;
}

tt_blob_reader *tt_blob_reader_open(void *host_ctx, const tt_plugin_source *source,
                                    const char *tag, uint32_t *version, char *err,
                                    size_t errlen)
{
    unsigned char head[16];
    if (!tag || source->read(source->ctx, head, sizeof head) != 0 ||
        memcmp(head, BLOB_MAGIC, 8) != 0) {
        tt_errf(err, errlen, TT_ERR_PARSE, "saved state: not a blob (or a damaged one)");
        return NULL;
    }
    uint64_t len;
    memcpy(&len, head + 8, 8);
    if (len > BLOB_MAX_BODY) {
        tt_errf(err, errlen, TT_ERR_PARSE, "saved state: damaged blob (length %llu)",
                (unsigned long long)len);
        return NULL;
    }
    tt_blob_reader *r = calloc(1, sizeof *r);
    if (r)
        r->body = malloc((size_t)len + 4);
    if (!r || !r->body) {
        if (r)
            reader_free(r);
        tt_errf(err, errlen, TT_ERR_NOMEM, "saved state: out of memory for a %llu-byte blob",
                (unsigned long long)len);
        return NULL;
    }
    r->host_ctx = host_ctx;
    uint32_t crc_want;
    if (source->read(source->ctx, r->body, (size_t)len + 4) != 0) {
        reader_free(r);
        tt_errf(err, errlen, TT_ERR_PARSE, "saved state: the blob is cut short");
        return NULL;
    }
    memcpy(&crc_want, r->body + len, 4);
    uint32_t crc = tt_crc32(tt_crc32(0, head, sizeof head), r->body, (size_t)len);
    char why[200];
    if (crc != crc_want) {
        snprintf(why, sizeof why, "its checksum does not match (damaged)");
    } else if (index_records(r, (size_t)len, tag, version, why, sizeof why) == 0) {
        return r;
    }
    reader_free(r);
    tt_errf(err, errlen, TT_ERR_PARSE, "saved state: blob '%s': %s", tag, why);
    return NULL;
}

static const blob_record *find(tt_blob_reader *r, const char *name)
{
    size_t len = strlen(name);
    for (uint32_t i = 0; i < r->n_records; i++)
        if (r->rec[i].name_len == len && memcmp(r->rec[i].name, name, len) == 0)
            return &r->rec[i];
    return NULL;
}

/* The record name of kind, holding count values when count != SIZE_MAX. */
static const blob_record *want(tt_blob_reader *r, const char *name, unsigned char kind,
                               size_t count)
{
    if (!r || r->status != TT_OK)
        return NULL;
    const blob_record *b = name ? find(r, name) : NULL;
    if (!b)
        reader_fail(r, TT_ERR_PARSE, "record '%s' is missing", name ? name : "(null)");
    else if (b->kind != kind)
        reader_fail(r, TT_ERR_PARSE, "record '%s' is of kind '%c', not '%c'", name, b->kind,
                    kind);
    else if (count != SIZE_MAX && b->count != count)
        reader_fail(r, TT_ERR_PARSE, "record '%s' holds %llu values, not %zu", name,
                    (unsigned long long)b->count, count);
    else
        return b;
    return NULL;
}

size_t tt_blob_count(tt_blob_reader *r, const char *name)
{
    const blob_record *b = r && name ? find(r, name) : NULL;
    return b ? (size_t)b->count : 0;
}

void tt_blob_get_doubles(tt_blob_reader *r, const char *name, double *v, size_t n)
{
    const blob_record *b = want(r, name, 'd', n);
    if (b && n)
        memcpy(v, b->payload, b->bytes);
}

void tt_blob_get_ints(tt_blob_reader *r, const char *name, int64_t *v, size_t n)
{
    const blob_record *b = want(r, name, 'i', n);
    if (b && n)
        memcpy(v, b->payload, b->bytes);
}

const char *tt_blob_get_text(tt_blob_reader *r, const char *name)
{
    const blob_record *b = want(r, name, 't', SIZE_MAX);
    if (!b)
        return NULL;
    /* A terminated copy, chained for close to free. */
    char *copy = malloc(sizeof(char *) + b->bytes + 1);
    if (!copy) {
        reader_fail(r, TT_ERR_NOMEM, "out of memory reading record '%s'", name);
        return NULL;
    }
    memcpy(copy, &r->texts, sizeof(char *));
    memcpy(copy + sizeof(char *), b->payload, b->bytes);
    copy[sizeof(char *) + b->bytes] = '\0';
    r->texts = copy;
    return copy + sizeof(char *);
}

/* A source over a record's bytes that refuses to read past them. */
typedef struct span {
    const unsigned char *p;
    size_t left;
} span;

static int span_read(void *ctx, void *bytes, size_t len)
{
    span *s = ctx;
    if (len > s->left)
        return -1;
    memcpy(bytes, s->p, len);
    s->p += len;
    s->left -= len;
    return 0;
}

static void get_model(tt_blob_reader *r, const char *name, unsigned char kind, void **out)
{
    *out = NULL;
    const blob_record *b = want(r, name, kind, SIZE_MAX);
    if (!b)
        return;
    span s = {b->payload, b->bytes};
    tt_plugin_source src = {.struct_size = sizeof src, .ctx = &s, .read = span_read};
    char why[200] = "";
    tt_status st = kind == 'L'
                       ? tt_learner_load(&src, (tt_learner **)out, why, sizeof why)
                       : (tt_status)tt_host_forest_load(r->host_ctx, &src, (tt_forest **)out,
                                                        why, sizeof why);
    if (st != TT_OK) {
        *out = NULL;
        reader_fail(r, st, "record '%s': %s", name, why);
    }
}

void tt_blob_get_learner(tt_blob_reader *r, const char *name, tt_learner **out)
{
    get_model(r, name, 'L', (void **)out);
}

void tt_blob_get_forest(tt_blob_reader *r, const char *name, tt_forest **out)
{
    get_model(r, name, 'F', (void **)out);
}

int tt_blob_reader_close(tt_blob_reader *r, char *err, size_t errlen)
{
    if (!r)
        return tt_errf(err, errlen, TT_ERR_INVALID, "blob: no reader");
    tt_status st = r->status;
    if (st != TT_OK)
        tt_errf(err, errlen, st, "saved state: %s", r->why);
    reader_free(r);
    return st;
}
