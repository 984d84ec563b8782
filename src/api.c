/* api: the REST API under /api/v1.
 *
 * Concurrency: libmicrohttpd's internal thread pool (--threads) handles
 * requests; each pool thread owns one Redis connection (service_store), so no
 * lock is shared on the request path. The api keeps no state of its own: every
 * write is one Lua script, so a request either stores everything or nothing.
 * One more thread (api_stream.c) reads the event streams for the live feed's
 * Server-Sent Events clients, whose connections are parked while idle. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_batch.h"
#include "api_create.h"
#include "api_events.h"
#include "api_private.h"
#include "api_stats.h"
#include "api_stream.h"
#include "api_view.h"
#include "auth.h"
#include "chain.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "quota.h"
#include "router.h"
#include "service.h"
#include "store_conc.h"
#include "store_task.h"
#include "task.h"

/* Set once at start-up (the token set inside is swapped on SIGHUP). */
static AuthLive *tokens;
static const char *cors_origin;
long max_tasks, max_ready;
Quota *trigger_quota;

void problem(Req *r, int status, const char *title, const char *field, const char *detail)
{
    http_problem(r->res, status, title, field, detail);
}

/* Answers a store failure with the matching status. */
void store_problem(Req *r, int rv)
{
    switch (rv) {
    case STORE_ENOTFOUND:
        problem(r, 404, "Not Found", NULL, "no task with this id");
        break;
    case STORE_ESTALE:
        problem(r, 412, "Precondition Failed", NULL, "the task has changed; re-read it and retry");
        break;
    case STORE_ECONFLICT:
        problem(r, 409, "Conflict", NULL, store_errstr(r->st));
        break;
    case STORE_EEXIST:
        problem(r, 409, "Conflict", NULL, "a task with this id exists; retry");
        break;
    default:
        log_warn("store error", "{s:s,s:s}", "path", r->http->path, "error", store_errstr(r->st));
        problem(r, 503, "Service Unavailable", NULL, "the task store is unreachable; retry");
    }
}

void reply_json(Req *r, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    http_respond(r->res, status, "application/json", text);
    free(text);
    json_decref(body);
}

const char *task_id(Req *r)
{
    return r->m->params[0];
}

/* 1 if the Content-Type's media type (before any parameters) is TYPE. */
static int media_type_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    return strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Accepts JSON bodies; curl's default for -d (form-urlencoded) too, so the
 * README's one-liners work; anything else is 415. */
int body_acceptable(Req *r)
{
    const char *ct = http_header(r->http, "Content-Type");
    if (ct == NULL || media_type_is(ct, "application/json") ||
        media_type_is(ct, "application/x-www-form-urlencoded"))
        return 1;
    problem(r, 415, "Unsupported Media Type", NULL, "send the body as application/json");
    return 0;
}

/* Parses and validates a task body; shell actions need the shell scope. */
TaskSpec *parse_body(Req *r, json_t *json)
{
    ApiProblem p;
    TaskSpec *spec = api_spec_check(json, r->http->body, r->http->body_len, r->scopes, &p);
    if (spec == NULL) {
        problem(r, p.status, p.title, p.field, p.detail);
        return NULL;
    }
    TaskError err;
    int chained = spec->then ? chain_check(r->st, r->m->nparams > 0 ? task_id(r) : NULL, spec, &err) : 0;
    if (chained != 0) { /* chain (issue 16): unknown or looping chained tasks */
        if (chained > 0)
            problem(r, 400, "Bad Request", err.field, err.detail);
        else
            store_problem(r, chained);
        task_spec_free(spec);
        return NULL;
    }
    return spec;
}

/* Secrets (env values, webhook headers) are shown only to callers who may
 * change the task anyway: write or admin. */
void redact_for(const Req *r, json_t *task)
{
    task_hide_write_only(task); /* the signing secret: from everyone */
    if (!(r->scopes & (AUTH_WRITE | AUTH_ADMIN)))
        task_redact(task);
}

void respond_view(Req *r, json_t *task, int status)
{
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"",
             (long long)json_integer_value(json_object_get(task, "version")));
    http_add_header(r->res, "ETag", etag);
    redact_for(r, task);
    reply_json(r, status, task);
}

void respond_task(Req *r, const char *id, int status)
{
    json_t *task;
    int rv = api_view_task_get(r->st, id, &task);
    if (rv != STORE_OK)
        store_problem(r, rv);
    else
        respond_view(r, task, status);
}

static void tasks_batch(Req *r)
{
    if (body_acceptable(r))
        api_batch_create(r->http, r->res, r->st, r->now, r->scopes, r->caller);
}
/* Reads an integer query argument in [lo, hi]; DEF when absent; -1 if bad. */
long query_int(Req *r, const char *name, long def, long lo, long hi)
{
    const char *v = http_query(r->http, name);
    if (v == NULL)
        return def;
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < lo || n > hi) {
        char detail[96];
        snprintf(detail, sizeof detail, "must be an integer from %ld to %ld", lo, hi);
        problem(r, 400, "Bad Request", name, detail);
        return -1;
    }
    return n;
}
static void events_get(Req *r)
{
    api_events_get(r->http, r->res, r->st);
}
static void events_stream(Req *r)
{
    api_stream_open(r->http, r->res, r->st);
}
static void stats_get(Req *r)
{
    api_stats_get(r->http, r->res, r->st, r->now);
}

/* concurrency (issue 16): a key's running and waiting occurrences (keys
 * have the charset of task ids, which dispatch checked). */
static void concurrency_get(Req *r)
{
    json_t *out = NULL;
    int rv = store_conc_show(r->st, r->m->params[0], 0, &out);
    if (rv != STORE_OK)
        store_problem(r, rv);
    else
        reply_json(r, 200, out);
}

static const Route routes[] = {
    {"POST", "/api/v1/tasks", api_tasks_create, AUTH_WRITE, "tasks.create"},
    {"POST", "/api/v1/tasks:batch", tasks_batch, AUTH_WRITE, "tasks.batch"},
    {"GET", "/api/v1/tasks", api_tasks_list, AUTH_READ, "tasks.list"},
    {"GET", "/api/v1/tasks/{id}", api_tasks_get, AUTH_READ, "tasks.get"},
    {"PUT", "/api/v1/tasks/{id}", api_tasks_replace, AUTH_WRITE, "tasks.replace"},
    {"DELETE", "/api/v1/tasks/{id}", api_tasks_delete, AUTH_WRITE, "tasks.delete"},
    {"POST", "/api/v1/tasks/{id}/pause", api_tasks_pause, AUTH_WRITE, "tasks.pause"},
    {"POST", "/api/v1/tasks/{id}/resume", api_tasks_resume, AUTH_WRITE, "tasks.resume"},
    {"POST", "/api/v1/tasks/{id}/trigger", api_tasks_trigger, AUTH_WRITE, "tasks.trigger"},
    {"POST", "/api/v1/tasks/{id}/backfill", api_tasks_backfill, AUTH_WRITE, "tasks.backfill"},
    {"GET", "/api/v1/tasks/{id}/runs", api_runs_list, AUTH_READ, "runs.list"},
    {"GET", "/api/v1/dead", api_dead_list, AUTH_READ, "dead.list"},
    {"POST", "/api/v1/cron/preview", api_cron_preview, AUTH_READ, "cron.preview"},
    {"POST", "/api/v1/dead/{id}/retry", api_dead_retry, AUTH_ADMIN, "dead.retry"},
    {"GET", "/api/v1/events", events_get, AUTH_READ, "events.get"},
    {"GET", "/api/v1/events/stream", events_stream, AUTH_READ, "events.stream"},
    {"GET", "/api/v1/stats", stats_get, AUTH_READ, "stats.get"},
    {"GET", "/api/v1/concurrency/{key}", concurrency_get, AUTH_READ, "concurrency.get"},
};

static void record(const char *route, int status, int64_t started)
{
    char labels[128];
    snprintf(labels, sizeof labels, "route=\"%s\",status=\"%d\"", route, status);
    metrics_add("dts_http_requests_total", labels, 1);
    snprintf(labels, sizeof labels, "route=\"%s\"", route);
    metrics_observe("dts_http_request_seconds", labels, (double)(clock_mono_ms() - started) / 1000.0);
}

/* Who is calling: 1 if the request may go on (r->scopes and r->caller set),
 * 0 after answering 401. With no tokens configured everyone has every scope
 * (the api then listens on loopback only). */
static int authenticate(Req *r)
{
    r->scopes = AUTH_READ | AUTH_WRITE | AUTH_SHELL | AUTH_ADMIN;
    r->caller = "anonymous";
    if (tokens == NULL)
        return 1;
    r->scopes = auth_live_check(tokens, http_header(r->http, "Authorization"), r->token_name,
                                sizeof r->token_name);
    if (r->scopes != 0) {
        r->caller = r->token_name;
        return 1;
    }
    http_add_header(r->res, "WWW-Authenticate", "Bearer realm=\"dts\"");
    problem(r, 401, "Unauthorized", NULL, "send a valid API token as Authorization: Bearer TOKEN");
    return 0;
}

/* CORS is off unless --cors-origin names the one origin allowed. Returns 1
 * if the request was a preflight, now answered. */
static int cors(Req *r)
{
    const char *origin = http_header(r->http, "Origin");
    if (cors_origin == NULL || origin == NULL || strcmp(origin, cors_origin) != 0)
        return 0;
    http_add_header(r->res, "Access-Control-Allow-Origin", cors_origin);
    http_add_header(r->res, "Vary", "Origin");
    if (strcmp(r->http->method, "OPTIONS") != 0)
        return 0;
    http_add_header(r->res, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE");
    http_add_header(r->res, "Access-Control-Allow-Headers",
                    "Authorization, Content-Type, If-Match, Idempotency-Key");
    http_add_header(r->res, "Access-Control-Max-Age", "600");
    r->res->status = 204;
    return 1;
}

/* Every request that may change something leaves an audit line (no token in it). */
static void audit(const Req *r, const char *route)
{
    if (strcmp(r->http->method, "GET") == 0 || strcmp(r->http->method, "HEAD") == 0)
        return;
    log_info("audit", "{s:s,s:s,s:s,s:s,s:i}", "caller", r->caller, "method", r->http->method, "route",
             route, "path", r->http->path, "status", r->res->status);
}

static void dispatch(Req *r, RouteMatch *m)
{
    /* HEAD is GET without a body (libmicrohttpd drops it). */
    const char *method = strcmp(r->http->method, "HEAD") == 0 ? "GET" : r->http->method;
    int rv = router_match(routes, sizeof routes / sizeof routes[0], method, r->http->path, m);
    if (rv == ROUTER_NOT_FOUND) {
        problem(r, 404, "Not Found", NULL, "no such resource");
    } else if (rv == ROUTER_METHOD_NOT_ALLOWED) {
        http_add_header(r->res, "Allow", m->allow);
        problem(r, 405, "Method Not Allowed", NULL, "this resource does not take that method");
    } else if (!(r->scopes & (unsigned)m->route->scope)) {
        problem(r, 403, "Forbidden", NULL, "this token's scopes do not allow that");
    } else if (m->nparams > 0 && !task_id_valid(m->params[0])) { /* after the scope check, on purpose */
        problem(r, 404, "Not Found", NULL, "no such resource: the id is not a task id");
    } else {
        r->st = service_store();
        store_wait_shortfall(r->st);
        ((ApiHandler)m->route->handler)(r);
        if (store_wait_shortfall(r->st)) /* applied on the primary, not yet on its replicas */
            http_add_header(r->res, "Dts-Redis-Wait", "short");
    }
    m->route = rv == ROUTER_OK ? m->route : NULL;
}

static void request_cb(const HttpRequest *http, HttpResponse *res, void *ud)
{
    int64_t started = clock_mono_ms();
    RouteMatch m = {.route = NULL};
    Req r = {.http = http, .res = res, .m = &m, .now = clock_shared_ms()};
    if (service_probe(http, res) || cors(&r))
        return;
    if (authenticate(&r))
        dispatch(&r, &m);
    const char *route = m.route ? m.route->name : "unmatched";
    audit(&r, route);
    record(route, res->status, started);
}

/* SIGHUP: reads the tokens file again (revoking a token needs no restart). */
static void tokens_reload(const char *listen)
{
    char err[160];
    service_reload = 0;
    if (tokens == NULL) {
        log_warn("SIGHUP: no tokens file to reload", NULL);
        return;
    }
    int n = auth_live_reload(tokens, !http_is_loopback(listen), err, sizeof err);
    if (n < 0)
        log_error("tokens not reloaded; the previous ones stay", "{s:s}", "error", err);
    else
        log_info("tokens reloaded", "{s:i}", "tokens", n);
}

int api_main(int argc, char **argv)
{
    static ServiceConfig cfg;
    static const char *listen, *tokens_file, *cors, *hosts;
    static long threads, per_ip, trigger_rate, streams;
    static const Option opts[] = {
        {"listen", OPT_STR, &listen, "127.0.0.1:8321", 0, 0, "address to serve on (HOST:PORT)"},
        {"tokens", OPT_STR, &tokens_file, "", 0, 0,
         "API tokens file (NAME SCOPES SHA256HEX lines), also DTS_TOKENS_FILE; required beyond loopback"},
        {"cors-origin", OPT_STR, &cors, "", 0, 0,
         "the one browser origin allowed cross-origin (CORS is off without it)"},
        {"threads", OPT_INT, &threads, "4", 1, 256, "request threads (one Redis connection each)"},
        {"stream-clients", OPT_INT, &streams, "64", 1, 10000,
         "live feed streams (GET /api/v1/events/stream) at once; more get 503"},
        HTTP_GUARD_OPTIONS(hosts, per_ip),
        {"max-tasks", OPT_INT, &max_tasks, "100000", 0, 1000000000,
         "tasks the store may hold; more are refused with 429 (0: no limit)"},
        {"max-ready", OPT_INT, &max_ready, "100000", 0, 1000000000,
         "occurrences waiting in one shard's ready stream before triggers get 429 (0: no limit)"},
        {"trigger-rate", OPT_INT, &trigger_rate, "100", 0, 100000,
         "manual triggers a second per token (bursts of 2 s' worth) before 429 (0: no limit)"},
        SERVICE_OPTIONS(cfg),
        {0},
    };
    int rv;
    if (service_init("api", "Serves the REST API under /api/v1.", opts, argc, argv, &cfg, &rv) != 0)
        return rv;
    char err[160];
    TokenSet *set;
    if ((rv = service_tokens("api", tokens_file, listen, &set)) != 0)
        return rv;
    tokens = set ? auth_live_new(set, tokens_file[0] ? tokens_file : getenv("DTS_TOKENS_FILE")) : NULL;
    cors_origin = cors[0] ? cors : NULL;
    trigger_quota = quota_new((double)trigger_rate, 2.0 * (double)trigger_rate);
    api_create_limits(max_tasks, max_ready);
    ReqGuard *guard;
    if ((rv = service_guard("api", hosts, cors_origin, &guard)) != 0)
        return rv;
    int64_t redis_now;
    if (service_wait_redis(service_store()) != 0 || store_time(service_store(), &redis_now) != STORE_OK)
        return 1;
    metrics_declare("dts_http_requests_total", METRIC_COUNTER, "HTTP requests by route and status.");
    metrics_declare("dts_http_request_seconds", METRIC_HISTOGRAM, "HTTP request latency by route.");
    HttpConfig hc = {.listen = listen,
                     .max_body = TASK_BODY_MAX,
                     .max_body_for = api_batch_max_body,
                     .threads = (unsigned)threads,
                     .per_ip_connections = (unsigned)per_ip,
                     .guard = guard,
                     .handler = request_cb};
    if (api_stream_start(service_store, service_store_release, (int)streams) != 0) {
        fprintf(stderr, "dts api: cannot start the event stream thread\n");
        reqguard_free(guard);
        return 1;
    }
    HttpServer *srv = httpd_start(&hc, err, sizeof err);
    if (srv == NULL) {
        fprintf(stderr, "dts api: %s\n", err);
        api_stream_stop(0);
        reqguard_free(guard);
        return 1;
    }
    log_info("api listening", "{s:s,s:i}", "listen", listen, "port", httpd_port(srv));
    /* Requests decide on Redis's clock: keep the shared clock in step with it. */
    for (int64_t synced = clock_mono_ms(); !service_stopping; clock_sleep_ms(100)) {
        if (clock_mono_ms() - synced >= 1000 && store_time(service_store(), &redis_now) == STORE_OK)
            synced = clock_mono_ms();
        if (service_reload)
            tokens_reload(listen);
    }
    log_info("api stopping", NULL);
    api_stream_stop(2000);
    httpd_stop(srv);
    reqguard_free(guard);
    service_store_release();
    auth_live_free(tokens);
    quota_free(trigger_quota);
    return 0;
}
