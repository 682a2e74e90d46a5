/* common/snap_time.h -- clocks and deadlines, in milliseconds. */
#ifndef SNAP_TIME_H
#define SNAP_TIME_H

#include <stdint.h>

/* Monotonic clock (CLOCK_MONOTONIC), for deadlines and windows. */
int64_t snap_now_ms(void);

/* Wall clock (CLOCK_REALTIME), for timestamps that are recorded. */
int64_t snap_wall_ms(void);

/* Milliseconds left until @deadline_ms (monotonic), never below 0. */
int64_t snap_ms_left(int64_t deadline_ms);

/* Sleeps @ms milliseconds (restarts after signals). */
void snap_sleep_ms(int64_t ms);

/* Formats wall-clock @ms as "2026-11-22T04:39:24.123Z" into @buf (>= 32). */
const char *snap_iso8601(int64_t wall_ms, char *buf, unsigned long size);

/* Parses what snap_iso8601() writes; returns -1 on bad input. */
int64_t snap_iso8601_parse(const char *s);

#endif
