/* store_private: what the store's files share and nobody else sees. */
#ifndef DTS_STORE_PRIVATE_H
#define DTS_STORE_PRIVATE_H

#include "rconn.h"
#include "record.h"
#include "store.h"
#include "store_events.h"
#include "store_exec.h"
#include "store_sched.h"
#include "store_sweep.h"
#include "store_task.h"

#define KEY_MAX 192
#define EVENTS_MAXLEN "10000"

typedef enum {
    SCRIPT_CREATE,
    SCRIPT_REPLACE,
    SCRIPT_SET_STATE,
    SCRIPT_DELETE,
    SCRIPT_TRIGGER,
    SCRIPT_DISPATCH,
    SCRIPT_LEASE,
    SCRIPT_RELEASE,
    SCRIPT_START,
    SCRIPT_TOUCH,
    SCRIPT_COMPLETE,
    SCRIPT_REQUEUE,
    SCRIPT_REDRIVE,
    SCRIPT_HANDBACK,
    SCRIPT_REJECT,
    SCRIPT_SWEEP,
    SCRIPT_SWEEP_CONSUMERS,
    SCRIPT_CREATE_BATCH,
    SCRIPT_DUE_TAKE,
    SCRIPT_BACKFILL,
    SCRIPT_CHAIN, /* store_chain.c */
    SCRIPT_CONC,  /* store_conc.c */
    SCRIPT_COUNT
} ScriptId;

struct Store {
    RConn *rc;
    char *prefix;
    int shards;
    int runs_kept;
    int wait_replicas, wait_timeout_ms, wait_short;
    char sha[SCRIPT_COUNT][41];
    char errstr[128];
};

/* An argument vector under construction: strings are copied into the args. */
typedef struct Args {
    int n, cap;
    char **v;
    size_t *len;
} Args;

void args_add(Args *a, const char *s);
void args_addn(Args *a, const char *s, size_t len);
void args_addf(Args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends every argument of B (a copy) to A. */
void args_addall(Args *a, const Args *b);
void args_free(Args *a);

/* Key of shard N for task ID (ID may be NULL): P:{N}:NAME[:ID]. */
void skey(const Store *st, char *buf, int shard, const char *name, const char *id);

/* Runs script S with A = keys then args (NKEYS of them keys). Loads the script
 * on first use and after a Redis restart (NOSCRIPT). Returns the reply (caller
 * frees) or NULL on I/O error. Error replies are returned as replies. */
redisReply *store_eval(Store *st, ScriptId s, int nkeys, Args *a);
/* Queues EVALSHA of script S on the pipeline (its reply is read with
 * rconn_read, in order; a NOSCRIPT reply means the call did nothing). S must
 * be loaded first (store_script_ensure, before the pipeline: loading it is a
 * round trip of its own). Returns STORE_OK or STORE_EIO. */
int store_eval_append(Store *st, ScriptId s, int nkeys, const Args *a);

/* store_eval for scripts that answer an integer: frees A, stores the integer
 * in *out (NULL: any non-error reply will do), maps error replies to STORE_E*
 * codes. */
int store_eval_int(Store *st, ScriptId s, int nkeys, Args *a, long long *out);

/* 1 if R is Redis's NOSCRIPT error (it restarted, or flushed its script
 * cache, since S was loaded): S's hash is then forgotten so that the next
 * call loads it again. 0 otherwise. */
int store_noscript(Store *st, ScriptId s, const redisReply *r);

/* Loads script S if this connection has not yet (for pipelined EVALSHA). */
int store_script_ensure(Store *st, ScriptId s);

/* Reply accessors that never trust the shape: the text of a string or status
 * reply (else NULL), and element I of an array reply (else NULL). A reply of
 * an unexpected shape then reads as absent instead of crashing the process. */
static inline const char *reply_str(const redisReply *r)
{
    return r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) ? r->str : NULL;
}

static inline const redisReply *reply_elem(const redisReply *r, size_t i)
{
    return r != NULL && r->type == REDIS_REPLY_ARRAY && i < r->elements ? r->element[i] : NULL;
}

/* The value of field NAME in a flat [name, value, ...] array reply (HGETALL,
 * a stream entry's fields), or NULL if absent or not a string. */
const char *reply_field(const redisReply *flat, const char *name);

/* Appends the string pairs of a flat [name, value, ...] array reply to OUT
 * (pairs of another shape are skipped). */
void reply_record(const redisReply *flat, Record *out);

/* Appends the entries of R (an array of entry replies of SHARD's stream,
 * delivered to CONSUMER) to *OUT (N used, CAP allocated; the caller frees
 * *OUT); malformed entries are dead-lettered instead. */
void store_entries_append(Store *st, const char *consumer, const redisReply *r, int shard, ReadyEntry **out,
                          int *n, int *cap);

/* store_ready_read on Redis Cluster (store_cluster.c). */
int store_ready_read_each(Store *st, const char *consumer, int count, int block_ms, ReadyEntry **out,
                          int *n);

/* Maps a script's error reply ("ENOTFOUND ...") to a STORE_E* code. */
int store_reply_error(Store *st, const redisReply *r);

/* Records an I/O failure's text and returns STORE_EIO. */
int store_io_error(Store *st);

/* Milliseconds as a decimal string into buf (32 bytes). */
const char *ms_str(char buf[32], int64_t ms);

/* The create script's keys (CREATE_NKEYS: the task hash first) and arguments
 * for a new task (store_task.c), as create.lua takes them; the spec's fields,
 * as name/value pairs, are the arguments from CREATE_ARG_FIELDS on. */
#define CREATE_NKEYS 5
#define CREATE_ARG_FIELDS 11
void store_create_args(const char *prefix, int shards, const char *id, const TaskSpec *spec, int64_t now_ms,
                       int64_t due_ms, int immediate, long max_ready, Args *a);

/* WAIT for the configured replicas after an acknowledged write (store.c). */
void store_replicate(Store *st);

/* store_task.c's filter of a task's HGETALL reply, for store_sort.c: 1 if it
 * is a whole task that passes Q's filters. */
int store_task_matches(const redisReply *h, const TaskQuery *q);

/* store_task_list for q->order name or next_run (store_sort.c). */
int store_task_list_sorted(Store *st, const TaskQuery *q, RecordList *items,
                           char next_cursor[TASK_ID_MAX + 1]);

#endif
