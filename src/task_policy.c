/* task_policy: validation of the execution policies (retry, overlap,
 * misfire, the cron window and run limit). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "action_kind.h"
#include "clock.h"
#include "task_private.h"
#include "whsig.h"

static const char *const overlap_names[] = {"allow", "forbid", "replace", NULL};
static const char *const misfire_names[] = {"run_once", "skip", "run_all", NULL};

const char *task_overlap_name(OverlapPolicy p)
{
    return overlap_names[p];
}

const char *task_misfire_name(MisfirePolicy p)
{
    return misfire_names[p];
}

static int name_index(const char *const *names, const char *s)
{
    for (int i = 0; s != NULL && names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int task_misfire_parse(const char *name)
{
    return name_index(misfire_names, name);
}

/* An optional number in [lo, hi]; DEF fills it in when absent. */
static int check_number(json_t *obj, const char *key, const char *field, double lo, double hi, double def,
                        int integer, double *out, TaskError *err)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        json_object_set_new(obj, key, integer ? json_integer((json_int_t)def) : json_real(def));
        *out = def;
        return 0;
    }
    double d = json_is_number(v) ? json_number_value(v) : NAN;
    if ((integer && !json_is_integer(v)) || !(d >= lo && d <= hi)) {
        task_fail(err, field, "must be %s from %g to %g", integer ? "an integer" : "a number", lo, hi);
        return -1;
    }
    *out = d;
    return 0;
}

int task_retry_parse(json_t *r, RetryPolicy *out, TaskError *err)
{
    static const char *const keys[] = {"max_attempts", "backoff", "initial_s", "max_s", "jitter", NULL};
    *out = (RetryPolicy){.max_attempts = 1};
    if (r == NULL)
        return 0;
    if (!json_is_object(r)) {
        task_fail(err, "retry", "must be an object");
        return -1;
    }
    double attempts, initial, max;
    if (task_only_keys(r, keys, "retry", err) ||
        check_number(r, "max_attempts", "retry.max_attempts", 1, TASK_RETRY_ATTEMPTS_MAX, 3, 1, &attempts,
                     err) ||
        check_number(r, "initial_s", "retry.initial_s", 0.1, 86400, 1, 0, &initial, err) ||
        check_number(r, "max_s", "retry.max_s", 0.1, 86400, 300, 0, &max, err))
        return -1;
    json_t *backoff = json_object_get(r, "backoff"), *jitter = json_object_get(r, "jitter");
    if (backoff == NULL)
        json_object_set_new(r, "backoff", backoff = json_string("exponential"));
    const char *b = json_string_value(backoff);
    if (b == NULL || (strcmp(b, "exponential") != 0 && strcmp(b, "fixed") != 0)) {
        task_fail(err, "retry.backoff", "must be \"exponential\" or \"fixed\"");
        return -1;
    }
    if (jitter == NULL)
        json_object_set_new(r, "jitter", jitter = json_true());
    if (!json_is_boolean(jitter)) {
        task_fail(err, "retry.jitter", "must be true or false");
        return -1;
    }
    if (max < initial) {
        task_fail(err, "retry.max_s", "must be at least initial_s");
        return -1;
    }
    *out = (RetryPolicy){(int)attempts, strcmp(b, "exponential") == 0, initial, max, json_is_true(jitter)};
    return 0;
}

static int check_retry(TaskSpec *spec, TaskError *err)
{
    return task_retry_parse(json_object_get(spec->json, "retry"), &spec->retry, err);
}

static int check_enum(json_t *obj, const char *key, const char *const *names, int *out, TaskError *err)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        json_object_set_new(obj, key, json_string(names[0]));
        *out = 0;
        return 0;
    }
    *out = name_index(names, json_string_value(v));
    if (*out < 0) {
        char list[96] = "";
        for (int i = 0; names[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"", i ? ", " : "", names[i]);
        task_fail(err, key, "must be one of %s", list);
        return -1;
    }
    return 0;
}

static int check_instant(json_t *obj, const char *key, int64_t *ms, TaskError *err)
{
    json_t *v = json_object_get(obj, key);
    char canon[CLOCK_RFC3339_LEN];
    *ms = 0;
    if (v == NULL)
        return 0;
    if (!json_is_string(v) || clock_parse_rfc3339(json_string_value(v), ms) != 0 || *ms <= 0) {
        task_fail(err, key, "must be an RFC 3339 instant");
        return -1;
    }
    clock_format_rfc3339(*ms, canon);
    json_object_set_new(obj, key, json_string(canon));
    return 0;
}

/* start_at, end_at and max_runs shape recurring schedules only. */
static int check_window(TaskSpec *spec, TaskError *err)
{
    json_t *j = spec->json;
    double max_runs = 0;
    if (check_instant(j, "start_at", &spec->start_at_ms, err) ||
        check_instant(j, "end_at", &spec->end_at_ms, err))
        return -1;
    if (json_object_get(j, "max_runs") != NULL &&
        check_number(j, "max_runs", "max_runs", 1, 1e12, 0, 1, &max_runs, err) != 0)
        return -1;
    spec->max_runs = (int64_t)max_runs;
    int windowed = spec->start_at_ms || spec->end_at_ms || spec->max_runs;
    if (windowed && spec->stype != SCHEDULE_CRON) {
        task_fail(err,
                  spec->start_at_ms ? "start_at"
                  : spec->end_at_ms ? "end_at"
                                    : "max_runs",
                  "applies to cron schedules only");
        return -1;
    }
    if (spec->end_at_ms && spec->end_at_ms <= spec->start_at_ms) {
        task_fail(err, "end_at", "must be after start_at");
        return -1;
    }
    return 0;
}

int task_check_policies(TaskSpec *spec, TaskError *err)
{
    int overlap, misfire;
    double threshold;
    json_t *j = spec->json;
    spec->misfire_threshold_ms = -1;
    if (check_retry(spec, err) || check_enum(j, "overlap", overlap_names, &overlap, err) ||
        check_enum(j, "misfire", misfire_names, &misfire, err) || check_window(spec, err) ||
        task_check_shift(spec, err) || task_check_exclude(spec, err))
        return -1;
    if (json_object_get(j, "misfire_threshold_s") != NULL) {
        if (check_number(j, "misfire_threshold_s", "misfire_threshold_s", 0, 86400 * 366, 0, 0, &threshold,
                         err))
            return -1;
        spec->misfire_threshold_ms = (int64_t)(threshold * 1000);
    }
    spec->overlap = (OverlapPolicy)overlap;
    spec->misfire = (MisfirePolicy)misfire;
    return 0;
}

int64_t task_retry_delay_ms(const RetryPolicy *p, int attempt, double rnd)
{
    if (attempt >= p->max_attempts)
        return -1;
    double d = p->exponential ? p->initial_s * pow(2, attempt - 1) : p->initial_s;
    if (d > p->max_s)
        d = p->max_s;
    if (p->jitter)
        d *= 0.75 + 0.5 * rnd;
    return (int64_t)(d * 1000);
}

void task_redact(json_t *task)
{
    json_t *action = json_object_get(task, "action");
    const ActionKind *kind = action_kind_of(action);
    const char *key;
    json_t *v;
    for (const char *const *m = kind && kind->secrets ? kind->secrets : (const char *const[]){NULL}; *m;
         m++)
        json_object_foreach(json_object_get(action, *m), key, v) json_string_set(v, TASK_REDACTED);
    json_object_set_new(task, "redacted", json_true());
}

void task_hide_write_only(json_t *task)
{
    json_t *action = json_object_get(task, "action");
    if (json_object_get(action, "signing_secret") == NULL)
        return;
    action = json_deep_copy(action); /* the view may share it with the stored spec */
    json_object_del(action, "signing_secret");
    json_object_set_new(action, "signed", json_true());
    json_object_set_new(task, "action", action);
}
