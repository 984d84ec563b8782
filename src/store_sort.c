/* store_sort: task lists ordered by name or by next run.
 *
 * Such an order has no index in Redis, so the list reads every task (at most
 * TASK_SORT_MAX, one pipelined round trip for the ids and one for the
 * hashes), filters and sorts in C, and pages by keyset: the cursor names the
 * last task shown (with its due time for the next-run order, which may have
 * moved since), so a page starts right after it whatever was created or
 * deleted meanwhile. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "store_private.h"

typedef struct Row {
    const char *name, *id;
    int64_t next; /* INT64_MAX when never due */
    const redisReply *h;
} Row;

static int row_cmp_key(TaskOrder order, const Row *a, const char *name, int64_t next, const char *id)
{
    int c = 0;
    if (order == TASK_ORDER_NAME)
        c = strcmp(a->name, name);
    else if (a->next != next)
        c = a->next < next ? -1 : 1;
    return c ? c : strcmp(a->id, id);
}

static int row_cmp(const void *x, const void *y, void *order)
{
    const Row *b = y;
    return row_cmp_key(*(const TaskOrder *)order, x, b->name, b->next, b->id);
}

/* Every task id of every shard into *ids (n of them); STORE_ECONFLICT past TASK_SORT_MAX. */
static int all_ids(Store *st, char ***ids, int *n)
{
    char k[KEY_MAX], stop[16];
    snprintf(stop, sizeof stop, "%d", TASK_SORT_MAX);
    for (int s = 0; s < st->shards; s++) {
        skey(st, k, s, "tasks", NULL);
        const char *argv[] = {"ZRANGE", k, "0", stop};
        rconn_append_argv(st->rc, 4, argv, NULL);
    }
    int rv = STORE_OK, cap = 0;
    *ids = NULL;
    *n = 0;
    for (int s = 0; s < st->shards; s++) {
        redisReply *r = rconn_read(st->rc);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY)
            rv = STORE_EIO;
        for (size_t i = 0; rv == STORE_OK && i < r->elements; i++) {
            if (reply_str(r->element[i]) == NULL)
                continue;
            if (*n == cap)
                *ids = xrealloc(*ids, (size_t)(cap = cap ? cap * 2 : 256) * sizeof **ids);
            (*ids)[(*n)++] = xstrdup(r->element[i]->str);
        }
        freeReplyObject(r);
    }
    if (rv == STORE_OK && *n > TASK_SORT_MAX) {
        snprintf(st->errstr, sizeof st->errstr, "sorting by name or next run spans at most %d tasks",
                 TASK_SORT_MAX);
        rv = STORE_ECONFLICT;
    }
    return rv == STORE_EIO ? store_io_error(st) : rv;
}

/* The cursor's place in the order: the name of its task, or its due time. */
static int cursor_key(Store *st, const TaskQuery *q, const Row *rows, int n, const char **name,
                      int64_t *next, char *id)
{
    snprintf(id, TASK_ID_MAX + 1, "%s", q->cursor);
    *name = "";
    *next = 0;
    if (q->order == TASK_ORDER_NEXT_RUN) {
        char *dash = strrchr(id, '-');
        if (dash == NULL)
            return STORE_ECONFLICT;
        *dash = '\0';
        *next = strtoll(dash + 1, NULL, 10);
        return STORE_OK;
    }
    for (int i = 0; i < n; i++) {
        if (strcmp(rows[i].id, id) == 0) {
            *name = rows[i].name;
            return STORE_OK;
        }
    }
    snprintf(st->errstr, sizeof st->errstr, "the cursor's task is gone; list again from the start");
    return STORE_ECONFLICT;
}

/* The page of ROWS (sorted, N) after the cursor into items and next_cursor. */
static int page(Store *st, const TaskQuery *q, Row *rows, int n, RecordList *items, char *next_cursor)
{
    int from = 0;
    if (q->cursor != NULL) {
        const char *name;
        int64_t next;
        char id[TASK_ID_MAX + 1];
        int rv = cursor_key(st, q, rows, n, &name, &next, id);
        if (rv != STORE_OK)
            return rv;
        while (from < n && row_cmp_key(q->order, &rows[from], name, next, id) <= 0)
            from++;
    }
    int shown = 0, i = from;
    for (; i < n && shown < q->limit; i++) {
        if (!store_task_matches(rows[i].h, q))
            continue;
        reply_record(rows[i].h, record_list_add(items));
        shown++;
    }
    int more = 0;
    for (int j = i; j < n && !more; j++)
        more = store_task_matches(rows[j].h, q);
    if (more && q->order == TASK_ORDER_NAME)
        snprintf(next_cursor, TASK_ID_MAX + 1, "%s", rows[i - 1].id);
    else if (more)
        snprintf(next_cursor, TASK_ID_MAX + 1, "%s-%lld", rows[i - 1].id, (long long)rows[i - 1].next);
    return STORE_OK;
}

int store_task_list_sorted(Store *st, const TaskQuery *q, RecordList *items,
                           char next_cursor[TASK_ID_MAX + 1])
{
    char **ids, k[KEY_MAX];
    int n, rv = all_ids(st, &ids, &n);
    *items = (RecordList){0};
    next_cursor[0] = '\0';
    if (rv != STORE_OK) {
        for (int i = 0; i < n; i++)
            free(ids[i]);
        free(ids);
        return rv;
    }
    for (int i = 0; i < n; i++) {
        skey(st, k, store_shard_of(ids[i], st->shards), "task", ids[i]);
        rconn_append(st->rc, "HGETALL %s", k);
    }
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers; its element is a pointer */
    redisReply **h = xcalloc((size_t)n + 1, sizeof *h);
    Row *rows = xcalloc((size_t)n + 1, sizeof *rows);
    int m = 0;
    for (int i = 0; i < n; i++) {
        if ((h[i] = rconn_read(st->rc)) == NULL)
            rv = STORE_EIO;
        const char *id = h[i] ? reply_field(h[i], "id") : NULL,
                   *next = id ? reply_field(h[i], "next") : NULL;
        if (id == NULL)
            continue; /* deleted since the ids were read */
        const char *name = reply_field(h[i], "name");
        rows[m++] = (Row){name ? name : "", id, next && *next ? strtoll(next, NULL, 10) : INT64_MAX, h[i]};
    }
    TaskOrder order = q->order;
    qsort_r(rows, (size_t)m, sizeof *rows, row_cmp, &order);
    if (rv == STORE_OK)
        rv = page(st, q, rows, m, items, next_cursor);
    else
        rv = store_io_error(st);
    for (int i = 0; i < n; i++) {
        freeReplyObject(h[i]);
        free(ids[i]);
    }
    free(h);
    free(rows);
    free(ids);
    if (rv != STORE_OK)
        record_list_clear(items);
    return rv;
}
