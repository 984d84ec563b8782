/* api_stream: the live feed as a real Server-Sent Events stream
 * (GET /api/v1/events/stream): one connection per client, events pushed as
 * they happen, resumable with Last-Event-ID. */
#ifndef DTS_API_STREAM_H
#define DTS_API_STREAM_H

#include "httpd.h"
#include "store.h"

/* Starts the feed's reader thread (it takes its own store connection with
 * STORE_FN) and allows up to MAX_CLIENTS streams at once. Returns 0, or -1 if
 * the thread cannot start. */
int api_stream_start(Store *(*store_fn)(void), void (*release_fn)(void), int max_clients);

/* Answers REQ with a stream: the events after its Last-Event-ID header (or
 * last_event_id query argument), else the 20 newest, then every new event, a
 * comment line every 15 s, and the end when the api stops. Past the client
 * bound, 503 with Retry-After. ST is the request thread's store. */
void api_stream_open(const HttpRequest *req, HttpResponse *res, Store *st);

/* Ends every stream (each client gets the end of its body) and stops the
 * reader thread; waits up to WAIT_MS for the clients to be gone. Call before
 * httpd_stop. */
void api_stream_stop(int wait_ms);

#endif
