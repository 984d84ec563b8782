/* api_batch: POST /api/v1/tasks:batch. The specs are validated one by one
 * with the single create's own check (api_spec_check), the valid ones are
 * stored by the store in one script call per shard, pipelined
 * (store_task_create_batch), and every item gets its own result. An item
 * with an "idempotency_key" is created at most once for its key, as a single
 * create under an Idempotency-Key header is (idem.c): a repeat is answered
 * with the first one's task, the key with another spec is refused. */
#include "api_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_create.h"
#include "api_view.h"
#include "chain.h"
#include "idem.h"
#include "log.h"
#include "mem.h"
#include "store_create.h"

/* One item of the request while it is being answered. */
typedef struct Item {
    TaskSpec *spec; /* valid, else NULL and result set */
    json_t *result; /* the item's answer once known */
    char id[TASK_ID_MAX + 1];
    const char *key;                    /* its idempotency_key (in the body), or NULL */
    char hash[STORE_IDEM_HASH_LEN + 1]; /* of the spec without its key */
    IdemClaim claim;
} Item;

static void answer(HttpResponse *res, int status, const char *type, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    http_respond(res, status, type, text);
    free(text);
    json_decref(body);
}

static void refuse(HttpResponse *res, int status, const char *title, const char *field, const char *detail)
{
    answer(res, status, "application/problem+json", http_problem_json(status, title, field, detail));
}

/* The result of item I refused with STATUS: {"status", "problem"}, the
 * problem naming the index and the field as tasks[I].FIELD. */
static json_t *item_problem(size_t i, int status, const char *title, const char *field, const char *detail)
{
    char where[160];
    snprintf(where, sizeof where, "tasks[%zu]%s%s", i, field && field[0] ? "." : "", field ? field : "");
    json_t *p = http_problem_json(status, title, where, detail);
    json_object_set_new(p, "index", json_integer((json_int_t)i));
    return json_pack("{s:i,s:o}", "status", status, "problem", p);
}

/* The tasks array of BODY, or NULL after answering why the request is not a batch. */
static json_t *batch_tasks(HttpResponse *res, json_t *body, const json_error_t *jerr)
{
    char detail[256];
    const char *key;
    json_t *v, *tasks = json_object_get(body, "tasks");
    if (body == NULL) {
        snprintf(detail, sizeof detail, "malformed JSON at line %d, column %d: %s", jerr->line,
                 jerr->column, jerr->text);
        refuse(res, 400, "Bad Request", "", detail);
        return NULL;
    }
    if (!json_is_object(body)) {
        refuse(res, 400, "Bad Request", "", "the body must be a JSON object {\"tasks\": [...]}");
        return NULL;
    }
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "tasks") != 0) {
            refuse(res, 400, "Bad Request", key, "unknown field");
            return NULL;
        }
    }
    if (!json_is_array(tasks) || json_array_size(tasks) == 0) {
        refuse(res, 400, "Bad Request", "tasks", "is required, as an array of 1 to 1000 task specs");
        return NULL;
    }
    if (json_array_size(tasks) > API_BATCH_MAX) {
        snprintf(detail, sizeof detail, "holds %zu task specs; a batch takes at most %d",
                 json_array_size(tasks), API_BATCH_MAX);
        refuse(res, 413, "Payload Too Large", "tasks", detail);
        return NULL;
    }
    return tasks;
}

/* Refuses item I's spec in IT if its chained tasks ("then", issue 16) are
 * unknown, as POST /api/v1/tasks does. */
static void item_chain_check(Item *it, size_t i, Store *st)
{
    TaskError err;
    int rv = it->spec->then ? chain_check(st, NULL, it->spec, &err) : 0;
    if (rv == 0)
        return;
    it->result = rv > 0 ? item_problem(i, 400, "Bad Request", err.field, err.detail)
                        : item_problem(i, 503, "Service Unavailable", "",
                                       "the task store is unreachable; retry");
    task_spec_free(it->spec);
    it->spec = NULL;
}

/* Takes item I's idempotency_key out of SPEC (a copy) into IT: the key, and
 * the hash of the spec without it (its members in sorted order, so the same
 * spec written in another order is the same). Returns the spec to check (a
 * new reference), or NULL after setting the result: a key that is not 1 to
 * 255 visible ASCII characters, or that an earlier item of ITEMS used. */
static json_t *item_key(Item *items, size_t i, json_t *spec)
{
    Item *it = &items[i];
    json_t *k = json_object_get(spec, "idempotency_key");
    if (k == NULL)
        return json_incref(spec);
    it->key = json_string_value(k);
    if (it->key == NULL || !idem_key_valid(it->key)) {
        it->result = item_problem(i, 400, "Bad Request", "idempotency_key",
                                  "must be a string of 1 to 255 visible ASCII characters");
        return NULL;
    }
    for (size_t j = 0; j < i; j++)
        if (items[j].key != NULL && strcmp(items[j].key, it->key) == 0) {
            it->result = item_problem(i, 400, "Bad Request", "idempotency_key",
                                      "is used by an earlier item of this batch");
            return NULL;
        }
    json_t *bare = json_copy(spec);
    json_object_del(bare, "idempotency_key");
    char *text = json_dumps(bare, JSON_COMPACT | JSON_SORT_KEYS);
    idem_hash(text, text ? strlen(text) : 0, it->hash);
    free(text);
    return bare;
}

/* Validates item I (SPEC) of ITEMS: a spec, or a result saying why not. A
 * spec is held to the single create's body limit too, when the batch is
 * larger. */
static void item_check(Item *items, size_t i, json_t *spec, size_t body_len, unsigned scopes, Store *st)
{
    ApiProblem p;
    Item *it = &items[i];
    if (body_len > TASK_BODY_MAX && json_dumpb(spec, NULL, 0, JSON_COMPACT) > TASK_BODY_MAX) {
        it->result = item_problem(i, 413, "Payload Too Large", "",
                                  "the spec is larger than POST /api/v1/tasks takes");
        return;
    }
    json_t *checked = json_is_object(spec) ? item_key(items, i, spec) : json_incref(spec);
    if (checked == NULL)
        return;
    it->spec = api_spec_check(checked, NULL, 0, scopes, &p);
    if (it->spec == NULL)
        it->result = item_problem(i, p.status, p.title, p.field, p.detail);
    else
        item_chain_check(it, i, st);
}

/* The result of a stored (or refused by the store) item. */
static json_t *item_stored(size_t i, TaskCreate *c)
{
    switch (c->rv) {
    case STORE_OK: {
        json_t *view = api_view_task_spec(&c->written, c->spec->json);
        record_clear(&c->written);
        task_hide_write_only(view); /* the signing secret: from everyone */
        return json_pack("{s:i,s:o}", "status", 201, "task", view);
    }
    case STORE_EFULL:
        return item_problem(i, 429, "Too Many Requests", "",
                            "too many occurrences are waiting to run (the api's --max-ready); retry later");
    case STORE_EEXIST:
        return item_problem(i, 409, "Conflict", "", "a task with this id exists; retry");
    default:
        return item_problem(i, 503, "Service Unavailable", "", "the task store is unreachable; retry");
    }
}

/* The result of item I, a repeat of the create that made task ID: 200 with
 * that task, "replayed": true; 404 if it was deleted since. */
static json_t *item_replay(size_t i, Store *st, const char *id)
{
    json_t *view;
    int rv = api_view_task_get(st, id, &view);
    if (rv == STORE_ENOTFOUND)
        return item_problem(i, 404, "Not Found", "idempotency_key",
                            "names a task created by an earlier request and deleted since");
    if (rv != STORE_OK)
        return item_problem(i, 503, "Service Unavailable", "", "the task store is unreachable; retry");
    task_hide_write_only(view);
    return json_pack("{s:i,s:o,s:b}", "status", 200, "task", view, "replayed", 1);
}

/* Decides every valid keyed item before anything is stored: a repeat is
 * answered with its first task (and stores nothing), a key used with another
 * spec is a 422; the others will be created with the id their key is pinned
 * to (CALLER's keys only: keys of different callers never meet). */
static void items_begin(Item *items, size_t n, Store *st, const char *caller, int64_t now_ms)
{
    for (size_t i = 0; i < n; i++) {
        Item *it = &items[i];
        if (it->spec == NULL || it->key == NULL)
            continue;
        task_new_id(now_ms, it->id);
        int rv = idem_begin(st, caller, it->key, it->hash, it->id, &it->claim);
        if (rv == STORE_OK && it->claim.verdict == IDEM_CREATE)
            continue;
        it->result = rv != STORE_OK ? item_problem(i, 503, "Service Unavailable", "",
                                                   "the task store is unreachable; retry")
                     : it->claim.verdict == IDEM_REPLAY
                         ? item_replay(i, st, it->id)
                         : item_problem(
                               i, 422, "Unprocessable Content", "idempotency_key",
                               "was used with a different spec in the last 24 hours; use a new key");
        task_spec_free(it->spec);
        it->spec = NULL;
    }
}

/* After the store: a keyed item created now is recorded as done (its repeats
 * replay it); one a concurrent repeat created first is answered as a replay. */
static json_t *item_finish(size_t i, Item *it, Store *st, TaskCreate *c)
{
    if (it->key != NULL && c->rv == STORE_EEXIST)
        return item_replay(i, st, it->id);
    if (it->key != NULL && c->rv == STORE_OK && idem_finish(st, &it->claim, it->id) != STORE_OK)
        log_warn("idempotency record not marked done", "{s:s}", "task_id", it->id);
    return item_stored(i, c);
}

/* Stores the valid items (within ROOM of the --max-tasks quota). Returns how
 * many were stored, or -1 if the store could not be reached at all. */
static int items_store(Item *items, size_t n, Store *st, int64_t now_ms, long room)
{
    TaskCreate *c = xcalloc(n, sizeof *c);
    size_t *at = xcalloc(n, sizeof *at), m = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].spec == NULL)
            continue;
        if ((long)m >= room) {
            items[i].result = item_problem(i, 429, "Too Many Requests", "",
                                           "the store holds the most tasks it may (the api's --max-tasks)");
            continue;
        }
        if (items[i].key == NULL) /* a keyed item's id is the one its key is pinned to */
            task_new_id(now_ms, items[i].id);
        task_spec_bind(items[i].spec, items[i].id); /* its jitter offset derives from the id */
        c[m] = (TaskCreate){.id = items[i].id,
                            .spec = items[i].spec,
                            .due_ms = task_first_due(items[i].spec, now_ms, now_ms),
                            .immediate = items[i].spec->stype == SCHEDULE_NOW};
        at[m++] = i;
    }
    int rv = m > 0 ? store_task_create_batch(st, c, (int)m, now_ms, api_create_max_ready(), 1) : STORE_OK;
    int stored = 0;
    for (size_t j = 0; j < m; j++) {
        stored += c[j].rv == STORE_OK;
        items[at[j]].result = item_finish(at[j], &items[at[j]], st, &c[j]);
    }
    free(c);
    free(at);
    return rv == STORE_OK ? stored : -1;
}

void api_batch_create(const HttpRequest *req, HttpResponse *res, Store *st, int64_t now_ms, unsigned scopes,
                      const char *caller)
{
    json_error_t jerr;
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *tasks = batch_tasks(res, body, &jerr), *spec;
    long room = tasks ? api_tasks_room(st) : 0;
    if (tasks != NULL && room <= 0) {
        http_add_header(res, "Retry-After", "60");
        refuse(res, 429, "Too Many Requests", NULL,
               "the store holds the most tasks it may (the api's --max-tasks); delete some first");
    }
    if (tasks == NULL || room <= 0) {
        json_decref(body);
        return;
    }
    size_t n = json_array_size(tasks), i;
    Item *items = xcalloc(n, sizeof *items);
    json_array_foreach(tasks, i, spec) item_check(items, i, spec, req->body_len, scopes, st);
    items_begin(items, n, st, caller, now_ms);
    int stored = items_store(items, n, st, now_ms, room);
    json_t *results = json_array();
    size_t done = 0; /* created, or replayed */
    for (i = 0; i < n; i++) {
        json_int_t status = json_integer_value(json_object_get(items[i].result, "status"));
        done += status == 200 || status == 201;
        json_array_append_new(results, items[i].result);
        task_spec_free(items[i].spec);
    }
    free(items);
    json_decref(body);
    if (stored < 0) {
        json_decref(results);
        refuse(res, 503, "Service Unavailable", NULL, "the task store is unreachable; retry");
        return;
    }
    api_tasks_counted(stored);
    log_info("tasks created", "{s:i,s:i}", "created", stored, "items", (int)n);
    answer(res, done == n ? 200 : 207, "application/json", json_pack("{s:o}", "items", results));
}

size_t api_batch_max_body(const char *method, const char *path)
{
    return strcmp(method, "POST") == 0 && strcmp(path, "/api/v1/tasks:batch") == 0 ? API_BATCH_BODY_MAX : 0;
}
