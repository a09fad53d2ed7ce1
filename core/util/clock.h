/* clock.h - monotonic time in seconds (CLOCK_MONOTONIC), for budgets. */
#ifndef TT_UTIL_CLOCK_H
#define TT_UTIL_CLOCK_H

double tt_now(void);

#endif
