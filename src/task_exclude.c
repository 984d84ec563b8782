/* task_exclude: validation of a cron task's exclusions (exclude, exclude_cron). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "task_private.h"

/* One bound of range I ("from" or "to"): an RFC 3339 instant, or a date
 * YYYY-MM-DD, the start of that day in the task's zone (for "to", the end of
 * it: the day is included). */
static int check_bound(const Tz *tz, json_t *range, int i, const char *key, int64_t *ms, TaskError *err)
{
    char field[48];
    json_t *v = json_object_get(range, key);
    int64_t day_from, day_to;
    snprintf(field, sizeof field, "exclude[%d].%s", i, key);
    if (json_is_string(v) && clock_parse_rfc3339(json_string_value(v), ms) == 0 && *ms > 0)
        return 0;
    if (json_is_string(v) && exclude_day(tz, json_string_value(v), &day_from, &day_to) == 0) {
        *ms = strcmp(key, "to") == 0 ? day_to : day_from;
        return 0;
    }
    task_fail(err, field,
              "must be an RFC 3339 instant or a date YYYY-MM-DD (a whole day in the task's zone)");
    return -1;
}

/* exclude: at most EXCLUDE_RANGES_MAX objects {from, to}, from before to. */
static int check_ranges(const Tz *tz, json_t *list, Exclusions *x, TaskError *err)
{
    static const char *const keys[] = {"from", "to", NULL};
    if (!json_is_array(list) || json_array_size(list) > EXCLUDE_RANGES_MAX) {
        task_fail(err, "exclude", "must be an array of at most %d {\"from\", \"to\"} ranges",
                  EXCLUDE_RANGES_MAX);
        return -1;
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *r = json_array_get(list, i);
        char where[32];
        snprintf(where, sizeof where, "exclude[%zu]", i);
        if (!json_is_object(r)) {
            task_fail(err, where, "must be an object {\"from\", \"to\"}");
            return -1;
        }
        if (task_only_keys(r, keys, where, err) || check_bound(tz, r, (int)i, "from", &x->from[i], err) ||
            check_bound(tz, r, (int)i, "to", &x->to[i], err))
            return -1;
        if (x->to[i] <= x->from[i]) {
            snprintf(where, sizeof where, "exclude[%zu].to", i);
            task_fail(err, where, "must be after from");
            return -1;
        }
        x->n++;
    }
    return 0;
}

int task_exclusions_from_json(json_t *obj, const Tz *tz, Exclusions **out, CronExpr **expr, TaskError *err)
{
    json_t *list = json_object_get(obj, "exclude"), *cron = json_object_get(obj, "exclude_cron");
    char why[160];
    *out = NULL;
    *expr = NULL;
    if (list == NULL && cron == NULL)
        return 0;
    Exclusions *x = xcalloc(1, sizeof *x);
    x->tz = tz;
    if (list != NULL && check_ranges(tz, list, x, err))
        goto err;
    if (cron != NULL) {
        if (task_check_string(cron, "exclude_cron", TASK_CRON_MAX, 1, err))
            goto err;
        if ((x->cron = *expr = cron_parse(json_string_value(cron), why, sizeof why)) == NULL) {
            task_fail(err, "exclude_cron", "%s", why);
            goto err;
        }
    }
    *out = x;
    return 0;
err:
    free(x);
    return -1;
}

int task_check_exclude(TaskSpec *spec, TaskError *err)
{
    json_t *list = json_object_get(spec->json, "exclude"),
           *cron = json_object_get(spec->json, "exclude_cron");
    if (list == NULL && cron == NULL)
        return 0;
    if (spec->stype != SCHEDULE_CRON) {
        task_fail(err, list ? "exclude" : "exclude_cron", "applies to cron schedules only");
        return -1;
    }
    if (task_exclusions_from_json(spec->json, spec->tz, &spec->excl, &spec->excl_expr, err))
        return -1;
    spec->exclude_cron = cron ? json_string_value(cron) : NULL;
    return 0;
}
