/* api_create: the validation, problem objects and quota that the single and
 * the batch create share (see api_create.h). */
#include "api_create.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "action_kind.h"
#include "auth.h"
#include "clock.h"
#include "store_task.h"

#define COUNT_FRESH_MS 1000 /* the task count is read again after this long */

static long tasks_max, ready_max;  /* the api's --max-tasks and --max-ready */
static _Atomic long counted;       /* the store's task count, as last read and moved since */
static _Atomic int64_t counted_at; /* clock_mono_ms of that read; 0: never */

static TaskSpec *refuse(ApiProblem *p, int status, const char *title, const char *field, const char *detail)
{
    p->status = status;
    p->title = title;
    snprintf(p->field, sizeof p->field, "%s", field);
    snprintf(p->detail, sizeof p->detail, "%s", detail);
    return NULL;
}

TaskSpec *api_spec_check(json_t *json, const char *body, size_t body_len, unsigned scopes, ApiProblem *p)
{
    TaskError err;
    TaskSpec *spec = json ? task_spec_from_json(json, &err) : task_spec_parse(body, body_len, &err);
    if (spec == NULL)
        return refuse(p, 400, "Bad Request", err.field, err.detail);
    const ActionKind *kind = action_kind_of(json_object_get(spec->json, "action"));
    if (kind->scope != 0 && !(scopes & kind->scope)) { /* the shell kind needs the shell scope */
        char detail[96];
        snprintf(detail, sizeof detail, "%s actions need a token with the %s scope", kind->type,
                 auth_scope_name(kind->scope));
        task_spec_free(spec);
        return refuse(p, 403, "Forbidden", "action.type", detail);
    }
    return spec;
}

void api_create_limits(long tasks, long ready)
{
    tasks_max = tasks;
    ready_max = ready;
}

long api_create_max_ready(void)
{
    return ready_max;
}

long api_tasks_room(Store *st)
{
    if (tasks_max <= 0)
        return LONG_MAX;
    int64_t now = clock_mono_ms(), at = atomic_load(&counted_at);
    long long count;
    if ((at == 0 || now - at >= COUNT_FRESH_MS) && store_task_count(st, &count) == STORE_OK) {
        atomic_store(&counted, (long)count);
        atomic_store(&counted_at, now > 0 ? now : 1);
    } else if (at == 0 || now - at >= COUNT_FRESH_MS) {
        return LONG_MAX; /* unknown: the create itself will say if Redis is down */
    }
    return tasks_max - atomic_load(&counted);
}

void api_tasks_counted(long n)
{
    atomic_fetch_add(&counted, n);
}
