/* rconn: one synchronous Redis connection that reconnects with backoff. */
#include "rconn.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "num.h"
#include "rcluster.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000
/* Behind Sentinel a reconnect asks the sentinels first: a new primary is
 * usually named within a second or two, so the retries stay frequent. */
#define BACKOFF_MAX_SENTINEL_MS 250
#define IO_TIMEOUT_S 10

/* Takes "[user]:password@" off the front of *S into RC. */
static int parse_userinfo(RConn *rc, const char **s, char *err, size_t errlen)
{
    const char *at = strrchr(*s, '@');
    if (at != NULL) {
        const char *colon = memchr(*s, ':', (size_t)(at - *s));
        if (colon == NULL) {
            snprintf(err, errlen, "redis URL: userinfo must be [user]:password");
            return -1;
        }
        if (colon > *s)
            rc->user = xstrndup(*s, (size_t)(colon - *s));
        rc->password = xstrndup(colon + 1, (size_t)(at - colon - 1));
        *s = at + 1;
    }
    return 0;
}

static int parse_authority(RConn *rc, const char *s, char *err, size_t errlen)
{
    if (parse_userinfo(rc, &s, err, errlen) != 0)
        return -1;
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

/* Parses "host:port[,host:port...]" (LEN bytes of S) into N hosts and ports. */
static int parse_hosts(const char *s, size_t len, char ***hosts, int **ports, int *n, char *err,
                       size_t errlen)
{
    *n = 0;
    if (len > 0 && s[len - 1] == ',') {
        snprintf(err, errlen, "redis URL: a node list may not end with a comma");
        return -1;
    }
    for (const char *p = s; p < s + len;) {
        const char *end = memchr(p, ',', (size_t)(s + len - p));
        end = end ? end : s + len;
        const char *colon = memchr(p, ':', (size_t)(end - p));
        char *pend;
        long port = colon ? strtol(colon + 1, &pend, 10) : 0;
        if (colon == NULL || colon == p || pend != end || port <= 0 || port > 65535) {
            snprintf(err, errlen, "redis URL: each node must be HOST:PORT (got \"%.*s\")",
                     (int)(end - p > 40 ? 40 : end - p), p);
            return -1;
        }
        *hosts = xrealloc(*hosts, (size_t)(*n + 1) * sizeof **hosts);
        *ports = xrealloc(*ports, (size_t)(*n + 1) * sizeof **ports);
        (*hosts)[*n] = xstrndup(p, (size_t)(colon - p));
        (*ports)[(*n)++] = (int)port;
        p = end + (end < s + len);
    }
    if (*n == 0) {
        snprintf(err, errlen, "redis URL: no HOST:PORT given");
        return -1;
    }
    return 0;
}

static void hosts_free(char **hosts, int *ports, int n)
{
    for (int i = 0; i < n; i++)
        free(hosts[i]);
    free(hosts);
    free(ports);
}

static int parse_cluster(RConn *rc, const char *s, char *err, size_t errlen)
{
    char **hosts = NULL;
    int *ports = NULL, n = 0;
    if (parse_userinfo(rc, &s, err, errlen) != 0)
        return -1;
    int rv = parse_hosts(s, strlen(s), &hosts, &ports, &n, err, errlen);
    if (rv == 0)
        rc->cluster = rcluster_new(hosts, ports, n, rc->user, rc->password);
    hosts_free(hosts, ports, n);
    return rv;
}

static int parse_sentinel(RConn *rc, const char *s, char *err, size_t errlen)
{
    if (parse_userinfo(rc, &s, err, errlen) != 0)
        return -1;
    const char *slash = strchr(s, '/');
    if (slash == NULL || slash[1] == '\0' || strchr(slash + 1, '/') != NULL) {
        snprintf(err, errlen, "redis URL: redis-sentinel:// needs /MASTER_NAME after the sentinels");
        return -1;
    }
    rc->master = xstrdup(slash + 1);
    rc->host = xstrdup("");
    return parse_hosts(s, (size_t)(slash - s), &rc->sentinel_hosts, &rc->sentinel_ports, &rc->nsentinels,
                       err, errlen);
}

RConn *rconn_node_new(const char *host, int port, const char *user, const char *password)
{
    RConn *rc = xcalloc(1, sizeof *rc);
    rc->host = xstrdup(host);
    rc->port = port;
    rc->user = user ? xstrdup(user) : NULL;
    rc->password = password ? xstrdup(password) : NULL;
    return rc;
}

RConn *rconn_new(const char *url, char *err, size_t errlen)
{
    RConn *rc = xcalloc(1, sizeof *rc);
    if (strncmp(url, "redis-cluster://", 16) == 0) {
        if (parse_cluster(rc, url + 16, err, errlen) != 0)
            goto err;
    } else if (strncmp(url, "redis-sentinel://", 17) == 0) {
        if (parse_sentinel(rc, url + 17, err, errlen) != 0)
            goto err;
    } else if (strncmp(url, "unix://", 7) == 0) {
        if (url[7] == '\0') {
            snprintf(err, errlen, "redis URL: unix:// needs a path");
            goto err;
        }
        rc->path = xstrdup(url + 7);
    } else if (strncmp(url, "redis://", 8) == 0) {
        if (parse_authority(rc, url + 8, err, errlen) != 0)
            goto err;
    } else {
        snprintf(err, errlen,
                 "redis URL must start with redis://, unix://, redis-cluster:// or redis-sentinel:// "
                 "(got \"%.40s\")",
                 url);
        goto err;
    }
    return rc;
err:
    rconn_free(rc);
    return NULL;
}

void rconn_drop(RConn *rc)
{
    if (rc->cluster != NULL)
        rcluster_drop(rc);
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
    rcluster_free(rc->cluster);
    hosts_free(rc->sentinel_hosts, rc->sentinel_ports, rc->nsentinels);
    free(rc->master);
    free(rc);
}

static int fail(RConn *rc, const char *why)
{
    rc->err = -1;
    snprintf(rc->errstr, sizeof rc->errstr, "%s", why);
    rconn_drop(rc);
    int64_t now = clock_mono_ms();
    rc->backoff_ms = rc->backoff_ms ? rc->backoff_ms * 2 : BACKOFF_MIN_MS;
    int max = rc->master != NULL ? BACKOFF_MAX_SENTINEL_MS : BACKOFF_MAX_MS;
    if (rc->backoff_ms > max)
        rc->backoff_ms = max;
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
    if (rc->cluster != NULL)
        return rcluster_ensure(rc);
    if (rc->ctx != NULL)
        return 0;
    if (clock_mono_ms() < rc->retry_at_ms)
        return -1;
    if (rc->master != NULL && rsentinel_locate(rc) != 0) { /* re-asked on every reconnect */
        char why[sizeof rc->errstr];
        memcpy(why, rc->errstr, sizeof why);
        return fail(rc, why);
    }
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
    long long seam; /* test seam: a short I/O timeout */
    if (num_parse(getenv("DTS_REDIS_TIMEOUT_MS"), 1, LLONG_MAX, &seam) == 0)
        io = (struct timeval){.tv_sec = seam / 1000, .tv_usec = seam % 1000 * 1000};
    redisSetTimeout(rc->ctx, io);
    redisEnableKeepAlive(rc->ctx);
    if (handshake(rc) != 0)
        return -1;
    if (rc->master != NULL && rsentinel_verify(rc) != 0)
        return fail(rc, "redis: the sentinels' primary does not answer ROLE as a master (yet)");
    rc->conns++;
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

redisReply *rconn_send_formatted(RConn *rc, const char *cmd, size_t len, int *sent)
{
    if (maybe_stale(rc))
        probe_stale(rc);
    redisReply *r = NULL;
    *sent = 0;
    if (rconn_ensure(rc) == 0) {
        *sent = 1;
        void *reply = NULL;
        if (redisAppendFormattedCommand(rc->ctx, cmd, len) == REDIS_OK)
            redisGetReply(rc->ctx, &reply);
        r = finish(rc, reply);
    }
    return r;
}

/* Sends one formatted command once (to its node, in cluster mode) and reads
 * its reply. Frees CMD. */
static redisReply *send_formatted(RConn *rc, char *cmd, long long len)
{
    if (len < 0)
        return NULL;
    int sent;
    redisReply *r = rc->cluster ? rcluster_command(rc, cmd, (size_t)len)
                                : rconn_send_formatted(rc, cmd, (size_t)len, &sent);
    redisFreeCommand(cmd);
    return r;
}

int rconn_append_formatted(RConn *rc, const char *cmd, size_t len)
{
    if (rconn_ensure(rc) != 0)
        return -1;
    if (redisAppendFormattedCommand(rc->ctx, cmd, len) != REDIS_OK)
        return fail(rc, "redis: append failed");
    return 0;
}

/* Queues one formatted command (on its node, in cluster mode). Frees CMD. */
static int append_formatted(RConn *rc, char *cmd, long long len)
{
    if (len < 0)
        return fail(rc, "redis: cannot format the command");
    int rv = rc->cluster ? rcluster_append(rc, cmd, (size_t)len)
                         : rconn_append_formatted(rc, cmd, (size_t)len);
    redisFreeCommand(cmd);
    return rv;
}

/* Without hiredis's sprintf per argument: the executor formats some thirty
 * arguments a run, and that printf was a tenth of its CPU. */
long long rconn_format_argv(char **cmd, int argc, const char **argv, const size_t *lens)
{
    size_t total = 1 + 20 + 2;
    for (int i = 0; i < argc; i++)
        total += 1 + 20 + 2 + (lens ? lens[i] : strlen(argv[i])) + 2;
    char *p = *cmd = xmalloc(total + 1);
    *p++ = '*';
    p = num_put(p, (unsigned long long)argc);
    *p++ = '\r', *p++ = '\n';
    for (int i = 0; i < argc; i++) {
        size_t len = lens ? lens[i] : strlen(argv[i]);
        *p++ = '$';
        p = num_put(p, len);
        *p++ = '\r', *p++ = '\n';
        memcpy(p, argv[i], len);
        p += len;
        *p++ = '\r', *p++ = '\n';
    }
    *p = '\0';
    return (long long)(p - *cmd);
}

redisReply *rconn_argv(RConn *rc, int argc, const char **argv, const size_t *lens)
{
    char *cmd = NULL;
    long long len = rconn_format_argv(&cmd, argc, argv, lens);
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
    char *cmd = NULL;
    long long len = rconn_format_argv(&cmd, argc, argv, lens);
    return append_formatted(rc, cmd, len);
}

int rconn_append(RConn *rc, const char *fmt, ...)
{
    char *cmd = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    return append_formatted(rc, cmd, len);
}

redisReply *rconn_read(RConn *rc)
{
    void *reply = NULL;
    if (rc->cluster != NULL)
        return rcluster_read(rc);
    if (rc->ctx == NULL)
        return NULL;
    if (redisGetReply(rc->ctx, &reply) != REDIS_OK)
        reply = NULL;
    return finish(rc, reply);
}

int rconn_is_cluster(const RConn *rc)
{
    return rc->cluster != NULL;
}
