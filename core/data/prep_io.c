/* prep_io.c - saving and loading the preprocessing (prep.h).
 *
 * Format (text, one item per line, C locale):
 *   tautune-prep 1
 *   features N
 *   feature ROLE KIND INDICATOR FILL N_LEVELS HAS_OTHER LEN:NAME
 *   level LEN:TEXT            (N_LEVELS lines after a CAT feature)
 *   end
 * ROLE is x/w/z, KIND num/bool/cat, FILL printed with %.17g so it reads back
 * to the same double. LEN:TEXT carries any bytes (commas, spaces, newlines). */
#include "data/prep_internal.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv_internal.h"
#include "util/err.h"
#include "util/mem.h"

static const char *const role_names[] = {"x", "w", "z"};
static const char *const kind_names[] = {"num", "bool", "cat"};

static int put_text(FILE *fp, const char *s)
{
    size_t n = strlen(s);
    return fprintf(fp, "%zu:", n) > 0 && fwrite(s, 1, n, fp) == n && fputc('\n', fp) != EOF;
}

tt_status tt_prep_save(const tt_prep *p, FILE *fp, char *err, size_t errlen)
{
    if (!p || !fp)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_prep_save: NULL argument");
    locale_t loc = tt_csv_c_locale(); /* numbers as in the C locale */
    locale_t old = loc ? uselocale(loc) : (locale_t)0;
    int ok = fprintf(fp, "tautune-prep 1\nfeatures %zu\n", p->n) > 0;
    for (size_t i = 0; ok && i < p->n; i++) {
        const tt_prep_feature *f = &p->f[i];
        ok = fprintf(fp, "feature %s %s %d %.17g %zu %d ", role_names[f->role],
                     kind_names[f->kind], f->indicator, f->fill, f->n_levels, f->has_other) > 0 &&
             put_text(fp, f->name);
        for (size_t l = 0; ok && l < f->n_levels; l++)
            ok = fputs("level ", fp) != EOF && put_text(fp, f->levels[l]);
    }
    ok = ok && fputs("end\n", fp) != EOF;
    if (loc)
        uselocale(old);
    return ok ? TT_OK : tt_errf(err, errlen, TT_ERR_IO, "cannot write the preprocessing");
}

static char *get_text(FILE *fp)
{
    size_t n;
    if (fscanf(fp, "%zu:", &n) != 1 || n > ((size_t)1 << 30))
        return NULL;
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    if (fread(s, 1, n, fp) != n || fgetc(fp) != '\n' || memchr(s, '\0', n)) {
        free(s);
        return NULL;
    }
    s[n] = '\0';
    return s;
}

static int index_of(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

static tt_status read_feature(FILE *fp, tt_prep_feature *f)
{
    char role[8], kind[8];
    if (fscanf(fp, " feature %7s %7s %d %lf %zu %d ", role, kind, &f->indicator, &f->fill,
               &f->n_levels, &f->has_other) != 6)
        return TT_ERR_PARSE;
    f->role = index_of(role_names, 3, role);
    f->kind = index_of(kind_names, 3, kind);
    size_t nl = f->n_levels;
    f->n_levels = 0;
    if (f->role < 0 || f->kind < 0 || nl > 1000000 || (f->kind != TT_PREP_CAT && nl) ||
        !(f->name = get_text(fp)))
        return TT_ERR_PARSE;
    if (!(f->levels = calloc(nl ? nl : 1, sizeof(char *))))
        return TT_ERR_NOMEM;
    for (size_t l = 0; l < nl; l++) {
        char word[8];
        if (fscanf(fp, " %7s ", word) != 1 || strcmp(word, "level") != 0 ||
            !(f->levels[l] = get_text(fp)))
            return TT_ERR_PARSE;
        f->n_levels++;
    }
    return TT_OK;
}

tt_status tt_prep_load(FILE *fp, tt_prep **out, char *err, size_t errlen)
{
    if (!fp || !out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_prep_load: NULL argument");
    *out = NULL;
    locale_t loc = tt_csv_c_locale(); /* numbers as in the C locale */
    locale_t old = loc ? uselocale(loc) : (locale_t)0;
    int version = 0;
    size_t n = 0;
    tt_status st = TT_OK;
    tt_prep *p = NULL;
    if (fscanf(fp, "tautune-prep %d features %zu", &version, &n) != 2 || version != 1 ||
        n > 1000000) {
        st = TT_ERR_PARSE;
    } else if (!(p = calloc(1, sizeof *p)) || !(p->f = calloc(n ? n : 1, sizeof *p->f))) {
        st = TT_ERR_NOMEM;
    } else {
        for (size_t i = 0; i < n && st == TT_OK; i++) {
            p->n++;
            st = read_feature(fp, &p->f[i]);
        }
        char word[8];
        if (st == TT_OK && (fscanf(fp, " %7s", word) != 1 || strcmp(word, "end") != 0))
            st = TT_ERR_PARSE;
    }
    if (loc)
        uselocale(old);
    if (st != TT_OK) {
        tt_prep_free(p);
        return st == TT_ERR_NOMEM ? tt_errf(err, errlen, st, "out of memory")
                                  : tt_errf(err, errlen, st, "malformed preprocessing state");
    }
    *out = p;
    return TT_OK;
}
