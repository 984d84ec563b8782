/* store_sched: the store as the scheduler uses it: liveness, shard leases, due
 * members and the dispatch compare-and-set (see scripts/dispatch.lua). */
#ifndef DTS_STORE_SCHED_H
#define DTS_STORE_SCHED_H

#include <jansson.h>
#include <stdint.h>

#include "store.h"
#include "task.h"

#define STORE_DISPATCH_MAX 256 /* items per dispatch script call */

/* ---- scheduler ---- */

/* A member of a due set: a task's next occurrence, or a retry token
 * "retry:TASK:SCHED_MS:ATTEMPT" (a failed run's next attempt), or a held
 * occurrence "retry:TASK:SCHED_MS:ATTEMPT:KIND" (one that was waiting when its
 * task was paused, kept in P:{N}:held:ID until the task resumes). */
typedef struct DueItem {
    char member[128];
    char id[TASK_ID_MAX + 1]; /* the task */
    int64_t sched_ms;         /* the occurrence: due time, or the retried one's */
    int attempt;              /* 1, or the retry's attempt */
    int retry;                /* 1 for a retry token (or a held occurrence) */
    char kind[12];            /* the occurrence kind it runs as: retry, or a held one's */
    char due[32];             /* the score exactly as Redis prints it */
    int64_t due_ms;
    /* filled by store_due_take */
    char version[24];
    char stype[8]; /* the task's schedule type: at or cron (its hash field "stype") */
    char cron[TASK_CRON_MAX + 1], tz[65], misfire[12];
    int64_t jitter_ms;                    /* the task's jitter range (0: none) */
    char exclude[EXCLUDE_TEXT_MAX];       /* its exclude ranges (exclude_format), "" none */
    char exclude_cron[TASK_CRON_MAX + 1]; /* "" none */
    int64_t created_ms, misfire_ms, end_at_ms, max_runs, dispatched;
    /* set by the caller before store_dispatch */
    int64_t next_ms;            /* next due of a recurring task, -1: none */
    int dispatch;               /* 0: move the schedule on without running (misfire skip) */
    int defer;                  /* 1: not planned this pass; left for the next one */
    int64_t skipped, coalesced; /* misfire counts to add to the task */
    int64_t excluded;           /* excluded occurrences passed over, to add */
} DueItem;

/* Heartbeats scheduler SELF and returns the live schedulers' ids, sorted, as a
 * JSON array (caller decrefs), dropping those silent for longer than TTL_MS. */
int store_schedulers_alive(Store *st, const char *self, int64_t now_ms, int64_t ttl_ms, json_t **ids);
/* Drops SELF from the live set (clean exit). */
void store_scheduler_leave(Store *st, const char *self);

/* Takes or renews shard leases: held[i] is set to 1 for each of the N shards
 * in SHARDS now held by OWNER. One round trip. */
int store_leases_acquire(Store *st, const int *shards, int n, const char *owner, int64_t ttl_ms, int *held);
int store_lease_release(Store *st, int shard, const char *owner);

/* What store_due_take did besides the items it left to plan. */
typedef struct DueTaken {
    int dispatched;      /* occurrences it dispatched itself */
    int full;            /* 1: a shard had BATCH or more due: read again at once */
    int64_t earliest_ms; /* the earliest due time left, INT64_MAX if none */
    int64_t now_ms;      /* Redis's time the reads were made at (the latest), -1: none */
    int64_t *late_ms;    /* the caller's buffer (N x BATCH): lateness of each dispatched */
    int nlate;
} DueTaken;

/* For each of the N shards, one due_take.lua call, pipelined in one round
 * trip: reads up to BATCH members due at or before Redis's now (TIME in the
 * script; the process's shared clock is synced to it), dispatches the plain
 * one-time ones at once (an active task's id, not recurring, not a misfire
 * that THRESHOLD_MS and its policy skip) and leaves the rest in ITEMS with
 * their task fields, for the caller to plan and pass to store_dispatch:
 * counts[i] of them for shards[i], laid out shard after shard, BATCH slots
 * each. T gets the rest. */
int store_due_take(Store *st, const int *shards, int n, int batch, int64_t threshold_ms, DueItem *items,
                   int *counts, DueTaken *t);

/* Runs the dispatch compare-and-set for every shard's batch (same layout), one
 * script call per shard, pipelined in one round trip; *dispatched gets how
 * many occurrences moved to the ready streams. */
int store_dispatch(Store *st, const int *shards, int n, const DueItem *items, const int *counts, int batch,
                   int64_t now_ms, int *dispatched);

#endif
