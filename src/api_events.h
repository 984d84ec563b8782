/* api_events: GET /api/v1/events, the live activity feed as Server-Sent Events. */
#ifndef DTS_API_EVENTS_H
#define DTS_API_EVENTS_H

#include "httpd.h"
#include "store.h"

/* Answers one poll of the feed: the events after the request's
 * last_event_id query argument or Last-Event-ID header, or the newest ones
 * without either, as a finite text/event-stream that tells the browser when
 * to reconnect. A malformed argument is a 400; a malformed header counts as
 * none. Never blocks beyond one Redis round trip. */
void api_events_get(const HttpRequest *req, HttpResponse *res, Store *st);

#endif
