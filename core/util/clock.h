/* clock.h - monotonic time in seconds (CLOCK_MONOTONIC), for budgets, and
 * the process's CPU seconds, for benchmarks that must not count a shared
 * machine's other load. */
#ifndef TT_UTIL_CLOCK_H
#define TT_UTIL_CLOCK_H

double tt_now(void);
double tt_cpu_now(void); /* CLOCK_PROCESS_CPUTIME_ID: this process, all threads */

#endif
