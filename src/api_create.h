/* api_create: what POST /api/v1/tasks and POST /api/v1/tasks:batch share:
 * one validation of a spec (with the caller's scopes) and the task-count
 * quota. */
#ifndef DTS_API_CREATE_H
#define DTS_API_CREATE_H

#include <jansson.h>
#include <stddef.h>

#include "store.h"
#include "task.h"

/* Why a spec or a request was refused: an RFC 9457 problem's members. */
typedef struct ApiProblem {
    int status;
    const char *title;
    char field[96]; /* "" when the problem is the whole body */
    char detail[256];
} ApiProblem;

/* Validates one spec exactly as POST /api/v1/tasks does: JSON (taking
 * ownership) or, with JSON NULL, the BODY_LEN bytes of BODY; shell actions
 * need AUTH_SHELL in SCOPES. Returns the spec (free with task_spec_free), or
 * NULL with *p saying why (400, or 403 for the scope). */
TaskSpec *api_spec_check(json_t *json, const char *body, size_t body_len, unsigned scopes, ApiProblem *p);

/* Sets the quotas (the api's --max-tasks and --max-ready; 0: no limit). */
void api_create_limits(long max_tasks, long max_ready);

/* The --max-ready limit for the create scripts (0: none). */
long api_create_max_ready(void);

/* How many more tasks the store may hold (LONG_MAX without --max-tasks).
 * The count is read from Redis at most once a second per process and moved
 * meanwhile by this process's own creates and deletes (api_tasks_counted),
 * so replicas creating at once can overshoot by what they create in that
 * second. If Redis cannot be read the quota does not refuse. */
long api_tasks_room(Store *st);

/* Records N tasks created (or, negative, deleted) by this process. */
void api_tasks_counted(long n);

#endif
