/* httpd: a small HTTP server over libmicrohttpd's thread pool.
 *
 * libmicrohttpd calls the access handler several times a request: once with the
 * headers, once per chunk of body, and once more when the body is complete.
 * We collect the body (up to max_body), then call the handler once. */
#include "httpd.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "httpd_private.h"
#include "mem.h"

struct HttpServer {
    struct MHD_Daemon *daemon;
    HttpConfig cfg;
    int port;
};

typedef struct Pending {
    Buf body;
    size_t max; /* the route's body limit */
    int too_large;
} Pending;

int http_path_safe(const char *path)
{
    if (path[0] != '/')
        return 0;
    for (const char *seg = path + 1;;) {
        size_t len = strcspn(seg, "/");
        int last = seg[len] == '\0';
        if ((len == 0 && !last) || (len == 1 && seg[0] == '.') ||
            (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return 0;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)seg[i];
            if (c < 0x20 || c == 0x7f || c == '?' || c == '#' || c == '\\')
                return 0;
        }
        if (last)
            return 1;
        seg += len + 1;
    }
}

/* Splits "HOST:PORT" / "[V6]:PORT". Returns 0, or -1 on a malformed address. */
static int http_split_hostport(const char *addr, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(addr, ':');
    const char *h = addr;
    size_t len;
    if (colon == NULL)
        return -1;
    len = (size_t)(colon - addr);
    if (addr[0] == '[') {
        if (len < 2 || addr[len - 1] != ']')
            return -1;
        h = addr + 1;
        len -= 2;
    }
    if (len >= hostlen)
        return -1;
    memcpy(host, h, len);
    host[len] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}

int http_is_loopback(const char *listen)
{
    char host[64];
    int port;
    struct in_addr v4;
    struct in6_addr v6;
    if (http_split_hostport(listen, host, sizeof host, &port) != 0)
        return 0;
    if (strcmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    return listen[0] == '[' && inet_pton(AF_INET6, host, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

/* The reason phrases of the statuses the roles answer problems with. */
static const char *reason_phrase(int status)
{
    static const struct {
        int status;
        const char *title;
    } reasons[] = {{400, "Bad Request"},
                   {401, "Unauthorized"},
                   {403, "Forbidden"},
                   {404, "Not Found"},
                   {405, "Method Not Allowed"},
                   {409, "Conflict"},
                   {412, "Precondition Failed"},
                   {413, "Payload Too Large"},
                   {414, "URI Too Long"},
                   {415, "Unsupported Media Type"},
                   {422, "Unprocessable Content"},
                   {429, "Too Many Requests"},
                   {500, "Internal Server Error"},
                   {502, "Bad Gateway"},
                   {503, "Service Unavailable"},
                   {504, "Gateway Timeout"}};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].title;
    return status < 500 ? "Bad Request" : "Internal Server Error";
}

json_t *http_problem_json(int status, const char *title, const char *field, const char *detail)
{
    json_t *p = json_pack("{s:s,s:s,s:i}", "type", "about:blank", "title",
                          title ? title : reason_phrase(status), "status", status);
    if (detail != NULL)
        json_object_set_new(p, "detail", json_string(detail));
    if (field != NULL)
        json_object_set_new(p, "field", json_string(field));
    return p;
}

void http_problem(HttpResponse *res, int status, const char *title, const char *field, const char *detail)
{
    json_t *p = http_problem_json(status, title, field, detail);
    char *text = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    http_respond(res, status, "application/problem+json", text);
    free(text);
    json_decref(p);
}

void http_respond(HttpResponse *res, int status, const char *content_type, const char *body)
{
    free(res->body);
    res->status = status;
    res->content_type = content_type;
    res->body = xstrdup(body);
    res->body_len = strlen(body);
}

void http_add_header(HttpResponse *res, const char *name, const char *value)
{
    if (res->nheaders == HTTPD_MAX_HEADERS)
        return;
    res->headers[res->nheaders][0] = xstrdup(name);
    res->headers[res->nheaders][1] = xstrdup(value);
    res->nheaders++;
}

const char *http_header(const HttpRequest *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const HttpRequest *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct QueryAll {
    const char *name;
    const char **out;
    int max, n;
} QueryAll;

static enum MHD_Result query_all_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    QueryAll *q = cls;
    if (strcmp(key, q->name) == 0)
        q->n++;
    if (strcmp(key, q->name) == 0 && q->n <= q->max)
        q->out[q->n - 1] = value ? value : "";
    return MHD_YES;
}

int http_query_all(const HttpRequest *req, const char *name, const char **out, int max)
{
    QueryAll q = {name, out, max, 0};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_all_cb, &q);
    return q.n;
}

typedef struct QueryEach {
    http_arg_cb cb;
    void *ud;
    int rv;
} QueryEach;

static enum MHD_Result query_each_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    QueryEach *q = cls;
    q->rv = q->cb(q->ud, key, value);
    return q->rv == 0 ? MHD_YES : MHD_NO;
}

int http_query_each(const HttpRequest *req, http_arg_cb cb, void *ud)
{
    QueryEach q = {cb, ud, 0};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_each_cb, &q);
    return q.rv;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, HttpResponse *res)
{
    /* The body is handed over, not copied: a big page is in memory once. A
     * stream's body is pulled from its owner instead (httpd_stream.c). */
    if (res->stream != NULL) {
        free(res->body);
        res->body = NULL;
    }
    struct MHD_Response *r = res->stream != NULL ? httpd_stream_response(res->stream)
                             : res->body != NULL
                                 ? MHD_create_response_from_buffer(res->body_len, res->body,
                                                                   MHD_RESPMEM_MUST_FREE)
                                 : MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
    if (res->content_type != NULL)
        MHD_add_response_header(r, "Content-Type", res->content_type);
    for (int i = 0; i < res->nheaders; i++)
        MHD_add_response_header(r, res->headers[i][0], res->headers[i][1]);
    enum MHD_Result rv = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    for (int i = 0; i < res->nheaders; i++) {
        free(res->headers[i][0]);
        free(res->headers[i][1]);
    }
    return rv;
}

/* Answers a problem the server decides before any handler runs. */
static enum MHD_Result send_problem(struct MHD_Connection *conn, int status, const char *title,
                                    const char *detail)
{
    HttpResponse res = {0};
    http_problem(&res, status, title, NULL, detail);
    return send_response(conn, &res);
}

static enum MHD_Result too_large(struct MHD_Connection *conn)
{
    return send_problem(conn, 413, "Payload Too Large", "the request body exceeds the server's limit");
}

/* Answers 403 when the guard refuses the request (see reqguard.h). */
static int guard_refuses(struct MHD_Connection *conn, const HttpConfig *cfg, const char *method)
{
    GuardRequest g = {
        .method = method,
        .host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host"),
        .origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin"),
        .fetch_site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site"),
        .fetch_mode = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Mode"),
        .content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"),
    };
    char why[160];
    if (reqguard_check(cfg->guard, &g, why, sizeof why) == 0)
        return 0;
    send_problem(conn, 403, "Forbidden", why);
    return 1;
}

static int declared_too_large(struct MHD_Connection *conn, size_t max)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    return cl != NULL && strtoull(cl, NULL, 10) > max;
}

static void body_append(Pending *p, const char *data, size_t len, size_t max)
{
    if (p->too_large || p->body.len + len > max) {
        p->too_large = 1;
        return;
    }
    buf_add(&p->body, data, len);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **state)
{
    HttpServer *srv = cls;
    Pending *p = *state;
    if (p == NULL) {
        if (guard_refuses(conn, &srv->cfg, method))
            return MHD_YES;
        size_t route_max = srv->cfg.max_body_for ? srv->cfg.max_body_for(method, url) : 0;
        size_t max = route_max ? route_max : srv->cfg.max_body;
        if (declared_too_large(conn, max))
            return too_large(conn);
        *state = p = xcalloc(1, sizeof *p);
        p->max = max;
        return MHD_YES;
    }
    if (*upload_size != 0) {
        body_append(p, upload, *upload_size, p->max);
        *upload_size = 0;
        return MHD_YES;
    }
    if (p->too_large)
        return too_large(conn);
    HttpRequest req = {.method = method,
                       .path = url,
                       .body = p->body.data ? p->body.data : "",
                       .body_len = p->body.len,
                       .conn = conn};
    HttpResponse res = {.status = 500};
    srv->cfg.handler(&req, &res, srv->cfg.ud);
    return send_response(conn, &res);
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode code)
{
    Pending *p = *state;
    if (p != NULL) {
        buf_free(&p->body);
        free(p);
        *state = NULL;
    }
}

static int make_addr(const char *listen, struct sockaddr_storage *ss, char *err, size_t errlen)
{
    char host[64];
    int port;
    memset(ss, 0, sizeof *ss);
    if (http_split_hostport(listen, host, sizeof host, &port) != 0) {
        snprintf(err, errlen, "bad listen address \"%.60s\" (want HOST:PORT)", listen);
        return -1;
    }
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
    } else {
        snprintf(err, errlen, "bad listen host \"%.60s\" (want an IP address)", host);
        return -1;
    }
    return 0;
}

HttpServer *httpd_start(const HttpConfig *cfg, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    if (make_addr(cfg->listen, &ss, err, errlen) != 0)
        return NULL;
    HttpServer *srv = xcalloc(1, sizeof *srv);
    srv->cfg = *cfg;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME; /* parked streams (httpd_stream.c) */
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, access_cb, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, cfg->threads ? cfg->threads : 1u, MHD_OPTION_CONNECTION_LIMIT,
        cfg->max_connections ? cfg->max_connections : 1024u, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        cfg->per_ip_connections ? cfg->per_ip_connections : 64u, MHD_OPTION_CONNECTION_TIMEOUT,
        cfg->idle_timeout_s ? cfg->idle_timeout_s : 10u, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
        MHD_OPTION_NOTIFY_COMPLETED, completed_cb, srv, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_END);
    if (srv->daemon == NULL) {
        snprintf(err, errlen, "cannot listen on %s (address in use or not permitted)", cfg->listen);
        free(srv);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : 0;
    return srv;
}

int httpd_port(const HttpServer *srv)
{
    return srv->port;
}

void httpd_stop(HttpServer *srv)
{
    if (srv == NULL)
        return;
    MHD_stop_daemon(srv->daemon);
    free(srv);
}
