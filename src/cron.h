/* cron: parse a cron expression once, then ask for its next fire times. */
#ifndef DTS_CRON_H
#define DTS_CRON_H

#include <stddef.h>
#include <stdint.h>

#include "tz.h"

typedef struct CronExpr CronExpr;

/* Parses TEXT (5 fields, 6 with leading seconds, or a macro). Pure: no I/O.
 * Returns NULL and writes a message naming the field and position into err on
 * a bad or never-firing expression. The caller frees it with cron_free. */
CronExpr *cron_parse(const char *text, char *err, size_t errlen);

/* Frees an expression; cron_free(NULL) is a no-op. */
void cron_free(CronExpr *e);

/* The next fire instant, in Unix milliseconds, strictly after after_ms, with
 * wall-clock fields matched in ZONE (NULL means UTC). anchor_ms is the task's
 * start, used by @every. Returns -1 if the expression never fires again.
 * Pure and thread-safe. */
int64_t cron_next(const CronExpr *e, const Tz *zone, int64_t anchor_ms, int64_t after_ms);

/* `dts cron next EXPR [--tz ZONE] [--from RFC3339] [--count N]`: prints fire
 * times, one RFC 3339 UTC instant a line. Returns the process exit code. */
int cron_cli_main(int argc, char **argv);

#endif
