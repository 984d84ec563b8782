/* store_exec: the store as the executor uses it: reading and claiming ready
 * entries, and the fenced start, heartbeat, completion and hand-back of runs. */
#ifndef DTS_STORE_EXEC_H
#define DTS_STORE_EXEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "task.h"

/* ---- executor ---- */

typedef struct ReadyEntry {
    int64_t sched_ms;
    long long deliveries; /* its delivery count as this executor received it
                           * (1 for a fresh read); the attempt it runs as
                           * follows from it, and it fences every step */
    int shard;
    int attempt; /* base attempt of the entry */
    /* concurrency (issue 16): the task's limit and key, if it has one
     * (filled by the gate, src/executor_conc.c), and whether this executor
     * holds a slot */
    int conc_limit;
    int slot_held;
    char kind[12];
    char entry[40]; /* stream entry id */
    char task[TASK_ID_MAX + 1];
    char conc_key[TASK_CONCURRENCY_KEY_MAX + 1];
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

typedef enum {
    START_RUN,
    START_STALE,
    START_GONE,
    START_DEAD,
    START_SKIPPED,
    START_HELD,
    START_GATED
} StartVerdict;

/* Starts a run of E (see scripts/start.lua) as the attempt its delivery
 * count gives, only if the entry is still ours at that count (START_STALE
 * otherwise), applying the overlap policy with markers older than STALE_MS
 * ignored; a paused task's entry is held (START_HELD); a task with a
 * concurrency key starts only when e->slot_held (else START_GATED, nothing
 * changed, with the key and limit in RunStart). Times, decided and
 * recorded, are Redis's. *attempt gets the attempt number and, for
 * START_RUN, *spec the stored spec (caller decrefs). */
int store_run_start(Store *st, const ReadyEntry *e, const char *consumer, int max_deliveries,
                    int64_t stale_ms, StartVerdict *verdict, int *attempt, json_t **spec);

/* One entry's start: its verdict, the attempt it runs as, and for START_RUN
 * the stored spec (the caller decrefs). */
typedef struct RunStart {
    StartVerdict verdict;
    int attempt;
    json_t *spec;
    int64_t started_ms;                          /* Redis's time at the start; -1: unknown */
    int64_t slo_ms;                              /* the task's slo_ms the run was judged against; 0:
                         * not judged (no objective, or a retry) */
    int late;                                    /* 1: it started later than slo_ms */
    char conc_key[TASK_CONCURRENCY_KEY_MAX + 1]; /* START_GATED: the task's key */
    int conc_limit;                              /* START_GATED: and its limit */
} RunStart;

/* Starts the N (>= 1) entries E of one shard in one script call, each as
 * store_run_start does; out[i] gets entry i's start. On an error every
 * out[i] is START_STALE (the entries stay pending: recovered later). */
int store_runs_start(Store *st, const ReadyEntry *e, int n, const char *consumer, int max_deliveries,
                     int64_t stale_ms, RunStart *out);

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
    const char *error;      /* NULL: none */
    int http_status;        /* 0: none */
    int attempt;            /* the attempt that ran */
    int64_t retry_delay_ms; /* >= 0: schedule attempt + 1 this long after
                             * Redis's now; -1: no retry */
    int dead;               /* 1: the attempts are used up; record a dead letter */
    int64_t history_max_age_ms;
    int64_t started_ms; /* the start's time (RunStart); -1: unknown */
    int64_t slo_ms;     /* the start's judgement (RunStart); 0: none */
} RunResult;

/* Completes run RUN_ID of E, fenced, at Redis's time. *recorded is 0 if it
 * was no longer ours. */
int store_run_complete(Store *st, const ReadyEntry *e, const char *consumer, const char *run_id,
                       const RunResult *res, int *recorded);

/* One finished run to record: its entry, run id and result. */
typedef struct RunDone {
    const ReadyEntry *e;
    const char *run_id;
    RunResult res;
} RunDone;

/* Completes the N (>= 1) runs RUNS of one shard in one script call, each as
 * store_run_complete does, trimming histories by age HISTORY_MAX_AGE_MS too
 * when over the kept count; recorded[i] is 0 if run i was no longer ours. */
int store_runs_complete(Store *st, const char *consumer, const RunDone *runs, int n,
                        int64_t history_max_age_ms, int *recorded);

/* Completes the runs of several shards in one round trip, a script call per
 * shard, pipelined: RUNS holds GROUPS groups in order, group g the COUNTS[g]
 * runs of one shard. recorded[i] is 1 if run i was recorded, 0 if it was no
 * longer ours, -1 if Redis was unreachable before its answer (send it again).
 * Returns STORE_EIO if any run is -1, else STORE_OK. */
int store_runs_complete_shards(Store *st, const char *consumer, const RunDone *runs, const int *counts,
                               int groups, int64_t history_max_age_ms, int *recorded);

/* Hands started run RUN_ID (attempt ATTEMPT) of E back on shutdown, fenced:
 * the record becomes "interrupted" with OUTPUT, and a fresh entry of the same
 * occurrence, attempt ATTEMPT + 1, goes to the stream (scripts/handback.lua).
 * The record's finish time is Redis's. *handed is 0 if the entry was no
 * longer ours. */
int store_run_handback(Store *st, const ReadyEntry *e, const char *consumer, const char *run_id,
                       int attempt, const char *output, size_t output_len, int *handed);

/* Gives a fetched, never-started entry back to its stream. */
int store_ready_requeue(Store *st, const ReadyEntry *e, const char *consumer);

/* Heartbeats an executor into P:executors at NOW_MS (Redis's time). */
int store_executor_alive(Store *st, const char *self, int64_t now_ms);

#endif
