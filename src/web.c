/* web: serves the UI and proxies /api to the api replicas.
 *
 * Concurrency: libmicrohttpd's thread pool (--threads) answers requests.
 * Assets are constant data in the binary; API requests are forwarded with
 * libcurl by the calling pool thread (see lib/proxy.c), and one background
 * thread health-checks the upstreams. The live feed's stream
 * (/api/v1/events/stream) is forwarded as it comes by a thread of its own per
 * open stream (at most PROXY_STREAMS_MAX). The role keeps no state and needs
 * no Redis: it is ready when at least one api upstream is. */
#include "web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "auth.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "proxy.h"
#include "service.h"

#define WEB_MAX_BODY (256 * 1024)
#define WEB_QUERY_MAX 4096
/* The api bounds its pages (a byte budget per list page), so an answer
 * larger than this is a fault, not a page. */
#define WEB_MAX_RESPONSE (16u << 20)

/* Content-Security-Policy: everything from this origin, nothing inline but
 * styles that scripts set (uPlot sizes its canvas that way). */
#define WEB_CSP                                                                    \
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " \
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

static Proxy *web_proxy;

const WebAsset *web_asset_find(const char *path)
{
    if (web_assets == NULL)
        return NULL;
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (const WebAsset *a = web_assets; a->path != NULL; a++)
        if (strcmp(a->path, path) == 0)
            return a;
    return NULL;
}

typedef struct Query {
    char buf[WEB_QUERY_MAX];
    size_t len;
    int overflow;
} Query;

/* Re-encodes one query argument (the server hands them over decoded). */
static int query_arg_cb(void *cls, const char *key, const char *value)
{
    Query *q = cls;
    char *k = curl_easy_escape(NULL, key, 0), *v = value ? curl_easy_escape(NULL, value, 0) : NULL;
    int n = snprintf(q->buf + q->len, sizeof q->buf - q->len, "%s%s%s%s", q->len ? "&" : "", k,
                     v ? "=" : "", v ? v : "");
    curl_free(k);
    curl_free(v);
    if (n < 0 || (size_t)n >= sizeof q->buf - q->len) {
        q->overflow = 1;
        return 1;
    }
    q->len += (size_t)n;
    return 0;
}

/* The request's query string, rebuilt from its arguments, to forward. */
static int query_string(const HttpRequest *req, Query *q)
{
    q->len = 0;
    q->buf[0] = '\0';
    q->overflow = 0;
    http_query_each(req, query_arg_cb, q);
    return q->overflow ? -1 : 0;
}

static void problem(HttpResponse *res, int status, const char *title, const char *detail)
{
    http_problem(res, status, title, NULL, detail);
}

static void asset_serve(const HttpRequest *req, HttpResponse *res)
{
    const WebAsset *a = web_asset_find(req->path);
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        http_add_header(res, "Allow", "GET, HEAD");
        problem(res, 405, "Method Not Allowed", "the UI's files are read-only");
        return;
    }
    if (a == NULL) {
        problem(res, web_assets ? 404 : 503, web_assets ? "Not Found" : "Service Unavailable",
                web_assets ? "no such file" : "this dts binary was built without the web UI");
        return;
    }
    res->status = 200;
    res->content_type = a->type;
    res->body = xmalloc(a->len + 1);
    memcpy(res->body, a->data, a->len);
    res->body_len = a->len;
    http_add_header(res, "Cache-Control", "no-cache");
    http_add_header(res, "Content-Security-Policy", WEB_CSP);
    http_add_header(res, "X-Content-Type-Options", "nosniff");
    http_add_header(res, "Referrer-Policy", "no-referrer");
}

static void api_forward(const HttpRequest *req, HttpResponse *res)
{
    Query q;
    if (query_string(req, &q) != 0) {
        problem(res, 414, "URI Too Long", "the query string is too long");
        return;
    }
    if (strcmp(req->path, "/api/v1/events/stream") == 0)
        proxy_forward_stream(web_proxy, req, q.buf, res);
    else
        proxy_forward(web_proxy, req, q.buf, res);
}

static void record(const char *kind, int status, int64_t started)
{
    char labels[96];
    snprintf(labels, sizeof labels, "route=\"%s\",status=\"%d\"", kind, status);
    metrics_add("dts_http_requests_total", labels, 1);
    snprintf(labels, sizeof labels, "route=\"%s\"", kind);
    metrics_observe("dts_http_request_seconds", labels, (double)(clock_mono_ms() - started) / 1000.0);
}

/* Ready when an api upstream is up (and, beyond loopback, refuses anonymous
 * requests: see web_main). */
static int ready_cb(char *body, size_t len)
{
    int up = proxy_healthy(web_proxy);
    snprintf(body, len, "{\"status\":\"%s\",\"upstreams_up\":%d}", up ? "ready" : "not ready", up);
    return up > 0;
}

static void request_cb(const HttpRequest *req, HttpResponse *res, void *ud)
{
    int64_t started = clock_mono_ms();
    if (service_probe(req, res))
        return;
    if (!http_path_safe(req->path)) { /* no "..", "%2e%2e" or encoded controls past here */
        problem(res, 400, "Bad Request",
                "the path has an empty, dot or dot-dot segment, or a forbidden byte");
        record("invalid", 400, started);
        return;
    }
    int api = strncmp(req->path, "/api/", 5) == 0;
    if (api)
        api_forward(req, res);
    else
        asset_serve(req, res);
    record(api ? "api" : "asset", res->status, started);
}

int web_main(int argc, char **argv)
{
    static ServiceConfig cfg;
    static const char *listen, *upstreams, *tokens, *hosts;
    static long threads, per_ip;
    static const Option opts[] = {
        {"listen", OPT_STR, &listen, "127.0.0.1:8322", 0, 0, "address to serve on (HOST:PORT)"},
        {"api", OPT_STR, &upstreams, "http://127.0.0.1:8321", 0, 0, "api base URLs, comma-separated"},
        {"threads", OPT_INT, &threads, "8", 1, 256, "request threads"},
        {"tokens", OPT_STR, &tokens, "", 0, 0,
         "the api's tokens file (also DTS_TOKENS_FILE); required beyond loopback"},
        HTTP_GUARD_OPTIONS(hosts, per_ip),
        {"log-level", OPT_STR, &cfg.log_level, "info", 0, 0, "debug, info, warn or error"},
        {0},
    };
    int rv;
    if (service_init("web", "Serves the web UI and proxies /api to the api.", opts, argc, argv, &cfg,
                     &rv) != 0)
        return rv;
    /* The web role exposes the api, so beyond loopback the api must check
     * tokens (which the browser sends and the proxy forwards). */
    char err[160];
    TokenSet *set;
    if ((rv = service_tokens("web", tokens, listen, &set)) != 0)
        return rv;
    auth_free(set);
    ReqGuard *guard;
    if ((rv = service_guard("web", hosts, NULL, &guard)) != 0)
        return rv;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* Beyond loopback an upstream counts as up only while it refuses an
     * anonymous request: a web role must never expose an api without tokens. */
    ProxyConfig pc = {.upstreams = upstreams,
                      .health_path = "/readyz",
                      .check_ms = 1000,
                      .timeout_ms = 30000,
                      .max_response = WEB_MAX_RESPONSE,
                      .auth_path = http_is_loopback(listen) ? NULL : "/api/v1/tasks"};
    web_proxy = proxy_new(&pc, err, sizeof err);
    if (web_proxy == NULL) {
        fprintf(stderr, "dts web: --api: %s\n", err);
        reqguard_free(guard);
        return 3;
    }
    service_set_ready(ready_cb);
    metrics_declare("dts_http_requests_total", METRIC_COUNTER, "HTTP requests by route and status.");
    metrics_declare("dts_http_request_seconds", METRIC_HISTOGRAM, "HTTP request latency by route.");
    HttpConfig hc = {.listen = listen,
                     .max_body = WEB_MAX_BODY,
                     .threads = (unsigned)threads,
                     .per_ip_connections = (unsigned)per_ip,
                     .guard = guard,
                     .handler = request_cb};
    HttpServer *srv = httpd_start(&hc, err, sizeof err);
    if (srv == NULL) {
        fprintf(stderr, "dts web: %s\n", err);
        proxy_free(web_proxy);
        reqguard_free(guard);
        return 1;
    }
    log_info("web listening", "{s:s,s:i,s:s,s:b}", "listen", listen, "port", httpd_port(srv), "api",
             upstreams, "assets", web_assets != NULL);
    while (!service_stopping)
        clock_sleep_ms(100);
    log_info("web stopping", NULL);
    proxy_streams_end(web_proxy, 2000);
    httpd_stop(srv);
    reqguard_free(guard);
    proxy_free(web_proxy);
    curl_global_cleanup();
    return 0;
}
