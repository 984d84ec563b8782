/* api_lists: the api's collections: the task list (filters, sort, pages
 * bounded in bytes), a task's runs, dead letters and their re-drive, and
 * the cron preview. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_private.h"
#include "api_view.h"
#include "clock.h"
#include "cron.h"
#include "exclude.h"
#include "log.h"
#include "shift.h"
#include "store_task.h"
#include "tz.h"

/* label=k=v (repeatable, all must hold) and sort=created|-created. */
static int list_filters(Req *r, TaskQuery *q)
{
    const char *sort = http_query(r->http, "sort");
    q->nlabels = http_query_all(r->http, "label", q->labels, TASK_QUERY_LABELS_MAX);
    if (q->nlabels > TASK_QUERY_LABELS_MAX) {
        problem(r, 400, "Bad Request", "label", "at most 8 label filters");
        return -1;
    }
    for (int i = 0; i < q->nlabels; i++) {
        const char *eq = strchr(q->labels[i], '=');
        if (eq == NULL || eq == q->labels[i] || eq - q->labels[i] > 63 || strlen(eq + 1) > 255) {
            problem(r, 400, "Bad Request", "label", "must be key=value (a key of 1-63 bytes)");
            return -1;
        }
    }
    static const char *const sorts[] = {"-created", "created", "name", "next_run", NULL};
    int k = 0;
    while (sort != NULL && sorts[k] != NULL && strcmp(sort, sorts[k]) != 0)
        k++;
    if (sort != NULL && sorts[k] == NULL) {
        problem(r, 400, "Bad Request", "sort",
                "must be -created (newest first), created, name or next_run");
        return -1;
    }
    q->oldest_first = k == 1;
    q->order = k == 2 ? TASK_ORDER_NAME : k == 3 ? TASK_ORDER_NEXT_RUN : TASK_ORDER_CREATED;
    return 0;
}

/* Lists Q's page in chunks and stops early once the page holds
 * API_PAGE_BYTES of JSON, so one request of big tasks cannot take the api's
 * memory (a shorter page with a next_cursor is still a page). */
static int list_within_budget(Store *st, const TaskQuery *q, json_t **items, char next[TASK_ID_MAX + 1])
{
    TaskQuery chunk = *q;
    char cursor[TASK_ID_MAX + 1];
    size_t bytes = 0;
    int rv = STORE_OK;
    *items = json_array();
    next[0] = '\0';
    while ((int)json_array_size(*items) < q->limit && bytes < API_PAGE_BYTES) {
        json_t *part;
        size_t have = json_array_size(*items), room = API_LIST_CHUNK;
        if (have > 0) /* no more than the budget's room, at the average size so far */
            /* NOLINTNEXTLINE(clang-analyzer-core.DivideZero): each item adds at least 1 to bytes, so bytes / have >= 1 */
            room = (API_PAGE_BYTES - bytes) / (bytes / have) + 1;
        chunk.limit = q->limit - (int)have;
        chunk.limit = (size_t)chunk.limit < room ? chunk.limit
                                                 : (int)(room < API_LIST_CHUNK ? room : API_LIST_CHUNK);
        if ((rv = api_view_task_list(st, &chunk, &part, next)) != STORE_OK)
            break;
        size_t i, got = json_array_size(part);
        json_t *item;
        json_array_foreach(part, i, item) bytes += json_dumpb(item, NULL, 0, JSON_COMPACT) + 1;
        json_array_extend(*items, part);
        json_decref(part);
        if ((int)got < chunk.limit || next[0] == '\0') /* the end, or the store's scan bound */
            break;
        snprintf(cursor, sizeof cursor, "%s", next);
        chunk.cursor = cursor;
    }
    if (rv != STORE_OK) {
        json_decref(*items);
        *items = NULL;
    }
    return rv;
}

void api_tasks_list(Req *r)
{
    TaskQuery q = {.cursor = http_query(r->http, "cursor"),
                   .state = http_query(r->http, "state"),
                   .name_prefix = http_query(r->http, "name_prefix")};
    long limit = query_int(r, "limit", 50, 1, 500);
    if (limit < 0)
        return;
    q.limit = (int)limit;
    if (q.cursor != NULL && !task_id_valid(q.cursor)) {
        problem(r, 400, "Bad Request", "cursor", "is not a cursor this API returned");
        return;
    }
    if (q.state != NULL && strcmp(q.state, "active") != 0 && strcmp(q.state, "paused") != 0 &&
        strcmp(q.state, "completed") != 0) {
        problem(r, 400, "Bad Request", "state", "must be active, paused or completed");
        return;
    }
    if (q.name_prefix != NULL && strlen(q.name_prefix) > TASK_NAME_MAX * 4) {
        problem(r, 400, "Bad Request", "name_prefix", "is too long");
        return;
    }
    if (list_filters(r, &q) != 0)
        return;
    json_t *items;
    char next[TASK_ID_MAX + 1];
    int rv = list_within_budget(r->st, &q, &items, next);
    if (rv == STORE_ECONFLICT) { /* only a sorted list says so: too many tasks, or a cursor gone */
        problem(r, 400, "Bad Request",
                q.cursor && strstr(store_errstr(r->st), "cursor") ? "cursor" : "sort", store_errstr(r->st));
        return;
    }
    if (rv != STORE_OK) {
        store_problem(r, rv);
        return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) redact_for(r, item);
    reply_json(r, 200, json_pack("{s:o,s:s?}", "items", items, "next_cursor", next[0] ? next : NULL));
}

void api_runs_list(Req *r)
{
    long limit = query_int(r, "limit", 50, 1, 1000);
    if (limit < 0)
        return;
    json_t *task, *items;
    int rv = api_view_task_get(r->st, task_id(r), &task);
    if (rv == STORE_OK) {
        json_decref(task);
        rv = store_runs_list(r->st, task_id(r), (int)limit, &items);
    }
    size_t i;
    json_t *run;
    if (rv == STORE_OK)
        json_array_foreach(items, i, run) api_view_run(run);
    if (rv != STORE_OK)
        store_problem(r, rv);
    else
        reply_json(r, 200, json_pack("{s:o}", "items", items));
}

void api_dead_list(Req *r)
{
    long limit = query_int(r, "limit", 50, 1, 1000);
    if (limit < 0)
        return;
    json_t *items;
    int rv = api_view_dead_list(r->st, (int)limit, &items);
    if (rv == STORE_OK && (rv = api_view_task_names(r->st, items, "task_id")) != STORE_OK)
        json_decref(items);
    if (rv != STORE_OK)
        store_problem(r, rv);
    else
        reply_json(r, 200, json_pack("{s:o}", "items", items));
}

void api_dead_retry(Req *r)
{
    int rv = store_dead_retry(r->st, r->m->params[0], r->now);
    if (rv == STORE_ENOTFOUND)
        problem(r, 404, "Not Found", NULL, "no such dead occurrence, or its task is gone");
    else if (rv != STORE_OK)
        store_problem(r, rv);
    else
        reply_json(r, 202, json_pack("{s:s}", "id", r->m->params[0]));
}

typedef struct Preview {
    const char *cron, *zone;
    int count;
    int64_t after, offset_ms; /* the task's jitter offset, with jitter_s and task_id */
    CronExpr *expr;
    Exclusions *excl; /* exclude and exclude_cron, NULL: none */
    CronExpr *excl_expr;
    const Tz *tz;
    char field[32], err[192];
} Preview;

/* Names the bad field; ERR, if not NULL, replaces p->err. */
static int preview_fail(Preview *p, const char *field, const char *err)
{
    snprintf(p->field, sizeof p->field, "%s", field);
    if (err != NULL)
        snprintf(p->err, sizeof p->err, "%s", err);
    return -1;
}

/* jitter_s and task_id: the preview shows that task's shifted fire times. */
static int preview_shift(json_t *body, Preview *p)
{
    json_t *jitter = json_object_get(body, "jitter_s"), *id = json_object_get(body, "task_id");
    if (jitter == NULL && id == NULL)
        return 0;
    if (!json_is_integer(jitter) || json_integer_value(jitter) < 1 ||
        json_integer_value(jitter) > SHIFT_JITTER_MAX_S)
        return preview_fail(p, "jitter_s", "must be an integer from 1 to 86400, given with task_id");
    if (!json_is_string(id) || !task_id_valid(json_string_value(id)))
        return preview_fail(p, "task_id",
                            "is required with jitter_s (the offset derives from the id): a task id");
    p->offset_ms = shift_offset_ms(json_string_value(id), json_integer_value(jitter) * 1000);
    return 0;
}

/* Validates a preview request body into P; -1 with p->field and p->err. */
static int preview_parse(json_t *body, Preview *p)
{
    static const char *const keys[] = {"cron",    "timezone", "count",        "from", "jitter_s",
                                       "task_id", "exclude",  "exclude_cron", NULL};
    const char *key;
    json_t *v, *count = json_object_get(body, "count"), *from = json_object_get(body, "from");
    if (!json_is_object(body))
        return preview_fail(p, "", "the body must be a JSON object");
    json_object_foreach(body, key, v)
    {
        int known = 0;
        for (const char *const *k = keys; *k; k++)
            known |= strcmp(*k, key) == 0;
        if (!known)
            return preview_fail(p, key, "unknown field");
    }
    p->cron = json_string_value(json_object_get(body, "cron"));
    p->zone = json_object_get(body, "timezone") ? json_string_value(json_object_get(body, "timezone"))
                                                : "UTC";
    p->count = count ? (int)json_integer_value(count) : 5;
    if (p->cron == NULL)
        return preview_fail(p, "cron", "is required, as a string");
    if (p->zone == NULL)
        return preview_fail(p, "timezone", "must be a string");
    if (count && (!json_is_integer(count) || p->count < 1 || p->count > 100))
        return preview_fail(p, "count", "must be an integer from 1 to 100");
    if (from && (!json_is_string(from) || clock_parse_rfc3339(json_string_value(from), &p->after) != 0))
        return preview_fail(p, "from", "must be an RFC 3339 instant");
    if ((p->expr = cron_parse(p->cron, p->err, sizeof p->err)) == NULL)
        return preview_fail(p, "cron", NULL);
    if ((p->tz = tz_get(p->zone, p->err, sizeof p->err)) == NULL)
        return preview_fail(p, "timezone", NULL);
    if (preview_shift(body, p) != 0)
        return -1;
    TaskError err;
    if (task_exclusions_from_json(body, p->tz, &p->excl, &p->excl_expr, &err) != 0)
        return preview_fail(p, err.field, err.detail);
    return 0;
}

/* POST /cron/preview {"cron", "timezone", "count", "from"}: the next fire
 * times, in UTC and in the zone's local time, for forms to show. */
void api_cron_preview(Req *r)
{
    if (!body_acceptable(r))
        return;
    json_t *body = json_loadb(r->http->body, r->http->body_len, 0, NULL);
    Preview p = {.after = r->now};
    if (preview_parse(body, &p) != 0) {
        problem(r, 400, "Bad Request", p.field, p.err);
    } else {
        json_t *items = json_array();
        int64_t t = p.after;
        for (int i = 0; i < p.count && (t = shift_next(p.expr, p.tz, r->now, t, p.offset_ms)) >= 0; i++) {
            char utc[CLOCK_RFC3339_LEN], local[TZ_FORMAT_MAX];
            clock_format_rfc3339(t, utc);
            tz_format(p.tz, t, local, sizeof local);
            json_t *item = json_pack("{s:s,s:s}", "utc", utc, "local", local);
            if (p.excl != NULL) /* shown, not run: the preview says which */
                json_object_set_new(item, "excluded", json_boolean(exclude_match(p.excl, t - p.offset_ms)));
            json_array_append_new(items, item);
        }
        json_t *out = json_pack("{s:s,s:s,s:o}", "cron", p.cron, "timezone", p.zone, "items", items);
        if (json_object_get(body, "jitter_s") != NULL)
            json_object_set_new(out, "offset_ms", json_integer(p.offset_ms));
        reply_json(r, 200, out);
    }
    cron_free(p.expr);
    cron_free(p.excl_expr);
    free(p.excl);
    json_decref(body);
}
