/* task_exec: validation of the execution features of a spec: the lateness
 * objective (slo_ms), chaining (then) and concurrency keys (concurrency). */
#include <stdio.h>
#include <string.h>

#include "task_private.h"

static int check_slo(TaskSpec *spec, TaskError *err)
{
    json_t *v = json_object_get(spec->json, "slo_ms");
    spec->slo_ms = 0;
    if (v == NULL)
        return 0;
    if (task_check_count(v, "slo_ms", TASK_SLO_MS_MAX, "(milliseconds)", err) != 0)
        return -1;
    spec->slo_ms = json_integer_value(v);
    return 0;
}

static const char *const chain_on_names[] = {"success", "failure", "always", NULL};

/* One "then" item: {"task": ID, "on": ...}; "on" defaults to "success". */
static int check_chain_item(json_t *item, size_t i, TaskError *err)
{
    static const char *const keys[] = {"task", "on", NULL};
    char where[32], field[64];
    snprintf(where, sizeof where, "then[%zu]", i);
    if (!json_is_object(item)) {
        task_fail(err, where, "must be an object like {\"task\": ID, \"on\": \"success\"}");
        return -1;
    }
    if (task_only_keys(item, keys, where, err) != 0)
        return -1;
    json_t *task = json_object_get(item, "task"), *on = json_object_get(item, "on");
    snprintf(field, sizeof field, "%s.task", where);
    if (!json_is_string(task) || !task_id_valid(json_string_value(task))) {
        task_fail(err, field, "must be a task id ([A-Za-z0-9_-], 1 to %d bytes)", TASK_ID_MAX);
        return -1;
    }
    if (on == NULL)
        json_object_set_new(item, "on", on = json_string("success"));
    int ok = 0;
    for (const char *const *n = chain_on_names; *n && json_is_string(on); n++)
        ok |= strcmp(*n, json_string_value(on)) == 0;
    if (!ok) {
        snprintf(field, sizeof field, "%s.on", where);
        task_fail(err, field, "must be \"success\", \"failure\" or \"always\"");
        return -1;
    }
    return 0;
}

static int check_then(TaskSpec *spec, TaskError *err)
{
    json_t *then = json_object_get(spec->json, "then");
    spec->then = NULL;
    if (then == NULL)
        return 0;
    if (!json_is_array(then) || json_array_size(then) > TASK_THEN_MAX) {
        task_fail(err, "then", "must be an array of at most %d {\"task\", \"on\"} objects", TASK_THEN_MAX);
        return -1;
    }
    size_t i, k;
    json_t *item;
    json_array_foreach(then, i, item)
    {
        if (check_chain_item(item, i, err) != 0)
            return -1;
        for (k = 0; k < i; k++)
            if (json_equal(json_object_get(json_array_get(then, k), "task"),
                           json_object_get(item, "task"))) {
                char field[64];
                snprintf(field, sizeof field, "then[%zu].task", i);
                task_fail(err, field, "names a task already in the list");
                return -1;
            }
    }
    if (json_array_size(then) == 0)
        json_object_del(spec->json, "then"); /* [] means none: store one form */
    else
        spec->then = then;
    return 0;
}

/* 1 if KEY is 1..TASK_CONCURRENCY_KEY_MAX bytes of [A-Za-z0-9_-] (as a task
 * id: it is a URL path segment too). */
static int concurrency_key_ok(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > TASK_CONCURRENCY_KEY_MAX)
        return 0;
    return strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static int check_concurrency(TaskSpec *spec, TaskError *err)
{
    static const char *const keys[] = {"key", "limit", NULL};
    json_t *c = json_object_get(spec->json, "concurrency");
    spec->concurrency_key = NULL;
    spec->concurrency_limit = 0;
    if (c == NULL)
        return 0;
    if (!json_is_object(c)) {
        task_fail(err, "concurrency", "must be an object like {\"key\": \"billing\", \"limit\": 2}");
        return -1;
    }
    if (task_only_keys(c, keys, "concurrency", err) != 0)
        return -1;
    json_t *key = json_object_get(c, "key"), *limit = json_object_get(c, "limit");
    if (!json_is_string(key) || !concurrency_key_ok(json_string_value(key))) {
        task_fail(err, "concurrency.key", "must be 1 to %d characters of A-Z a-z 0-9 _ -",
                  TASK_CONCURRENCY_KEY_MAX);
        return -1;
    }
    if (task_check_count(limit, "concurrency.limit", TASK_CONCURRENCY_LIMIT_MAX, NULL, err) != 0)
        return -1;
    spec->concurrency_key = json_string_value(key);
    spec->concurrency_limit = (int)json_integer_value(limit);
    return 0;
}

int task_check_exec(TaskSpec *spec, TaskError *err)
{
    return check_slo(spec, err) || check_then(spec, err) || check_concurrency(spec, err) ? -1 : 0;
}
