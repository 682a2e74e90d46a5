/* common/snap_log.h -- diagnostics on stderr, filtered by one global level. */
#ifndef SNAP_LOG_H
#define SNAP_LOG_H

typedef enum snap_log_level {
    SNAP_LOG_ERROR = 0,
    SNAP_LOG_WARN,
    SNAP_LOG_INFO,
    SNAP_LOG_DEBUG,
} snap_log_level;

/* Messages above @level are dropped. The default is SNAP_LOG_WARN. */
void snap_log_set_level(snap_log_level level);
snap_log_level snap_log_get_level(void);

void snap_log(snap_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define snap_warn(...) snap_log(SNAP_LOG_WARN, __VA_ARGS__)
#define snap_info(...) snap_log(SNAP_LOG_INFO, __VA_ARGS__)
#define snap_debug(...) snap_log(SNAP_LOG_DEBUG, __VA_ARGS__)

#endif
