/* router: routes are data (method, pattern, handler, scope), matched purely. */
#ifndef DTS_ROUTER_H
#define DTS_ROUTER_H

#include <stddef.h>

#define ROUTER_MAX_PARAMS 4
#define ROUTER_PARAM_MAX 128

typedef struct Route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/api/v1/tasks/{id}/runs": {name} matches one segment */
    void *handler;       /* opaque to the router */
    int scope;           /* opaque to the router: what the caller needs to check */
    const char *name;    /* a short label for metrics and logs */
} Route;

typedef struct RouteMatch {
    const Route *route;
    int nparams;
    char params[ROUTER_MAX_PARAMS][ROUTER_PARAM_MAX]; /* values, in pattern order */
    char allow[64]; /* on ROUTER_METHOD_NOT_ALLOWED: "GET, POST" for an Allow header */
} RouteMatch;

enum { ROUTER_OK = 0, ROUTER_NOT_FOUND = -1, ROUTER_METHOD_NOT_ALLOWED = -2 };

/* Finds the route for METHOD and PATH (no query string) among N routes.
 * Returns ROUTER_OK and fills *m, ROUTER_METHOD_NOT_ALLOWED when the path
 * matches some route but not with this method, or ROUTER_NOT_FOUND. Captured
 * segments longer than ROUTER_PARAM_MAX - 1 or empty never match. Pure. */
int router_match(const Route *routes, size_t n, const char *method, const char *path, RouteMatch *m);

#endif
