/* api_stats: the dashboard's figures, read from the store on each request. */
#include "api_stats.h"

#include <stdlib.h>

#include "log.h"
#include "store_events.h"

#define STATS_SCAN 2000 /* default of ?scan: newest events read per shard for the last hour */

void api_stats_get(const HttpRequest *req, HttpResponse *res, Store *st, int64_t now_ms)
{
    json_t *stats;
    const char *arg = http_query(req, "scan");
    char *end = NULL;
    long scan = arg ? strtol(arg, &end, 10) : STATS_SCAN;
    if (arg != NULL && (*arg == '\0' || *end != '\0' || scan < 1 || scan > 10000)) {
        http_respond(res, 400, "application/problem+json",
                     "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,"
                     "\"detail\":\"must be an integer from 1 to 10000\",\"field\":\"scan\"}");
        return;
    }
    if (store_stats(st, now_ms, (int)scan, &stats) != STORE_OK) {
        log_warn("stats read failed", "{s:s}", "error", store_errstr(st));
        http_respond(res, 503, "application/problem+json",
                     "{\"type\":\"about:blank\",\"title\":\"Service Unavailable\",\"status\":503,"
                     "\"detail\":\"the task store is unreachable; retry\"}");
        return;
    }
    char *text = json_dumps(stats, JSON_COMPACT | JSON_PRESERVE_ORDER);
    http_respond(res, 200, "application/json", text);
    http_add_header(res, "Cache-Control", "no-store");
    free(text);
    json_decref(stats);
}
