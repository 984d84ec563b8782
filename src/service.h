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
    const char *redis_password_file;
} ServiceConfig;

/* The options every role takes, to splice into a role's option table. */
#define SERVICE_OPTIONS(c)                                                                                 \
    {"redis",                                                                                              \
     OPT_STR,                                                                                              \
     &(c).redis,                                                                                           \
     "redis://127.0.0.1:6379",                                                                             \
     0,                                                                                                    \
     0,                                                                                                    \
     "Redis URL (redis://[[user]:pass@]host:port[/db], unix:///path, "                                     \
     "redis-cluster://[[user]:pass@]host:port[,host:port...] or "                                          \
     "redis-sentinel://[[user]:pass@]host:port[,host:port...]/MASTER)"},                                   \
        {"redis-password-file",                                                                            \
         OPT_STR,                                                                                          \
         &(c).redis_password_file,                                                                         \
         "",                                                                                               \
         0,                                                                                                \
         0,                                                                                                \
         "file holding the Redis password (kept out of the URL, the environment and ps)"},                 \
        {"redis-wait",                                                                                     \
         OPT_INT,                                                                                          \
         &(c).redis_wait,                                                                                  \
         "0",                                                                                              \
         0,                                                                                                \
         16,                                                                                               \
         "after each acknowledged write and completion, WAIT for this many replicas (0: off)"},            \
        {"redis-wait-ms",                                                                                  \
         OPT_INT,                                                                                          \
         &(c).redis_wait_ms,                                                                               \
         "1000",                                                                                           \
         1,                                                                                                \
         60000,                                                                                            \
         "how long --redis-wait waits at most"},                                                           \
        {"prefix", OPT_STR, &(c).prefix, "dts", 0, 0, "key prefix in Redis"},                              \
        {"shards", OPT_INT, &(c).shards, "16", 1, STORE_SHARDS_MAX, "shard count; must agree with Redis"}, \
        {"runs-kept", OPT_INT, &(c).runs_kept, "100", 1, 10000, "run history kept per task"},              \
    {                                                                                                      \
        "log-level", OPT_STR, &(c).log_level, "info", 0, 0, "debug, info, warn or error"                   \
    }

/* The options of a role that serves browsers (api, web). */
#define HTTP_GUARD_OPTIONS(hosts, per_ip)                                                              \
    {"allowed-hosts",                                                                                  \
     OPT_STR,                                                                                          \
     &(hosts),                                                                                         \
     "",                                                                                               \
     0,                                                                                                \
     0,                                                                                                \
     "extra Host names served, comma-separated (\".domain\" for sub-names; localhost and IP literals " \
     "always are)"},                                                                                   \
    {                                                                                                  \
        "per-ip-connections", OPT_INT, &(per_ip), "64", 1, 100000,                                     \
            "connections one client address may hold open"                                             \
    }

/* Set by SIGINT and SIGTERM. */
extern volatile sig_atomic_t service_stopping;
/* Set by SIGHUP (reload what can be reloaded: the tokens file); the role
 * clears it. */
extern volatile sig_atomic_t service_reload;

/* Parses options for ROLE, sets up logging, allocation and signals. Returns 0
 * to go on, or -1 to stop, with the role's exit code in *exit_code (0 after
 * --help, 2 after a bad option, having printed the reason). */
int service_init(const char *role, const char *summary, const Option *opts, int argc, char **argv,
                 ServiceConfig *cfg, int *exit_code);

/* The calling thread's store (made on first use from the service config). */
Store *service_store(void);

/* Frees the calling thread's store, if any. */
void service_store_release(void);

/* Checks Redis and the shard agreement, retrying with backoff until it works
 * or the service is stopping. Returns 0, or -1 on a shard mismatch (fatal). */
int service_wait_redis(Store *st);

/* Decides a role's readiness for /readyz: returns 1 if ready, 0 if not, and
 * writes a JSON object describing why into BODY (LEN bytes). */
typedef int (*service_ready_cb)(char *body, size_t len);

/* Replaces the default readiness (Redis reachable, shards agreed) for roles
 * without a store (web). Call before serving. */
void service_set_ready(service_ready_cb cb);

/* Answers /healthz, /readyz and /metrics to every method (GET and HEAD; 405
 * otherwise), never aborting; returns 1 if REQ was one of them. */
int service_probe(const HttpRequest *req, HttpResponse *res);

/* Starts a probe-only HTTP server on LISTEN (NULL or "" for none). */
HttpServer *service_probe_server(const char *listen, char *err, size_t errlen);

struct TokenSet;

/* Loads the tokens file PATH (or $DTS_TOKENS_FILE when PATH is empty) for a
 * role serving on LISTEN, and enforces DESIGN.md's security posture: beyond
 * loopback, tokens are required. Returns 0 with *set (NULL when no file; the
 * caller frees with auth_free), or an exit code after printing one line. */
int service_tokens(const char *role, const char *path, const char *listen, struct TokenSet **set);

/* Builds the request guard of ROLE from --allowed-hosts HOSTS and the CORS
 * origin CORS (NULL for none). Returns 0 with *guard (the caller frees with
 * reqguard_free), or exit code 2 (a bad option) after printing one line. */
int service_guard(const char *role, const char *hosts, const char *cors, ReqGuard **guard);

/* A process id for leases and consumer names: "host-pid-random". */
void service_instance_id(const char *role, char *out, size_t len);

#endif
