/* httpd: a small HTTP server over libmicrohttpd's thread pool. */
#ifndef DTS_HTTPD_H
#define DTS_HTTPD_H

#include <jansson.h>
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
    struct HttpStream *stream;           /* private: set by http_respond_stream */
} HttpResponse;

/* Handles one request; fills *res. Called from pool threads, concurrently. */
typedef void (*http_handler_cb)(const HttpRequest *req, HttpResponse *res, void *ud);

typedef struct HttpConfig {
    const char *listen; /* "HOST:PORT", "[::1]:PORT"; port 0 picks a free one */
    size_t max_body;    /* larger bodies get 413 without reaching the handler */
    /* Optional: the body limit of one route, from its method and path (0:
     * max_body), for the few routes that take larger bodies. Pure, any thread. */
    size_t (*max_body_for)(const char *method, const char *path);
    unsigned threads;
    unsigned max_connections;
    unsigned per_ip_connections; /* connections one client address may hold; 0: 64 */
    unsigned idle_timeout_s;     /* an idle or half-sent connection is closed after this; 0: 10 */
    const ReqGuard *guard;       /* cross-site and Host checks before the handler; NULL: loopback
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
/* Every value of the query argument NAME, in order: up to MAX into OUT
 * (pointers valid while the request is). Returns how many there are, which
 * may exceed MAX. */
int http_query_all(const HttpRequest *req, const char *name, const char **out, int max);

/* Calls CB for every query argument in order (VALUE NULL for a bare "?key");
 * stops at the first call that returns non-zero. Returns that value, or 0. */
typedef int (*http_arg_cb)(void *ud, const char *key, const char *value);
int http_query_each(const HttpRequest *req, http_arg_cb cb, void *ud);

/* An RFC 9457 problem object {type, title, status[, detail][, field]} (TITLE
 * NULL: the status's reason phrase; DETAIL or FIELD NULL: left out), for a
 * caller that embeds it (a batch item's result); a new reference. */
json_t *http_problem_json(int status, const char *title, const char *field, const char *detail);

/* Answers an RFC 9457 problem: STATUS with an application/problem+json body
 * {type: "about:blank", title, status, detail, field}. TITLE NULL: the
 * status's reason phrase; DETAIL and FIELD NULL: left out. Every string is
 * JSON-escaped. */
void http_problem(HttpResponse *res, int status, const char *title, const char *field, const char *detail);

/* Response helpers: set the status and take a copy of the text as the body. */
void http_respond(HttpResponse *res, int status, const char *content_type, const char *body);
/* Adds a header to the response (copies both strings); ignored past the max. */
void http_add_header(HttpResponse *res, const char *name, const char *value);

/* Streamed bodies (Server-Sent Events, proxied streams): a body of unknown
 * length that the server pulls from the handler's READ callback, chunk by
 * chunk, after the handler has returned. A stream with nothing to send is
 * parked: it holds no thread until http_stream_wake. */
typedef struct HttpStream HttpStream;

/* Writes the next part of the body into BUF (at most MAX bytes) and returns
 * its length; returns 0 when nothing is ready (the connection is parked until
 * http_stream_wake), or -1 to end the body. Called from a pool thread, never
 * twice at once for one stream. */
typedef long (*http_stream_read_cb)(void *ud, char *buf, size_t max);

/* Called exactly once when the stream is over (body ended, client gone, or
 * the server stopped): the last use of UD and of the stream's handle. */
typedef void (*http_stream_done_cb)(void *ud);

/* Makes RES a streamed response to REQ with STATUS and CONTENT_TYPE (headers
 * added with http_add_header still apply). Returns the handle to wake it
 * with, which the caller owns one reference of and gives back with
 * http_stream_release (typically in DONE); DONE is called even if the
 * response is never sent. */
HttpStream *http_respond_stream(const HttpRequest *req, HttpResponse *res, int status,
                                const char *content_type, http_stream_read_cb read,
                                http_stream_done_cb done, void *ud);

/* Asks for READ to be called again soon (new data, or time to end); from any
 * thread, while holding a reference, and never while holding a lock that
 * DONE takes (the server may run DONE under its own locks). Does nothing
 * once the stream is over. */
void http_stream_wake(HttpStream *s);

/* Takes one more reference to S (the caller must already hold one, or know
 * that DONE has not run, e.g. under the lock DONE takes); http_stream_release
 * gives one back and frees the handle with the last. NULL is a no-op. */
void http_stream_hold(HttpStream *s);
void http_stream_release(HttpStream *s);

/* 1 if the client of stream S has closed its side (a parked stream notices
 * nothing by itself); the owner then ends the stream. Any thread. */
int http_stream_gone(const HttpStream *s);

/* 1 if PATH (decoded, without the query) is safe to map or forward: it starts
 * with '/', has no empty, "." or ".." segment, and no control byte, '?', '#'
 * or '\\'. Pure. */
int http_path_safe(const char *path);

/* 1 if LISTEN ("HOST:PORT") is a loopback address. */
int http_is_loopback(const char *listen);

#endif
