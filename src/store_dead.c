/* store_dead: the dead-letter record: listing across shards and re-driving. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "store_private.h"

static const char *fieldv(const redisReply *f, const char *name)
{
    for (size_t i = 0; f != NULL && f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements; i += 2) {
        const char *k = reply_str(f->element[i]), *v = reply_str(f->element[i + 1]);
        if (k != NULL && strcmp(k, name) == 0)
            return v ? v : "";
    }
    return "";
}

static json_t *dead_view(int shard, const redisReply *entry)
{
    char id[64], at[CLOCK_RFC3339_LEN];
    const redisReply *f = reply_elem(entry, 1);
    if (reply_str(reply_elem(entry, 0)) == NULL)
        return NULL;
    snprintf(id, sizeof id, "%d-%s", shard, entry->element[0]->str);
    clock_format_rfc3339(strtoll(fieldv(f, "at"), NULL, 10), at);
    const char *task = fieldv(f, "task"), *occ = fieldv(f, "occurrence"); /* "": a malformed entry's */
    return json_pack("{s:s,s:s?,s:s?,s:i,s:s,s:s}", "id", id, "task_id", task[0] ? task : NULL, "occurrence_id",
                     occ[0] ? occ : NULL, "attempts", atoi(fieldv(f, "attempts")), "error", fieldv(f, "error"),
                     "dead_at", at);
}

static int cmp_dead_at(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "dead_at"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "dead_at"));
    return -strcmp(x, y);
}

int store_dead_list(Store *st, int limit, json_t **items)
{
    char k[KEY_MAX];
    for (int s = 0; s < st->shards; s++) {
        skey(st, k, s, "dead", NULL);
        rconn_append(st->rc, "XREVRANGE %s + - COUNT %d", k, limit);
    }
    int rv = STORE_OK, n = 0;
    json_t **all = xcalloc((size_t)(st->shards * limit), sizeof *all);
    for (int s = 0; s < st->shards; s++) {
        redisReply *r = rconn_read(st->rc);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY)
            rv = STORE_EIO;
        for (size_t i = 0; rv == STORE_OK && i < r->elements; i++)
            if (r->element[i]->type == REDIS_REPLY_ARRAY && r->element[i]->elements == 2 &&
                (all[n] = dead_view(s, r->element[i])) != NULL)
                n++;
        freeReplyObject(r);
    }
    qsort(all, (size_t)n, sizeof *all, cmp_dead_at);
    *items = json_array();
    for (int i = 0; i < n; i++) {
        if (i < limit)
            json_array_append(*items, all[i]);
        json_decref(all[i]);
    }
    free(all);
    return rv == STORE_OK ? rv : store_io_error(st);
}

int store_dead_retry(Store *st, const char *id, int64_t now_ms)
{
    char k[KEY_MAX], entry[48], ms[32];
    int shard, n = 0;
    if (sscanf(id, "%d-%40[0-9-]%n", &shard, entry, &n) != 2 || id[n] != '\0' || shard < 0 || shard >= st->shards)
        return STORE_ENOTFOUND;
    skey(st, k, shard, "dead", NULL);
    redisReply *r = rconn_cmd(st->rc, "XRANGE %s %s %s", k, entry, entry);
    if (r == NULL)
        return store_io_error(st);
    char task[TASK_ID_MAX + 1] = "";
    int found = r->type == REDIS_REPLY_ARRAY && r->elements == 1;
    if (found)
        snprintf(task, sizeof task, "%s", fieldv(reply_elem(r->element[0], 1), "task"));
    freeReplyObject(r);
    if (found && task[0] == '\0') { /* a malformed entry's dead letter: nothing to run */
        snprintf(st->errstr, sizeof st->errstr, "this dead letter names no occurrence to re-drive");
        return STORE_ECONFLICT;
    }
    if (task[0] == '\0')
        return STORE_ENOTFOUND;
    Args a = {0};
    args_add(&a, k);
    skey(st, k, shard, "ready", NULL);
    args_add(&a, k);
    skey(st, k, shard, "task", task);
    args_add(&a, k);
    skey(st, k, shard, "events", NULL);
    args_add(&a, k);
    args_add(&a, entry);
    args_add(&a, ms_str(ms, now_ms));
    args_add(&a, EVENTS_MAXLEN);
    r = store_eval(st, SCRIPT_REDRIVE, 4, &a);
    args_free(&a);
    if (r == NULL)
        return STORE_EIO;
    int rv = r->type == REDIS_REPLY_ERROR ? store_reply_error(st, r) : STORE_OK;
    freeReplyObject(r);
    return rv;
}
