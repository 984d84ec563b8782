/* store_names: task names for views that carry only a task id (the live feed,
 * dead letters), looked up for a whole batch in one pipelined round trip. */
#include "mem.h"
#include "store_private.h"

int store_task_names(Store *st, const char *const *ids, int n, char **names)
{
    char k[KEY_MAX];
    int rv = STORE_OK;
    for (int i = 0; i < n; i++) {
        skey(st, k, store_shard_of(ids[i], st->shards), "task", ids[i]);
        rconn_append(st->rc, "HGET %s name", k);
    }
    for (int i = 0; i < n; i++) {
        redisReply *r = rconn_read(st->rc);
        const char *name = r ? reply_str(r) : NULL;
        names[i] = name ? xstrdup(name) : NULL;
        if (r == NULL)
            rv = store_io_error(st);
        freeReplyObject(r);
    }
    return rv;
}
