/* exclude: which occurrences of a cron task are excluded (the task's
 * "exclude" ranges and "exclude_cron" expression), and the search past them
 * that the planner makes. Pure: no I/O, no clock. */
#ifndef DTS_EXCLUDE_H
#define DTS_EXCLUDE_H

#include <stddef.h>
#include <stdint.h>

#include "cron.h"
#include "tz.h"

#define EXCLUDE_RANGES_MAX 100                         /* "exclude" ranges a task may have */
#define EXCLUDE_SEARCH_MAX 1000                        /* fires one plan passes over at most */
#define EXCLUDE_TEXT_MAX (EXCLUDE_RANGES_MAX * 28 + 1) /* exclude_format's output */

/* A task's exclusions. An occurrence is excluded when its cron time (before
 * jitter) lies in a range [from, to) or its minute matches CRON in TZ. */
typedef struct Exclusions {
    int n;
    int64_t from[EXCLUDE_RANGES_MAX], to[EXCLUDE_RANGES_MAX]; /* ms */
    const CronExpr *cron;                                     /* borrowed; NULL: none */
    const Tz *tz;                                             /* CRON's zone; NULL: UTC */
} Exclusions;

/* 1 if an occurrence whose cron time is T_MS is excluded by X (NULL: none). */
int exclude_match(const Exclusions *x, int64_t t_ms);

/* 1 if X excludes anything. */
int exclude_any(const Exclusions *x);

/* Writes X's ranges as "FROM-TO,..." (ms) into BUF (EXCLUDE_TEXT_MAX bytes
 * hold any), "" for none. */
void exclude_format(const Exclusions *x, char *buf, size_t len);

/* Reads ranges written by exclude_format from TEXT into X (cron left
 * untouched). 0, or -1 for malformed text (X then has the ranges read). */
int exclude_parse(const char *text, Exclusions *x);

/* The whole local day DATE ("YYYY-MM-DD") in TZ as [*from, *to) in ms, DST
 * days included (23 or 25 hours). 0, or -1 for a malformed date. */
int exclude_day(const Tz *tz, const char *date, int64_t *from, int64_t *to);

/* The first of the shifted fires T, then the ones after it (shift_next with
 * ANCHOR and OFFSET), that X does not exclude: T itself when it is not. Looks
 * at most LIMIT fires past T, adding each excluded one passed to *PASSED and
 * each cron_next call to *WORK; when the limit is reached, returns the last
 * fire looked at (excluded, not counted: its plan counts it). -1 if the
 * schedule ends. */
int64_t exclude_skip(const Exclusions *x, const CronExpr *e, const Tz *tz, int64_t anchor_ms,
                     int64_t offset_ms, int64_t t, int limit, int64_t *passed, int64_t *work);

#endif
