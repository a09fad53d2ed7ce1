/*
 * csv.h - an RFC 4180 reader that produces typed columns.
 *
 * Streaming: the file goes through a fixed window, so memory is the typed
 * columns (8 bytes per numeric cell) plus ~16 bytes per row. Numbers are
 * converted exactly (correctly rounded, as strtod) by a fast path for plain
 * decimals, under the C locale whatever the process locale is.
 *
 * Accepts: a header row (required, names must be non-empty), quoted fields
 * holding commas, doubled quotes and newlines, CRLF or LF line ends, a UTF-8
 * byte-order mark, a missing final newline. Numbers are parsed under the C
 * locale whatever the process locale is.
 *
 * Rejects with a message naming the file and the line: an empty file, a file
 * with a header only is allowed (0 rows), a row with a different number of
 * fields than the header ("ragged"), an unterminated quote (naming the line
 * where the quote opened), a stray quote inside an unquoted field, a NUL byte
 * (binary file).
 *
 * Typing: a column is NUMERIC when every non-missing cell parses fully as a
 * finite or infinite double ("1", "-2.5e3", "inf"); otherwise STRING. Missing
 * cells are the empty string and the tokens NA, NaN, null (case-sensitive as
 * written, also "nan", "NULL"); they are flagged in `missing` and hold NaN (NUMERIC) or NULL
 * (STRING). Deciding what a missing value means is the dataset layer's job.
 *
 * Details: duplicate header names are accepted here (tt_csv_find returns the
 * first); the dataset layer reports the ambiguity when a duplicated name is
 * used. Missing tokens are matched on the field text after unquoting, so
 * "NA" quoted is missing too. Blank or space-padded numbers (" 1.5 ") count
 * as numbers; hex ("0x1f") does not, so hash-like identifiers stay STRING.
 * Blank lines at the end of the file are ignored; a blank line before the
 * last record is a one-field record (ragged unless the file has one column,
 * where it is a missing cell). Line numbers are physical lines (an embedded
 * newline inside quotes starts a new line), counting the header as line 1.
 */
#ifndef TT_DATA_CSV_H
#define TT_DATA_CSV_H

#include <stddef.h>

#include "tautune/tautune.h"

typedef enum tt_csv_kind { TT_CSV_NUMERIC = 0, TT_CSV_STRING = 1 } tt_csv_kind;

typedef struct tt_csv_column {
    char *name;             /* header text, unquoted */
    tt_csv_kind kind;
    double *num;            /* NUMERIC: n_rows values (NaN where missing) */
    char **str;             /* STRING: n_rows strings (NULL where missing) */
    unsigned char *missing; /* n_rows flags, 1 = missing */
    size_t n_missing;
} tt_csv_column;

typedef struct tt_csv_table {
    char *path;             /* as given to tt_csv_read */
    size_t n_rows;          /* data records (header excluded) */
    size_t n_cols;
    tt_csv_column *cols;
    size_t *line;           /* n_rows: 1-based file line where each record starts */
    struct tt_csv_names *names; /* header names by hash (csv_names.c); NULL for a table
                                 * built by hand (lookups then scan) */
} tt_csv_table;

/* Reader options. missing: the tokens that mark a missing cell, compared with
 * the field text after unquoting; used when has_missing (so an empty list
 * means "nothing is missing"), else the defaults above. */
typedef struct tt_csv_options {
    const char *const *missing;
    size_t n_missing;
    int has_missing;
} tt_csv_options;

/* Read a whole file. On success *out is a new table owned by the caller
 * (free with tt_csv_free). On failure *out is NULL and err says why. */
tt_status tt_csv_read(const char *path, tt_csv_table **out, char *err, size_t errlen);

/* Same, from memory (path is only used in messages). */
tt_status tt_csv_parse(const char *text, size_t len, const char *path, tt_csv_table **out,
                       char *err, size_t errlen);

/* The same two with options (opt NULL = defaults). */
tt_status tt_csv_read_opts(const char *path, const tt_csv_options *opt, tt_csv_table **out,
                           char *err, size_t errlen);
tt_status tt_csv_parse_opts(const char *text, size_t len, const char *path,
                            const tt_csv_options *opt, tt_csv_table **out, char *err,
                            size_t errlen);

/* The rows of several tables with the same header (names and order), in
 * order, as one new table (caller frees; the inputs are untouched). A column
 * that is NUMERIC in every input stays NUMERIC, otherwise numbers become text.
 * path is "a.csv + b.csv"; line numbers stay those of each file. */
tt_status tt_csv_concat(tt_csv_table *const *in, size_t n_in, tt_csv_table **out, char *err,
                        size_t errlen);

/* Index of the (first) column with that exact name, or -1. O(1) for tables
 * the reader made (they carry a name index). */
long tt_csv_find(const tt_csv_table *table, const char *name);

/* How many columns carry that exact name; the first two go to *first and
 * *second (either may be NULL). */
size_t tt_csv_name_count(const tt_csv_table *t, const char *name, long *first, long *second);

/* (Re)build t's name index after its names are set or changed (the reader
 * and tt_csv_concat do); 0, or -1 out of memory (then lookups scan). */
int tt_csv_index_names(tt_csv_table *t);
void tt_csv_names_free(tt_csv_table *t); /* drops the index; tt_csv_free does it too */

void tt_csv_free(tt_csv_table *table); /* NULL is a no-op */

/* The reader's number rule for one cell, under the C locale: 1 and *out set
 * when s parses fully as a double, else 0. For callers that need to say which
 * cell of a STRING column is not a number. */
int tt_csv_parse_number(const char *s, double *out);

/* Shortest text that reads back as v ("0", "1", "2.5"), under the C locale
 * whatever the process locale; -0 prints as "0". */
void tt_csv_format_number(double v, char *buf, size_t len);

#endif
