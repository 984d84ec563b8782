/* service: what every long-running role shares: common options, signals, a
 * per-thread store, and the /healthz, /readyz and /metrics probes. */
#ifndef DTS_SERVICE_H
#define DTS_SERVICE_H

#include <signal.h>

#include "httpd.h"
#include "opts.h"
#include "store.h"

typedef struct ServiceConfig {
    const char *redis;
    const char *prefix;
    long shards;
    const char *log_level;
    long runs_kept;
    long redis_wait, redis_wait_ms;
} ServiceConfig;

/* The options every role takes, to splice into a role's option table. */
#define SERVICE_OPTIONS(c)                                                                          \
    {"redis", OPT_STR, &(c).redis, "redis://127.0.0.1:6379", 0, 0, "Redis URL (redis://[[user]:pass@]host:port[/db], unix:///path, redis-cluster://[[user]:pass@]host:port[,host:port...] or redis-sentinel://[[user]:pass@]host:port[,host:port...]/MASTER)"}, \
    {"redis-wait", OPT_INT, &(c).redis_wait, "0", 0, 16, "after each acknowledged write and completion, WAIT for this many replicas (0: off)"}, \
    {"redis-wait-ms", OPT_INT, &(c).redis_wait_ms, "1000", 1, 60000, "how long --redis-wait waits at most"}, \
    {"prefix", OPT_STR, &(c).prefix, "dts", 0, 0, "key prefix in Redis"},                          \
    {"shards", OPT_INT, &(c).shards, "16", 1, STORE_SHARDS_MAX, "shard count; must agree with Redis"}, \
    {"runs-kept", OPT_INT, &(c).runs_kept, "100", 1, 10000, "run history kept per task"},            \
    {"log-level", OPT_STR, &(c).log_level, "info", 0, 0, "debug, info, warn or error"}

/* Set by SIGINT and SIGTERM. */
extern volatile sig_atomic_t service_stopping;

/* Parses options for ROLE, sets up logging, allocation and signals. Returns 0
 * to go on, or an exit code + 1 (1 after --help, 3 after a bad option,
 * having printed the reason). */
int service_init(const char *role, const char *summary, const Option *opts, int argc, char **argv,
                 ServiceConfig *cfg);

/* The calling thread's store (made on first use from the service config). */
Store *service_store(void);

/* Frees the calling thread's store, if any. */
void service_store_release(void);

/* Checks Redis and the shard agreement, retrying with backoff until it works
 * or the service is stopping. Returns 0, or -1 on a shard mismatch (fatal). */
int service_wait_redis(Store *st);

/* Answers /healthz, /readyz and /metrics; returns 1 if REQ was one of them. */
int service_probe(const HttpRequest *req, HttpResponse *res);

/* Starts a probe-only HTTP server on LISTEN (NULL or "" for none). */
HttpServer *service_probe_server(const char *listen, char *err, size_t errlen);

struct TokenSet;

/* Loads the tokens file PATH (or $DTS_TOKENS_FILE when PATH is empty) for a
 * role serving on LISTEN, and enforces DESIGN.md's security posture: beyond
 * loopback, tokens are required. Returns 0 with *set (NULL when no file; the
 * caller frees with auth_free), or an exit code after printing one line. */
int service_tokens(const char *role, const char *path, const char *listen, struct TokenSet **set);

/* A process id for leases and consumer names: "host-pid-random". */
void service_instance_id(const char *role, char *out, size_t len);

#endif
