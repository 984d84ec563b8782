/* action_kind: the table of action types, as routes are a table. Each kind
 * names its type, its validator, how the executor runs it, the token scope
 * it needs beyond write, and which of its members hold secrets. The api, the
 * task parser, the executor and the runner all consult this table instead of
 * comparing type strings. */
#ifndef DTS_ACTION_KIND_H
#define DTS_ACTION_KIND_H

#include <jansson.h>

#include "task.h"

/* How an executor runs a kind: inline on a worker thread, or handed to the
 * webhook engine (which runs many at once on one thread). */
typedef enum { ACTION_RUN_NOOP, ACTION_RUN_SHELL, ACTION_RUN_WEBHOOK } ActionRunner;

typedef struct ActionKind {
    const char *type; /* the spec's action.type */
    /* Checks ACTION (an object whose type is this kind's), filling defaults
     * into it; 0, or -1 with *err naming the field. */
    int (*validate)(json_t *action, TaskError *err);
    ActionRunner runner;
    unsigned scope;             /* AUTH_* scope a caller needs to write it (0: none beyond write) */
    const char *const *secrets; /* members (objects of strings) whose values are redacted for readers */
} ActionKind;

/* The kind named TYPE, or NULL for an unknown (or NULL) type. */
const ActionKind *action_kind_find(const char *type);

/* The kind of ACTION (a spec's action object), or NULL. */
const ActionKind *action_kind_of(const json_t *action);

/* Validates ACTION: an object with a known type, checked by its kind.
 * 0, or -1 with *err naming the field. Pure. */
int action_kind_validate(json_t *action, TaskError *err);

/* The kinds' validators (action_shell.c, action_http.c). */
int action_shell_validate(json_t *action, TaskError *err);
int action_http_validate(json_t *action, TaskError *err);

#endif
