/* action_kind: the table of action types (see action_kind.h). */
#include "action_kind.h"

#include <string.h>

#include "auth.h"
#include "task_private.h"

static int noop_validate(json_t *action, TaskError *err)
{
    static const char *const keys[] = {"type", NULL};
    return task_only_keys(action, keys, "action", err);
}

static const char *const shell_secrets[] = {"env", NULL};
static const char *const http_secrets[] = {"headers", NULL};

/* Adding a kind is adding a row (and its validator and runner). */
static const ActionKind kinds[] = {
    {"shell", action_shell_validate, ACTION_RUN_SHELL, AUTH_SHELL, shell_secrets},
    {"http", action_http_validate, ACTION_RUN_WEBHOOK, 0, http_secrets},
    {"noop", noop_validate, ACTION_RUN_NOOP, 0, NULL},
};

const ActionKind *action_kind_find(const char *type)
{
    for (size_t i = 0; type != NULL && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].type, type) == 0)
            return &kinds[i];
    return NULL;
}

const ActionKind *action_kind_of(const json_t *action)
{
    return action_kind_find(json_string_value(json_object_get(action, "type")));
}

int action_kind_validate(json_t *action, TaskError *err)
{
    if (!json_is_object(action)) {
        task_fail(err, "action", "must be an object");
        return -1;
    }
    const char *type = json_string_value(json_object_get(action, "type"));
    if (type == NULL) {
        task_fail(err, "action.type", "is required: \"shell\", \"http\" or \"noop\"");
        return -1;
    }
    const ActionKind *k = action_kind_find(type);
    if (k == NULL) {
        task_fail(err, "action.type", "must be \"shell\", \"http\" or \"noop\"");
        return -1;
    }
    return k->validate(action, err);
}
