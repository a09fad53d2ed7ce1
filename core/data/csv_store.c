/* csv_store.c - the reader's typed columns (csv.h): records are gathered in
 * batches (one file window's worth), numbers converted on two threads, and
 * everything that allocates done in row order on the calling thread.
 *
 * Columns start NUMERIC; the first cell that is not a number turns its
 * column into STRING, and the earlier cells' original text is fetched again
 * from their records' offsets (so "007" stays "007"). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/csv_internal.h"
#include "util/err.h"
#include "util/utf8.h"
#include "util/mem.h"

static int is_missing(const reader *r, const char *s, size_t len)
{
    if (len > r->max_token) /* most cells: numbers longer than any token */
        return 0;
    for (size_t i = 0; i < r->n_tokens; i++) {
        size_t tl = i < 16 ? r->tok_len[i] : strlen(r->tokens[i]);
        if (tl == len && memcmp(r->tokens[i], s, len) == 0)
            return 1;
    }
    return 0;
}

static int grow_rows(reader *r)
{
    size_t cap = r->row_cap ? r->row_cap * 2 : TT_CSV_FIRST_ROWS;
    tt_csv_table *t = r->t;
    size_t *line = realloc(t->line, cap * sizeof(size_t));
    if (!line)
        return 0;
    t->line = line;
    size_t *offs = realloc(r->offs, cap * sizeof(size_t));
    if (!offs)
        return 0;
    r->offs = offs;
    for (size_t j = 0; j < t->n_cols; j++) {
        tt_csv_column *c = &t->cols[j];
        if (c->num) {
            double *p = realloc(c->num, cap * sizeof(double));
            if (!p)
                return 0;
            c->num = p;
        }
        if (c->str) {
            char **p = realloc(c->str, cap * sizeof(char *));
            if (!p)
                return 0;
            /* NULL slots: a failed row frees its cells without knowing which
             * were stored. */
            memset(p + r->row_cap, 0, (cap - r->row_cap) * sizeof(char *));
            c->str = p;
        }
        if (c->missing) {
            unsigned char *p = realloc(c->missing, cap);
            if (!p)
                return 0;
            memset(p + r->row_cap, 0, cap - r->row_cap);
            c->missing = p;
        }
    }
    r->row_cap = cap;
    return 1;
}

/* Read a file region [off, ...) until one whole record is in buf. */
static int fetch_record(reader *r, size_t off, scanner *s, char **buf, size_t *cap)
{
    size_t want = 1 << 16;
    for (;;) {
        if (*cap < want) {
            char *p = realloc(*buf, want);
            if (!p)
                return -1;
            *buf = p;
            *cap = want;
        }
        ssize_t got = pread(r->fd, *buf, want, (off_t)off);
        if (got < 0)
            return -1;
        s->b = *buf;
        s->pos = 0;
        s->end = (size_t)got;
        s->eof = (size_t)got < want;
        size_t next, lines;
        int rc = tt_csv_scan_record(r, s, 0, &next, &lines);
        if (rc != 0)
            return rc;
        want *= 2;
    }
}

/* Column j turns STRING at row i: the earlier cells' text is read again from
 * their records. */
static tt_status to_string(reader *r, size_t j, size_t i)
{
    tt_csv_column *c = &r->t->cols[j];
    c->str = calloc(r->row_cap, sizeof(char *));
    if (!c->str)
        return TT_CSV_NOMEM(r);
    scanner s = {0};
    char *buf = NULL;
    size_t cap = 0;
    tt_status st = TT_OK;
    for (size_t row = 0; row < i && st == TT_OK; row++) {
        if (c->missing && c->missing[row])
            continue;
        int rc;
        if (r->fd < 0) {
            s.b = r->mem;
            s.pos = r->offs[row];
            s.end = r->mem_len;
            s.eof = 1;
            size_t next, lines;
            rc = tt_csv_scan_record(r, &s, 0, &next, &lines);
        } else {
            rc = fetch_record(r, r->offs[row], &s, &buf, &cap);
        }
        size_t len;
        const char *text = rc == 1 && j < s.nf ? tt_csv_field_text(r, &s, &s.f[j], &len) : NULL;
        if (!text || !(c->str[row] = tt_strdup(text)))
            st = tt_errf(r->err, r->errlen, TT_ERR_IO, "%s: cannot re-read line %zu",
                         r->path, r->t->line[row]);
    }
    free(s.f);
    free(buf);
    free(c->num);
    c->num = NULL;
    c->kind = TT_CSV_STRING;
    return st;
}

static tt_status store_cell(reader *r, size_t j, size_t i, const char *text, size_t len)
{
    tt_csv_column *c = &r->t->cols[j];
    if (is_missing(r, text, len)) {
        if (!c->missing && !(c->missing = calloc(r->row_cap, 1)))
            return TT_CSV_NOMEM(r);
        c->missing[i] = 1;
        c->n_missing++;
        if (c->kind == TT_CSV_NUMERIC)
            c->num[i] = NAN;
        else
            c->str[i] = NULL;
        return TT_OK;
    }
    if (c->kind == TT_CSV_NUMERIC && tt_csv_number(text, len, &c->num[i]))
        return TT_OK;
    /* Copied before to_string, which reuses the scratch text may live in. */
    char *s = malloc(len + 1);
    if (!s)
        return TT_CSV_NOMEM(r);
    memcpy(s, text, len);
    s[len] = '\0';
    if (c->kind == TT_CSV_NUMERIC) {
        tt_status st = to_string(r, j, i);
        if (st) {
            free(s);
            return st;
        }
    }
    c->str[i] = s;
    return TT_OK;
}

tt_status tt_csv_store_header(reader *r, const scanner *s)
{
    tt_csv_table *t = r->t;
    t->n_cols = s->nf;
    if (!(t->cols = calloc(s->nf, sizeof *t->cols)))
        return TT_CSV_NOMEM(r);
    for (size_t j = 0; j < s->nf; j++) {
        size_t len;
        const char *text = tt_csv_field_text(r, s, &s->f[j], &len);
        if (!text)
            return TT_CSV_NOMEM(r);
        /* Names are trimmed as cells are: " x1 " is x1 (and matches x*). */
        while (len && (*text == ' ' || *text == '\t'))
            text++, len--;
        while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
            len--;
        if (len == 0)
            return tt_errf(r->err, r->errlen, TT_ERR_PARSE, "%s: line 1: header field %zu is "
                           "empty (every column needs a name)", r->path, j + 1);
        size_t bad;
        if (!tt_utf8_valid(text, len, &bad))
            return tt_errf(r->err, r->errlen, TT_ERR_PARSE, "%s: line 1: header field %zu is "
                           "not valid UTF-8 (byte %zu of the name, 0x%02X); save the file as "
                           "UTF-8", r->path, j + 1, bad + 1, (unsigned char)text[bad]);
        if (!(t->cols[j].name = malloc(len + 1)))
            return TT_CSV_NOMEM(r);
        memcpy(t->cols[j].name, text, len);
        t->cols[j].name[len] = '\0';
        t->cols[j].kind = TT_CSV_NUMERIC;
        if (!(t->cols[j].num = tt_malloc_array(TT_CSV_FIRST_ROWS, sizeof(double))))
            return TT_CSV_NOMEM(r);
    }
    /* Every per-row array starts with TT_CSV_FIRST_ROWS slots; grow_rows doubles. */
    if (!(t->line = malloc(TT_CSV_FIRST_ROWS * sizeof(size_t))) ||
        !(r->offs = malloc(TT_CSV_FIRST_ROWS * sizeof(size_t))))
        return TT_CSV_NOMEM(r);
    r->row_cap = TT_CSV_FIRST_ROWS;
    if (tt_csv_index_names(t) != 0)
        return TT_CSV_NOMEM(r);
    return TT_OK;
}

int tt_csv_batch_add(reader *r, const field *f, size_t nf, size_t line, size_t off)
{
    struct batch *b = &r->batch;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        struct batch_rec *p = realloc(b->rec, cap * sizeof *p);
        if (!p)
            return 0;
        b->rec = p;
        b->cap = cap;
    }
    if (b->nf + nf > b->fcap) {
        size_t cap = b->fcap ? b->fcap : 4096;
        while (cap < b->nf + nf)
            cap *= 2;
        field *p = realloc(b->f, cap * sizeof *p);
        if (!p)
            return 0;
        b->f = p;
        b->fcap = cap;
    }
    memcpy(b->f + b->nf, f, nf * sizeof *f);
    b->rec[b->n++] = (struct batch_rec){line, off, b->nf, nf};
    b->nf += nf;
    return 1;
}

typedef struct convert_job {
    reader *r;
    size_t from, to, base;
} convert_job;

/* Numbers of NUMERIC columns, converted where they lie; every other cell
 * (missing tokens, quotes to undo, strings, non-numbers) is left to the
 * serial pass. Cells are disjoint, so two jobs can run at once. */
static void *convert(void *arg)
{
    convert_job *job = arg;
    reader *r = job->r;
    struct batch *b = &r->batch;
    tt_csv_table *t = r->t;
    size_t nc = t->n_cols;
    for (size_t k = job->from; k < job->to; k++) {
        const field *f = b->f + b->rec[k].first;
        unsigned char *state = b->state + k * nc;
        for (size_t j = 0; j < nc; j++) {
            const char *text = r->sc.b + f[j].off;
            state[j] = !b->numeric[j] || f[j].esc || is_missing(r, text, f[j].len) ||
                       !tt_csv_number(text, f[j].len, &t->cols[j].num[job->base + k]);
        }
    }
    return NULL;
}

tt_status tt_csv_batch_store(reader *r)
{
    struct batch *b = &r->batch;
    tt_csv_table *t = r->t;
    size_t nc = t->n_cols, base = t->n_rows, n = b->n;
    for (size_t k = 0; k < n; k++) {
        const struct batch_rec *rec = &b->rec[k];
        if (rec->nf != nc) {
            const field *f = b->f + rec->first;
            int blank = rec->nf == 1 && f->len == 0 && !f->quoted;
            return tt_errf(r->err, r->errlen, TT_ERR_PARSE, "%s: line %zu: ragged row: "
                           "expected %zu fields (as in the header), got %zu%s", r->path,
                           rec->line, nc, rec->nf, blank ? " (blank line?)" : "");
        }
    }
    while (r->row_cap < base + n)
        if (!grow_rows(r))
            return TT_CSV_NOMEM(r);
    if (n * nc > b->state_cap) {
        unsigned char *p = realloc(b->state, n * nc);
        if (!p)
            return TT_CSV_NOMEM(r);
        b->state = p;
        b->state_cap = n * nc;
    }
    if (!b->numeric && !(b->numeric = malloc(nc ? nc : 1)))
        return TT_CSV_NOMEM(r);
    for (size_t j = 0; j < nc; j++)
        b->numeric[j] = t->cols[j].kind == TT_CSV_NUMERIC;
    for (size_t k = 0; k < n; k++) {
        t->line[base + k] = b->rec[k].line;
        r->offs[base + k] = b->rec[k].off;
    }
    /* Two cores: the second half of the batch on a second thread. */
    convert_job lo = {r, 0, n, base}, hi = {r, n / 2, n, base};
    pthread_t th;
    int threaded = n >= 512 && pthread_create(&th, NULL, convert, &hi) == 0;
    if (threaded)
        lo.to = n / 2;
    convert(&lo);
    if (threaded)
        pthread_join(th, NULL);
    /* In row order: whatever needs allocation, or a column turning STRING. */
    tt_status st = TT_OK;
    for (size_t k = 0; k < n && st == TT_OK; k++) {
        const field *f = b->f + b->rec[k].first;
        for (size_t j = 0; j < nc && st == TT_OK; j++) {
            if (!b->state[k * nc + j] && t->cols[j].kind == TT_CSV_NUMERIC)
                continue;
            size_t len;
            const char *text = tt_csv_field_text(r, &r->sc, &f[j], &len);
            st = text ? store_cell(r, j, base + k, text, len) : TT_CSV_NOMEM(r);
        }
    }
    /* On failure too: every string stored so far is then freed with the table. */
    t->n_rows = base + n;
    b->n = 0;
    b->nf = 0;
    return st;
}

/* Line of byte offset off, for the NUL message: counted from the start. */
