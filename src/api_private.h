/* api_private: what the api's files share (api.c routes and authenticates;
 * api_tasks.c and api_lists.c hold the resources' handlers). */
#ifndef DTS_API_PRIVATE_H
#define DTS_API_PRIVATE_H

#include <jansson.h>
#include <stdint.h>

#include "auth.h"
#include "httpd.h"
#include "quota.h"
#include "router.h"
#include "store.h"
#include "task.h"

#define API_PAGE_BYTES (4u << 20) /* a list page stops growing past this much JSON */
#define API_LIST_CHUNK 8          /* tasks read from the store at a time, at most */

/* One request as the handlers see it. */
typedef struct Req {
    const HttpRequest *http;
    HttpResponse *res;
    const RouteMatch *m;
    Store *st;
    int64_t now;
    unsigned scopes;    /* the caller's token scopes (all when no tokens are configured) */
    const char *caller; /* the token's name, or "anonymous" */
    char token_name[72];
} Req;

typedef void (*ApiHandler)(Req *r);

/* The api's limits, set once by api_main before serving. */
extern long max_tasks, max_ready;
extern Quota *trigger_quota;

/* Answers an RFC 9457 problem (see http_problem). */
void problem(Req *r, int status, const char *title, const char *field, const char *detail);
/* Answers a store failure with the matching status (404, 412, 409, 503). */
void store_problem(Req *r, int rv);
/* Answers STATUS with BODY as JSON (takes the reference). */
void reply_json(Req *r, int status, json_t *body);
/* The {id} of the route. */
const char *task_id(Req *r);
/* 1 if the request's body may be read as JSON; else answers 415 and 0. */
int body_acceptable(Req *r);
/* Parses and validates a task body (JSON, or the raw body when JSON is
 * NULL); answers 400 or 403 and returns NULL when it may not be stored. The
 * caller frees the spec with task_spec_free. */
TaskSpec *parse_body(Req *r, json_t *json);
/* Redacts TASK's secrets unless the caller may write. */
void redact_for(const Req *r, json_t *task);
/* Answers with TASK (a view the caller gives up), its version as ETag. */
void respond_view(Req *r, json_t *task, int status);
/* Answers task ID as GET shows it (with its ETag), with STATUS. */
void respond_task(Req *r, const char *id, int status);
/* An integer query argument in [LO, HI]; DEF when absent; -1 (answered 400) if bad. */
long query_int(Req *r, const char *name, long def, long lo, long hi);

/* The resources' handlers (api_tasks.c, api_lists.c), as the routes name them. */
void api_tasks_create(Req *r);
void api_tasks_get(Req *r);
void api_tasks_replace(Req *r);
void api_tasks_delete(Req *r);
void api_tasks_pause(Req *r);
void api_tasks_resume(Req *r);
void api_tasks_trigger(Req *r);
void api_tasks_backfill(Req *r);
void api_tasks_list(Req *r);
void api_runs_list(Req *r);
void api_dead_list(Req *r);
void api_dead_retry(Req *r);
void api_cron_preview(Req *r);

#endif
