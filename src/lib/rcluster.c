/* rcluster: Redis Cluster routing over hiredis. A slot map read from CLUSTER
 * SLOTS, one rconn per primary, each command sent to the node of its first
 * key's slot; MOVED updates the map and resends, ASK resends once on the
 * target after ASKING, TRYAGAIN and CLUSTERDOWN are retried with backoff, and
 * a lost connection or a redirect makes the next call reload the map.
 * Pipelines are split per node and their replies returned in append order:
 * the first read collects every outstanding reply, then resolves redirects on
 * the now idle connections, so a resend never overtakes a queued reply. */
#include "rcluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "cluster_slot.h"
#include "log.h"
#include "mem.h"
#include "num.h"

#define REDIRECTS_MAX 5      /* MOVED/ASK/TRYAGAIN hops for one command */
#define REFRESH_EVERY_MS 100 /* at most this often while the map is stale */
#define ARGS_MAX 32          /* arguments parsed to find the first key */

typedef struct Node {
    char *host;
    int port;
    RConn *rc;
    int primary; /* serves slots in the current map */
} Node;

/* A pipelined command waiting for its reply. */
typedef struct Pending {
    int node, slot;
    uint64_t conn; /* the node's connection it was written to */
    char *cmd;
    size_t len;
    int have;
    redisReply *reply;
} Pending;

struct RCluster {
    Node *nodes;
    int nnodes;
    int16_t slot_node[CLUSTER_SLOTS]; /* node index, -1 when unknown */
    int mapped, stale;
    int64_t refresh_at;
    int last; /* node of the last command: keyless ones (WAIT) go there */
    char *user, *password;
    Pending *q;
    int qhead, qlen, qcap;
};

static int node_get(RCluster *c, const char *host, int port)
{
    for (int i = 0; i < c->nnodes; i++)
        if (c->nodes[i].port == port && strcmp(c->nodes[i].host, host) == 0)
            return i;
    c->nodes = xrealloc(c->nodes, (size_t)(c->nnodes + 1) * sizeof *c->nodes);
    c->nodes[c->nnodes] = (Node){xstrdup(host), port, rconn_node_new(host, port, c->user, c->password), 0};
    return c->nnodes++;
}

RCluster *rcluster_new(char *const *hosts, const int *ports, int n, const char *user, const char *password)
{
    RCluster *c = xcalloc(1, sizeof *c);
    c->user = user ? xstrdup(user) : NULL;
    c->password = password ? xstrdup(password) : NULL;
    memset(c->slot_node, 0xff, sizeof c->slot_node);
    c->stale = 1;
    for (int i = 0; i < n; i++)
        node_get(c, hosts[i], ports[i]);
    return c;
}

static void queue_clear(RCluster *c)
{
    for (int i = c->qhead; i < c->qhead + c->qlen; i++) {
        free(c->q[i].cmd);
        freeReplyObject(c->q[i].reply);
    }
    c->qhead = c->qlen = 0;
}

void rcluster_drop(RConn *rc)
{
    RCluster *c = rc->cluster;
    for (int i = 0; i < c->nnodes; i++)
        rconn_drop(c->nodes[i].rc);
    queue_clear(c);
    c->stale = 1;
}

void rcluster_free(RCluster *c)
{
    if (c == NULL)
        return;
    queue_clear(c);
    for (int i = 0; i < c->nnodes; i++) {
        rconn_free(c->nodes[i].rc);
        free(c->nodes[i].host);
    }
    free(c->nodes);
    free(c->q);
    free(c->user);
    free(c->password);
    free(c);
}

static int refresh(RConn *rc);

/* CMD on node N. When N cannot be reached, nothing was sent, so trying the
 * slot's owner in a reloaded map is safe: a connection idle through a
 * failover learns of it on its first command. Keyless commands (SLOT -1)
 * stay: WAIT must reach the node the write went to. */
static redisReply *send_to_slot(RConn *rc, int n, int slot, const char *cmd, size_t len)
{
    RCluster *c = rc->cluster;
    int sent;
    c->last = n;
    redisReply *r = rconn_send_formatted(c->nodes[n].rc, cmd, len, &sent);
    if (r != NULL || sent || slot < 0 || c->qlen > 0 || clock_mono_ms() < c->refresh_at)
        return r;
    refresh(rc);
    int m = c->slot_node[slot];
    if (m < 0 || m == n)
        return NULL;
    c->last = m;
    return rconn_send_formatted(c->nodes[m].rc, cmd, len, &sent);
}

static redisReply *send_to(RConn *rc, int n, const char *cmd, size_t len)
{
    return send_to_slot(rc, n, -1, cmd, len);
}

/* Loads the map from a CLUSTER SLOTS reply R given by node ASKED. */
static int map_load(RConn *rc, int asked, const redisReply *r)
{
    RCluster *c = rc->cluster;
    int16_t map[CLUSTER_SLOTS];
    memset(map, 0xff, sizeof map);
    char asked_host[256];
    snprintf(asked_host, sizeof asked_host, "%s", c->nodes[asked].host);
    for (int i = 0; i < c->nnodes; i++)
        c->nodes[i].primary = 0;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 || e->element[0]->type != REDIS_REPLY_INTEGER ||
            e->element[1]->type != REDIS_REPLY_INTEGER || e->element[2]->type != REDIS_REPLY_ARRAY ||
            e->element[2]->elements < 2 || e->element[2]->element[0]->type != REDIS_REPLY_STRING ||
            e->element[2]->element[1]->type != REDIS_REPLY_INTEGER)
            continue;
        const char *host = e->element[2]->element[0]->str; /* "": the node asked */
        long long lo = e->element[0]->integer, hi = e->element[1]->integer;
        if (strcmp(host, "?") == 0 || lo < 0 || hi >= CLUSTER_SLOTS || lo > hi)
            continue;
        int n = node_get(c, host[0] ? host : asked_host, (int)e->element[2]->element[1]->integer);
        c->nodes[n].primary = 1;
        for (long long s = lo; s <= hi; s++)
            map[s] = (int16_t)n;
    }
    if (c->mapped && memcmp(map, c->slot_node, sizeof map) != 0)
        log_info("redis cluster map changed", "{s:i}", "nodes", c->nnodes);
    memcpy(c->slot_node, map, sizeof map);
    c->mapped = 1;
    c->stale = 0;
    return 0;
}

/* Reads the slot map from the first node that answers, starting with the
 * last one that did. Keeps the old map if none does. */
static int refresh(RConn *rc)
{
    RCluster *c = rc->cluster;
    static const char slots_cmd[] = "*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n";
    c->refresh_at = clock_mono_ms() + REFRESH_EVERY_MS;
    int start = c->last;
    for (int i = 0; i < c->nnodes; i++) {
        int n = (start + i) % c->nnodes;
        redisReply *r = send_to(rc, n, slots_cmd, sizeof slots_cmd - 1);
        int ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0 && map_load(rc, n, r) == 0;
        freeReplyObject(r);
        if (ok)
            return 0;
    }
    rc->err = -1;
    snprintf(rc->errstr, sizeof rc->errstr, "redis cluster: no node answered CLUSTER SLOTS");
    return -1;
}

int rcluster_ensure(RConn *rc)
{
    RCluster *c = rc->cluster;
    if (c->qlen == 0 && (!c->mapped || (c->stale && clock_mono_ms() >= c->refresh_at)))
        refresh(rc);
    return c->mapped ? 0 : -1;
}

/* The arguments of a formatted command (RESP multi-bulk), up to MAX. */
static int resp_args(const char *cmd, size_t len, const char **argv, size_t *lens, int max)
{
    const char *p = cmd, *end = cmd + len;
    char *q;
    if (len < 4 || *p != '*')
        return -1;
    long n = strtol(p + 1, &q, 10);
    p = q + 2;
    int got = 0;
    for (; got < n && got < max; got++) {
        if (p >= end || *p != '$')
            return -1;
        long l = strtol(p + 1, &q, 10);
        p = q + 2;
        if (l < 0 || p + l > end)
            return -1;
        argv[got] = p;
        lens[got] = (size_t)l;
        p += l + 2;
    }
    return got;
}

/* The node for CMD (and its slot into *SLOT, -1 when keyless), or -1. */
static int route(RCluster *c, const char *cmd, size_t len, int *slot)
{
    const char *argv[ARGS_MAX];
    size_t lens[ARGS_MAX];
    int argc = resp_args(cmd, len, argv, lens, ARGS_MAX);
    int k = argc > 0 ? cluster_key_index(argc, argv, lens) : -1;
    *slot = k >= 0 ? cluster_key_slot(argv[k], lens[k]) : -1;
    return *slot >= 0 ? c->slot_node[*slot] : c->last;
}

typedef enum { REDIRECT_NONE, REDIRECT_MOVED, REDIRECT_ASK, REDIRECT_RETRY } Redirect;

/* What an error reply asks for; MOVED and ASK fill SLOT, HOST and PORT. */
static Redirect redirect_of(const redisReply *r, int *slot, char *host, size_t hostlen, int *port)
{
    if (r == NULL || r->type != REDIS_REPLY_ERROR)
        return REDIRECT_NONE;
    if (strncmp(r->str, "TRYAGAIN", 8) == 0 || strncmp(r->str, "CLUSTERDOWN", 11) == 0)
        return REDIRECT_RETRY;
    int moved = strncmp(r->str, "MOVED ", 6) == 0;
    if (!moved && strncmp(r->str, "ASK ", 4) != 0)
        return REDIRECT_NONE;
    char *p;
    *slot = (int)strtol(r->str + (moved ? 6 : 4), &p, 10);
    const char *addr = p + (*p == ' ');
    const char *colon = strrchr(addr, ':');
    if (*p != ' ' || colon == NULL || *slot < 0 || *slot >= CLUSTER_SLOTS)
        return REDIRECT_NONE;
    long long portnum;
    if (num_parse(colon + 1, 1, 65535, &portnum) != 0)
        return REDIRECT_NONE;
    snprintf(host, hostlen, "%.*s", (int)(colon - addr), addr);
    *port = (int)portnum;
    return moved ? REDIRECT_MOVED : REDIRECT_ASK;
}

/* ASKING, then CMD, on node N: the reply to CMD. */
static redisReply *ask(RConn *rc, int n, const char *cmd, size_t len)
{
    static const char asking[] = "*1\r\n$6\r\nASKING\r\n";
    RConn *node = rc->cluster->nodes[n].rc;
    rc->cluster->last = n;
    if (rconn_append_formatted(node, asking, sizeof asking - 1) != 0 ||
        rconn_append_formatted(node, cmd, len) != 0)
        return NULL;
    freeReplyObject(rconn_read(node));
    return rconn_read(node);
}

/* Follows the redirects of reply R to CMD (of SLOT), a bounded number of times. */
static redisReply *resolve(RConn *rc, const char *cmd, size_t len, redisReply *r, int slot)
{
    RCluster *c = rc->cluster;
    for (int i = 0; i < REDIRECTS_MAX; i++) {
        char host[256];
        int to_slot = 0, port = 0;
        Redirect k = redirect_of(r, &to_slot, host, sizeof host, &port);
        if (k == REDIRECT_NONE)
            break;
        freeReplyObject(r);
        c->stale = 1;
        if (k == REDIRECT_MOVED) {
            int n = node_get(c, host, port);
            c->slot_node[to_slot] = (int16_t)n;
            r = send_to(rc, n, cmd, len);
        } else if (k == REDIRECT_ASK) {
            r = ask(rc, node_get(c, host, port), cmd, len);
        } else {
            clock_sleep_ms(50 << i); /* a failover or a slot migration in progress */
            refresh(rc);
            int n = slot >= 0 ? c->slot_node[slot] : c->last;
            r = n >= 0 ? send_to_slot(rc, n, slot, cmd, len) : NULL;
        }
    }
    return r;
}

/* Bookkeeping after a reply R reaches the caller: errors and reconnects. */
static redisReply *finish(RConn *rc, redisReply *r)
{
    RCluster *c = rc->cluster;
    rc->reconnects = 0;
    for (int i = 0; i < c->nnodes; i++)
        rc->reconnects += c->nodes[i].rc->reconnects;
    if (r == NULL) {
        c->stale = 1;
        rc->err = -1;
        const char *why = c->nnodes ? c->nodes[c->last].rc->errstr : "";
        snprintf(rc->errstr, sizeof rc->errstr, "%s", why[0] ? why : "redis cluster: no node for the slot");
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "READONLY", 8) == 0)
        c->stale = 1; /* a demoted primary: find who serves the slot now */
    rc->err = 0;
    rc->last_ok_ms = clock_mono_ms();
    return r;
}

/* A SCRIPT command reaches every primary; the first good reply is returned. */
static redisReply *broadcast(RConn *rc, const char *cmd, size_t len)
{
    RCluster *c = rc->cluster;
    redisReply *best = NULL;
    for (int i = 0; i < c->nnodes; i++) {
        if (!c->nodes[i].primary)
            continue;
        redisReply *r = send_to(rc, i, cmd, len);
        if (best == NULL || (best->type == REDIS_REPLY_ERROR && r != NULL)) {
            freeReplyObject(best);
            best = r;
        } else {
            freeReplyObject(r);
        }
    }
    return best;
}

static int is_script(const char *cmd, size_t len)
{
    const char *argv[1];
    size_t lens[1];
    return resp_args(cmd, len, argv, lens, 1) == 1 && lens[0] == 6 &&
           strncasecmp(argv[0], "SCRIPT", 6) == 0;
}

redisReply *rcluster_command(RConn *rc, const char *cmd, size_t len)
{
    RCluster *c = rc->cluster;
    if (rcluster_ensure(rc) != 0)
        return NULL;
    if (is_script(cmd, len))
        return finish(rc, broadcast(rc, cmd, len));
    int slot;
    int n = route(c, cmd, len, &slot);
    if (n < 0) {
        c->stale = 1;
        rc->err = -1;
        snprintf(rc->errstr, sizeof rc->errstr, "redis cluster: no node serves slot %d", slot);
        return NULL;
    }
    redisReply *r = send_to_slot(rc, n, slot, cmd, len);
    return finish(rc, resolve(rc, cmd, len, r, slot));
}

static Pending *queue_push(RCluster *c)
{
    if (c->qhead + c->qlen == c->qcap) {
        c->qcap = c->qcap ? c->qcap * 2 : 32;
        c->q = xrealloc(c->q, (size_t)c->qcap * sizeof *c->q);
    }
    Pending *p = &c->q[c->qhead + c->qlen++];
    *p = (Pending){0};
    return p;
}

int rcluster_append(RConn *rc, const char *cmd, size_t len)
{
    RCluster *c = rc->cluster;
    rcluster_ensure(rc);
    Pending *p = queue_push(c);
    p->node = route(c, cmd, len, &p->slot);
    if (p->node >= 0 && c->qlen == 1 && rconn_ensure(c->nodes[p->node].rc) != 0 &&
        clock_mono_ms() >= c->refresh_at) { /* unreachable, nothing queued yet: reload the map */
        c->qlen = 0;
        refresh(rc);
        c->qlen = 1;
        p->node = p->slot >= 0 && c->slot_node[p->slot] >= 0 ? c->slot_node[p->slot] : p->node;
    }
    p->cmd = xmalloc(len);
    memcpy(p->cmd, cmd, len);
    p->len = len;
    if (p->node < 0 || rconn_append_formatted(c->nodes[p->node].rc, cmd, len) != 0) {
        p->have = 1; /* its read returns NULL */
        c->stale = 1;
        return -1;
    }
    p->conn = c->nodes[p->node].rc->conns;
    c->last = p->node;
    return 0;
}

/* Reads every outstanding reply, then follows the redirects among them. */
static void collect(RConn *rc)
{
    RCluster *c = rc->cluster;
    for (int i = c->qhead; i < c->qhead + c->qlen; i++) {
        Pending *p = &c->q[i];
        if (p->have)
            continue;
        RConn *node = c->nodes[p->node].rc;
        p->reply = node->ctx != NULL && node->conns == p->conn ? rconn_read(node) : NULL;
        p->have = 1;
    }
    for (int i = c->qhead; i < c->qhead + c->qlen; i++) {
        Pending *p = &c->q[i];
        if (p->reply != NULL && p->reply->type == REDIS_REPLY_ERROR)
            p->reply = resolve(rc, p->cmd, p->len, p->reply, p->slot);
    }
}

redisReply *rcluster_read(RConn *rc)
{
    RCluster *c = rc->cluster;
    if (c->qlen == 0)
        return NULL;
    if (!c->q[c->qhead].have)
        collect(rc);
    Pending *p = &c->q[c->qhead];
    redisReply *r = p->reply;
    int node = p->node;
    free(p->cmd);
    c->qhead++;
    if (--c->qlen == 0)
        c->qhead = 0;
    if (node >= 0)
        c->last = node;
    return finish(rc, r);
}
