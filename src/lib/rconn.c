/* rconn: one synchronous Redis connection that reconnects with backoff. */
#include "rconn.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mem.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000
#define IO_TIMEOUT_S 10

static int parse_authority(RConn *rc, const char *s, char *err, size_t errlen)
{
    const char *at = strrchr(s, '@');
    if (at != NULL) {
        const char *colon = memchr(s, ':', (size_t)(at - s));
        if (colon == NULL) {
            snprintf(err, errlen, "redis URL: userinfo must be [user]:password");
            return -1;
        }
        if (colon > s)
            rc->user = xstrndup(s, (size_t)(colon - s));
        rc->password = xstrndup(colon + 1, (size_t)(at - colon - 1));
        s = at + 1;
    }
    const char *slash = strchr(s, '/');
    size_t hostlen = slash ? (size_t)(slash - s) : strlen(s);
    const char *colon = memchr(s, ':', hostlen);
    rc->port = 6379;
    if (colon != NULL) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (end != s + hostlen || port <= 0 || port > 65535) {
            snprintf(err, errlen, "redis URL: bad port");
            return -1;
        }
        rc->port = (int)port;
        hostlen = (size_t)(colon - s);
    }
    rc->host = hostlen ? xstrndup(s, hostlen) : xstrdup("127.0.0.1");
    if (slash != NULL && slash[1] != '\0') {
        char *end;
        rc->db = (int)strtol(slash + 1, &end, 10);
        if (*end != '\0' || rc->db < 0) {
            snprintf(err, errlen, "redis URL: bad database number");
            return -1;
        }
    }
    return 0;
}

RConn *rconn_new(const char *url, char *err, size_t errlen)
{
    RConn *rc = xcalloc(1, sizeof *rc);
    if (strncmp(url, "unix://", 7) == 0) {
        if (url[7] == '\0') {
            snprintf(err, errlen, "redis URL: unix:// needs a path");
            goto err;
        }
        rc->path = xstrdup(url + 7);
    } else if (strncmp(url, "redis://", 8) == 0) {
        if (parse_authority(rc, url + 8, err, errlen) != 0)
            goto err;
    } else {
        snprintf(err, errlen, "redis URL must start with redis:// or unix:// (got \"%.40s\")", url);
        goto err;
    }
    return rc;
err:
    rconn_free(rc);
    return NULL;
}

void rconn_drop(RConn *rc)
{
    if (rc->ctx != NULL) {
        redisFree(rc->ctx);
        rc->ctx = NULL;
    }
}

void rconn_free(RConn *rc)
{
    if (rc == NULL)
        return;
    rconn_drop(rc);
    free(rc->host);
    free(rc->path);
    free(rc->password);
    free(rc->user);
    free(rc);
}

static int fail(RConn *rc, const char *why)
{
    rc->err = -1;
    snprintf(rc->errstr, sizeof rc->errstr, "%s", why);
    rconn_drop(rc);
    int64_t now = clock_mono_ms();
    rc->backoff_ms = rc->backoff_ms ? rc->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (rc->backoff_ms > BACKOFF_MAX_MS)
        rc->backoff_ms = BACKOFF_MAX_MS;
    rc->retry_at_ms = now + rc->backoff_ms;
    return -1;
}

static int handshake(RConn *rc)
{
    redisReply *r = NULL;
    if (rc->password != NULL)
        r = rc->user ? redisCommand(rc->ctx, "AUTH %s %s", rc->user, rc->password)
                     : redisCommand(rc->ctx, "AUTH %s", rc->password);
    if (rc->password != NULL && (r == NULL || r->type == REDIS_REPLY_ERROR)) {
        freeReplyObject(r);
        return fail(rc, "redis AUTH failed");
    }
    freeReplyObject(r);
    if (rc->db != 0) {
        r = redisCommand(rc->ctx, "SELECT %d", rc->db);
        int bad = r == NULL || r->type == REDIS_REPLY_ERROR;
        freeReplyObject(r);
        if (bad)
            return fail(rc, "redis SELECT failed");
    }
    return 0;
}

int rconn_ensure(RConn *rc)
{
    if (rc->ctx != NULL)
        return 0;
    if (clock_mono_ms() < rc->retry_at_ms)
        return -1;
    struct timeval tv = {.tv_sec = 2};
    rc->ctx = rc->path ? redisConnectUnixWithTimeout(rc->path, tv)
                       : redisConnectWithTimeout(rc->host, rc->port, tv);
    if (rc->ctx == NULL || rc->ctx->err) {
        char why[128];
        snprintf(why, sizeof why, "redis connect: %s", rc->ctx ? rc->ctx->errstr : "out of memory");
        return fail(rc, why);
    }
    /* hiredis opens without SOCK_CLOEXEC: an authenticated socket must never
     * reach a child (actions are exec'd by the executor). */
    fcntl(rc->ctx->fd, F_SETFD, FD_CLOEXEC);
    struct timeval io = {.tv_sec = IO_TIMEOUT_S};
    const char *seam = getenv("DTS_REDIS_TIMEOUT_MS"); /* test seam: a short I/O timeout */
    if (seam != NULL && atoll(seam) > 0)
        io = (struct timeval){.tv_sec = atoll(seam) / 1000, .tv_usec = atoll(seam) % 1000 * 1000};
    redisSetTimeout(rc->ctx, io);
    redisEnableKeepAlive(rc->ctx);
    if (handshake(rc) != 0)
        return -1;
    if (rc->backoff_ms != 0) {
        rc->reconnects++;
        log_info("redis reconnected", "{s:i}", "reconnects", (int)rc->reconnects);
    }
    rc->backoff_ms = 0;
    rc->err = 0;
    return 0;
}

static redisReply *finish(RConn *rc, void *reply)
{
    redisReply *r = reply;
    if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "READONLY", 8) == 0) {
        /* We are talking to a replica (a primary demoted by a failover): the
         * next call reconnects through the address, to the new primary. */
        rconn_drop(rc);
        rc->backoff_ms = BACKOFF_MIN_MS;
        rc->retry_at_ms = clock_mono_ms() + BACKOFF_MIN_MS;
        return reply;
    }
    if (reply == NULL) {
        char why[128];
        snprintf(why, sizeof why, "redis: %s", rc->ctx ? rc->ctx->errstr : "not connected");
        fail(rc, why);
        return NULL;
    }
    rc->err = 0;
    rc->last_ok_ms = clock_mono_ms();
    return reply;
}

/* A connection quiet for this long may have been cut while idle (a Redis
 * restart leaves every pooled connection dead). It is probed with a PING
 * first, and re-made at once (without backoff) if the PING fails. A command
 * itself is sent exactly once: a write whose reply timed out may have been
 * applied, so resending it could apply it twice (a trigger run twice, a create
 * answered as a conflict). Its failure is returned to the caller instead. */
#define STALE_AFTER_MS 1000

static int maybe_stale(const RConn *rc)
{
    return rc->ctx != NULL && clock_mono_ms() - rc->last_ok_ms > STALE_AFTER_MS;
}

static void probe_stale(RConn *rc)
{
    redisReply *r = redisCommand(rc->ctx, "PING");
    if (r == NULL) {
        rconn_drop(rc);
        rc->retry_at_ms = 0;
    } else {
        rc->last_ok_ms = clock_mono_ms();
    }
    freeReplyObject(r);
}

/* Sends one formatted command once and reads its reply. Frees CMD. */
static redisReply *send_formatted(RConn *rc, char *cmd, long long len)
{
    if (len < 0)
        return NULL;
    if (maybe_stale(rc))
        probe_stale(rc);
    redisReply *r = NULL;
    if (rconn_ensure(rc) == 0) {
        void *reply = NULL;
        if (redisAppendFormattedCommand(rc->ctx, cmd, (size_t)len) == REDIS_OK)
            redisGetReply(rc->ctx, &reply);
        r = finish(rc, reply);
    }
    redisFreeCommand(cmd);
    return r;
}

redisReply *rconn_argv(RConn *rc, int argc, const char **argv, const size_t *lens)
{
    char *cmd = NULL;
    long long len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    return send_formatted(rc, cmd, len);
}

redisReply *rconn_cmd(RConn *rc, const char *fmt, ...)
{
    char *cmd = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    return send_formatted(rc, cmd, len);
}

int rconn_append_argv(RConn *rc, int argc, const char **argv, const size_t *lens)
{
    if (rconn_ensure(rc) != 0)
        return -1;
    if (redisAppendCommandArgv(rc->ctx, argc, argv, lens) != REDIS_OK)
        return fail(rc, "redis: append failed");
    return 0;
}

int rconn_append(RConn *rc, const char *fmt, ...)
{
    if (rconn_ensure(rc) != 0)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int rv = redisvAppendCommand(rc->ctx, fmt, ap);
    va_end(ap);
    if (rv != REDIS_OK)
        return fail(rc, "redis: append failed");
    return 0;
}

redisReply *rconn_read(RConn *rc)
{
    void *reply = NULL;
    if (rc->ctx == NULL)
        return NULL;
    if (redisGetReply(rc->ctx, &reply) != REDIS_OK)
        reply = NULL;
    return finish(rc, reply);
}
