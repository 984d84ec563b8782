/* proxy: round-robin forwarding over libcurl with active health checks.
 *
 * A background thread asks every upstream's health path each check_ms and
 * flags it up or down; request threads pick the next upstream that is up and
 * forward with a curl handle of their own (kept per thread, so connections to
 * the upstreams are reused). A refused connection marks the upstream down at
 * once, so a dead replica costs one retry, not an error. */
#include "proxy.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "proxy_private.h"

/* What a forwarded response is collected into. */
typedef struct Reply {
    Buf body;
    size_t max;
    int too_large;
    HttpResponse *res;
} Reply;

static const char *const request_headers[] = {
    "Content-Type",  "Accept",        "If-Match",        "If-None-Match",
    "Last-Event-ID", "Authorization", "Idempotency-Key", NULL};
static const char *const response_headers[] = {
    "ETag", "Location", "Allow", "Cache-Control", "WWW-Authenticate", "Idempotent-Replayed", NULL};
/* Content types kept as static strings (HttpResponse does not own its type). */
static const char *const known_types[] = {"application/json", "application/problem+json",
                                          "text/event-stream", "text/plain; version=0.0.4", NULL};

static void handle_free_cb(void *h)
{
    curl_easy_cleanup(h);
}

static int upstreams_parse(Proxy *p, const char *list, char *err, size_t errlen)
{
    char *copy = xstrdup(list), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t len = strlen(tok);
        while (len > 0 && tok[len - 1] == '/')
            tok[--len] = '\0';
        if (strncmp(tok, "http://", 7) != 0 && strncmp(tok, "https://", 8) != 0) {
            snprintf(err, errlen, "upstream \"%.80s\" is not an http:// or https:// URL", tok);
            break;
        }
        if (p->n == PROXY_MAX_UPSTREAMS) {
            snprintf(err, errlen, "at most %d upstreams", PROXY_MAX_UPSTREAMS);
            break;
        }
        p->ups[p->n].base = xstrdup(tok);
        atomic_init(&p->ups[p->n++].up, 1);
    }
    free(copy);
    if (p->n == 0 && err[0] == '\0')
        snprintf(err, errlen, "no upstream given");
    return err[0] == '\0' ? 0 : -1;
}

static size_t discard_cb(char *data, size_t size, size_t n, void *ud)
{
    return size * n;
}

/* Never an environment proxy (http_proxy, ALL_PROXY, ...): requests carry
 * the caller's credentials and must reach the upstream itself. */
static void no_env_proxy(CURL *h)
{
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
}

/* The status BASE + PATH answers a plain GET with within a second, or 0. */
static long upstream_status(CURL *h, const Upstream *u, const char *path)
{
    char url[512];
    long status = 0;
    snprintf(url, sizeof url, "%s%s", u->base, path);
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 1000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_cb);
    no_env_proxy(h);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static void checks_run(Proxy *p, CURL *h)
{
    for (int i = 0; i < p->n; i++) {
        int up = upstream_status(h, &p->ups[i], p->cfg.health_path) == 200;
        int open = up && p->cfg.auth_path && upstream_status(h, &p->ups[i], p->cfg.auth_path) != 401;
        if (atomic_exchange(&p->ups[i].up, up && !open) == (up && !open))
            continue;
        if (open)
            log_warn("upstream refused: it answers without credentials", "{s:s,s:s}", "upstream",
                     p->ups[i].base, "path", p->cfg.auth_path);
        else
            log_info(up ? "upstream up" : "upstream down", "{s:s}", "upstream", p->ups[i].base);
    }
}

static void *checker_main(void *arg)
{
    Proxy *p = arg;
    CURL *h = curl_easy_init();
    while (!atomic_load(&p->stopping)) {
        for (int waited = 0; waited < p->cfg.check_ms && !atomic_load(&p->stopping); waited += 50)
            clock_sleep_ms(50);
        if (!atomic_load(&p->stopping))
            checks_run(p, h);
    }
    curl_easy_cleanup(h);
    return NULL;
}

Proxy *proxy_new(const ProxyConfig *cfg, char *err, size_t errlen)
{
    Proxy *p = xcalloc(1, sizeof *p);
    p->cfg = *cfg;
    err[0] = '\0';
    if (upstreams_parse(p, cfg->upstreams, err, errlen) != 0)
        goto err;
    if (pthread_key_create(&p->handle_key, handle_free_cb) != 0) {
        snprintf(err, errlen, "cannot make a thread key");
        goto err;
    }
    CURL *h = curl_easy_init();
    checks_run(p, h);
    curl_easy_cleanup(h);
    if (pthread_create(&p->checker, NULL, checker_main, p) != 0) {
        snprintf(err, errlen, "cannot start the health-check thread");
        pthread_key_delete(p->handle_key);
        goto err;
    }
    return p;
err:
    for (int i = 0; i < p->n; i++)
        free(p->ups[i].base);
    free(p);
    return NULL;
}

void proxy_free(Proxy *p)
{
    if (p == NULL)
        return;
    atomic_store(&p->stopping, 1);
    pthread_join(p->checker, NULL);
    CURL *h = pthread_getspecific(p->handle_key);
    if (h != NULL)
        curl_easy_cleanup(h);
    pthread_key_delete(p->handle_key);
    for (int i = 0; i < p->n; i++)
        free(p->ups[i].base);
    free(p);
}

int proxy_healthy(const Proxy *p)
{
    int n = 0;
    for (int i = 0; i < p->n; i++)
        n += atomic_load(&p->ups[i].up);
    return n;
}

static size_t body_cb(char *data, size_t size, size_t n, void *ud)
{
    Reply *r = ud;
    size_t len = size * n;
    if (r->body.len + len > r->max) {
        r->too_large = 1;
        return 0; /* aborts the transfer */
    }
    buf_add(&r->body, data, len);
    return len;
}

/* Keeps the response headers a browser needs; the type as a static string
 * when it is a known one, as a header otherwise. */
void proxy_header_keep(HttpResponse *res, const char *name, const char *value)
{
    if (strcasecmp(name, "Content-Type") == 0) {
        for (const char *const *t = known_types; *t; t++)
            if (strcasecmp(value, *t) == 0) {
                res->content_type = *t;
                return;
            }
        http_add_header(res, "Content-Type", value);
        return;
    }
    for (const char *const *h = response_headers; *h; h++)
        if (strcasecmp(name, *h) == 0)
            http_add_header(res, *h, value);
}

/* Copies one header line of LEN bytes into LINE as a string; 0 if too long. */
int proxy_header_line(const char *data, size_t len, char line[HEADER_LINE_MAX])
{
    if (len >= HEADER_LINE_MAX)
        return 0;
    memcpy(line, data, len);
    line[len] = '\0';
    return 1;
}

static size_t header_cb(char *data, size_t size, size_t n, void *ud)
{
    Reply *r = ud;
    size_t len = size * n;
    char line[HEADER_LINE_MAX];
    if (!proxy_header_line(data, len, line))
        return len;
    if (strncmp(line, "HTTP/", 5) == 0) { /* a new response (after a 100): start over */
        for (int i = 0; i < r->res->nheaders; i++) {
            free(r->res->headers[i][0]);
            free(r->res->headers[i][1]);
        }
        r->res->nheaders = 0;
        r->res->content_type = NULL;
        return len;
    }
    char *colon = strchr(line, ':');
    if (colon == NULL)
        return len;
    *colon = '\0';
    char *value = colon + 1;
    value += strspn(value, " \t");
    value[strcspn(value, "\r\n")] = '\0';
    proxy_header_keep(r->res, line, value);
    return len;
}

/* The calling thread's curl handle, reset for a new request. */
static CURL *thread_handle(Proxy *p)
{
    CURL *h = pthread_getspecific(p->handle_key);
    if (h == NULL) {
        h = curl_easy_init();
        pthread_setspecific(p->handle_key, h);
    } else {
        curl_easy_reset(h);
    }
    return h;
}

struct curl_slist *proxy_request_headers(const HttpRequest *req)
{
    struct curl_slist *list = curl_slist_append(NULL, "Expect:"); /* no 100-continue round trip */
    char line[1024];
    for (const char *const *h = request_headers; *h; h++) {
        const char *v = http_header(req, *h);
        if (v != NULL) {
            snprintf(line, sizeof line, "%s: %s", *h, v);
            list = curl_slist_append(list, line);
        }
    }
    return list;
}

/* Sends REQ to upstream U; returns the curl result (the reply in R). */
/* Re-encodes a decoded path segment by segment, so what the upstream sees is
 * the path the caller checked (a decoded "/" or "?" cannot change its shape).
 * The caller frees the result. */
char *proxy_escape_path(CURL *h, const char *path)
{
    size_t cap = strlen(path) * 3 + 2, len = 0;
    char *out = xmalloc(cap);
    out[0] = '\0';
    for (const char *seg = path; *seg == '/';) {
        size_t n = strcspn(seg + 1, "/");
        char *enc = curl_easy_escape(h, seg + 1, (int)n);
        len += (size_t)snprintf(out + len, cap - len, "/%s", enc ? enc : "");
        curl_free(enc);
        seg += n + 1;
    }
    return out;
}

static CURLcode forward_once(Proxy *p, const Upstream *u, const HttpRequest *req, const char *query,
                             Reply *r, struct curl_slist *headers)
{
    CURL *h = thread_handle(p);
    char *path = proxy_escape_path(h, req->path);
    size_t ulen = strlen(u->base) + strlen(path) + strlen(query) + 2;
    char *url = xmalloc(ulen);
    snprintf(url, ulen, "%s%s%s%s", u->base, path, query[0] ? "?" : "", query);
    free(path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L); /* send the path exactly as built */
    no_env_proxy(h);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)p->cfg.timeout_ms);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (strcmp(req->method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else if (req->body_len > 0 || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    r->res->status = (int)status;
    free(url);
    return rc;
}

/* The next upstream that is up, round robin; -1 if none is. */
int proxy_upstream_pick(Proxy *p)
{
    unsigned start = atomic_fetch_add(&p->next, 1);
    for (int i = 0; i < p->n; i++) {
        int k = (int)((start + (unsigned)i) % (unsigned)p->n);
        if (atomic_load(&p->ups[k].up))
            return k;
    }
    return -1;
}

void proxy_problem(HttpResponse *res, int status, const char *title, const char *detail)
{
    http_problem(res, status, title, NULL, detail);
}

void proxy_forward(Proxy *p, const HttpRequest *req, const char *query, HttpResponse *res)
{
    struct curl_slist *headers = proxy_request_headers(req);
    Reply r = {.max = p->cfg.max_response, .res = res};
    CURLcode rc = CURLE_COULDNT_CONNECT;
    int k = -1;
    for (int tries = 0; tries < p->n && rc == CURLE_COULDNT_CONNECT; tries++) {
        if ((k = proxy_upstream_pick(p)) < 0)
            break;
        buf_reset(&r.body);
        rc = forward_once(p, &p->ups[k], req, query, &r, headers);
        if (rc == CURLE_COULDNT_CONNECT && atomic_exchange(&p->ups[k].up, 0))
            log_warn("upstream down", "{s:s}", "upstream", p->ups[k].base);
    }
    curl_slist_free_all(headers);
    if (rc == CURLE_OK) {
        free(res->body);
        res->body = buf_take(&r.body, &res->body_len);
        return;
    }
    buf_free(&r.body);
    for (int i = 0; i < res->nheaders; i++) {
        free(res->headers[i][0]);
        free(res->headers[i][1]);
    }
    res->nheaders = 0;
    if (k < 0)
        proxy_problem(res, 503, "Service Unavailable", "no api upstream is ready; retry");
    else if (r.too_large)
        proxy_problem(res, 502, "Bad Gateway", "the upstream's response is too large");
    else {
        log_warn("upstream request failed", "{s:s,s:s}", "upstream", p->ups[k].base, "error",
                 curl_easy_strerror(rc));
        proxy_problem(res, rc == CURLE_OPERATION_TIMEDOUT ? 504 : 502,
                      rc == CURLE_OPERATION_TIMEDOUT ? "Gateway Timeout" : "Bad Gateway",
                      "the api did not answer; retry");
    }
}
