/* store_create: new tasks, one (create.lua) or a batch (create_batch.lua),
 * answered with the record of what was written, so a create costs one
 * round trip and no re-read. Like the rest of the store, one Store is one
 * connection: one per thread. */
#ifndef DTS_STORE_CREATE_H
#define DTS_STORE_CREATE_H

#include <stdint.h>

#include "record.h"
#include "store.h"
#include "task.h"

/* Items per create_batch.lua call: a shard's items beyond it go in further
 * calls, so one call stays within a few milliseconds of Redis time. With the
 * default 16 shards a batch of 1,000 needs one call per shard. */
#define STORE_CREATE_CALL_MAX 128

/* One new task: the caller fills the first four fields; the store the rest. */
typedef struct TaskCreate {
    const char *id;       /* a fresh id (task_new_id) */
    const TaskSpec *spec; /* borrowed */
    int64_t due_ms;       /* the first due time, -1: never */
    int immediate;        /* 1: run now (its occurrence is XADDed at once) */
    int rv;               /* STORE_OK, STORE_EFULL (its shard's ready stream is at
                           * max_ready), STORE_EEXIST (the id exists) or STORE_EIO */
    Record written;       /* with STORE_OK and a view asked for: the task's fields as
                           * its hash holds them (api_view_task_spec renders them;
                           * the caller frees them with record_clear), else empty */
} TaskCreate;

/* Stores C at NOW_MS, atomically; with MAX_READY > 0 a run-now task whose
 * shard's ready stream holds that many entries is refused (STORE_EFULL).
 * With WANT_VIEW, c->written holds the fields written. Returns c->rv. */
int store_task_create(Store *st, TaskCreate *c, int64_t now_ms, long max_ready, int want_view);

/* Stores the N items, each atomically and exactly as store_task_create would
 * (one refused item stores nothing and stops nothing), with one create_batch
 * call per shard (STORE_CREATE_CALL_MAX items at most), pipelined. Each item's
 * rv and written record say how it went. Returns STORE_OK, or STORE_EIO if Redis could
 * not be asked at all (then every rv is STORE_EIO). */
int store_task_create_batch(Store *st, TaskCreate *items, int n, int64_t now_ms, long max_ready,
                            int want_view);

#endif
