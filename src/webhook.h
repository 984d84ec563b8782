/* webhook: HTTP actions, many in flight on one thread (libcurl's multi interface). */
#ifndef DTS_WEBHOOK_H
#define DTS_WEBHOOK_H

#include <jansson.h>

#include "action.h"
#include "netacl.h"

typedef struct WebhookEngine WebhookEngine;

/* Called on the engine's thread when a call ends; RES is valid during the call
 * (its output is freed after). */
typedef void (*webhook_done_cb)(void *ud, ActionResult *res);

typedef struct WebhookConfig {
    const NetAcl *allow; /* internal addresses allowed; borrowed */
    long connect_timeout_ms;
    size_t body_cap; /* bytes of response body recorded */
} WebhookConfig;

/* Starts the engine's thread. NULL with err filled on failure. */
WebhookEngine *webhook_start(const WebhookConfig *cfg, char *err, size_t errlen);

/* Queues the "http" ACTION (borrowed until DONE is called) under CTX (also
 * borrowed: ctx->cancel aborts the call). DONE is always called, exactly once. */
void webhook_submit(WebhookEngine *eng, const json_t *action, const ActionContext *ctx,
                    webhook_done_cb done, void *ud);

/* Cancels what is in flight (each gets DONE as a failed run), stops, frees. */
void webhook_stop(WebhookEngine *eng);

#endif
