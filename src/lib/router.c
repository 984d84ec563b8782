/* router: routes are data (method, pattern, handler, scope), matched purely. */
#include "router.h"

#include <stdio.h>
#include <string.h>

/* Matches PATH against PATTERN segment by segment, capturing {name} segments. */
static int path_match(const char *pattern, const char *path, RouteMatch *m)
{
    const char *p = pattern, *s = path;
    m->nparams = 0;
    while (*p != '\0' && *s != '\0') {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t len = strcspn(s, "/");
            if (close == NULL || len == 0 || len >= ROUTER_PARAM_MAX || m->nparams == ROUTER_MAX_PARAMS)
                return 0;
            memcpy(m->params[m->nparams], s, len);
            m->params[m->nparams++][len] = '\0';
            p = close + 1;
            s += len;
        } else if (*p++ != *s++) {
            return 0;
        }
    }
    return *p == '\0' && *s == '\0';
}

int router_match(const Route *routes, size_t n, const char *method, const char *path, RouteMatch *m)
{
    int path_seen = 0;
    char allow[sizeof m->allow] = "";
    for (size_t i = 0; i < n; i++) {
        if (!path_match(routes[i].pattern, path, m))
            continue;
        path_seen = 1;
        if (strcmp(routes[i].method, method) == 0) {
            m->route = &routes[i];
            return ROUTER_OK;
        }
        size_t used = strlen(allow);
        if (used + strlen(routes[i].method) + 3 < sizeof allow)
            snprintf(allow + used, sizeof allow - used, "%s%s", used ? ", " : "", routes[i].method);
    }
    memcpy(m->allow, allow, sizeof allow);
    return path_seen ? ROUTER_METHOD_NOT_ALLOWED : ROUTER_NOT_FOUND;
}
