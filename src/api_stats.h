/* api_stats: GET /api/v1/stats, the figures of the web UI's dashboard. */
#ifndef DTS_API_STATS_H
#define DTS_API_STATS_H

#include <stdint.h>

#include "httpd.h"
#include "store.h"

/* Answers with the dashboard figures at NOW_MS (see docs/openapi.yaml, Stats),
 * a 400 problem for a bad ?scan, or a 503 problem when the store is
 * unreachable. */
void api_stats_get(const HttpRequest *req, HttpResponse *res, Store *st, int64_t now_ms);

#endif
