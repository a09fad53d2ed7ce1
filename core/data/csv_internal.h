/* csv_internal.h - number parsing shared by the CSV reader (csv.c, csv_num.c). */
#ifndef TT_DATA_CSV_INTERNAL_H
#define TT_DATA_CSV_INTERNAL_H

#include <locale.h>
#include <stddef.h>

#include "data/csv.h"

/* The process-wide C locale object (created once, never freed); (locale_t)0
 * if it cannot be created. */
locale_t tt_csv_c_locale(void);

/* The reader's number rule for the len bytes at s (no NUL needed): 1 and *out
 * when they form a number, else 0. Exactly the value strtod gives (correctly
 * rounded): plain decimals of up to 19 significant digits are converted
 * here, anything else goes through strtod_l under the C locale. */
int tt_csv_number(const char *s, size_t len, double *out);

/* ---- the streaming reader's state, shared by csv.c (scanning, the file
 * window) and csv_store.c (typed columns, batches) ---- */

enum { TT_CSV_WINDOW = 1 << 22, TT_CSV_FIRST_ROWS = 1024 };

typedef struct field {
    size_t off, len;       /* in the window; quotes excluded */
    unsigned char esc;     /* holds doubled quotes to undo */
    unsigned char quoted;
} field;

/* One record's fields, from a window of text. */
typedef struct scanner {
    const char *b;
    size_t pos, end;
    int eof;               /* no more text after end */
    field *f;
    size_t nf, fcap;
} scanner;

typedef struct reader {
    const char *path;
    char *err;
    size_t errlen;
    int fd;                /* file source, or -1 for memory */
    const char *mem;
    size_t mem_len;
    char *win;             /* file window */
    size_t win_cap, win_off; /* file offset of win[0] */
    scanner sc;
    size_t line;           /* line of the next record */
    const char *const *tokens;
    size_t n_tokens, max_token;
    size_t tok_len[16];    /* lengths of the first 16 tokens (the rest use strlen) */
    tt_status fail;        /* why scan_record returned -1 */
    char *scratch;
    size_t scratch_cap;
    tt_csv_table *t;
    size_t row_cap;
    size_t *offs;          /* record offsets, for refetching text */
    struct batch {         /* records of the current window not yet stored */
        struct batch_rec { size_t line, off, first, nf; } *rec;
        size_t n, cap;
        field *f;
        size_t nf, fcap;
        unsigned char *state; /* per cell: 1 = stored by the serial pass */
        size_t state_cap;
        unsigned char *numeric; /* per column: NUMERIC when the batch began */
    } batch;
} reader;

#define TT_CSV_NOMEM(r) tt_errf((r)->err, (r)->errlen, TT_ERR_NOMEM, \
                            "%s: out of memory while reading", \
                            (r)->path)


/* csv.c */
int tt_csv_scan_record(reader *r, scanner *s, size_t line, size_t *next, size_t *lines);
const char *tt_csv_field_text(reader *r, const scanner *s, const field *f, size_t *len);

/* csv_store.c */
tt_status tt_csv_store_header(reader *r, const scanner *s);
int tt_csv_batch_add(reader *r, const field *f, size_t nf, size_t line, size_t off);
tt_status tt_csv_batch_store(reader *r);

#endif
