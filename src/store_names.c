/* store_names: task names for views that carry only a task id (the live feed,
 * dead letters), looked up for a whole batch in one pipelined round trip. */
#include <string.h>

#include "mem.h"
#include "store_private.h"

#define NAMES_MAX 1000 /* distinct ids looked up per batch */

int store_task_names(Store *st, json_t *items, const char *id_key)
{
    json_t *seen = json_object(), *item; /* id -> index of its reply */
    const char *id;
    size_t i;
    char k[KEY_MAX];
    int n = 0, rv = STORE_OK;
    json_array_foreach(items, i, item) {
        id = json_string_value(json_object_get(item, id_key));
        if (id == NULL || json_object_get(seen, id) != NULL || n == NAMES_MAX || !task_id_valid(id))
            continue;
        skey(st, k, store_shard_of(id, st->shards), "task", id);
        rconn_append(st->rc, "HGET %s name", k);
        json_object_set_new(seen, id, json_integer(n++));
    }
    redisReply **names = xcalloc((size_t)n + 1, sizeof *names);
    for (int r = 0; r < n; r++)
        if ((names[r] = rconn_read(st->rc)) == NULL)
            rv = store_io_error(st);
    json_array_foreach(items, i, item) {
        id = json_string_value(json_object_get(item, id_key));
        json_t *idx = id ? json_object_get(seen, id) : NULL;
        const char *name = idx ? reply_str(names[json_integer_value(idx)]) : NULL;
        if (name != NULL)
            json_object_set_new(item, "task_name", json_string(name));
    }
    for (int r = 0; r < n; r++)
        freeReplyObject(names[r]);
    free(names);
    json_decref(seen);
    return rv;
}
