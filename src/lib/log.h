/* log: one JSON object a line on stderr. */
#ifndef DTS_LOG_H
#define DTS_LOG_H

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } LogLevel;

/* Sets the role name stamped on every line and the lowest level written. */
void log_init(const char *role, LogLevel min_level);

/* Parses "debug", "info", "warn" or "error"; returns -1 on anything else. */
int log_level_parse(const char *name);

/* Writes {"ts","level","role","msg", ...fields} as one line. FIELDS is a jansson
 * json_pack format for an object ("{s:s,s:i}") or NULL for no fields. */
void log_event(LogLevel level, const char *msg, const char *fields, ...);

#define log_debug(...) log_event(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_event(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_event(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_event(LOG_ERROR, __VA_ARGS__)

#endif
