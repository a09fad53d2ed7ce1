/* fuzz_csv.c - libFuzzer target: the CSV reader on any bytes (data/csv.h),
 * with the default missing tokens and with none. A table that reads must
 * free cleanly and answer name lookups. */
#include <stddef.h>
#include <stdint.h>

#include "data/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    tt_csv_table *t = NULL;
    tt_csv_options none = {.has_missing = 1};
    for (int pass = 0; pass < 2; pass++) {
        if (tt_csv_parse_opts((const char *)data, size, "fuzz.csv", pass ? &none : NULL, &t, err,
                              sizeof err) == TT_OK) {
            for (size_t j = 0; j < t->n_cols; j++)
                if (tt_csv_find(t, t->cols[j].name) < 0)
                    __builtin_trap(); /* every name must be found */
            tt_csv_free(t);
        }
    }
    return 0;
}
