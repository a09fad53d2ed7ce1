/* bench_csv_load.c - load one CSV with tt_csv_read and report time and peak
 * memory, for tests/bench/csv_load.
 *
 *   bench_csv_load FILE.csv
 * prints one line:
 *   rows=R cols=C numeric_cols=N seconds=S cpu_seconds=U peak_mb=M doubles_mb=D peak_ratio=P
 * peak_mb is the growth of the process's peak resident set (VmHWM) over its
 * value just before the load, so it counts what the reader holds at its
 * worst moment; doubles_mb is rows x numeric columns x 8 bytes. cpu_seconds
 * (user + system, all threads) tells a busy machine from a slow reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "data/csv.h"
#include "util/clock.h"

/* VmHWM in kB from /proc/self/status (0 if unreadable). */
static long vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE.csv\n", argv[0]);
        return 2;
    }
    char err[1024];
    long base = vm_hwm_kb();
    double t0 = tt_now(), c0 = cpu_seconds();
    tt_csv_table *t = NULL;
    if (tt_csv_read(argv[1], &t, err, sizeof err) != TT_OK) {
        fprintf(stderr, "bench_csv_load: %s\n", err);
        return 1;
    }
    double secs = tt_now() - t0, cpu = cpu_seconds() - c0;
    long peak = vm_hwm_kb() - base;
    size_t numeric = 0;
    for (size_t j = 0; j < t->n_cols; j++)
        numeric += t->cols[j].kind == TT_CSV_NUMERIC;
    double doubles_mb = (double)t->n_rows * (double)numeric * 8.0 / 1048576.0;
    double peak_mb = (double)peak / 1024.0;
    printf("rows=%zu cols=%zu numeric_cols=%zu seconds=%.3f cpu_seconds=%.3f peak_mb=%.1f "
           "doubles_mb=%.1f peak_ratio=%.3f\n", t->n_rows, t->n_cols, numeric, secs, cpu, peak_mb,
           doubles_mb,
           doubles_mb > 0 ? peak_mb / doubles_mb : 0.0);
    tt_csv_free(t);
    return 0;
}
