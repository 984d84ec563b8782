/* store_slo: a task's lateness against its objective (slo_ms), over the runs
 * its history keeps. The start script judges each run (run.late) with Redis's
 * time and counts the late ones (task field runs_late); this reads them. */
#include <stdlib.h>

#include "mem.h"
#include "store_private.h"
#include "store_slo.h"

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank percentile P (0..100) of the N sorted values V. */
static long long percentile(const long long *v, size_t n, int p)
{
    size_t rank = (n * (size_t)p + 99) / 100;
    return v[rank > 0 ? rank - 1 : 0];
}

/* The "lateness" object from the judged runs among the run records R. */
static json_t *lateness_of(const redisReply *r, const char *late_total)
{
    long long *v = xcalloc(r->elements + 1, sizeof *v);
    size_t n = 0;
    long long late = 0;
    for (size_t i = 0; i < r->elements; i++) {
        json_t *run = reply_str(r->element[i]) ? json_loads(r->element[i]->str, 0, NULL) : NULL;
        json_t *is_late = json_object_get(run, "late"), *ms = json_object_get(run, "lateness_ms");
        if (json_is_boolean(is_late) && json_is_integer(ms)) {
            v[n++] = json_integer_value(ms);
            late += json_is_true(is_late);
        }
        json_decref(run);
    }
    qsort(v, n, sizeof *v, cmp_ll);
    json_t *o = json_pack("{s:I,s:I,s:I}", "late_total", late_total ? strtoll(late_total, NULL, 10) : 0,
                          "runs", (json_int_t)n, "late", (json_int_t)late);
    json_object_set_new(o, "p50_ms", n ? json_integer(percentile(v, n, 50)) : json_null());
    json_object_set_new(o, "p99_ms", n ? json_integer(percentile(v, n, 99)) : json_null());
    free(v);
    return o;
}

int store_task_lateness(Store *st, const char *id, const char *late_total, json_t *task)
{
    char k[KEY_MAX];
    skey(st, k, store_shard_of(id, st->shards), "runs", id);
    redisReply *r = rconn_cmd(st->rc, "HVALS %s", k);
    if (r == NULL)
        return store_io_error(st);
    if (r->type == REDIS_REPLY_ARRAY)
        json_object_set_new(task, "lateness", lateness_of(r, late_total));
    freeReplyObject(r);
    return STORE_OK;
}
