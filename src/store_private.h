/* store_private: what the store's files share and nobody else sees. */
#ifndef DTS_STORE_PRIVATE_H
#define DTS_STORE_PRIVATE_H

#include "store.h"

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
void args_free(Args *a);

/* Key of shard N for task ID (ID may be NULL): P:{N}:NAME[:ID]. */
void skey(const Store *st, char *buf, int shard, const char *name, const char *id);

/* Runs script S with A = keys then args (NKEYS of them keys). Loads the script
 * on first use and after a Redis restart (NOSCRIPT). Returns the reply (caller
 * frees) or NULL on I/O error. Error replies are returned as replies. */
redisReply *store_eval(Store *st, ScriptId s, int nkeys, Args *a);

/* store_eval for scripts that answer an integer: frees A, stores the integer
 * in *out (NULL: any non-error reply will do), maps error replies to STORE_E*
 * codes. */
int store_eval_int(Store *st, ScriptId s, int nkeys, Args *a, long long *out);

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

/* store_task.c's readers of a task's HGETALL reply, for store_sort.c: the
 * API's view (a new reference), whether it passes Q's filters, a field. */
json_t *store_task_view_of(const redisReply *h);
int store_task_matches(const redisReply *h, const TaskQuery *q);
const char *store_hash_field(const redisReply *h, const char *name);

/* store_task_list for q->order name or next_run (store_sort.c). */
int store_task_list_sorted(Store *st, const TaskQuery *q, json_t **items, char next_cursor[TASK_ID_MAX + 1]);

#endif
