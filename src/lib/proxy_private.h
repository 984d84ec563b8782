/* proxy_private: what proxy.c and proxy_stream.c share. */
#ifndef DTS_PROXY_PRIVATE_H
#define DTS_PROXY_PRIVATE_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "httpd.h"
#include "proxy.h"

#define PROXY_MAX_UPSTREAMS 32
#define HEADER_LINE_MAX 1024

typedef struct Upstream {
    char *base;
    atomic_int up;
} Upstream;

struct Proxy {
    ProxyConfig cfg;
    Upstream ups[PROXY_MAX_UPSTREAMS];
    int n;
    atomic_uint next;
    atomic_int stopping;
    pthread_t checker;
    pthread_key_t handle_key;
    atomic_int streams; /* proxied streams open now */
};

/* Copies one response header line (LEN bytes, not NUL-terminated) into
 * LINE (HEADER_LINE_MAX); 0 if it is too long to keep. */
int proxy_header_line(const char *data, size_t len, char line[HEADER_LINE_MAX]);

/* Keeps a response header a browser needs in RES (the content type as a
 * static string when it is a known one). */
void proxy_header_keep(HttpResponse *res, const char *name, const char *value);

/* The request headers forwarded upstream (the caller frees the list). */
struct curl_slist *proxy_request_headers(const HttpRequest *req);

/* PATH with each segment percent-encoded again (the server decoded it); the
 * caller frees it. */
char *proxy_escape_path(CURL *h, const char *path);

/* The next upstream that is up, round robin; -1 if none is. */
int proxy_upstream_pick(Proxy *p);

/* Answers a problem from the proxy itself (see http_problem). */
void proxy_problem(HttpResponse *res, int status, const char *title, const char *detail);

#endif
