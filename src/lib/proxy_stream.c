/* proxy_stream: forwarding a streamed response (Server-Sent Events) through
 * the proxy, on a thread of its own per stream. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "proxy.h"
#include "proxy_private.h"

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
    Buf buf; /* what the upstream sent; the client has read up to off */
    size_t off;
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
    buf_free(&s->buf);
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
    if (!proxy_header_line(data, len, line))
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
        proxy_header_keep(s->res, line, colon + 1 + strspn(colon + 1, " \t"));
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
    int ok = !s->cancelled && !(s->early && s->status != 200) &&
             s->buf.len - s->off + len <= PROXY_STREAM_BUF_MAX;
    if (ok) {
        if (s->off == s->buf.len) { /* all read: start over at the front */
            buf_reset(&s->buf);
            s->off = 0;
        }
        buf_add(&s->buf, data, len);
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
    size_t n = s->buf.len - s->off < max ? s->buf.len - s->off : max;
    if (n > 0)
        memcpy(buf, s->buf.data + s->off, n);
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
    s->headers = proxy_request_headers(req);
    char *path = proxy_escape_path(s->h, req->path);
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
    int k = proxy_upstream_pick(p);
    if (k < 0 || atomic_fetch_add(&p->streams, 1) >= PROXY_STREAMS_MAX) {
        if (k >= 0)
            atomic_fetch_sub(&p->streams, 1);
        proxy_problem(res, 503, "Service Unavailable",
                      k < 0 ? "no api upstream is ready; retry" : "too many streams; retry");
        return;
    }
    PStream *s = pstream_new(p, &p->ups[k], req, query, res);
    pthread_t t;
    pthread_mutex_lock(&s->lock);
    if (pthread_create(&t, NULL, pstream_main, s) != 0) {
        s->refs = 1;
        proxy_problem(res, 503, "Service Unavailable", "cannot start the stream; retry");
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
        s->stream = http_respond_stream(req, res, 200,
                                        res->content_type ? res->content_type : "text/event-stream",
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
        Buf rest = {0};
        buf_add(&rest, s->buf.data + s->off, s->buf.len - s->off);
        res->body = buf_take(&rest, &res->body_len);
    } else {
        proxy_problem(res, 504, "Gateway Timeout", "the api did not answer; retry");
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
