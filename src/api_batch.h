/* api_batch: POST /api/v1/tasks:batch, many creates in one request. */
#ifndef DTS_API_BATCH_H
#define DTS_API_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "httpd.h"
#include "store.h"

#define API_BATCH_MAX 1000            /* task specs a request */
#define API_BATCH_BODY_MAX (4u << 20) /* bytes of a batch request's body */

/* Answers a batch create {"tasks": [spec, ...]} at NOW_MS for a caller with
 * SCOPES: each spec validated as POST /api/v1/tasks validates one, the valid
 * ones stored with one script call per shard, each atomically; a result per
 * item in request order ({"status": 201, "task": ...} or {"status": 4xx,
 * "problem": ...} naming the item's index and field). An item's
 * "idempotency_key" makes it idempotent for CALLER as the Idempotency-Key
 * header makes a single create: a repeat is {"status": 200, "task": ...,
 * "replayed": true}. 200 when every item was stored or replayed, 207 when
 * some were not; a request that cannot be read as a batch (malformed, empty,
 * over API_BATCH_MAX) is one problem and stores nothing. */
void api_batch_create(const HttpRequest *req, HttpResponse *res, Store *st, int64_t now_ms, unsigned scopes,
                      const char *caller);

/* The body limit of a route for httpd (HttpConfig.max_body_for):
 * API_BATCH_BODY_MAX for the batch route, else 0 (the server's default). */
size_t api_batch_max_body(const char *method, const char *path);

#endif
