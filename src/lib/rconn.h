/* rconn: one synchronous Redis connection that reconnects with backoff; or,
 * behind the same calls, a Redis Cluster client (one connection per node,
 * commands routed by key slot) or a Sentinel-located primary. */
#ifndef DTS_RCONN_H
#define DTS_RCONN_H

#include <hiredis/hiredis.h>
#include <stdint.h>

typedef struct RConn {
    /* read-only */
    int err;          /* 0, or -1 after the last failed call */
    char errstr[128]; /* why the last call failed */
    uint64_t reconnects;
    /* private */
    redisContext *ctx;
    char *host, *path, *password, *user;
    int port, db;
    int backoff_ms;
    int64_t retry_at_ms;
    int64_t last_ok_ms;       /* when a reply last arrived: older means maybe stale */
    uint64_t conns;           /* connections made: a pipelined reply belongs to one */
    struct RCluster *cluster; /* cluster mode (rcluster.c), else NULL */
    char **sentinel_hosts;    /* sentinel mode: where to ask for MASTER */
    int *sentinel_ports, nsentinels;
    char *master;
} RConn;

/* Parses a URL (redis://[[user]:password@]host[:port][/db], unix:///path,
 * redis-cluster://[[user]:password@]host:port[,host:port...] or
 * redis-sentinel://[[user]:password@]host:port[,host:port...]/MASTER_NAME)
 * without connecting. Returns NULL and fills err on a bad URL. The caller frees
 * with rconn_free. */
RConn *rconn_new(const char *url, char *err, size_t errlen);

/* Closes and frees; rconn_free(NULL) is a no-op. */
void rconn_free(RConn *rc);

/* Connects if needed (respecting the backoff after failures). Returns 0 when
 * connected, -1 otherwise with rc->errstr set. */
int rconn_ensure(RConn *rc);

/* Runs one command given as an argument vector. Returns the reply (the caller
 * frees it with freeReplyObject), or NULL on an I/O error, after which the
 * connection is dropped and re-made by the next call. An error *reply* from
 * Redis is returned as a reply of type REDIS_REPLY_ERROR, not as NULL. */
redisReply *rconn_argv(RConn *rc, int argc, const char **argv, const size_t *lens);

/* The RESP array of bulk strings that hiredis's redisFormatCommandArgv
 * writes, byte for byte, into *CMD (freed with redisFreeCommand); as there,
 * LENS NULL means every argument is a C string. Returns the length. */
long long rconn_format_argv(char **cmd, int argc, const char **argv, const size_t *lens);

/* Like rconn_argv with a printf-style format (hiredis's redisCommand). */
redisReply *rconn_cmd(RConn *rc, const char *fmt, ...);

/* Pipelining: append N commands with rconn_append*, then read N replies with
 * rconn_read. A failed append or read drops the connection; a reply read
 * after that returns NULL. */
int rconn_append_argv(RConn *rc, int argc, const char **argv, const size_t *lens);
int rconn_append(RConn *rc, const char *fmt, ...);
redisReply *rconn_read(RConn *rc);

/* 1 in cluster mode, else 0. */
int rconn_is_cluster(const RConn *rc);

/* Drops the connection (after a protocol error, say); the next call reconnects. */
void rconn_drop(RConn *rc);

#endif
