/* rsentinel: finding the primary through Redis Sentinel (see rcluster.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "num.h"
#include "rcluster.h"

/* Asks one sentinel; 0 with the primary's address in RC, else -1. */
static int ask_sentinel(RConn *rc, const char *host, int port)
{
    struct timeval tv = {.tv_sec = 1};
    redisContext *ctx = redisConnectWithTimeout(host, port, tv);
    if (ctx == NULL || ctx->err) {
        redisFree(ctx);
        return -1;
    }
    fcntl(ctx->fd, F_SETFD, FD_CLOEXEC); /* as rconn's own: never inherited by an action */
    redisSetTimeout(ctx, tv);
    redisReply *r = redisCommand(ctx, "SENTINEL get-master-addr-by-name %s", rc->master);
    long long given;
    int ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
             r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING &&
             num_parse(r->element[1]->str, 1, 65535, &given) == 0;
    if (ok && (strcmp(rc->host, r->element[0]->str) != 0 || rc->port != given)) {
        free(rc->host);
        rc->host = xstrdup(r->element[0]->str);
        rc->port = (int)given;
        log_info("redis primary from sentinel", "{s:s,s:i}", "host", rc->host, "port", rc->port);
    }
    freeReplyObject(r);
    redisFree(ctx);
    return ok ? 0 : -1;
}

int rsentinel_locate(RConn *rc)
{
    for (int i = 0; i < rc->nsentinels; i++)
        if (ask_sentinel(rc, rc->sentinel_hosts[i], rc->sentinel_ports[i]) == 0)
            return 0;
    snprintf(rc->errstr, sizeof rc->errstr, "redis sentinel: no sentinel knows master \"%.40s\"",
             rc->master);
    return -1;
}

int rsentinel_verify(RConn *rc)
{
    redisReply *r = redisCommand(rc->ctx, "ROLE");
    int ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
             r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "master") == 0;
    freeReplyObject(r);
    return ok ? 0 : -1;
}
