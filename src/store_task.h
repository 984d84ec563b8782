/* store_task: the store as the api reads and writes tasks: create, replace, read,
 * list, delete, pause and resume, trigger, run history and dead letters. */
#ifndef DTS_STORE_TASK_H
#define DTS_STORE_TASK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "store.h"
#include "task.h"

/* ---- tasks (api) ---- */

/* The create script's keys (the first 5) and arguments for a task due at
 * DUE_MS, exactly as store_task_create (store_create.h) sends them, for a caller that pipelines
 * many creates itself (bench/dtsbench's seeder). Returns the count; the caller
 * frees each (*argv)[i], then *argv and *lens. */
int store_task_create_argv(const char *prefix, int shards, const char *id, const TaskSpec *spec,
                           int64_t now_ms, int64_t due_ms, char ***argv, size_t **lens);

/* How a PUT replaces a task (see scripts/replace.lua). */
typedef struct TaskReplace {
    int64_t expected_version; /* If-Match, or -1 for any */
    int keep_schedule;        /* 1: the schedule is unchanged: due time and state stay */
    int64_t expected_pending; /* the pending due time the caller planned from, -1: none */
    int64_t due_ms;           /* the new schedule's first due time, -1: never */
    int immediate;            /* 1: the new spec runs now */
    const int64_t *settle;    /* overdue occurrences of the old schedule to run now */
    int nsettle;
    int64_t skipped, coalesced; /* and what the misfire policy counted of it */
} TaskReplace;

/* Replaces the spec as REP says. *version gets the new version.
 * STORE_ENOTFOUND, STORE_ESTALE (If-Match), STORE_ERETRY (the pending
 * occurrence moved meanwhile: read and plan again). */
int store_task_replace(Store *st, const char *id, const TaskSpec *spec, const TaskReplace *rep,
                       int64_t now_ms, int64_t *version);

/* What the api plans pause, resume and edits from. */
typedef struct TaskStored {
    int64_t version, created_ms, dispatched;
    int64_t pending_ms; /* the pending occurrence's due time (held while paused), -1: none */
    char state[16];
    json_t *spec; /* the stored spec; the caller decrefs */
} TaskStored;

/* Reads task ID's stored fields. STORE_ENOTFOUND if there is none. */
int store_task_stored(Store *st, const char *id, TaskStored *out);

/* Reads task ID's hash into *out, a zeroed Record (the caller clears it with
 * record_clear): spec (JSON text), state, version, created, updated, next
 * (ms), last_run (JSON text), counters. STORE_ENOTFOUND if there is none.
 * api_view renders it. */
int store_task_get(Store *st, const char *id, Record *out);

int store_task_delete(Store *st, const char *id, int64_t now_ms);

/* Pauses ("paused") or resumes ("active") at DUE_MS, if the version matches. */
int store_task_set_state(Store *st, const char *id, int64_t version, const char *state, int64_t due_ms,
                         int64_t now_ms);

/* Adds a manual occurrence to the ready stream now, with an identity of its
 * own: *sched_ms gets its scheduled ms (Redis's time, moved on past any other
 * occurrence of the task at that instant). STORE_ECONFLICT if it is paused. */
int store_task_trigger(Store *st, const char *id, int64_t now_ms, int64_t *sched_ms);

#define TASK_QUERY_LABELS_MAX 8
#define TASK_SORT_MAX 10000 /* tasks a list sorted by name or next run may span */

typedef enum { TASK_ORDER_CREATED, TASK_ORDER_NAME, TASK_ORDER_NEXT_RUN } TaskOrder;

typedef struct TaskQuery {
    int limit;                                 /* 1..500 */
    const char *cursor;                        /* a task id from a previous page, or NULL */
    const char *state;                         /* filter or NULL */
    const char *name_prefix;                   /* filter or NULL */
    const char *labels[TASK_QUERY_LABELS_MAX]; /* "key=value" filters, all must hold */
    int nlabels;
    int oldest_first; /* 1: sort=created (oldest first); 0: newest first */
    TaskOrder order;  /* by creation (ids), name or next run (then id) */
} TaskQuery;

/* Lists tasks newest first (oldest first with q->oldest_first), or by name
 * or next run (never-due last), ties by id, with q->order; the cursor of
 * such a list is "ID" (name) or "ID-MS" (next run), and a list sorted so
 * spans at most TASK_SORT_MAX tasks (STORE_ECONFLICT past it, and for a name
 * cursor whose task is gone). *items gets one record per task, as
 * store_task_get reads them (the caller clears it with record_list_clear);
 * next_cursor gets the cursor of the next page, or "" at the end. */
int store_task_list(Store *st, const TaskQuery *q, RecordList *items, char next_cursor[TASK_ID_MAX + 1]);

/* How many tasks the store holds, in every shard and state (quotas). */
int store_task_count(Store *st, long long *count);

/* A task's runs, newest first, at most LIMIT. *items is a new JSON array. */
int store_runs_list(Store *st, const char *id, int limit, json_t **items);

/* Dead occurrences, newest first across shards, at most LIMIT, into *items
 * (the caller clears it with record_list_clear): each record has id
 * ("SHARD-ENTRY"), task, occurrence, attempts, error, at (ms). */
int store_dead_list(Store *st, int limit, RecordList *items);

/* Re-drives dead occurrence ID as its next attempt. STORE_ENOTFOUND if it is
 * not (or no longer) dead, or its task is gone; STORE_ECONFLICT if it names
 * no occurrence (a malformed entry's). */
int store_dead_retry(Store *st, const char *id, int64_t now_ms);

/* The names of the N tasks IDS (valid task ids), in one pipelined round
 * trip: names[i] gets a copy the caller frees, or NULL for a task that is
 * gone. STORE_OK or STORE_EIO. */
int store_task_names(Store *st, const char *const *ids, int n, char **names);

#endif
