/* store: the one module that speaks Redis for the domain. Key names, Lua
 * scripts and reply shapes live here, so the data model reads in one place.
 *
 * Keys (prefix P, shard N; the {N} hash tag keeps a shard on one cluster node):
 *   P:meta                hash    shards = S, agreed by every process
 *   P:{N}:task:ID         hash    spec, name, stype, cron, tz, state, version,
 *                                 created, updated, next, last_run, counters;
 *                                 a field at its default (a zero counter, no
 *                                 updated or last_run yet, a default policy)
 *                                 is absent, and readers take it so
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
 * A Store is one connection: not thread-safe; use one per thread.
 *
 * This header holds what every reader shares (open, close, errors, Redis's
 * time); each reader includes its own part: store_task.h (the api),
 * store_sched.h (the scheduler), store_exec.h (the executor), store_sweep.h
 * (the sweeper), store_events.h (the UI's feed and figures). None of them
 * includes hiredis: replies stay inside the store (store_private.h). */
#ifndef DTS_STORE_H
#define DTS_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_GROUP "exec"
#define STORE_SHARDS_MAX 1024

enum {
    STORE_OK = 0,
    STORE_EIO = -1,       /* Redis unreachable or a protocol error */
    STORE_ENOTFOUND = -2, /* no such task */
    STORE_ESTALE = -3,    /* the version given is not the current one */
    STORE_ECONFLICT = -4, /* the task's state does not allow it */
    STORE_EMETA = -5,     /* the shard count disagrees with the one in Redis */
    STORE_ERETRY = -6,    /* what the caller planned from moved meanwhile: read again */
    STORE_EFULL = -7,     /* a run-now task found its shard's ready stream at the limit */
    STORE_EEXIST = -8,    /* a task with this id exists already (create) */
};

typedef struct Store Store;

typedef struct StoreConfig {
    const char *url;     /* redis://... */
    const char *prefix;  /* "dts" */
    int shards;          /* S */
    int runs_kept;       /* run history per task (count) */
    int wait_replicas;   /* WAIT for this many replicas after each acknowledged write; 0: off */
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

/* The ready stream's length and pending (delivered, unacknowledged) count of
 * each of the N shards, in one round trip. */
int store_ready_depth(Store *st, const int *shards, int n, long long *length, long long *pending);

#endif
