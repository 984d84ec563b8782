/* store_dead: the dead-letter record: listing across shards and re-driving. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "num.h"
#include "store_private.h"

/* Appends dead-letter ENTRY ([id, fields]) of SHARD to L as its fields plus
 * "id" = "SHARD-ENTRY", the id the API re-drives it by. */
static void dead_record(int shard, const redisReply *entry, RecordList *l)
{
    char id[64];
    snprintf(id, sizeof id, "%d-%s", shard, entry->element[0]->str);
    Record *rec = record_list_add(l);
    record_add(rec, "id", id);
    reply_record(entry->element[1], rec);
}

/* Newest first; the ms of "at" compare as numbers. */
static int cmp_dead_at(const void *a, const void *b)
{
    long long x = record_ll(a, "at", 0), y = record_ll(b, "at", 0);
    return (x < y) - (x > y);
}

int store_dead_list(Store *st, int limit, RecordList *items)
{
    char k[KEY_MAX];
    for (int s = 0; s < st->shards; s++) {
        skey(st, k, s, "dead", NULL);
        rconn_append(st->rc, "XREVRANGE %s + - COUNT %d", k, limit);
    }
    int rv = STORE_OK;
    *items = (RecordList){0};
    for (int s = 0; s < st->shards; s++) {
        redisReply *r = rconn_read(st->rc);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY)
            rv = STORE_EIO;
        for (size_t i = 0; rv == STORE_OK && i < r->elements; i++)
            if (r->element[i]->type == REDIS_REPLY_ARRAY && r->element[i]->elements == 2 &&
                reply_str(r->element[i]->element[0]) != NULL)
                dead_record(s, r->element[i], items);
        freeReplyObject(r);
    }
    if (items->n > 1) /* qsort of a NULL array, even of none, is undefined */
        qsort(items->items, items->n, sizeof *items->items, cmp_dead_at);
    while (items->n > (size_t)limit)
        record_clear(&items->items[--items->n]);
    if (rv != STORE_OK)
        record_list_clear(items);
    return rv == STORE_OK ? rv : store_io_error(st);
}

int store_dead_retry(Store *st, const char *id, int64_t now_ms)
{
    char k[KEY_MAX], entry[48], ms[32];
    long long sh;
    const char *tail; /* "SHARD-ENTRY", ENTRY a stream id of at most 40 characters */
    if (num_prefix(id, 0, st->shards - 1, &sh, &tail) != 0 || *tail++ != '-' || tail[0] == '\0' ||
        strlen(tail) > 40 || tail[strspn(tail, "0123456789-")] != '\0')
        return STORE_ENOTFOUND;
    snprintf(entry, sizeof entry, "%s", tail);
    int shard = (int)sh;
    skey(st, k, shard, "dead", NULL);
    redisReply *r = rconn_cmd(st->rc, "XRANGE %s %s %s", k, entry, entry);
    if (r == NULL)
        return store_io_error(st);
    char task[TASK_ID_MAX + 1] = "";
    int found = r->type == REDIS_REPLY_ARRAY && r->elements == 1;
    const char *t = found ? reply_field(reply_elem(r->element[0], 1), "task") : NULL;
    snprintf(task, sizeof task, "%s", t ? t : "");
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
