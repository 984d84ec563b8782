/* httpd: a small HTTP server over libmicrohttpd's thread pool. */
#ifndef DTS_HTTPD_H
#define DTS_HTTPD_H

#include <stddef.h>

#include "reqguard.h"

#define HTTPD_MAX_HEADERS 8

typedef struct HttpServer HttpServer;

typedef struct HttpRequest {
    const char *method;
    const char *path; /* without the query string */
    const char *body; /* NUL-terminated; body_len bytes may include NULs */
    size_t body_len;
    void *conn; /* private: the MHD connection */
} HttpRequest;

typedef struct HttpResponse {
    int status;
    char *body; /* owned: freed by the server after sending */
    size_t body_len;
    const char *content_type;
    int nheaders;
    char *headers[HTTPD_MAX_HEADERS][2]; /* owned name/value pairs */
} HttpResponse;

/* Handles one request; fills *res. Called from pool threads, concurrently. */
typedef void (*http_handler_cb)(const HttpRequest *req, HttpResponse *res, void *ud);

typedef struct HttpConfig {
    const char *listen; /* "HOST:PORT", "[::1]:PORT"; port 0 picks a free one */
    size_t max_body;    /* larger bodies get 413 without reaching the handler */
    unsigned threads;
    unsigned max_connections;
    unsigned per_ip_connections; /* connections one client address may hold; 0: 64 */
    unsigned idle_timeout_s;     /* an idle or half-sent connection is closed after this; 0: 10 */
    const ReqGuard *guard; /* cross-site and Host checks before the handler; NULL: loopback
                            * names and IP literals only, no CORS origin */
    http_handler_cb handler;
    void *ud;
} HttpConfig;

/* Starts serving. Returns NULL and fills err if the address cannot be bound.
 * The caller stops it with httpd_stop. */
HttpServer *httpd_start(const HttpConfig *cfg, char *err, size_t errlen);

/* The port actually bound (useful with port 0). */
int httpd_port(const HttpServer *srv);

/* Stops accepting, finishes in-flight requests, frees; NULL is a no-op. */
void httpd_stop(HttpServer *srv);

/* A request header (case-insensitive name) or query argument, or NULL. */
const char *http_header(const HttpRequest *req, const char *name);
const char *http_query(const HttpRequest *req, const char *name);

/* Response helpers: set the status and take a copy of the text as the body. */
void http_respond(HttpResponse *res, int status, const char *content_type, const char *body);
/* Adds a header to the response (copies both strings); ignored past the max. */
void http_add_header(HttpResponse *res, const char *name, const char *value);

/* 1 if PATH (decoded, without the query) is safe to map or forward: it starts
 * with '/', has no empty, "." or ".." segment, and no control byte, '?', '#'
 * or '\\'. Pure. */
int http_path_safe(const char *path);

/* 1 if LISTEN ("HOST:PORT") is a loopback address. */
int http_is_loopback(const char *listen);


#endif
