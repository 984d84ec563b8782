/* webhook: HTTP actions, many in flight on one thread (libcurl's multi interface).
 *
 * One engine thread owns a CURLM. Submissions queue under a lock and wake
 * curl_multi_poll; the thread adds them, drives transfers, and reports each
 * finished call through its callback. Redirects are not followed, only http
 * and https are spoken, proxies from the environment are ignored, and every
 * connection's address is checked against the allow-list as it is opened. */
#include "webhook.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "buf.h"
#include "mem.h"
#include "whsig.h"

typedef struct Call {
    WebhookEngine *eng;
    CURL *easy;
    struct curl_slist *headers;
    const json_t *action;
    const ActionContext *ctx;
    webhook_done_cb done;
    void *ud;
    Buf body; /* response excerpt */
    char refused[256];
    struct Call *next;
} Call;

struct WebhookEngine {
    WebhookConfig cfg;
    CURLM *multi;
    pthread_t thread;
    pthread_mutex_t lock;
    Call *queued, *active;
    int stopping;
};

static size_t write_cb(char *data, size_t size, size_t n, void *ud)
{
    Call *c = ud;
    size_t len = size * n, room = c->eng->cfg.body_cap - c->body.len;
    buf_add(&c->body, data, len < room ? len : room);
    return len; /* read the rest, keep only the excerpt */
}

static curl_socket_t open_cb(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
    Call *c = ud;
    if (!netacl_permits(c->eng->cfg.allow, &addr->addr, c->refused, sizeof c->refused))
        return CURL_SOCKET_BAD;
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* Standard Webhooks headers, when the action has a signing secret: the
 * occurrence id as webhook-id (the specification's "the same when the same
 * webhook is being resent": every attempt of one occurrence, a retry or a
 * redelivery after an executor died, carries it, so a receiver can drop the
 * repeats), this host's clock as webhook-timestamp (only the receiver compares
 * it, with its own clock), and the signature over id.timestamp.body. */
static struct curl_slist *sign_headers(struct curl_slist *h, const json_t *action, const ActionContext *ctx)
{
    const char *secret = json_string_value(json_object_get(action, "signing_secret"));
    const char *body = json_string_value(json_object_get(action, "body"));
    char sig[WHSIG_LEN], line[160];
    long long now = (long long)time(NULL);
    if (secret == NULL ||
        whsig_sign(secret, ctx->occurrence_id, now, body ? body : "", body ? strlen(body) : 0, sig) != 0)
        return h;
    snprintf(line, sizeof line, "webhook-id: %s", ctx->occurrence_id);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "webhook-timestamp: %lld", now);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "webhook-signature: %s", sig);
    return curl_slist_append(h, line);
}

static struct curl_slist *build_headers(const json_t *action, const ActionContext *ctx)
{
    struct curl_slist *h = NULL;
    char line[8400];
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(action, "headers"), key, v)
    {
        snprintf(line, sizeof line, "%s: %s", key, json_string_value(v));
        h = curl_slist_append(h, line);
    }
    snprintf(line, sizeof line, "Idempotency-Key: %s", ctx->run_id);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "X-Dts-Task-Id: %s", ctx->task_id);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "X-Dts-Scheduled-At: %s", ctx->scheduled_at);
    h = curl_slist_append(h, line);
    h = sign_headers(h, action, ctx);
    return curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
}

static CURL *build_easy(Call *c)
{
    CURL *e = curl_easy_init();
    const char *method = json_string_value(json_object_get(c->action, "method"));
    const char *body = json_string_value(json_object_get(c->action, "body"));
    curl_easy_setopt(e, CURLOPT_URL, json_string_value(json_object_get(c->action, "url")));
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, ""); /* never http_proxy, ALL_PROXY, ... */
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->eng->cfg.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->ctx->timeout_s * 1000L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "dts-webhook/1");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_cb);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, c);
    curl_easy_setopt(e, CURLOPT_PRIVATE, c);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL || strcmp(method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body ? body : "");
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    return e;
}

/* Fills RES from how the transfer ended, reports it, frees the call. */
static void finish(Call *c, CURLcode rc, int cancelled)
{
    ActionResult res = {.exit_code = -1};
    long status = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    res.http_status = (int)status;
    if (cancelled) {
        res.status = ACTION_FAILED;
        snprintf(res.error, sizeof res.error, "cancelled");
    } else if (c->refused[0] != '\0') {
        res.status = ACTION_FAILED;
        snprintf(res.error, sizeof res.error, "%s", c->refused);
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        res.status = ACTION_TIMED_OUT;
        snprintf(res.error, sizeof res.error, "timed out: %s", curl_easy_strerror(rc));
    } else if (rc != CURLE_OK) {
        res.status = ACTION_FAILED;
        snprintf(res.error, sizeof res.error, "%s", curl_easy_strerror(rc));
    } else {
        res.status = status >= 200 && status < 300 ? ACTION_SUCCEEDED : ACTION_FAILED;
        if (res.status == ACTION_FAILED)
            snprintf(res.error, sizeof res.error, "HTTP %ld%s", status,
                     status >= 300 && status < 400 ? " (redirects are not followed)" : "");
    }
    TailBuf t; /* reuses the action module's UTF-8 cleaning */
    tail_init(&t, c->eng->cfg.body_cap + 512);
    if (c->refused[0] != '\0')
        tail_append(&t, c->refused, strlen(c->refused));
    tail_append(&t, c->body.data ? c->body.data : "", c->body.len);
    res.output = tail_finish(&t, &res.output_len);
    c->done(c->ud, &res);
    free(res.output);
    curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->headers);
    buf_free(&c->body);
    free(c);
}

static void unlink_active(WebhookEngine *eng, Call *c)
{
    for (Call **p = &eng->active; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            return;
        }
}

/* Adds queued calls; returns 1 when stopping with nothing left to do. */
static int take_queue(WebhookEngine *eng)
{
    pthread_mutex_lock(&eng->lock);
    Call *q = eng->queued;
    eng->queued = NULL;
    int stop = eng->stopping;
    pthread_mutex_unlock(&eng->lock);
    while (q != NULL) {
        Call *next = q->next;
        q->next = eng->active;
        eng->active = q;
        curl_multi_add_handle(eng->multi, q->easy);
        q = next;
    }
    return stop;
}

static void reap(WebhookEngine *eng, int stopping)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(eng->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        Call *c;
        CURLcode rc = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        curl_multi_remove_handle(eng->multi, c->easy);
        unlink_active(eng, c);
        finish(c, rc, 0);
    }
    for (Call *c = eng->active, *next; c; c = next) {
        next = c->next;
        if (stopping || (c->ctx->cancel && atomic_load(c->ctx->cancel))) {
            curl_multi_remove_handle(eng->multi, c->easy);
            unlink_active(eng, c);
            finish(c, CURLE_ABORTED_BY_CALLBACK, 1);
        }
    }
}

static void *engine_cb(void *arg)
{
    WebhookEngine *eng = arg;
    for (;;) {
        int stop = take_queue(eng), running;
        curl_multi_perform(eng->multi, &running);
        reap(eng, stop);
        if (stop && eng->active == NULL)
            break;
        curl_multi_poll(eng->multi, NULL, 0, 200, NULL);
    }
    return NULL;
}

WebhookEngine *webhook_start(const WebhookConfig *cfg, char *err, size_t errlen)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    WebhookEngine *eng = xcalloc(1, sizeof *eng);
    eng->cfg = *cfg;
    eng->multi = curl_multi_init();
    pthread_mutex_init(&eng->lock, NULL);
    if (eng->multi == NULL || pthread_create(&eng->thread, NULL, engine_cb, eng) != 0) {
        snprintf(err, errlen, "cannot start the webhook engine");
        curl_multi_cleanup(eng->multi);
        free(eng);
        return NULL;
    }
    return eng;
}

void webhook_submit(WebhookEngine *eng, const json_t *action, const ActionContext *ctx,
                    webhook_done_cb done, void *ud)
{
    Call *c = xcalloc(1, sizeof *c);
    *c = (Call){.eng = eng, .action = action, .ctx = ctx, .done = done, .ud = ud};
    c->headers = build_headers(action, ctx);
    c->easy = build_easy(c);
    pthread_mutex_lock(&eng->lock);
    c->next = eng->queued;
    eng->queued = c;
    pthread_mutex_unlock(&eng->lock);
    curl_multi_wakeup(eng->multi);
}

void webhook_stop(WebhookEngine *eng)
{
    if (eng == NULL)
        return;
    pthread_mutex_lock(&eng->lock);
    eng->stopping = 1;
    pthread_mutex_unlock(&eng->lock);
    curl_multi_wakeup(eng->multi);
    pthread_join(eng->thread, NULL);
    curl_multi_cleanup(eng->multi);
    pthread_mutex_destroy(&eng->lock);
    free(eng);
}
