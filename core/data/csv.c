/* csv.c - RFC 4180 reader: one pass over the whole file held in memory. */
#include "data/csv.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"

/* The C locale is created once and never freed: number parsing and printing
 * must not depend on whatever locale the host program set, and uselocale/
 * strtod_l need a locale object that outlives every caller. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static locale_t get_c_locale(void)
{
    pthread_once(&c_locale_once, make_c_locale);
    return c_locale;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int parse_number_l(const char *s, locale_t loc, double *out)
{
    while (is_blank(*s))
        s++;
    if (*s == '\0')
        return 0;
    /* strtod also takes hex ("0x1f"); identifiers and hashes look like that,
     * so a column of them must stay STRING. */
    if (strpbrk(s, "xX"))
        return 0;
    char *end;
    double v = strtod_l(s, &end, loc);
    if (end == s)
        return 0;
    while (is_blank(*end))
        end++;
    if (*end != '\0')
        return 0;
    *out = v;
    return 1;
}

int tt_csv_parse_number(const char *s, double *out)
{
    locale_t loc = get_c_locale();
    if (!s || loc == (locale_t)0)
        return 0;
    return parse_number_l(s, loc, out);
}

void tt_csv_format_number(double v, char *buf, size_t len)
{
    if (!buf || len == 0)
        return;
    if (v == 0.0)
        v = 0.0; /* print -0 as "0": it is the same arm */
    locale_t loc = get_c_locale();
    locale_t old = loc ? uselocale(loc) : (locale_t)0;
    /* Shortest text that reads back as the same double, so 2.5 stays "2.5"
     * rather than "2.5000000000000000". */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (prec == 17 || !isfinite(v) || strtod(buf, NULL) == v)
            break;
    }
    if (loc)
        uselocale(old);
}

static int is_missing_token(const char *s)
{
    static const char *const tokens[] = {"", "NA", "NaN", "nan", "null", "NULL"};
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++)
        if (strcmp(s, tokens[i]) == 0)
            return 1;
    return 0;
}

/* Growable storage used while scanning: decoded field text lives in one arena
 * (offsets, not pointers, because the arena moves when it grows). */
typedef struct scan {
    char *arena; size_t arena_len, arena_cap;
    size_t *fields; size_t n_fields, fields_cap;
    size_t *lines; size_t n_records, lines_cap;
} scan;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 1;
    size_t c = *cap ? *cap : 64;
    while (c < need) {
        if (c > ((size_t)-1) / 2 / elem)
            return 0;
        c *= 2;
    }
    void *q = realloc(*p, c * elem);
    if (!q)
        return 0;
    *p = q;
    *cap = c;
    return 1;
}

static int arena_put(scan *s, const char *text, size_t n)
{
    if (!grow((void **)&s->arena, &s->arena_cap, s->arena_len + n + 1, 1))
        return 0;
    memcpy(s->arena + s->arena_len, text, n);
    s->arena_len += n;
    return 1;
}

static int field_end(scan *s, size_t start)
{
    if (!arena_put(s, "", 0))
        return 0;
    s->arena[s->arena_len++] = '\0';
    if (!grow((void **)&s->fields, &s->fields_cap, s->n_fields + 1, sizeof(size_t)))
        return 0;
    s->fields[s->n_fields++] = start;
    return 1;
}

static void scan_free(scan *s)
{
    free(s->arena);
    free(s->fields);
    free(s->lines);
}

static size_t line_of_offset(const char *buf, size_t off)
{
    size_t line = 1;
    for (size_t i = 0; i < off; i++) {
        if (buf[i] == '\n' || (buf[i] == '\r' && (i + 1 >= off || buf[i + 1] != '\n')))
            line++;
    }
    return line;
}

#define NOMEM(path) tt_errf(err, errlen, TT_ERR_NOMEM, "%s: out of memory while reading", path)

/* Split the text into records and fields. Line numbers count physical lines
 * (CRLF, LF or a lone CR each end one), including those inside quotes, so
 * that messages point where an editor would. */
static tt_status scan_text(const char *buf, size_t len, const char *path, scan *s, size_t *n_cols,
                           char *err, size_t errlen)
{
    size_t pos = 0, line = 1;
    *n_cols = 0;
    while (pos < len) {
        size_t rec_line = line, rec_fields = 0;
        for (;;) {
            size_t start = s->arena_len;
            if (pos < len && buf[pos] == '"') {
                size_t open_line = line;
                pos++;
                for (;;) {
                    if (pos >= len)
                        return tt_errf(err, errlen, TT_ERR_PARSE,
                                       "%s: line %zu: unterminated quote (the quoted field "
                                       "opened here never closes)", path, open_line);
                    /* Copy a run of plain bytes at once: quoted text is
                     * usually long and escapes are rare. */
                    size_t run = pos;
                    while (run < len && buf[run] != '"' && buf[run] != '\n' && buf[run] != '\r')
                        run++;
                    if (run > pos && !arena_put(s, buf + pos, run - pos))
                        return NOMEM(path);
                    pos = run;
                    if (pos >= len)
                        continue;
                    char c = buf[pos];
                    if (c == '"') {
                        if (pos + 1 < len && buf[pos + 1] == '"') {
                            if (!arena_put(s, "\"", 1))
                                return NOMEM(path);
                            pos += 2;
                            continue;
                        }
                        pos++;
                        break;
                    }
                    if (c == '\n' || pos + 1 >= len || buf[pos + 1] != '\n')
                        line++;
                    if (!arena_put(s, &c, 1))
                        return NOMEM(path);
                    pos++;
                }
                if (pos < len && buf[pos] != ',' && buf[pos] != '\n' && buf[pos] != '\r')
                    return tt_errf(err, errlen, TT_ERR_PARSE,
                                   "%s: line %zu: unexpected text after a closing quote in "
                                   "field %zu (a quote inside a quoted field must be doubled)",
                                   path, line, rec_fields + 1);
            } else {
                size_t from = pos;
                while (pos < len && buf[pos] != ',' && buf[pos] != '\n' && buf[pos] != '\r') {
                    if (buf[pos] == '"')
                        return tt_errf(err, errlen, TT_ERR_PARSE,
                                       "%s: line %zu: stray quote in unquoted field %zu "
                                       "(quote the whole field and double inner quotes)",
                                       path, line, rec_fields + 1);
                    pos++;
                }
                if (!arena_put(s, buf + from, pos - from))
                    return NOMEM(path);
            }
            if (!field_end(s, start))
                return NOMEM(path);
            rec_fields++;
            if (pos < len && buf[pos] == ',') {
                pos++;
                continue;
            }
            if (pos < len) {
                if (buf[pos] == '\r' && pos + 1 < len && buf[pos + 1] == '\n')
                    pos++;
                pos++;
                line++;
            }
            break;
        }
        if (s->n_records == 0) {
            *n_cols = rec_fields;
        } else if (rec_fields != *n_cols) {
            int blank = rec_fields == 1 && s->arena[s->fields[s->n_fields - 1]] == '\0';
            return tt_errf(err, errlen, TT_ERR_PARSE,
                           "%s: line %zu: ragged row: expected %zu fields (as in the header), "
                           "got %zu%s", path, rec_line, *n_cols, rec_fields,
                           blank ? " (blank line?)" : "");
        }
        if (!grow((void **)&s->lines, &s->lines_cap, s->n_records + 1, sizeof(size_t)))
            return NOMEM(path);
        s->lines[s->n_records++] = rec_line;
    }
    return TT_OK;
}

static void free_columns(tt_csv_column *cols, size_t n_cols, size_t n_rows)
{
    if (!cols)
        return;
    for (size_t j = 0; j < n_cols; j++) {
        free(cols[j].name);
        free(cols[j].num);
        tt_free_strings(cols[j].str, cols[j].str ? n_rows : 0);
        free(cols[j].missing);
    }
    free(cols);
}

void tt_csv_free(tt_csv_table *table)
{
    if (!table)
        return;
    free_columns(table->cols, table->n_cols, table->n_rows);
    free(table->path);
    free(table->line);
    free(table);
}

/* Type one column: try every non-missing cell as a number first, and only
 * fall back to strings when one fails, so numeric columns cost no strdup. */
static int build_column(const scan *s, size_t j, size_t n_cols, size_t n_rows, locale_t loc,
                        tt_csv_column *col)
{
    col->missing = tt_malloc_array(n_rows, 1);
    col->num = tt_malloc_array(n_rows, sizeof(double));
    if (!col->missing || !col->num)
        return 0;
    int numeric = 1;
    col->n_missing = 0;
    for (size_t i = 0; i < n_rows; i++) {
        const char *cell = s->arena + s->fields[(i + 1) * n_cols + j];
        col->missing[i] = (unsigned char)is_missing_token(cell);
        if (col->missing[i]) {
            col->n_missing++;
            col->num[i] = NAN;
        } else if (numeric && !parse_number_l(cell, loc, &col->num[i])) {
            numeric = 0;
        }
    }
    if (numeric) {
        col->kind = TT_CSV_NUMERIC;
        return 1;
    }
    free(col->num);
    col->num = NULL;
    col->kind = TT_CSV_STRING;
    col->str = calloc(n_rows ? n_rows : 1, sizeof(char *));
    if (!col->str)
        return 0;
    for (size_t i = 0; i < n_rows; i++) {
        if (col->missing[i])
            continue;
        col->str[i] = tt_strdup(s->arena + s->fields[(i + 1) * n_cols + j]);
        if (!col->str[i])
            return 0;
    }
    return 1;
}

tt_status tt_csv_parse(const char *text, size_t len, const char *path, tt_csv_table **out,
                       char *err, size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_csv_parse: out is NULL");
    *out = NULL;
    if (!path)
        path = "<memory>";
    if (!text && len > 0)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_csv_parse: text is NULL");
    locale_t loc = get_c_locale();
    if (loc == (locale_t)0)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "%s: cannot create the C locale", path);

    const char *nul = len ? memchr(text, '\0', len) : NULL;
    if (nul)
        return tt_errf(err, errlen, TT_ERR_PARSE, "%s: line %zu: NUL byte (binary file?)", path,
                       line_of_offset(text, (size_t)(nul - text)));
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    /* Trailing line ends carry no record; dropping them up front makes "no
     * final newline" and "several blank lines at the end" the same case. */
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    if (len == 0)
        return tt_errf(err, errlen, TT_ERR_PARSE,
                       "%s: line 1: empty file (a header row is required)", path);

    scan s = {0};
    size_t n_cols = 0;
    tt_status st = scan_text(text, len, path, &s, &n_cols, err, errlen);
    if (st != TT_OK) {
        scan_free(&s);
        return st;
    }
    for (size_t j = 0; j < n_cols; j++) {
        if (s.arena[s.fields[j]] == '\0') {
            scan_free(&s);
            return tt_errf(err, errlen, TT_ERR_PARSE,
                           "%s: line 1: header field %zu is empty (every column needs a name)",
                           path, j + 1);
        }
    }

    tt_csv_table *t = calloc(1, sizeof *t);
    if (!t) {
        scan_free(&s);
        return NOMEM(path);
    }
    t->n_rows = s.n_records - 1;
    t->n_cols = n_cols;
    t->path = tt_strdup(path);
    t->cols = calloc(n_cols, sizeof *t->cols);
    t->line = tt_malloc_array(t->n_rows, sizeof(size_t));
    if (!t->path || !t->cols || !t->line)
        goto nomem;
    memcpy(t->line, s.lines + 1, t->n_rows * sizeof(size_t));
    for (size_t j = 0; j < n_cols; j++) {
        t->cols[j].name = tt_strdup(s.arena + s.fields[j]);
        if (!t->cols[j].name || !build_column(&s, j, n_cols, t->n_rows, loc, &t->cols[j]))
            goto nomem;
    }
    scan_free(&s);
    *out = t;
    return TT_OK;

nomem:
    scan_free(&s);
    tt_csv_free(t);
    return NOMEM(path);
}

tt_status tt_csv_read(const char *path, tt_csv_table **out, char *err, size_t errlen)
{
    if (!out || !path)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_csv_read: NULL argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return tt_errf(err, errlen, TT_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    /* Read in growing chunks rather than trusting the size from stat: the
     * path may be a pipe or a file still being written. */
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return NOMEM(path);
    }
    for (;;) {
        if (len == cap) {
            char *nb = cap < ((size_t)-1) / 2 ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                fclose(f);
                return NOMEM(path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int failed = ferror(f);
    int saved = errno;
    fclose(f);
    if (failed) {
        free(buf);
        return tt_errf(err, errlen, TT_ERR_IO, "cannot read %s: %s", path, strerror(saved));
    }
    tt_status st = tt_csv_parse(buf, len, path, out, err, errlen);
    free(buf);
    return st;
}

long tt_csv_find(const tt_csv_table *table, const char *name)
{
    if (!table || !name)
        return -1;
    for (size_t j = 0; j < table->n_cols; j++)
        if (strcmp(table->cols[j].name, name) == 0)
            return (long)j;
    return -1;
}
