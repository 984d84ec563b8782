/* action_http: the "http" action kind's validation: method, an http(s) URL,
 * headers that can neither smuggle a second header nor spoof dts's own, and
 * a bounded body. Where the request may go is decided when it is sent
 * (webhook.c, through the executor's address policy). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "action_kind.h"
#include "task_private.h"
#include "whsig.h"

static int method_known(const char *const *methods, const char *m)
{
    for (; *methods; methods++)
        if (strcmp(*methods, m) == 0)
            return 1;
    return 0;
}

/* Headers dts sets itself, or that would change how the request is framed. */
static const char *const header_reserved[] = {
    "Idempotency-Key",   "Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect",
    "Upgrade",           "TE",   "Trailer",        "Keep-Alive",        "webhook-id", "webhook-timestamp",
    "webhook-signature", NULL};

/* Header values may not smuggle a second header, nor spoof dts's own. */
static int header_ok(const char *name, const char *value)
{
    if (name[0] == '\0' || strpbrk(name, " \t\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
        return 0;
    if (strncasecmp(name, "X-Dts-", 6) == 0)
        return 0;
    for (const char *const *r = header_reserved; *r; r++)
        if (strcasecmp(name, *r) == 0)
            return 0;
    return 1;
}

static int check_headers(json_t *headers, TaskError *err)
{
    const char *key;
    json_t *v;
    if (!json_is_object(headers) || json_object_size(headers) > TASK_HTTP_HEADERS_MAX) {
        task_fail(err, "action.headers", "must be an object of at most %d string headers",
                  TASK_HTTP_HEADERS_MAX);
        return -1;
    }
    json_object_foreach(headers, key, v)
    {
        char field[64];
        snprintf(field, sizeof field, "action.headers.%.40s", key);
        if (task_check_string(v, field, 8192, 0, err) != 0)
            return -1;
        if (!header_ok(key, json_string_value(v))) {
            task_fail(err, field,
                      "is not a header a task may set (names without spaces or colons; "
                      "no line breaks; X-Dts-*, webhook-*, Idempotency-Key, Host, Content-Length, "
                      "Transfer-Encoding, "
                      "Connection and other framing headers are set by dts)");
            return -1;
        }
    }
    return 0;
}

/* "signing_secret": a Standard Webhooks secret, "whsec_" and base64. */
static int check_signing_secret(json_t *secret, TaskError *err)
{
    char why[192];
    if (secret == NULL)
        return 0;
    if (task_check_string(secret, "action.signing_secret", WHSIG_SECRET_MAX, 1, err) != 0)
        return -1;
    if (whsig_secret_check(json_string_value(secret), why, sizeof why) != 0) {
        task_fail(err, "action.signing_secret", "%s", why);
        return -1;
    }
    return 0;
}

int action_http_validate(json_t *action, TaskError *err)
{
    static const char *const keys[] = {"type", "method", "url", "headers", "body", "signing_secret", NULL};
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", NULL};
    if (task_only_keys(action, keys, "action", err) != 0)
        return -1;
    json_t *method = json_object_get(action, "method"), *url = json_object_get(action, "url");
    if (method == NULL)
        json_object_set_new(action, "method", method = json_string("POST"));
    if (!json_is_string(method) || !method_known(methods, json_string_value(method))) {
        task_fail(err, "action.method", "must be GET, POST, PUT, PATCH, DELETE or HEAD");
        return -1;
    }
    if (url == NULL) {
        task_fail(err, "action.url", "is required");
        return -1;
    }
    if (task_check_string(url, "action.url", TASK_URL_MAX, 1, err) != 0)
        return -1;
    const char *u = json_string_value(url);
    if ((strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) || strpbrk(u, " \r\n") != NULL) {
        task_fail(err, "action.url", "must be an http:// or https:// URL");
        return -1;
    }
    json_t *headers = json_object_get(action, "headers"), *body = json_object_get(action, "body");
    if (headers != NULL && check_headers(headers, err) != 0)
        return -1;
    if (body != NULL && task_check_string(body, "action.body", TASK_HTTP_BODY_MAX, 0, err) != 0)
        return -1;
    return check_signing_secret(json_object_get(action, "signing_secret"), err);
}
