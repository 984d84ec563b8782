/* reqguard: refuses browser requests a server must not act on: cross-site
 * requests (CSRF), requests for a host name it does not answer to (DNS
 * rebinding), and form-like bodies sent by a browser. Knows nothing of dts. */
#ifndef DTS_REQGUARD_H
#define DTS_REQGUARD_H

#include <stddef.h>

typedef struct ReqGuard ReqGuard;

/* The parts of a request the guard judges; NULL for an absent header. */
typedef struct GuardRequest {
    const char *method;
    const char *host;         /* Host */
    const char *origin;       /* Origin */
    const char *fetch_site;   /* Sec-Fetch-Site */
    const char *fetch_mode;   /* Sec-Fetch-Mode (only its presence counts) */
    const char *content_type; /* Content-Type */
} GuardRequest;

/* Makes a guard. HOSTS is a comma-separated list of extra host names the
 * server answers to ("dts.example.com,dts-api"; "*" allows any; a leading
 * "." allows a domain's sub-names), NULL or "" for none. CORS_ORIGIN is the
 * one foreign origin allowed ("https://ui.example"), or NULL. Returns NULL
 * with err filled on a bad entry. The caller frees with reqguard_free. */
ReqGuard *reqguard_new(const char *hosts, const char *cors_origin, char *err, size_t errlen);
void reqguard_free(ReqGuard *g);

/* 1 if HOST (a Host header: "name", "name:port", "[v6]:port") is one the
 * guard allows: localhost, an IP literal (which DNS rebinding cannot
 * produce: the browser sends the attacker's name), or a listed name. Pure. */
int reqguard_host_ok(const ReqGuard *g, const char *host);

/* Judges REQ. Returns 0 to serve it, or -1 with WHY (one sentence naming the
 * header) filled. A request without Host is served unless it comes from a
 * browser (which always sends one). Pure: G may be NULL (no extra hosts, no
 * CORS origin). */
int reqguard_check(const ReqGuard *g, const GuardRequest *req, char *why, size_t whylen);

#endif
