/* task: the task spec clients send, parsed and validated purely.
 *
 * Validation is strict: unknown fields, wrong types and out-of-range values are
 * errors that name the field, so a client's typo never silently changes
 * behaviour. The normalized spec (defaults filled in, instants in canonical
 * RFC 3339) is what the store keeps. */
#include "task.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "action_kind.h"
#include "clock.h"
#include "mem.h"
#include "shift.h"
#include "task_private.h"

#define DEFAULT_TIMEOUT_S 3600

void *task_fail(TaskError *err, const char *field, const char *fmt, ...)
{
    va_list ap;
    snprintf(err->field, sizeof err->field, "%s", field);
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
    return NULL;
}

/* Checks that OBJ has only keys from ALLOWED (NULL-terminated). */
int task_only_keys(json_t *obj, const char *const *allowed, const char *where, TaskError *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(*a, key) == 0;
        if (!ok) {
            char field[64];
            snprintf(field, sizeof field, "%s%s%.40s", where, where[0] ? "." : "", key);
            task_fail(err, field, "unknown field");
            return -1;
        }
    }
    return 0;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

int task_check_count(json_t *v, const char *field, long long max, const char *unit, TaskError *err)
{
    if (json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= max)
        return 0;
    task_fail(err, field, "must be an integer from 1 to %lld%s%s", max, unit ? " " : "", unit ? unit : "");
    return -1;
}

int task_check_string(json_t *v, const char *field, size_t maxlen, int nonempty, TaskError *err)
{
    if (!json_is_string(v)) {
        task_fail(err, field, "must be a string");
        return -1;
    }
    if (nonempty && json_string_length(v) == 0) {
        task_fail(err, field, "must not be empty");
        return -1;
    }
    if (json_string_length(v) > maxlen) {
        task_fail(err, field, "must be at most %zu bytes", maxlen);
        return -1;
    }
    return 0;
}

static int check_labels(json_t *labels, TaskError *err)
{
    const char *key;
    json_t *v;
    if (!json_is_object(labels)) {
        task_fail(err, "labels", "must be an object of strings");
        return -1;
    }
    if (json_object_size(labels) > TASK_LABELS_MAX) {
        task_fail(err, "labels", "at most %d labels", TASK_LABELS_MAX);
        return -1;
    }
    json_object_foreach(labels, key, v)
    {
        char field[64];
        snprintf(field, sizeof field, "labels.%.40s", key);
        if (key[0] == '\0' || strlen(key) > TASK_LABEL_MAX) {
            task_fail(err, field, "label names are 1 to %d bytes", TASK_LABEL_MAX);
            return -1;
        }
        if (task_check_string(v, field, TASK_LABEL_MAX, 0, err) != 0)
            return -1;
    }
    return 0;
}

static int check_action(json_t *action, TaskError *err)
{
    return action_kind_validate(action, err); /* the kinds' own files check their members */
}

static int parse_at(TaskSpec *spec, json_t *sched, json_t *at, TaskError *err)
{
    char canon[CLOCK_RFC3339_LEN];
    if (!json_is_string(at) || clock_parse_rfc3339(json_string_value(at), &spec->at_ms) != 0) {
        task_fail(err, "schedule.at", "must be an RFC 3339 instant, like 2026-11-26T18:00:00Z");
        return -1;
    }
    clock_format_rfc3339(spec->at_ms, canon);
    json_object_set_new(sched, "at", json_string(canon));
    spec->stype = SCHEDULE_AT;
    return 0;
}

static int parse_cron(TaskSpec *spec, json_t *sched, json_t *cron, TaskError *err)
{
    char why[192];
    json_t *zone = json_object_get(sched, "timezone");
    if (task_check_string(cron, "schedule.cron", TASK_CRON_MAX, 1, err) != 0)
        return -1;
    if (zone == NULL)
        json_object_set_new(sched, "timezone", zone = json_string("UTC"));
    if (task_check_string(zone, "schedule.timezone", 64, 1, err) != 0)
        return -1;
    spec->expr = cron_parse(json_string_value(cron), why, sizeof why);
    if (spec->expr == NULL) {
        task_fail(err, "schedule.cron", "%s", why);
        return -1;
    }
    spec->tz = tz_get(json_string_value(zone), why, sizeof why);
    if (spec->tz == NULL) {
        task_fail(err, "schedule.timezone", "%s", why);
        return -1;
    }
    spec->stype = SCHEDULE_CRON;
    spec->cron = json_string_value(cron);
    spec->timezone = json_string_value(zone);
    return 0;
}

static int check_schedule(TaskSpec *spec, json_t *sched, TaskError *err)
{
    static const char *const keys[] = {"at", "cron", "timezone", NULL};
    spec->stype = SCHEDULE_NOW;
    if (sched == NULL || json_is_null(sched))
        return 0;
    if (!json_is_object(sched)) {
        task_fail(err, "schedule", "must be an object with \"at\" or \"cron\"");
        return -1;
    }
    if (task_only_keys(sched, keys, "schedule", err) != 0)
        return -1;
    json_t *at = json_object_get(sched, "at"), *cron = json_object_get(sched, "cron");
    if (at != NULL && cron != NULL) {
        task_fail(err, "schedule", "give either \"at\" or \"cron\", not both");
        return -1;
    }
    if (at != NULL && json_object_get(sched, "timezone") != NULL) {
        task_fail(err, "schedule.timezone", "applies to cron schedules only");
        return -1;
    }
    if (at != NULL)
        return parse_at(spec, sched, at, err);
    if (cron != NULL)
        return parse_cron(spec, sched, cron, err);
    if (json_object_size(sched) == 0)
        return 0;
    task_fail(err, "schedule.cron", "is required with a timezone");
    return -1;
}

static int check_timeout(json_t *spec, TaskError *err)
{
    json_t *t = json_object_get(spec, "timeout_s");
    if (t == NULL) {
        json_object_set_new(spec, "timeout_s", json_integer(DEFAULT_TIMEOUT_S));
        return 0;
    }
    return task_check_count(t, "timeout_s", TASK_TIMEOUT_MAX, NULL, err);
}

TaskSpec *task_spec_from_json(json_t *json, TaskError *err)
{
    static const char *const keys[] = {"name",     "labels",    "schedule",
                                       "action",   "timeout_s", "retry",
                                       "overlap",  "misfire",   "misfire_threshold_s",
                                       "start_at", "end_at",    "max_runs",
                                       "jitter_s", "exclude",   "exclude_cron",
                                       "slo_ms",   "then",      "concurrency", /* task_exec.c */
                                       NULL};
    TaskSpec *spec = xcalloc(1, sizeof *spec);
    spec->json = json;
    if (!json_is_object(json)) {
        task_fail(err, "", "the body must be a JSON object");
        goto err;
    }
    if (task_only_keys(json, keys, "", err) != 0)
        goto err;
    json_t *name = json_object_get(json, "name");
    if (name == NULL) {
        task_fail(err, "name", "is required");
        goto err;
    }
    if (task_check_string(name, "name", TASK_NAME_MAX * 4, 1, err) != 0)
        goto err;
    if (utf8_chars(json_string_value(name)) > TASK_NAME_MAX) {
        task_fail(err, "name", "must be 1 to %d characters", TASK_NAME_MAX);
        goto err;
    }
    spec->name = json_string_value(name);
    json_t *labels = json_object_get(json, "labels");
    if (labels != NULL && check_labels(labels, err) != 0)
        goto err;
    if (json_object_get(json, "action") == NULL) {
        task_fail(err, "action", "is required");
        goto err;
    }
    if (check_action(json_object_get(json, "action"), err) != 0 ||
        check_schedule(spec, json_object_get(json, "schedule"), err) != 0 ||
        check_timeout(json, err) != 0 || task_check_policies(spec, err) != 0 ||
        task_check_exec(spec, err) != 0)
        goto err;
    if (spec->stype == SCHEDULE_NOW)
        json_object_del(json, "schedule"); /* {} and null mean now: store one form */
    return spec;
err:
    task_spec_free(spec);
    return NULL;
}

TaskSpec *task_spec_parse(const char *body, size_t len, TaskError *err)
{
    json_error_t jerr;
    json_t *json = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (json == NULL)
        return task_fail(err, "", "malformed JSON at line %d, column %d: %s", jerr.line, jerr.column,
                         jerr.text);
    return task_spec_from_json(json, err);
}

void task_spec_free(TaskSpec *spec)
{
    if (spec == NULL)
        return;
    cron_free(spec->expr);
    cron_free(spec->excl_expr);
    free(spec->excl);
    json_decref(spec->json);
    free(spec);
}

const char *task_schedule_type_name(ScheduleType stype)
{
    static const char *const names[] = {"now", "at", "cron"};
    return names[stype];
}

int64_t task_next_due(const TaskSpec *spec, int64_t anchor_ms, int64_t after_ms)
{
    if (spec->stype != SCHEDULE_CRON)
        return -1;
    return shift_next(spec->expr, spec->tz, anchor_ms, after_ms, spec->offset_ms);
}

void task_spec_bind(TaskSpec *spec, const char *id)
{
    spec->offset_ms = shift_offset_ms(id, spec->jitter_ms);
}

int64_t task_first_due(const TaskSpec *spec, int64_t now_ms, int64_t anchor_ms)
{
    switch (spec->stype) {
    case SCHEDULE_NOW:
        return now_ms;
    case SCHEDULE_AT:
        return spec->at_ms > now_ms ? spec->at_ms : now_ms;
    case SCHEDULE_CRON: {
        /* Not before start_at; the first fire may be exactly at start_at. */
        int64_t after = spec->start_at_ms > now_ms ? spec->start_at_ms - 1 : now_ms;
        int64_t next = task_next_due(spec, anchor_ms, after);
        return spec->end_at_ms > 0 && next > spec->end_at_ms ? -1 : next;
    }
    }
    return -1;
}

void task_new_id(int64_t now_ms, char out[25])
{
    unsigned char rnd[6];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        abort(); /* the kernel's CSPRNG never fails for 6 bytes after boot */
    snprintf(out, 25, "%012llx%02x%02x%02x%02x%02x%02x", (unsigned long long)now_ms & 0xffffffffffffULL,
             rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
}

int task_id_valid(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++)
        if (!((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'z') ||
              (id[n] >= 'A' && id[n] <= 'Z') || id[n] == '_' || id[n] == '-'))
            return 0;
    return n >= 1 && n <= TASK_ID_MAX;
}
