/* api_events: the live activity feed as Server-Sent Events.
 *
 * Design: each response is a finite event stream. It carries the events after
 * the client's position (its Last-Event-ID) and a `retry:` field, then ends;
 * EventSource reconnects by itself after that delay, sending the id of the last
 * event it saw. A pool thread is therefore held for one Redis round trip, never
 * parked on a connection, and any api replica can answer any poll because the
 * position is in the id, not in the process. The cost is a delay of up to
 * EVENTS_RETRY_MS before an event shows, which suits a human-facing feed. */
#include "api_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_view.h"
#include "buf.h"
#include "log.h"
#include "mem.h"

#define EVENTS_BATCH 100     /* events per response */
#define EVENTS_RECENT 20     /* events shown to a client with no position */
#define EVENTS_RETRY_MS 1000 /* reconnect delay when caught up */

/* The event stream text: a retry hint, then one `id:`/`data:` block each. */
static char *events_render(json_t *events, size_t *len)
{
    Buf b = {0};
    int full = json_array_size(events) == EVENTS_BATCH;
    buf_addf(&b, "retry: %d\n\n", full ? 0 : EVENTS_RETRY_MS);
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        char *data = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
        buf_addf(&b, "id: %s\ndata: %s\n\n", json_string_value(json_object_get(e, "id")), data);
        free(data);
    }
    return buf_take(&b, len);
}

void api_events_get(const HttpRequest *req, HttpResponse *res, Store *st)
{
    EventCursor c = {0};
    const char *arg = http_query(req, "last_event_id"), *last = http_header(req, "Last-Event-ID");
    if (arg != NULL && store_event_cursor_parse(st, arg, &c) != 0) {
        http_problem(res, 400, NULL, "last_event_id", "is not an event id this API returned");
        return;
    }
    /* A header from elsewhere starts afresh: EventSource stops for good on an error. */
    if (arg == NULL && last != NULL && store_event_cursor_parse(st, last, &c) != 0)
        c = (EventCursor){0};
    json_t *events;
    int rv = api_view_events_read(st, &c, c.ms ? EVENTS_BATCH : EVENTS_RECENT, &events);
    if (rv != STORE_OK) {
        /* Still an event stream, so EventSource retries instead of giving up. */
        log_warn("events read failed", "{s:s}", "error", store_errstr(st));
        json_decref(events);
        events = json_array();
    } else if (api_view_task_names(st, events, "task") != STORE_OK) {
        log_warn("event names unavailable", "{s:s}", "error", store_errstr(st));
    }
    const char *accept = http_header(req, "Accept");
    if (accept != NULL && strstr(accept, "application/json") && !strstr(accept, "text/event-stream")) {
        json_t *list = json_pack("{s:O}", "items", events); /* the same batch, for scripts */
        char *text = json_dumps(list, JSON_COMPACT | JSON_PRESERVE_ORDER);
        http_respond(res, 200, "application/json", text);
        free(text);
        json_decref(list);
    } else {
        res->status = 200;
        res->content_type = "text/event-stream";
        free(res->body);
        res->body = events_render(events, &res->body_len);
    }
    http_add_header(res, "Cache-Control", "no-store");
    json_decref(events);
}
