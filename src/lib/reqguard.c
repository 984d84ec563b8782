/* reqguard: refuses cross-site, rebinding and form-like browser requests.
 *
 * A request from a shell (curl) carries no Origin and no Sec-Fetch-*, so only
 * its Host is judged. A browser always sends Origin on a cross-origin POST and
 * Sec-Fetch-* on every request (current browsers), so those mark a browser:
 * its Origin must be the server's own (scheme + the Host it asked for) or the
 * configured CORS origin, Sec-Fetch-Site must not be cross-site, and a
 * mutating request must not carry a body type a plain HTML form can send. */
#include "reqguard.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"

struct ReqGuard {
    char **hosts;
    int nhosts;
    char *cors_origin;
};

void reqguard_free(ReqGuard *g)
{
    if (g == NULL)
        return;
    for (int i = 0; i < g->nhosts; i++)
        free(g->hosts[i]);
    free(g->hosts);
    free(g->cors_origin);
    free(g);
}

static int host_name_valid(const char *s)
{
    if (strcmp(s, "*") == 0)
        return 1;
    if (*s == '\0' || strlen(s) > 253)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.' || *p == '_'))
            return 0;
    return 1;
}

ReqGuard *reqguard_new(const char *hosts, const char *cors_origin, char *err, size_t errlen)
{
    ReqGuard *g = xcalloc(1, sizeof *g);
    char *copy = xstrdup(hosts ? hosts : ""), *save = NULL;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (!host_name_valid(tok)) {
            snprintf(err, errlen, "bad allowed host \"%.60s\" (want a DNS name, \".domain\" or \"*\")",
                     tok);
            free(copy);
            reqguard_free(g);
            return NULL;
        }
        g->hosts = xrealloc(g->hosts, (size_t)(g->nhosts + 1) * sizeof *g->hosts);
        g->hosts[g->nhosts++] = xstrdup(tok);
    }
    free(copy);
    g->cors_origin = cors_origin && cors_origin[0] ? xstrdup(cors_origin) : NULL;
    return g;
}

/* Copies the name part of a Host header into OUT (brackets kept off an IPv6
 * literal; *v6 set). Returns -1 if malformed. */
static int host_name(const char *host, char *out, size_t len, int *v6)
{
    const char *end;
    *v6 = host[0] == '[';
    if (*v6) {
        if ((end = strchr(host, ']')) == NULL || (end[1] != '\0' && end[1] != ':'))
            return -1;
        host++;
    } else {
        end = strchr(host, ':');
        end = end ? end : host + strlen(host);
    }
    if ((size_t)(end - host) >= len || end == host)
        return -1;
    memcpy(out, host, (size_t)(end - host));
    out[end - host] = '\0';
    return 0;
}

static int name_listed(const ReqGuard *g, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; g && i < g->nhosts; i++) {
        const char *h = g->hosts[i];
        size_t hl = strlen(h);
        if (strcmp(h, "*") == 0 || strcasecmp(h, name) == 0 ||
            (h[0] == '.' && n > hl && strcasecmp(name + n - hl, h) == 0))
            return 1;
    }
    return 0;
}

int reqguard_host_ok(const ReqGuard *g, const char *host)
{
    char name[256];
    unsigned char buf[16];
    int v6;
    if (host == NULL || host_name(host, name, sizeof name, &v6) != 0)
        return 0;
    if (v6)
        return inet_pton(AF_INET6, name, buf) == 1;
    if (inet_pton(AF_INET, name, buf) == 1 || strcasecmp(name, "localhost") == 0)
        return 1;
    return name_listed(g, name);
}

/* 1 if ORIGIN is scheme://HOST for the Host this request was sent to. */
static int same_origin(const char *origin, const char *host)
{
    const char *rest = strncasecmp(origin, "http://", 7) == 0    ? origin + 7
                       : strncasecmp(origin, "https://", 8) == 0 ? origin + 8
                                                                 : NULL;
    return rest != NULL && host != NULL && strcasecmp(rest, host) == 0;
}

static int media_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    ct += strspn(ct, " \t");
    return strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* A body type an HTML form (or a no-preflight fetch) can send. */
static int form_like(const char *ct)
{
    return ct != NULL && (media_is(ct, "application/x-www-form-urlencoded") ||
                          media_is(ct, "multipart/form-data") || media_is(ct, "text/plain"));
}

static int safe_method(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0;
}

int reqguard_check(const ReqGuard *g, const GuardRequest *req, char *why, size_t whylen)
{
    int browser = req->origin != NULL || req->fetch_site != NULL || req->fetch_mode != NULL;
    const char *cors = g ? g->cors_origin : NULL;
    /* No Host at all (HTTP/1.0 health checkers) is never a browser's request. */
    if (req->host == NULL ? browser : !reqguard_host_ok(g, req->host))
        snprintf(why, whylen, "Host is not a name this server answers to (add it to --allowed-hosts)");
    else if (req->origin != NULL && !same_origin(req->origin, req->host) &&
             (cors == NULL || strcmp(req->origin, cors) != 0))
        snprintf(why, whylen, "Origin is neither this server nor the configured --cors-origin");
    else if (req->fetch_site != NULL && strcasecmp(req->fetch_site, "cross-site") == 0 &&
             (cors == NULL || req->origin == NULL || strcmp(req->origin, cors) != 0))
        snprintf(why, whylen, "Sec-Fetch-Site: cross-site requests are refused");
    else if (browser && !safe_method(req->method) && form_like(req->content_type))
        snprintf(why, whylen, "Content-Type: a browser must send the body as application/json");
    else
        return 0;
    return -1;
}
