/* store: the one module that speaks Redis for the domain. Key names, Lua
 * scripts and reply shapes live here, so the data model reads in one place.
 *
 * Keys (prefix P, shard N; the {N} hash tag keeps a shard on one cluster node):
 *   P:meta                hash    shards = S, agreed by every process
 *   P:{N}:task:ID         hash    spec, name, kind, cron, tz, state, version,
 *                                 created, updated, next, last_run, counters
 *   P:{N}:tasks           zset    every task id, score 0, listed by id (ids
 *                                 start with their creation time, so BYLEX
 *                                 order is creation order)
 *   P:{N}:due             zset    task id -> due time in ms
 *   P:{N}:ready           stream  occurrences to run now; consumer group "exec"
 *   P:{N}:runs:ID         hash    run id -> run record (JSON)
 *   P:{N}:runidx:ID       zset    run id -> start time, for newest-first history
 *   P:{N}:held:ID         hash    occurrences of a paused task waiting for its
 *                                 resume: due member token -> due score
 *   P:{N}:events          stream  capped feed of what happened
 *   P:{N}:dead            stream  capped dead-letter record
 *   P:{N}:lease           string  the scheduler owning the shard, with a TTL
 *   P:schedulers, P:executors  zset  live processes -> last heartbeat ms
 *
 * DESIGN.md suggests a capped stream for run history; runs are records that
 * change (running -> succeeded), which a stream cannot update in place, so
 * history is a hash plus an index, trimmed by count on every completion.
 *
 * A Store is one connection: not thread-safe; use one per thread. */
#ifndef DTS_STORE_H
#define DTS_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "rconn.h"
#include "task.h"

#define STORE_GROUP "exec"
#define STORE_SHARDS_MAX 1024
#define STORE_DISPATCH_MAX 256 /* items per dispatch script call */

enum {
    STORE_OK = 0,
    STORE_EIO = -1,       /* Redis unreachable or a protocol error */
    STORE_ENOTFOUND = -2, /* no such task */
    STORE_ESTALE = -3,    /* the version given is not the current one */
    STORE_ECONFLICT = -4, /* the task's state does not allow it */
    STORE_EMETA = -5,     /* the shard count disagrees with the one in Redis */
    STORE_ERETRY = -6,    /* what the caller planned from moved meanwhile: read again */
};

typedef struct Store Store;

typedef struct StoreConfig {
    const char *url;    /* redis://... */
    const char *prefix; /* "dts" */
    int shards;         /* S */
    int runs_kept;      /* run history per task (count) */
    int wait_replicas;  /* WAIT for this many replicas after each acknowledged write; 0: off */
    int wait_timeout_ms; /* ... for at most this long */
} StoreConfig;

/* Pure key helpers, for the store itself and for tests. */
uint32_t store_hash(const char *id);
int store_shard_of(const char *id, int shards);
/* Writes "P:{N}:NAME" or "P:{N}:NAME:ID" (ID may be NULL) into buf. */
void store_key(char *buf, size_t len, const char *prefix, int shard, const char *name, const char *id);

/* Makes a store; connects lazily. NULL with err filled on a bad URL. */
Store *store_open(const StoreConfig *cfg, char *err, size_t errlen);
void store_close(Store *st);

/* The last error's text, for logs. */
const char *store_errstr(const Store *st);
int store_shards(const Store *st);
uint64_t store_reconnects(const Store *st);

/* With StoreConfig.wait_replicas set, every acknowledged write (a task's
 * create, edit, state change, delete, trigger, redrive, and a run's
 * completion) is followed by WAIT; one that reaches fewer replicas is logged
 * and counted (dts_redis_wait_short_total). Returns 1 if a write since the
 * last call reached fewer replicas than asked, and clears the flag; else 0. */
int store_wait_shortfall(Store *st);

/* Records S in P:meta if absent and checks it agrees. STORE_OK, STORE_EMETA
 * (with errstr explaining) or STORE_EIO. Also what /readyz asks. */
int store_check(Store *st);

/* Reads Redis's clock (TIME) into *now_ms and syncs the process's shared
 * clock (clock_shared_ms) to it. STORE_OK or STORE_EIO. */
int store_time(Store *st, int64_t *now_ms);

/* ---- tasks (api) ---- */

/* Stores a new task with its first due time (-1: never; IMMEDIATE: XADD now). */
int store_task_create(Store *st, const char *id, const TaskSpec *spec, int64_t now_ms,
                      int64_t due_ms, int immediate);

/* The create script's keys (the first 5) and arguments for a task due at
 * DUE_MS, exactly as store_task_create sends them, for a caller that pipelines
 * many creates itself (bench/dtsbench's seeder). Returns the count; the caller
 * frees each (*argv)[i], then *argv and *lens. */
int store_task_create_argv(const char *prefix, int shards, const char *id, const TaskSpec *spec,
                           int64_t now_ms, int64_t due_ms, char ***argv, size_t **lens);

/* How a PUT replaces a task (see scripts/replace.lua). */
typedef struct TaskReplace {
    int64_t expected_version;   /* If-Match, or -1 for any */
    int keep_schedule;          /* 1: the schedule is unchanged: due time and state stay */
    int64_t expected_pending;   /* the pending due time the caller planned from, -1: none */
    int64_t due_ms;             /* the new schedule's first due time, -1: never */
    int immediate;              /* 1: the new spec runs now */
    const int64_t *settle;      /* overdue occurrences of the old schedule to run now */
    int nsettle;
    int64_t skipped, coalesced; /* and what the misfire policy counted of it */
} TaskReplace;

/* Replaces the spec as REP says. *version gets the new version.
 * STORE_ENOTFOUND, STORE_ESTALE (If-Match), STORE_ERETRY (the pending
 * occurrence moved meanwhile: read and plan again). */
int store_task_replace(Store *st, const char *id, const TaskSpec *spec, const TaskReplace *rep, int64_t now_ms,
                       int64_t *version);

/* What the api plans pause, resume and edits from. */
typedef struct TaskStored {
    int64_t version, created_ms, dispatched;
    int64_t pending_ms; /* the pending occurrence's due time (held while paused), -1: none */
    char state[16];
    json_t *spec;       /* the stored spec; the caller decrefs */
} TaskStored;

/* Reads task ID's stored fields. STORE_ENOTFOUND if there is none. */
int store_task_stored(Store *st, const char *id, TaskStored *out);

/* Reads a task as the API shows it. *out is a new JSON object (caller
 * decrefs). *spec_out, if not NULL, gets the stored spec (caller decrefs). */
int store_task_get(Store *st, const char *id, json_t **out, json_t **spec_out);

int store_task_delete(Store *st, const char *id, int64_t now_ms);

/* Pauses ("paused") or resumes ("active") at DUE_MS, if the version matches. */
int store_task_set_state(Store *st, const char *id, int64_t version, const char *state,
                         int64_t due_ms, int64_t now_ms);

/* Adds a manual occurrence to the ready stream now, with an identity of its
 * own: *sched_ms gets its scheduled ms (Redis's time, moved on past any other
 * occurrence of the task at that instant). STORE_ECONFLICT if it is paused. */
int store_task_trigger(Store *st, const char *id, int64_t now_ms, int64_t *sched_ms);

#define TASK_QUERY_LABELS_MAX 8
#define TASK_SORT_MAX 10000 /* tasks a list sorted by name or next run may span */

typedef enum { TASK_ORDER_CREATED, TASK_ORDER_NAME, TASK_ORDER_NEXT_RUN } TaskOrder;

typedef struct TaskQuery {
    int limit;               /* 1..500 */
    const char *cursor;      /* a task id from a previous page, or NULL */
    const char *state;       /* filter or NULL */
    const char *name_prefix; /* filter or NULL */
    const char *labels[TASK_QUERY_LABELS_MAX]; /* "key=value" filters, all must hold */
    int nlabels;
    int oldest_first;        /* 1: sort=created (oldest first); 0: newest first */
    TaskOrder order;         /* by creation (ids), name or next run (then id) */
} TaskQuery;

/* Lists tasks newest first (oldest first with q->oldest_first), or by name
 * or next run (never-due last), ties by id, with q->order; the cursor of
 * such a list is "ID" (name) or "ID-MS" (next run), and a list sorted so
 * spans at most TASK_SORT_MAX tasks (STORE_ECONFLICT past it, and for a name
 * cursor whose task is gone). *items is a new JSON array; next_cursor gets the
 * cursor of the next page, or "" at the end. */
int store_task_list(Store *st, const TaskQuery *q, json_t **items, char next_cursor[TASK_ID_MAX + 1]);

/* How many tasks the store holds, in every shard and state (quotas). */
int store_task_count(Store *st, long long *count);

/* A task's runs, newest first, at most LIMIT. *items is a new JSON array. */
int store_runs_list(Store *st, const char *id, int limit, json_t **items);

/* Dead occurrences, newest first across shards, at most LIMIT: each has id
 * ("SHARD-ENTRY"), task_id, occurrence_id, attempts, error, dead_at.
 * *items is a new JSON array. */
int store_dead_list(Store *st, int limit, json_t **items);

/* Re-drives dead occurrence ID as its next attempt. STORE_ENOTFOUND if it is
 * not (or no longer) dead, or its task is gone; STORE_ECONFLICT if it names
 * no occurrence (a malformed entry's). */
int store_dead_retry(Store *st, const char *id, int64_t now_ms);

/* Adds "task_name" to each object in the JSON array ITEMS whose string member
 * ID_KEY is the id of a task that still exists, looking the names up in one
 * pipelined round trip. Items of deleted tasks are left as they are. */
int store_task_names(Store *st, json_t *items, const char *id_key);

/* ---- scheduler ---- */

/* A member of a due set: a task's next occurrence, or a retry token
 * "retry:TASK:SCHED_MS:ATTEMPT" (a failed run's next attempt), or a held
 * occurrence "retry:TASK:SCHED_MS:ATTEMPT:KIND" (one that was waiting when its
 * task was paused, kept in P:{N}:held:ID until the task resumes). */
typedef struct DueItem {
    char member[128];
    char id[TASK_ID_MAX + 1];  /* the task */
    int64_t sched_ms;          /* the occurrence: due time, or the retried one's */
    int attempt;               /* 1, or the retry's attempt */
    int retry;                 /* 1 for a retry token (or a held occurrence) */
    char token_kind[12];       /* the kind it runs as: retry, or a held one's */
    char due[32];              /* the score exactly as Redis prints it */
    int64_t due_ms;
    /* filled by store_due_details */
    char version[24];
    char kind[8], cron[TASK_CRON_MAX + 1], tz[65], misfire[12];
    int64_t created_ms, misfire_ms, end_at_ms, max_runs, dispatched;
    /* set by the caller before store_dispatch */
    int64_t next_ms;   /* next due of a recurring task, -1: none */
    int dispatch;      /* 0: move the schedule on without running (misfire skip) */
    int defer;         /* 1: not planned this pass; left for the next one */
    int64_t skipped, coalesced; /* misfire counts to add to the task */
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

/* For each of the N shards: up to BATCH members due at or before NOW into
 * items (counts[i] of them for shards[i], items laid out shard after shard,
 * BATCH slots each), and the earliest due time left in *earliest_ms (INT64_MAX
 * if none). One round trip. */
int store_due_fetch(Store *st, const int *shards, int n, int64_t now_ms, int batch, DueItem *items,
                    int *counts, int64_t *earliest_ms);

/* The ready stream's length and pending (delivered, unacknowledged) count of
 * each of the N shards, in one round trip. */
int store_ready_depth(Store *st, const int *shards, int n, long long *length, long long *pending);

/* Fills the task fields of the items store_due_fetch returned (same layout:
 * counts[i] items of shards[i] at items + i * batch), in one round trip. */
int store_due_details(Store *st, const int *shards, int n, DueItem *items, const int *counts, int batch);

/* Runs the dispatch compare-and-set for every shard's batch (same layout), one
 * script call per shard, pipelined in one round trip; *dispatched gets how
 * many occurrences moved to the ready streams. */
int store_dispatch(Store *st, const int *shards, int n, const DueItem *items, const int *counts, int batch,
                   int64_t now_ms, int *dispatched);

/* ---- executor ---- */

typedef struct ReadyEntry {
    int shard;
    char entry[40];                /* stream entry id */
    char task[TASK_ID_MAX + 1];
    int64_t sched_ms;
    int attempt;                   /* base attempt of the entry */
    char kind[12];
    long long deliveries;          /* its delivery count when this executor
                                    * started it (0: not started); fences every
                                    * later step */
} ReadyEntry;

/* Ensures the consumer group exists on every shard's ready stream. */
int store_groups_create(Store *st);

/* XREADGROUP over every shard's ready stream, at most COUNT entries per
 * stream (so up to shards x COUNT), blocking up to BLOCK_MS. *out (caller
 * frees) gets *n entries. Malformed entries (no task field) are dead-lettered,
 * not returned. */
int store_ready_read(Store *st, const char *consumer, int count, int block_ms, ReadyEntry **out, int *n);

/* XREADGROUP of one shard's ready stream, at most COUNT entries, without
 * blocking. Otherwise as store_ready_read. */
int store_ready_read_shard(Store *st, int shard, const char *consumer, int count, ReadyEntry **out, int *n);

/* Claims up to COUNT entries of one shard idle longer than MIN_IDLE_MS,
 * wherever they sit in the pending list (XPENDING IDLE, then XCLAIM, which
 * rechecks the idle time). *out (caller frees) gets *n entries. */
int store_ready_claim(Store *st, int shard, const char *consumer, int64_t min_idle_ms, int count,
                      ReadyEntry **out, int *n);

typedef enum { START_RUN, START_STALE, START_GONE, START_DEAD, START_SKIPPED, START_HELD } StartVerdict;

/* Starts a run of E (see scripts/start.lua), applying the overlap policy with
 * markers older than STALE_MS ignored; a paused task's entry is held
 * (START_HELD). Times, decided and recorded, are Redis's. *attempt gets the
 * attempt number, e->deliveries the entry's delivery count, and, for
 * START_RUN, *spec the stored spec (caller decrefs). */
int store_run_start(Store *st, ReadyEntry *e, const char *consumer, int max_deliveries, int64_t stale_ms,
                    StartVerdict *verdict, int *attempt, json_t **spec);

/* The run id of attempt ATTEMPT of E's occurrence, into buf. */
void store_run_id(char *buf, size_t len, const ReadyEntry *e, int attempt);

/* Heartbeats N in-flight entries of SHARD (ENTRIES[i] belongs to task
 * TASKS[i] and was started at delivery count DELIVERIES[i], 0 if not yet);
 * lost[i] is set for those no longer ours at that count. */
int store_ready_touch(Store *st, int shard, const char *consumer, const char *const *entries,
                      const char *const *tasks, const long long *deliveries, int n, int *lost);

typedef struct RunResult {
    const char *status; /* succeeded, failed, timed_out */
    int exit_code;      /* < 0: none */
    const char *output;
    size_t output_len;
    const char *error;  /* NULL: none */
    int http_status;    /* 0: none */
    int attempt;        /* the attempt that ran */
    int64_t retry_delay_ms; /* >= 0: schedule attempt + 1 this long after
                             * Redis's now; -1: no retry */
    int dead;           /* 1: the attempts are used up; record a dead letter */
    int64_t history_max_age_ms;
} RunResult;

/* Completes run RUN_ID of E, fenced, at Redis's time. *recorded is 0 if it
 * was no longer ours. */
int store_run_complete(Store *st, const ReadyEntry *e, const char *consumer, const char *run_id,
                       const RunResult *res, int *recorded);

/* Hands started run RUN_ID (attempt ATTEMPT) of E back on shutdown, fenced:
 * the record becomes "interrupted" with OUTPUT, and a fresh entry of the same
 * occurrence, attempt ATTEMPT + 1, goes to the stream (scripts/handback.lua).
 * *handed is 0 if the entry was no longer ours. */
int store_run_handback(Store *st, const ReadyEntry *e, const char *consumer, const char *run_id, int attempt,
                       const char *output, size_t output_len, int64_t now_ms, int *handed);

/* Gives a fetched, never-started entry back to its stream. */
int store_ready_requeue(Store *st, const ReadyEntry *e, const char *consumer);

/* Heartbeats an executor into P:executors at NOW_MS (Redis's time). */
int store_executor_alive(Store *st, const char *self, int64_t now_ms);

/* ---- sweeper (bounded work per call; any replica may run it) ---- */

/* Drops executors silent for longer than DEAD_MS (at Redis time NOW_MS) from
 * P:executors; *live gets the ids of the rest (a new JSON array). */
int store_sweep_executors(Store *st, int64_t now_ms, int64_t dead_ms, json_t **live);

/* Removes SHARD's consumers idle longer than IDLE_MS that have nothing
 * pending and are not in LIVE (scripts/sweep_consumers.lua); *removed gets how
 * many. */
int store_sweep_consumers(Store *st, int shard, int64_t idle_ms, const json_t *live, int *removed);

/* Sweeps the next BATCH tasks of SHARD after a cursor kept in Redis (the walk
 * wraps at the end): trims each history to runs-kept and HISTORY_MAX_AGE_MS,
 * and deletes completed tasks older than RETENTION_MS. *trimmed and *deleted
 * get the counts. */
int store_sweep_tasks(Store *st, int shard, int batch, int64_t history_max_age_ms, int64_t retention_ms,
                      int *trimmed, int *deleted);

#endif
