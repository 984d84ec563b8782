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

#include "clock.h"
#include "log.h"
#include "mem.h"

#define PROXY_MAX_UPSTREAMS 32
#define HEADER_LINE_MAX 1024

typedef struct Upstream {
    char *base;
    atomic_int up;
} Upstream;

struct Proxy {
    ProxyConfig cfg;
    Upstream ups[PROXY_MAX_UPSTREAMS];
    int n;
    atomic_uint next;
    atomic_int stopping;
    pthread_t checker;
    pthread_key_t handle_key;
    atomic_int streams; /* proxied streams open now */
};

/* What a forwarded response is collected into. */
typedef struct Reply {
    char *body;
    size_t len, cap, max;
    int too_large;
    HttpResponse *res;
} Reply;

static const char *const request_headers[] = {"Content-Type", "Accept", "If-Match", "If-None-Match",
                                              "Last-Event-ID", "Authorization", NULL};
static const char *const response_headers[] = {"ETag", "Location", "Allow", "Cache-Control", "WWW-Authenticate", NULL};
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
    if (r->len + len > r->max) {
        r->too_large = 1;
        return 0; /* aborts the transfer */
    }
    if (r->len + len + 1 > r->cap) {
        r->cap = (r->len + len + 1) * 2;
        r->body = xrealloc(r->body, r->cap);
    }
    memcpy(r->body + r->len, data, len);
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

/* Keeps the response headers a browser needs; the type as a static string
 * when it is a known one, as a header otherwise. */
static void header_keep(HttpResponse *res, const char *name, const char *value)
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
static int header_line(const char *data, size_t len, char line[HEADER_LINE_MAX])
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
    if (!header_line(data, len, line))
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
    header_keep(r->res, line, value);
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

static struct curl_slist *request_headers_list(const HttpRequest *req)
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
static char *escape_path(CURL *h, const char *path)
{
    size_t cap = strlen(path) * 3 + 2, len = 0;
    char *out = xmalloc(cap);
    out[0] = '\0';
    for (const char *seg = path; *seg == '/'; ) {
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
    char *path = escape_path(h, req->path);
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
static int upstream_pick(Proxy *p)
{
    unsigned start = atomic_fetch_add(&p->next, 1);
    for (int i = 0; i < p->n; i++) {
        int k = (int)((start + (unsigned)i) % (unsigned)p->n);
        if (atomic_load(&p->ups[k].up))
            return k;
    }
    return -1;
}

static void problem(HttpResponse *res, int status, const char *title, const char *detail)
{
    char body[256];
    snprintf(body, sizeof body, "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%d,\"detail\":\"%s\"}",
             title, status, detail);
    http_respond(res, status, "application/problem+json", body);
}

void proxy_forward(Proxy *p, const HttpRequest *req, const char *query, HttpResponse *res)
{
    struct curl_slist *headers = request_headers_list(req);
    Reply r = {.max = p->cfg.max_response, .res = res};
    CURLcode rc = CURLE_COULDNT_CONNECT;
    int k = -1;
    for (int tries = 0; tries < p->n && rc == CURLE_COULDNT_CONNECT; tries++) {
        if ((k = upstream_pick(p)) < 0)
            break;
        r.len = 0;
        rc = forward_once(p, &p->ups[k], req, query, &r, headers);
        if (rc == CURLE_COULDNT_CONNECT && atomic_exchange(&p->ups[k].up, 0))
            log_warn("upstream down", "{s:s}", "upstream", p->ups[k].base);
    }
    curl_slist_free_all(headers);
    if (rc == CURLE_OK) {
        free(res->body);
        res->body = r.body;
        res->body_len = r.len;
        return;
    }
    free(r.body);
    for (int i = 0; i < res->nheaders; i++) {
        free(res->headers[i][0]);
        free(res->headers[i][1]);
    }
    res->nheaders = 0;
    if (k < 0)
        problem(res, 503, "Service Unavailable", "no api upstream is ready; retry");
    else if (r.too_large)
        problem(res, 502, "Bad Gateway", "the upstream's response is too large");
    else {
        log_warn("upstream request failed", "{s:s,s:s}", "upstream", p->ups[k].base, "error",
                 curl_easy_strerror(rc));
        problem(res, rc == CURLE_OPERATION_TIMEDOUT ? 504 : 502, rc == CURLE_OPERATION_TIMEDOUT ? "Gateway Timeout" : "Bad Gateway",
                "the api did not answer; retry");
    }
}

/* ---- streamed responses (Server-Sent Events) ----
 *
 * A stream is forwarded by a thread of its own running the curl transfer: its
 * write callback appends to a buffer and wakes the client's parked connection,
 * whose read callback drains it. The request thread waits only for the
 * upstream's status and headers. The transfer and the client connection each
 * hold a reference; the last one out frees. A client that goes, a proxy that
 * stops or a buffer past PROXY_STREAM_BUF_MAX (a client too slow) aborts the
 * transfer within a second (curl's progress callback). */
#define PROXY_STREAM_BUF_MAX (1u << 20)
#define PROXY_STREAM_HEAD_MS 1000 /* a pool thread waits no longer for the upstream's status */
#define PROXY_STREAM_BODY_MS 3000 /* nor for the short body of an answer that is not a stream */

typedef struct PStream {
    Proxy *p;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cond;
    char *buf;
    size_t len, off, cap;
    HttpResponse *res;  /* the request's, until the headers are in */
    HttpStream *stream; /* once the client's stream exists */
    long status;
    int headers_done, finished, cancelled, refs;
    int early; /* answered 200 before the upstream's status came: only a 200 may follow */
    CURL *h;
    struct curl_slist *headers;
    char *url;
} PStream;

static void pstream_unref(PStream *s)
{
    int left = --s->refs;
    pthread_mutex_unlock(&s->lock);
    if (left > 0)
        return;
    atomic_fetch_sub(&s->p->streams, 1);
    curl_easy_cleanup(s->h);
    curl_slist_free_all(s->headers);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s->url);
    free(s->buf);
    free(s);
}

/* Marks the headers in (the status read from curl): the request thread goes on. */
static void pstream_headers_done(PStream *s)
{
    if (s->headers_done)
        return;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
    s->headers_done = 1;
    pthread_cond_broadcast(&s->cond);
}

static size_t pstream_header_cb(char *data, size_t size, size_t n, void *ud)
{
    PStream *s = ud;
    size_t len = size * n;
    char line[HEADER_LINE_MAX];
    if (!header_line(data, len, line))
        return len;
    line[strcspn(line, "\r\n")] = '\0';
    pthread_mutex_lock(&s->lock);
    char *colon = strchr(line, ':');
    if (line[0] == '\0' && s->res != NULL) {
        long code = 0;
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200) /* not the blank line after a 100 Continue */
            pstream_headers_done(s);
    } else if (colon != NULL && s->res != NULL && !s->headers_done) {
        *colon = '\0';
        header_keep(s->res, line, colon + 1 + strspn(colon + 1, " \t"));
    }
    pthread_mutex_unlock(&s->lock);
    return len;
}

static size_t pstream_write_cb(char *data, size_t size, size_t n, void *ud)
{
    PStream *s = ud;
    size_t len = size * n;
    pthread_mutex_lock(&s->lock);
    pstream_headers_done(s);
    int ok = !s->cancelled && !(s->early && s->status != 200) && s->len - s->off + len <= PROXY_STREAM_BUF_MAX;
    if (ok) {
        if (s->off == s->len)
            s->off = s->len = 0;
        if (s->len + len > s->cap) {
            s->cap = (s->len + len) * 2;
            s->buf = xrealloc(s->buf, s->cap);
        }
        memcpy(s->buf + s->len, data, len);
        s->len += len;
    }
    HttpStream *w = ok ? s->stream : NULL;
    if (w != NULL)
        http_stream_hold(w); /* the lock keeps done from dropping it meanwhile */
    pthread_mutex_unlock(&s->lock);
    if (w != NULL) { /* woken without the lock: done may run under the server's locks */
        http_stream_wake(w);
        http_stream_release(w);
    }
    return ok ? len : 0;
}

static int pstream_progress_cb(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    PStream *s = ud;
    pthread_mutex_lock(&s->lock);
    int stop = s->cancelled || atomic_load(&s->p->stopping) || (s->stream && http_stream_gone(s->stream));
    pthread_mutex_unlock(&s->lock);
    return stop; /* the transfer ends, and with it the client's stream */
}

static void *pstream_main(void *arg)
{
    PStream *s = arg;
    CURLcode rc = curl_easy_perform(s->h);
    pthread_mutex_lock(&s->lock);
    if (!s->headers_done && rc != CURLE_OK)
        s->status = rc == CURLE_COULDNT_CONNECT ? 503 : 502;
    pstream_headers_done(s);
    s->finished = 1;
    HttpStream *w = s->stream;
    if (w != NULL)
        http_stream_hold(w);
    pthread_cond_broadcast(&s->cond);
    pstream_unref(s);
    if (w != NULL) {
        http_stream_wake(w);
        http_stream_release(w);
    }
    return NULL;
}

static long pstream_read_cb(void *ud, char *buf, size_t max)
{
    PStream *s = ud;
    pthread_mutex_lock(&s->lock);
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    if (n > 0)
        memcpy(buf, s->buf + s->off, n);
    s->off += n;
    long rv = n > 0 ? (long)n : s->finished ? -1 : 0;
    pthread_mutex_unlock(&s->lock);
    return rv;
}

static void pstream_done_cb(void *ud)
{
    PStream *s = ud;
    pthread_mutex_lock(&s->lock);
    s->cancelled = 1;
    HttpStream *w = s->stream;
    s->stream = NULL;
    pstream_unref(s);
    http_stream_release(w); /* the reference http_respond_stream gave */
}

/* A stream for REQ to upstream U, its transfer set up but not started. */
static PStream *pstream_new(Proxy *p, const Upstream *u, const HttpRequest *req, const char *query,
                            HttpResponse *res)
{
    PStream *s = xcalloc(1, sizeof *s);
    s->p = p;
    s->res = res;
    s->refs = 2;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->h = curl_easy_init();
    s->headers = request_headers_list(req);
    char *path = escape_path(s->h, req->path);
    size_t ulen = strlen(u->base) + strlen(path) + strlen(query) + 2;
    s->url = xmalloc(ulen);
    snprintf(s->url, ulen, "%s%s%s%s", u->base, path, query[0] ? "?" : "", query);
    free(path);
    curl_easy_setopt(s->h, CURLOPT_URL, s->url);
    curl_easy_setopt(s->h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, pstream_write_cb);
    curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->h, CURLOPT_HEADERFUNCTION, pstream_header_cb);
    curl_easy_setopt(s->h, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(s->h, CURLOPT_XFERINFOFUNCTION, pstream_progress_cb);
    curl_easy_setopt(s->h, CURLOPT_XFERINFODATA, s);
    curl_easy_setopt(s->h, CURLOPT_NOPROGRESS, 0L);
    return s;
}

/* Waits for the upstream's headers (or, when FINISHED is set, its whole
 * body), at most MS; called with the lock held. */
static void pstream_wait(PStream *s, int finished, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!(finished ? s->finished : s->headers_done))
        if (pthread_cond_timedwait(&s->cond, &s->lock, &until) != 0)
            break;
}

void proxy_forward_stream(Proxy *p, const HttpRequest *req, const char *query, HttpResponse *res)
{
    int k = upstream_pick(p);
    if (k < 0 || atomic_fetch_add(&p->streams, 1) >= PROXY_STREAMS_MAX) {
        if (k >= 0)
            atomic_fetch_sub(&p->streams, 1);
        problem(res, 503, "Service Unavailable", k < 0 ? "no api upstream is ready; retry" : "too many streams; retry");
        return;
    }
    PStream *s = pstream_new(p, &p->ups[k], req, query, res);
    pthread_t t;
    pthread_mutex_lock(&s->lock);
    if (pthread_create(&t, NULL, pstream_main, s) != 0) {
        s->refs = 1;
        problem(res, 503, "Service Unavailable", "cannot start the stream; retry");
        pstream_unref(s);
        return;
    }
    pthread_detach(t);
    pstream_wait(s, 0, PROXY_STREAM_HEAD_MS);
    /* A slow upstream does not hold this pool thread (and the connections it
     * serves): the stream starts now, and ends at once unless a 200 comes. */
    s->early = !s->headers_done;
    if (s->early)
        http_add_header(res, "Cache-Control", "no-store");
    if (s->early || s->status == 200) {
        s->res = NULL;
        s->stream = http_respond_stream(req, res, 200, res->content_type ? res->content_type : "text/event-stream",
                                        pstream_read_cb, pstream_done_cb, s);
        pthread_mutex_unlock(&s->lock);
        return;
    }
    /* Not a stream (an error, a 401...): its short body is answered as it is. */
    pstream_wait(s, 1, PROXY_STREAM_BODY_MS);
    s->res = NULL;
    s->cancelled = 1;
    if (s->finished && s->status >= 200) {
        res->status = (int)s->status;
        res->body = xmalloc(s->len - s->off + 1);
        if (s->len > s->off)
            memcpy(res->body, s->buf + s->off, s->len - s->off);
        res->body_len = s->len - s->off;
        res->body[res->body_len] = '\0';
    } else {
        problem(res, 504, "Gateway Timeout", "the api did not answer; retry");
    }
    pstream_unref(s);
}

void proxy_streams_end(Proxy *p, int wait_ms)
{
    atomic_store(&p->stopping, 1);
    int64_t deadline = clock_mono_ms() + wait_ms;
    while (atomic_load(&p->streams) > 0 && clock_mono_ms() < deadline)
        clock_sleep_ms(10);
}
