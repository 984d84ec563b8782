/* rcluster: rconn's cluster mode and its sentinel lookup (private to rconn.c).
 *
 * hiredis 0.14 (Debian 12) has no Redis Cluster or Sentinel support and no
 * Debian package provides it, so slot routing is written here over hiredis,
 * following the Redis Cluster specification. */
#ifndef DTS_RCLUSTER_H
#define DTS_RCLUSTER_H

#include "rconn.h"

typedef struct RCluster RCluster;

/* A cluster client that starts from the N seed nodes HOSTS:PORTS, logging in
 * with USER/PASSWORD (either may be NULL). Copies everything. Free with
 * rcluster_free (NULL is a no-op). */
RCluster *rcluster_new(char *const *hosts, const int *ports, int n, const char *user, const char *password);
void rcluster_free(RCluster *c);

/* Loads the slot map if it is missing or stale. Returns 0 or -1 (RC->errstr). */
int rcluster_ensure(RConn *rc);

/* Sends the formatted command CMD (LEN bytes, not freed) to the node that
 * serves its first key, following MOVED and ASK, and returns the reply as
 * rconn_argv does. A SCRIPT command goes to every primary. */
redisReply *rcluster_command(RConn *rc, const char *cmd, size_t len);

/* Pipelining: queues CMD (copied) on its node's connection; rcluster_read
 * returns the replies in the order of the appends, each redirect already
 * followed. Returns 0, or -1 when the node is unreachable (its read is NULL). */
int rcluster_append(RConn *rc, const char *cmd, size_t len);
redisReply *rcluster_read(RConn *rc);

/* Drops every node's connection and what was queued. */
void rcluster_drop(RConn *rc);

/* Sentinel mode: asks RC's sentinels where RC->master is and points RC->host
 * and RC->port there. Returns 0, or -1 with RC->errstr set. */
int rsentinel_locate(RConn *rc);

/* Sentinel mode: 0 if RC's fresh connection answers ROLE with "master". */
int rsentinel_verify(RConn *rc);

/* rconn.c's internals, for the cluster's per-node connections. */
RConn *rconn_node_new(const char *host, int port, const char *user, const char *password);
redisReply *rconn_send_formatted(RConn *rc, const char *cmd, size_t len, int *sent);
int rconn_append_formatted(RConn *rc, const char *cmd, size_t len);

#endif
