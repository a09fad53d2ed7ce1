/* gen_csv.c - writing a generated dataset as CSV (gen.h). */
#include "data/gen.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "util/err.h"

static int put_names(FILE *fp, const char *prefix, int from, int to)
{
    for (int a = from; a < to; a++)
        if (fprintf(fp, ",%s%d", prefix, a) < 0)
            return 0;
    return 1;
}

static int put_header(const tt_dataset *ds, FILE *fp)
{
    int k = ds->n_arms, ok = fputs("y,t", fp) != EOF;
    for (size_t j = 0; ok && j < ds->p_z; j++)
        ok = fprintf(fp, ",%s", ds->z_names[j]) > 0;
    for (size_t j = 0; ok && j < ds->p_x; j++)
        ok = fprintf(fp, ",%s", ds->x_names[j]) > 0;
    for (size_t j = 0; ok && j < ds->p_w; j++)
        ok = fprintf(fp, ",%s", ds->w_names[j]) > 0;
    if (ok && ds->tau)
        ok = put_names(fp, "tau", 1, k);
    if (ok && ds->true_propensity)
        ok = put_names(fp, "e", 0, k);
    if (ok && ds->propensity)
        ok = put_names(fp, "p", 0, k);
    if (ok && ds->mu0)
        ok = fputs(",mu0", fp) != EOF;
    if (ok && ds->t_value && ds->mu0)
        ok = fputs(",t_mean", fp) != EOF;
    return ok && fputc('\n', fp) != EOF;
}

static void put_block(FILE *fp, const double *m, size_t n, size_t p, size_t i)
{
    for (size_t j = 0; m && j < p; j++)
        fprintf(fp, ",%.17g", m[j * n + i]);
}

tt_status tt_gen_write_csv(const tt_dataset *ds, FILE *fp, char *err, size_t errlen)
{
    if (!ds || !fp)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_gen_write_csv: NULL argument");
    /* %.17g reads back to the same double, and only under the C locale is
     * the decimal point a '.'. */
    locale_t loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old = loc ? uselocale(loc) : (locale_t)0;
    int ok = put_header(ds, fp);
    size_t n = ds->n, k = (size_t)ds->n_arms;
    for (size_t i = 0; ok && i < n; i++) {
        if (ds->t_value)
            fprintf(fp, "%.17g,%.17g", ds->y[i], ds->t_value[i]);
        else
            fprintf(fp, "%.17g,%s", ds->y[i], ds->arm_labels[ds->t[i]]);
        put_block(fp, ds->z, n, ds->p_z, i);
        put_block(fp, ds->x, n, ds->p_x, i);
        put_block(fp, ds->w, n, ds->p_w, i);
        put_block(fp, ds->tau, n, k - 1, i);
        put_block(fp, ds->true_propensity, n, k, i);
        put_block(fp, ds->propensity, n, k, i);
        put_block(fp, ds->mu0, n, 1, i);
        if (ds->t_value && ds->mu0)
            fprintf(fp, ",%.17g", tt_gen_pricing_price_mean(ds, i));
        ok = fputc('\n', fp) != EOF;
    }
    if (loc) {
        uselocale(old);
        freelocale(loc);
    }
    if (!ok || ferror(fp))
        return tt_errf(err, errlen, TT_ERR_IO, "cannot write the generated CSV");
    return TT_OK;
}
