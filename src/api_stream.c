/* api_stream: Server-Sent Events for the live feed.
 *
 * Design: one reader thread (the hub) reads the merged event streams after
 * its cursor every STREAM_POLL_MS with its own Redis connection, names the
 * tasks of the batch in one round trip, renders each event once as an SSE
 * block and appends it to every client's outgoing buffer, then wakes the
 * clients' parked connections (src/lib/httpd_stream.c): a client costs a
 * buffer, not a thread. A ring of the last STREAM_RING blocks lets a new
 * client join without a gap: it reads its backlog (the events after its
 * Last-Event-ID) from Redis, then takes from the ring what came after that
 * backlog. A client whose buffer outgrows STREAM_BUF_MAX is too slow: its
 * stream ends and EventSource reconnects from its last id. Every
 * STREAM_HEARTBEAT_MS each client gets a comment line; a client that has
 * closed its socket is noticed at the next poll and its stream ended. */
#include "api_stream.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_view.h"
#include "clock.h"
#include "log.h"
#include "mem.h"

#define STREAM_POLL_MS 50
#define STREAM_HEARTBEAT_MS 15000
#define STREAM_RING 256
#define STREAM_BUF_MAX (1u << 20)
#define STREAM_BATCH 100
#define STREAM_RECENT 20

typedef struct Block {
    EventCursor pos;
    char *text; /* "id: ...\ndata: ...\n\n" */
} Block;

typedef struct Client {
    HttpStream *stream;
    char *buf;
    size_t len, off, cap;
    EventCursor last; /* the newest event queued to it */
    int64_t wrote_ms; /* when something was last queued */
    int ending;       /* end the body once the buffer is sent */
    int wake;         /* to be woken when the hub lets go of the lock */
    struct Client *next;
} Client;

static struct {
    pthread_mutex_t lock; /* guards everything below */
    Client *clients;
    int nclients, max;
    Block ring[STREAM_RING];
    int ring_n, ring_head; /* ring_head: index of the oldest block */
    int started;
    EventCursor resume; /* set by the first client of an idle hub: where its backlog ended */
    int resume_set;
    atomic_int stopping;
    pthread_t thread;
    Store *(*store_fn)(void);
    void (*release_fn)(void);
} hub = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int pos_cmp(const EventCursor *a, const EventCursor *b)
{
    if (a->ms != b->ms)
        return a->ms < b->ms ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return a->shard - b->shard;
}

/* Appends TEXT to C's buffer; marks it ending when it grows too large. */
static void client_queue(Client *c, const char *text)
{
    size_t n = strlen(text);
    if (c->len - c->off + n > STREAM_BUF_MAX) {
        c->ending = 1;
        return;
    }
    if (c->off > 0 && c->off == c->len)
        c->off = c->len = 0;
    if (c->len + n > c->cap) {
        c->cap = (c->len + n) * 2;
        c->buf = xrealloc(c->buf, c->cap);
    }
    memcpy(c->buf + c->len, text, n);
    c->len += n;
    c->wrote_ms = clock_mono_ms();
}

/* The SSE block of one event (with its data as compact JSON). */
static char *block_text(json_t *e)
{
    char *data = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
    const char *id = json_string_value(json_object_get(e, "id"));
    size_t n = strlen(data) + strlen(id ? id : "") + 16;
    char *text = xmalloc(n);
    snprintf(text, n, "id: %s\ndata: %s\n\n", id ? id : "", data);
    free(data);
    return text;
}

/* Queues the events of E (a JSON array) newer than C's last to C. */
static void client_queue_events(const Store *st, Client *c, json_t *events)
{
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        EventCursor pos;
        if (store_event_cursor_parse(st, json_string_value(json_object_get(e, "id")), &pos) != 0 ||
            pos_cmp(&pos, &c->last) <= 0)
            continue;
        char *text = block_text(e);
        client_queue(c, text);
        free(text);
        c->last = pos;
    }
}

/* The stream's read callback: what is queued, or the end, or park. */
static long client_read_cb(void *ud, char *buf, size_t max)
{
    Client *c = ud;
    pthread_mutex_lock(&hub.lock);
    size_t n = c->len - c->off < max ? c->len - c->off : max;
    if (n > 0)
        memcpy(buf, c->buf + c->off, n);
    c->off += n;
    long rv = n > 0 ? (long)n : c->ending || atomic_load(&hub.stopping) ? -1 : 0;
    pthread_mutex_unlock(&hub.lock);
    return rv;
}

static void client_done_cb(void *ud)
{
    Client *c = ud;
    pthread_mutex_lock(&hub.lock);
    for (Client **p = &hub.clients; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            hub.nclients--;
            break;
        }
    }
    pthread_mutex_unlock(&hub.lock);
    http_stream_release(c->stream);
    free(c->buf);
    free(c);
}

static void ring_add(Block b)
{
    int at = (hub.ring_head + hub.ring_n) % STREAM_RING;
    if (hub.ring_n == STREAM_RING) {
        free(hub.ring[hub.ring_head].text);
        hub.ring_head = (hub.ring_head + 1) % STREAM_RING;
        at = (hub.ring_head + hub.ring_n - 1) % STREAM_RING;
    } else {
        hub.ring_n++;
    }
    hub.ring[at] = b;
}

/* Called with hub.lock held: wakes the clients marked to be, after letting
 * go of the lock (a wake must not hold a lock the done callback takes), and
 * holding their streams meanwhile so none is freed under the wake. */
static void wake_marked_and_unlock(void)
{
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers; its element is a pointer */
    HttpStream **w = xcalloc((size_t)hub.nclients + 1, sizeof *w);
    int n = 0;
    for (Client *c = hub.clients; c; c = c->next) {
        if (c->wake && c->stream != NULL) {
            http_stream_hold(c->stream);
            w[n++] = c->stream;
        }
        c->wake = 0;
    }
    pthread_mutex_unlock(&hub.lock);
    for (int i = 0; i < n; i++) {
        http_stream_wake(w[i]);
        http_stream_release(w[i]);
    }
    free(w);
}

/* Hands a batch read by the hub to the ring and to every client; wakes them. */
static void hub_publish(const Store *st, json_t *events)
{
    size_t i;
    json_t *e;
    pthread_mutex_lock(&hub.lock);
    json_array_foreach(events, i, e)
    {
        Block b;
        if (store_event_cursor_parse(st, json_string_value(json_object_get(e, "id")), &b.pos) != 0)
            continue;
        b.text = block_text(e);
        for (Client *c = hub.clients; c; c = c->next) {
            if (pos_cmp(&b.pos, &c->last) > 0) {
                client_queue(c, b.text);
                c->last = b.pos;
            }
        }
        ring_add(b);
    }
    for (Client *c = hub.clients; c; c = c->next)
        c->wake = 1;
    wake_marked_and_unlock();
}

/* Comment lines for the clients that have heard nothing for a while. */
static void hub_heartbeat(void)
{
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&hub.lock);
    for (Client *c = hub.clients; c; c = c->next) {
        if (!c->ending && http_stream_gone(c->stream))
            c->ending = 1; /* the client left: end the body so its place is freed */
        if (c->ending) {
            c->wake = 1; /* to send the end */
        } else if (now - c->wrote_ms >= STREAM_HEARTBEAT_MS) {
            client_queue(c, ": heartbeat\n\n");
            c->wake = 1;
        }
    }
    wake_marked_and_unlock();
}

/* 1 if no client is connected: the hub then reads nothing (each event would
 * cost it a read and a task name, on the create path). The first client to
 * join an idle hub has read its backlog from Redis; the hub goes on from where
 * that backlog ended (*CUR), so the client misses nothing. */
static int hub_idle(EventCursor *cur)
{
    pthread_mutex_lock(&hub.lock);
    if (hub.resume_set)
        *cur = hub.resume;
    hub.resume_set = 0;
    int idle = hub.nclients == 0;
    pthread_mutex_unlock(&hub.lock);
    return idle;
}

static void *hub_main(void *arg)
{
    Store *st = hub.store_fn();
    EventCursor cur = {0};
    json_t *events = NULL;
    /* Start at the newest event: the ring then holds what clients may miss. */
    if (api_view_events_read(st, &cur, STREAM_RECENT, &events) == STORE_OK && json_array_size(events) > 0)
        store_event_cursor_parse(
            st,
            json_string_value(json_object_get(json_array_get(events, json_array_size(events) - 1), "id")),
            &cur);
    json_decref(events);
    while (!atomic_load(&hub.stopping)) {
        size_t n = 0;
        if (hub_idle(&cur)) {
            clock_sleep_ms(STREAM_POLL_MS);
            continue;
        }
        if (api_view_events_read(st, &cur, STREAM_BATCH, &events) == STORE_OK) {
            api_view_task_names(st, events, "task");
            n = json_array_size(events);
            if (n > 0) {
                store_event_cursor_parse(
                    st, json_string_value(json_object_get(json_array_get(events, n - 1), "id")), &cur);
                hub_publish(st, events);
            }
        }
        json_decref(events);
        hub_heartbeat();
        if (n < STREAM_BATCH)
            clock_sleep_ms(STREAM_POLL_MS);
    }
    hub.release_fn();
    return arg;
}

int api_stream_start(Store *(*store_fn)(void), void (*release_fn)(void), int max_clients)
{
    hub.store_fn = store_fn;
    hub.release_fn = release_fn;
    hub.max = max_clients;
    if (pthread_create(&hub.thread, NULL, hub_main, NULL) != 0)
        return -1;
    hub.started = 1;
    return 0;
}

static void refuse(HttpResponse *res, int status, const char *field, const char *detail)
{
    http_problem(res, status, NULL, field, detail);
}

/* The client's position: last_event_id (a bad one is 400), else the
 * Last-Event-ID header (a bad one starts afresh), else none. */
static int stream_position(const HttpRequest *req, HttpResponse *res, Store *st, EventCursor *c)
{
    const char *arg = http_query(req, "last_event_id"), *hdr = http_header(req, "Last-Event-ID");
    *c = (EventCursor){0};
    if (arg != NULL && store_event_cursor_parse(st, arg, c) != 0) {
        refuse(res, 400, "last_event_id", "is not an event id this API returned");
        return -1;
    }
    if (arg == NULL && hdr != NULL && store_event_cursor_parse(st, hdr, c) != 0)
        *c = (EventCursor){0};
    return 0;
}

/* Queues to C what came after its backlog: the ring's newer blocks. */
static void client_catch_up(Client *c)
{
    for (int i = 0; i < hub.ring_n; i++) {
        Block *b = &hub.ring[(hub.ring_head + i) % STREAM_RING];
        if (pos_cmp(&b->pos, &c->last) > 0) {
            client_queue(c, b->text);
            c->last = b->pos;
        }
    }
}

void api_stream_open(const HttpRequest *req, HttpResponse *res, Store *st)
{
    EventCursor pos;
    json_t *backlog = NULL;
    if (stream_position(req, res, st, &pos) != 0)
        return;
    if (!hub.started || atomic_load(&hub.stopping)) {
        refuse(res, 503, NULL, "the feed is not running");
        return;
    }
    int rv = api_view_events_read(st, &pos, pos.ms ? STREAM_BATCH : STREAM_RECENT, &backlog);
    if (rv == STORE_OK)
        rv = api_view_task_names(st, backlog, "task");
    if (rv != STORE_OK) {
        log_warn("event stream backlog failed", "{s:s}", "error", store_errstr(st));
        json_decref(backlog);
        refuse(res, 503, NULL, "the event store is unreachable; retry");
        http_add_header(res, "Retry-After", "1");
        return;
    }
    Client *c = xcalloc(1, sizeof *c);
    c->last = pos;
    client_queue(c, "retry: 1000\n\n");
    client_queue_events(st, c, backlog);
    /* A full backlog means more are waiting: send it and let the client come
     * back at once from its new position. */
    int more = pos.ms != 0 && json_array_size(backlog) == STREAM_BATCH;
    json_decref(backlog);
    pthread_mutex_lock(&hub.lock);
    if (hub.nclients >= hub.max) {
        pthread_mutex_unlock(&hub.lock);
        free(c->buf);
        free(c);
        refuse(res, 503, NULL, "too many event streams; retry later");
        http_add_header(res, "Retry-After", "5");
        return;
    }
    if (more) {
        client_queue(c, "retry: 0\n\n");
        c->ending = 1;
    } else {
        client_catch_up(c);
    }
    if ((hub.nclients == 0 || hub.resume_set) && (!hub.resume_set || pos_cmp(&c->last, &hub.resume) < 0)) {
        hub.resume = c->last; /* the hub may be idle: it goes on from here (hub_idle) */
        hub.resume_set = 1;
    }
    c->next = hub.clients;
    hub.clients = c;
    hub.nclients++;
    http_add_header(res, "Cache-Control", "no-store");
    http_add_header(res, "X-Accel-Buffering", "no");
    c->stream = http_respond_stream(req, res, 200, "text/event-stream", client_read_cb, client_done_cb, c);
    pthread_mutex_unlock(&hub.lock);
}

void api_stream_stop(int wait_ms)
{
    if (!hub.started)
        return;
    atomic_store(&hub.stopping, 1);
    pthread_join(hub.thread, NULL);
    pthread_mutex_lock(&hub.lock);
    for (Client *c = hub.clients; c; c = c->next)
        c->wake = 1;
    wake_marked_and_unlock();
    int64_t deadline = clock_mono_ms() + wait_ms;
    for (;;) {
        pthread_mutex_lock(&hub.lock);
        int left = hub.nclients;
        pthread_mutex_unlock(&hub.lock);
        if (left == 0 || clock_mono_ms() > deadline)
            break;
        clock_sleep_ms(10);
    }
    pthread_mutex_lock(&hub.lock);
    for (int i = 0; i < hub.ring_n; i++)
        free(hub.ring[(hub.ring_head + i) % STREAM_RING].text);
    hub.ring_n = 0;
    pthread_mutex_unlock(&hub.lock);
}
