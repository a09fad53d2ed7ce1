/* csv.c - streaming RFC 4180 reader (csv.h): the file window and record
 * scanning; typed storage is in csv_store.c.
 *
 * The file is read through a fixed-size window, never held whole: memory is
 * the typed columns plus a few bytes per row (line number, record offset), so
 * a 1,000,000 x 50 numeric file peaks near the 400 MB of its doubles. Each
 * record is split into field slices first and stored only once complete, so
 * a record cut by the window's edge is simply re-read after a refill. */
#include "data/csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/csv_internal.h"
#include "util/err.h"
#include "util/mem.h"

static const char *const default_tokens[] = {"", "NA", "NaN", "nan", "null", "NULL"};

static int push_field(scanner *s, field f)
{
    if (s->nf == s->fcap) {
        size_t cap = s->fcap ? s->fcap * 2 : 64;
        field *p = realloc(s->f, cap * sizeof *p);
        if (!p)
            return 0;
        s->f = p;
        s->fcap = cap;
    }
    s->f[s->nf++] = f;
    return 1;
}

/* Bytes that end an unquoted field or are an error in one. */
static const unsigned char special[256] = {['"'] = 1, [','] = 1, ['\n'] = 1, ['\r'] = 1};

/* Nonzero (high bit of the byte) where a byte of x is zero; the lowest set
 * bit is exact, which is all a forward scan needs. */
static uint64_t zero_bytes(uint64_t x)
{
    return (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
}

/* First special byte at or after p (or end): eight bytes per step, since
 * fields of numbers are long and the bytes that end them rare. */
static size_t skip_plain(const char *b, size_t p, size_t end)
{
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, b + p, 8);
        uint64_t hit = zero_bytes(w ^ 0x2C2C2C2C2C2C2C2Cull) |  /* , */
                       zero_bytes(w ^ 0x0A0A0A0A0A0A0A0Aull) |  /* \n */
                       zero_bytes(w ^ 0x0D0D0D0D0D0D0D0Dull) |  /* \r */
                       zero_bytes(w ^ 0x2222222222222222ull);   /* " */
        if (hit)
            return p + ((size_t)__builtin_ctzll(hit) >> 3);
        p += 8;
    }
    while (p < end && !special[(unsigned char)b[p]])
        p++;
    return p;
}

/* Split one record starting at s->pos. Returns 1 (done: *next, *lines set),
 * 0 (the window ends inside it and more text exists), or -1 (error written
 * through r). Line numbers count physical lines: CRLF, LF or a lone CR each
 * end one, inside quotes too. */
int tt_csv_scan_record(reader *r, scanner *s, size_t line, size_t *next, size_t *lines)
{
    const char *b = s->b;
    size_t p = s->pos, end = s->end, nl = 0;
    s->nf = 0;
    for (;;) {
        field f = {p, 0, 0, 0};
        if (p < end && b[p] == '"') {
            size_t open_line = line + nl;
            f.quoted = 1;
            f.off = ++p;
            for (;;) {
                while (p < end && b[p] != '"' && b[p] != '\n' && b[p] != '\r')
                    p++;
                if (p >= end) {
                    if (!s->eof)
                        return 0;
                    r->fail = tt_errf(r->err, r->errlen, TT_ERR_PARSE,
                                      "%s: line %zu: unterminated quote (the quoted field "
                                      "opened here never closes)", r->path, open_line);
                    return -1;
                }
                if (p + 1 >= end && !s->eof)
                    return 0; /* need the next byte to tell "" or \r\n */
                if (b[p] == '"') {
                    if (p + 1 < end && b[p + 1] == '"') {
                        f.esc = 1;
                        p += 2;
                        continue;
                    }
                    f.len = p - f.off;
                    p++;
                    break;
                }
                if (b[p] == '\r' && p + 1 < end && b[p + 1] == '\n')
                    p++;
                p++;
                nl++;
            }
            if (p < end && b[p] != ',' && b[p] != '\n' && b[p] != '\r') {
                r->fail = tt_errf(r->err, r->errlen, TT_ERR_PARSE,
                                  "%s: line %zu: unexpected text after a closing quote in "
                                  "field %zu (a quote inside a quoted field must be doubled)",
                                  r->path, line + nl, s->nf + 1);
                return -1;
            }
        } else {
            p = skip_plain(b, p, end);
            if (p < end && b[p] == '"') {
                r->fail = tt_errf(r->err, r->errlen, TT_ERR_PARSE, "%s: line %zu: stray quote "
                                  "in unquoted field %zu (quote the whole field and double "
                                  "inner quotes)", r->path, line + nl, s->nf + 1);
                return -1;
            }
            if (p >= end && !s->eof)
                return 0;
            f.len = p - f.off;
        }
        if (!push_field(s, f)) {
            r->fail = TT_CSV_NOMEM(r);
            return -1;
        }
        if (p < end && b[p] == ',') {
            p++;
            continue;
        }
        if (p < end) {
            if (b[p] == '\r' && p + 1 >= end && !s->eof)
                return 0;
            if (b[p] == '\r' && p + 1 < end && b[p + 1] == '\n')
                p++;
            p++;
            nl++;
        }
        break;
    }
    *next = p;
    *lines = nl;
    return 1;
}

/* Text of field f, NUL-terminated, doubled quotes undone (scratch-owned). */
const char *tt_csv_field_text(reader *r, const scanner *s, const field *f, size_t *len)
{
    if (r->scratch_cap < f->len + 1) {
        size_t cap = f->len + 64;
        char *p = realloc(r->scratch, cap);
        if (!p)
            return NULL;
        r->scratch = p;
        r->scratch_cap = cap;
    }
    const char *src = s->b + f->off;
    size_t n = 0;
    if (!f->esc) {
        memcpy(r->scratch, src, f->len);
        n = f->len;
    } else {
        for (size_t i = 0; i < f->len; i++) {
            r->scratch[n++] = src[i];
            if (src[i] == '"')
                i++; /* skip the second quote of a pair */
        }
    }
    r->scratch[n] = '\0';
    *len = n;
    return r->scratch;
}

static size_t line_of(reader *r, size_t off)
{
    size_t line = 1;
    char buf[1 << 16];
    int prev_cr = 0;
    for (size_t at = 0; at < off;) {
        size_t want = off - at < sizeof buf ? off - at : sizeof buf;
        const char *p = buf;
        if (r->fd < 0) {
            p = r->mem + at;
        } else {
            ssize_t got = pread(r->fd, buf, want, (off_t)at);
            if (got <= 0)
                break;
            want = (size_t)got;
        }
        for (size_t i = 0; i < want; i++) {
            if (p[i] == '\n' ? !prev_cr : p[i] == '\r')
                line++;
            prev_cr = p[i] == '\r';
        }
        at += want;
    }
    return line;
}

/* Refill the file window: keep [pos, end), read more after it. Returns 0 on
 * success (s->eof set at the end of the file), or a status. */
static tt_status refill(reader *r)
{
    scanner *s = &r->sc;
    size_t keep = s->end - s->pos;
    if (keep == r->win_cap) { /* one record longer than the window */
        char *p = realloc(r->win, r->win_cap * 2);
        if (!p)
            return TT_CSV_NOMEM(r);
        r->win = p;
        r->win_cap *= 2;
    }
    memmove(r->win, r->win + s->pos, keep);
    r->win_off += s->pos;
    s->b = r->win;
    s->pos = 0;
    s->end = keep;
    while (s->end < r->win_cap) {
        ssize_t got = read(r->fd, r->win + s->end, r->win_cap - s->end);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return tt_errf(r->err, r->errlen, TT_ERR_IO, "cannot read %s: %s", r->path,
                           strerror(errno));
        if (got == 0) {
            s->eof = 1;
            break;
        }
        const char *nul = memchr(r->win + s->end, '\0', (size_t)got);
        if (nul)
            return tt_errf(r->err, r->errlen, TT_ERR_PARSE, "%s: line %zu: NUL byte (binary "
                           "file?)", r->path, line_of(r, r->win_off + (size_t)(nul - r->win)));
        s->end += (size_t)got;
    }
    return TT_OK;
}

static int is_blank_record(const scanner *s)
{
    return s->nf == 1 && s->f[0].len == 0 && !s->f[0].quoted;
}

/* Pending blank records: blank lines are ignored at the end of the file, and
 * otherwise are records like any other (ragged unless the file has one
 * column, where they are missing cells). */
typedef struct blanks {
    size_t n, first_line, first_off;
} blanks;

static tt_status flush_blanks(reader *r, blanks *bl)
{
    for (size_t k = 0; k < bl->n; k++) {
        field f = {0, 0, 0, 0};
        if (!tt_csv_batch_add(r, &f, 1, bl->first_line + k, bl->first_off + k))
            return TT_CSV_NOMEM(r);
    }
    bl->n = 0;
    return TT_OK;
}

static tt_status read_all(reader *r)
{
    scanner *s = &r->sc;
    blanks bl = {0, 0, 0};
    int have_header = 0;
    r->line = 1;
    if (r->fd >= 0) {
        tt_status st = refill(r);
        if (st)
            return st;
    }
    if (s->end - s->pos >= 3 && memcmp(s->b + s->pos, "\xEF\xBB\xBF", 3) == 0)
        s->pos += 3;
    for (;;) {
        if (s->pos >= s->end && s->eof)
            break;
        size_t next, lines, start = s->pos;
        int rc = tt_csv_scan_record(r, s, r->line, &next, &lines);
        if (rc < 0)
            return r->fail;
        if (rc == 0) {
            /* Stored before the window moves: the batch points into it. */
            tt_status st = tt_csv_batch_store(r);
            if (!st)
                st = refill(r);
            if (st)
                return st;
            continue;
        }
        size_t off = (r->fd >= 0 ? r->win_off : 0) + start;
        if (is_blank_record(s)) {
            if (bl.n++ == 0) {
                bl.first_line = r->line;
                bl.first_off = off;
            }
        } else {
            if (!have_header && bl.n)
                return tt_errf(r->err, r->errlen, TT_ERR_PARSE, "%s: line 1: header field 1 "
                               "is empty (every column needs a name)", r->path);
            tt_status st = flush_blanks(r, &bl);
            if (!st && have_header && !tt_csv_batch_add(r, s->f, s->nf, r->line, off))
                st = TT_CSV_NOMEM(r);
            if (!st && !have_header)
                st = tt_csv_store_header(r, s);
            if (!st && r->batch.n >= 16384)
                st = tt_csv_batch_store(r);
            if (st)
                return st;
            have_header = 1;
        }
        r->line += lines;
        s->pos = next;
    }
    if (!have_header)
        return tt_errf(r->err, r->errlen, TT_ERR_PARSE, "%s: line 1: empty file (a header row "
                       "is required)", r->path);
    return tt_csv_batch_store(r);
}

void tt_csv_free(tt_csv_table *table)
{
    if (!table)
        return;
    for (size_t j = 0; table->cols && j < table->n_cols; j++) {
        tt_csv_column *c = &table->cols[j];
        free(c->name);
        free(c->num);
        tt_free_strings(c->str, c->str ? table->n_rows : 0);
        free(c->missing);
    }
    free(table->cols);
    tt_csv_names_free(table);
    free(table->path);
    free(table->line);
    free(table);
}

/* Every column gets its missing flags (all zero when it had no gap: calloc
 * pages stay untouched, so they cost no memory). */
static tt_status finish(reader *r)
{
    tt_csv_table *t = r->t;
    for (size_t j = 0; j < t->n_cols; j++)
        if (!t->cols[j].missing && !(t->cols[j].missing = calloc(r->row_cap ? r->row_cap : 1, 1)))
            return TT_CSV_NOMEM(r);
    return TT_OK;
}

static tt_status run(reader *r, tt_csv_table **out)
{
    tt_status st = TT_OK;
    if (!(r->t = calloc(1, sizeof *r->t)) || !(r->t->path = tt_strdup(r->path)))
        st = TT_CSV_NOMEM(r);
    if (!st)
        st = read_all(r);
    if (!st)
        st = finish(r);
    free(r->sc.f);
    free(r->scratch);
    free(r->offs);
    free(r->win);
    free(r->batch.rec);
    free(r->batch.f);
    free(r->batch.state);
    free(r->batch.numeric);
    if (st) {
        tt_csv_free(r->t);
        return st;
    }
    *out = r->t;
    return TT_OK;
}

static void init_reader(reader *r, const char *path, const tt_csv_options *opt, char *err,
                        size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->err = err;
    r->errlen = errlen;
    r->fd = -1;
    r->tokens = default_tokens;
    r->n_tokens = sizeof default_tokens / sizeof default_tokens[0];
    if (opt && opt->has_missing) {
        r->tokens = opt->missing;
        r->n_tokens = opt->n_missing;
    }
    for (size_t i = 0; i < r->n_tokens; i++) {
        size_t tl = strlen(r->tokens[i]);
        if (i < 16)
            r->tok_len[i] = tl;
        if (tl > r->max_token)
            r->max_token = tl;
    }
}

tt_status tt_csv_parse_opts(const char *text, size_t len, const char *path,
                            const tt_csv_options *opt, tt_csv_table **out, char *err,
                            size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_csv_parse: out is NULL");
    *out = NULL;
    if (!path)
        path = "<memory>";
    if (!text && len > 0)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_csv_parse: text is NULL");
    reader r;
    init_reader(&r, path, opt, err, errlen);
    r.mem = text ? text : "";
    r.mem_len = len;
    const char *nul = len ? memchr(text, '\0', len) : NULL;
    if (nul)
        return tt_errf(err, errlen, TT_ERR_PARSE, "%s: line %zu: NUL byte (binary file?)", path,
                       line_of(&r, (size_t)(nul - text)));
    r.sc = (scanner){r.mem, 0, len, 1, NULL, 0, 0};
    return run(&r, out);
}

tt_status tt_csv_parse(const char *text, size_t len, const char *path, tt_csv_table **out,
                       char *err, size_t errlen)
{
    return tt_csv_parse_opts(text, len, path, NULL, out, err, errlen);
}

tt_status tt_csv_read_opts(const char *path, const tt_csv_options *opt, tt_csv_table **out,
                           char *err, size_t errlen)
{
    if (!out || !path)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_csv_read: NULL argument");
    *out = NULL;
    reader r;
    init_reader(&r, path, opt, err, errlen);
    r.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r.fd < 0)
        return tt_errf(err, errlen, TT_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    r.win_cap = TT_CSV_WINDOW;
    if (!(r.win = malloc(r.win_cap))) {
        close(r.fd);
        return TT_CSV_NOMEM(&r);
    }
    r.sc = (scanner){r.win, 0, 0, 0, NULL, 0, 0};
    tt_status st = run(&r, out);
    close(r.fd);
    return st;
}

tt_status tt_csv_read(const char *path, tt_csv_table **out, char *err, size_t errlen)
{
    return tt_csv_read_opts(path, NULL, out, err, errlen);
}

