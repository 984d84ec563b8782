/* log: one JSON object a line on stderr. */
#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

static const char *log_role = "dts";
static LogLevel log_min = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *role, LogLevel min_level)
{
    log_role = role;
    log_min = min_level;
}

int log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

void log_event(LogLevel level, const char *msg, const char *fields, ...)
{
    if (level < log_min)
        return;
    char ts[CLOCK_RFC3339_LEN];
    clock_format_rfc3339(clock_now_ms(), ts);
    json_t *obj = NULL;
    if (fields != NULL) {
        va_list ap;
        va_start(ap, fields);
        obj = json_vpack_ex(NULL, 0, fields, ap);
        va_end(ap);
    }
    if (obj == NULL || !json_is_object(obj)) {
        json_decref(obj);
        obj = json_object();
    }
    json_t *line = json_pack("{s:s,s:s,s:s,s:s}", "ts", ts, "level", level_names[level], "role", log_role,
                             "msg", msg);
    json_object_update(line, obj);
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text != NULL) {
        fprintf(stderr, "%s\n", text);
        free(text);
    }
    json_decref(obj);
    json_decref(line);
}
