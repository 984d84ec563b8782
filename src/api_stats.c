/* api_stats: the dashboard's figures, read from the store.
 *
 * One answer can cost Redis thousands of reads per shard, so an api process
 * computes at most one at a time and serves it to every caller asking for
 * the same ?scan within STATS_CACHE_MS: a flood of requests costs Redis one
 * computation a second. */
#include "api_stats.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api_view.h"
#include "clock.h"
#include "log.h"
#include "mem.h"

#define STATS_CACHE_MS 1000

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char *text; /* the last answer's body, or NULL */
    long scan;
    int64_t at_ms; /* monotonic */
} cache;

/* The body for SCAN, computed or from the cache; NULL if the store failed.
 * The caller frees it. */
static char *stats_text(Store *st, int64_t now_ms, long scan)
{
    char *text = NULL;
    json_t *stats;
    pthread_mutex_lock(&cache_lock);
    if (cache.text != NULL && cache.scan == scan && clock_mono_ms() - cache.at_ms < STATS_CACHE_MS) {
        text = xstrdup(cache.text);
    } else if (api_view_stats_read(st, now_ms, (int)scan, &stats) == STORE_OK) {
        text = json_dumps(stats, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(stats);
        free(cache.text);
        cache.text = xstrdup(text);
        cache.scan = scan;
        cache.at_ms = clock_mono_ms();
    }
    pthread_mutex_unlock(&cache_lock);
    return text;
}

#define STATS_SCAN 2000 /* default of ?scan: newest events read per shard for the last hour */

void api_stats_get(const HttpRequest *req, HttpResponse *res, Store *st, int64_t now_ms)
{
    const char *arg = http_query(req, "scan");
    char *end = NULL;
    long scan = arg ? strtol(arg, &end, 10) : STATS_SCAN;
    if (arg != NULL && (*arg == '\0' || *end != '\0' || scan < 1 || scan > 10000)) {
        http_problem(res, 400, NULL, "scan", "must be an integer from 1 to 10000");
        return;
    }
    char *text = stats_text(st, now_ms, scan);
    if (text == NULL) {
        log_warn("stats read failed", "{s:s}", "error", store_errstr(st));
        http_problem(res, 503, NULL, NULL, "the task store is unreachable; retry");
        return;
    }
    http_respond(res, 200, "application/json", text);
    http_add_header(res, "Cache-Control", "no-store");
    free(text);
}
