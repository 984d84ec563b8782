/* fuzz_router: libFuzzer target for HTTP routing and path parsing
 * (router_match) over the api's route patterns. Input: METHOD, a NUL or
 * space, then the path bytes. Checks the contract: captured parameters are
 * non-empty, shorter than ROUTER_PARAM_MAX and hold no '/'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

/* The api's table (src/api.c), patterns only: routes are data. */
static const Route routes[] = {
    {"POST", "/api/v1/tasks", NULL, 0, "tasks.create"},
    {"GET", "/api/v1/tasks", NULL, 0, "tasks.list"},
    {"GET", "/api/v1/tasks/{id}", NULL, 0, "tasks.get"},
    {"PUT", "/api/v1/tasks/{id}", NULL, 0, "tasks.replace"},
    {"DELETE", "/api/v1/tasks/{id}", NULL, 0, "tasks.delete"},
    {"POST", "/api/v1/tasks/{id}/pause", NULL, 0, "tasks.pause"},
    {"POST", "/api/v1/tasks/{id}/resume", NULL, 0, "tasks.resume"},
    {"POST", "/api/v1/tasks/{id}/trigger", NULL, 0, "tasks.trigger"},
    {"GET", "/api/v1/tasks/{id}/runs", NULL, 0, "runs.list"},
    {"GET", "/api/v1/dead", NULL, 0, "dead.list"},
    {"POST", "/api/v1/cron/preview", NULL, 0, "cron.preview"},
    {"POST", "/api/v1/dead/{id}/retry", NULL, 0, "dead.retry"},
    {"GET", "/api/v1/events", NULL, 0, "events.get"},
    {"GET", "/api/v1/stats", NULL, 0, "stats.get"},
    {"GET", "/x/{a}/{b}/{c}/{d}", NULL, 0, "four"}, /* every parameter slot */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *path = buf + strcspn(buf, " ");
    if (*path)
        *path++ = '\0';
    else
        path = buf + strlen(buf); /* no separator: empty path */
    RouteMatch m;
    int rv = router_match(routes, sizeof routes / sizeof routes[0], buf, path, &m);
    if (rv == ROUTER_OK) {
        if (m.route == NULL || m.nparams < 0 || m.nparams > ROUTER_MAX_PARAMS)
            abort();
        for (int i = 0; i < m.nparams; i++) {
            size_t n = strnlen(m.params[i], ROUTER_PARAM_MAX);
            if (n == 0 || n >= ROUTER_PARAM_MAX || strchr(m.params[i], '/'))
                abort();
        }
    } else if (rv == ROUTER_METHOD_NOT_ALLOWED) {
        if (strnlen(m.allow, sizeof m.allow) == sizeof m.allow)
            abort();
    } else if (rv != ROUTER_NOT_FOUND) {
        abort();
    }
    free(buf);
    return 0;
}
