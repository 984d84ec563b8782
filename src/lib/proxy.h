/* proxy: forwards HTTP requests to a pool of upstreams, round robin, skipping
 * those whose health check fails. Knows nothing of dts: upstreams are base
 * URLs and the health check is a path that answers 200 when ready. */
#ifndef DTS_PROXY_H
#define DTS_PROXY_H

#include "httpd.h"

typedef struct Proxy Proxy;

typedef struct ProxyConfig {
    const char *upstreams;   /* "http://h:p[,http://h2:p2...]": base URLs, no trailing path */
    const char *health_path; /* "/readyz" */
    int check_ms;            /* time between health checks */
    int timeout_ms;          /* whole-request timeout for forwarded requests */
    size_t max_response;     /* larger upstream bodies are answered with 502 */
    const char *auth_path;   /* if set, an upstream is up only while an anonymous GET of this
                              * path answers 401 (it enforces credentials); NULL: no check */
} ProxyConfig;

/* Parses the upstream list and starts the health-check thread (the first round
 * runs before this returns). Returns NULL with err filled on a bad list. The
 * caller frees with proxy_free. */
Proxy *proxy_new(const ProxyConfig *cfg, char *err, size_t errlen);

/* Stops the health checks and frees; NULL is a no-op. */
void proxy_free(Proxy *p);

/* How many upstreams passed their last health check (and the auth check). */
int proxy_healthy(const Proxy *p);

/* Forwards REQ, with QUERY ("a=1&b=2", already encoded, or "") appended to its
 * path, to the next healthy upstream and fills RES with the upstream's answer:
 * status, body, and the headers a browser needs (Content-Type, ETag,
 * Location, Allow, Cache-Control). An upstream that refuses the connection is
 * marked down and the next one is tried. When none can answer, RES is a 502
 * or 503 problem. Thread-safe: each calling thread keeps its own connections. */
void proxy_forward(Proxy *p, const HttpRequest *req, const char *query, HttpResponse *res);

#define PROXY_STREAMS_MAX 256

/* Like proxy_forward, for a response that is a stream (Server-Sent Events):
 * when the upstream answers 200, its body is passed on as it arrives, never
 * buffered whole, until either side ends it or the proxy is freed; any other
 * answer is passed on as proxy_forward would. At most PROXY_STREAMS_MAX at
 * once (503 past it). Each open stream holds one thread. */
void proxy_forward_stream(Proxy *p, const HttpRequest *req, const char *query, HttpResponse *res);

/* Ends every open stream (within about a second) and waits, at most WAIT_MS,
 * for them to be gone; call before stopping the server that carries them. */
void proxy_streams_end(Proxy *p, int wait_ms);

#endif
