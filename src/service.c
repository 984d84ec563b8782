/* service: what every long-running role shares. */
#include "service.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "auth.h"
#include "build_info.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "procmetrics.h"
#include "role_help.h"

volatile sig_atomic_t service_stopping;
volatile sig_atomic_t service_reload;
static ServiceConfig *service_cfg;
static service_ready_cb ready_cb = NULL;
/* Each thread's store, freed by the key's destructor when the thread ends
 * (libmicrohttpd's pool threads never call service_store_release). */
static pthread_key_t thread_store_key;
static pthread_once_t store_key_once = PTHREAD_ONCE_INIT;

static void store_destroy_cb(void *st)
{
    store_close(st);
}

static void store_key_make(void)
{
    pthread_key_create(&thread_store_key, store_destroy_cb);
}

static void stop_cb(int sig)
{
    service_stopping = 1;
}

static void reload_cb(int sig)
{
    service_reload = 1;
}

static void signals_install(void)
{
    struct sigaction sa = {.sa_handler = stop_cb}, hup = {.sa_handler = reload_cb};
    sigemptyset(&sa.sa_mask);
    sigemptyset(&hup.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &hup, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* The process_* families and dts_build_info{version,commit,dirty} 1. */
static void service_declare_build_info(void)
{
    char labels[160];
    procmetrics_declare();
    metrics_declare("dts_build_info", METRIC_GAUGE,
                    "The version and git commit this binary was built from.");
    snprintf(labels, sizeof labels, "version=\"%s\",commit=\"%s\",dirty=\"%s\"", dts_build_version,
             dts_build_commit, dts_build_dirty ? "true" : "false");
    metrics_set("dts_build_info", labels, 1);
}

/* --redis-password-file: reads the password and puts it into the URL, so it
 * is on no command line and in no environment. Returns 0, or -1 after
 * printing one line. */
static int password_from_file(const char *role, ServiceConfig *cfg)
{
    static char url[1024];
    char pw[512];
    const char *path = cfg->redis_password_file;
    if (path == NULL || path[0] == '\0')
        return 0;
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(pw, 1, sizeof pw - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    pw[n] = '\0';
    pw[strcspn(pw, "\r\n")] = '\0';
    const char *sep = strstr(cfg->redis, "://"), *rest = sep ? sep + 3 : NULL;
    int scheme = sep ? (int)(sep - cfg->redis) : 0;
    if (sep == NULL ||
        (strncmp(cfg->redis, "redis://", 8) != 0 && strncmp(cfg->redis, "redis-cluster://", 16) != 0 &&
         strncmp(cfg->redis, "redis-sentinel://", 17) != 0))
        rest = NULL;
    if (f == NULL || pw[0] == '\0' || rest == NULL || strchr(rest, '@') != NULL ||
        (size_t)snprintf(url, sizeof url, "%.*s://:%s@%s", scheme, cfg->redis, pw, rest) >= sizeof url) {
        fprintf(
            stderr, "dts %s: --redis-password-file: %s\n", role,
            f == NULL ? "cannot read the file"
            : pw[0] == '\0'
                ? "the file is empty"
                : "needs a redis://, redis-cluster:// or redis-sentinel:// URL without a password in it");
        return -1;
    }
    cfg->redis = url;
    return 0;
}

int service_init(const char *role, const char *summary, const Option *opts, int argc, char **argv,
                 ServiceConfig *cfg, int *exit_code)
{
    char err[256];
    mem_init();
    int rv = opts_parse(opts, argc, argv, err, sizeof err);
    *exit_code = 2; /* a bad option, unless it is --help */
    if (rv == 1) {
        opts_usage(stdout, role, summary, opts);
        role_help_print(stdout, role);
        *exit_code = 0;
        return -1;
    }
    if (rv != 0) {
        fprintf(stderr, "dts %s: %s\n", role, err);
        return -1;
    }
    int level = log_level_parse(cfg->log_level);
    if (level < 0) {
        fprintf(stderr, "dts %s: --log-level must be debug, info, warn or error\n", role);
        return -1;
    }
    if (password_from_file(role, cfg) != 0)
        return -1;
    *exit_code = 0;
    log_init(role, (LogLevel)level);
    service_cfg = cfg;
    signals_install();
    metrics_declare("dts_redis_reconnects_total", METRIC_COUNTER, "Reconnections to Redis.");
    metrics_declare("dts_redis_wait_short_total", METRIC_COUNTER,
                    "Acknowledged writes that reached fewer replicas than --redis-wait.");
    service_declare_build_info();
    return 0;
}

Store *service_store(void)
{
    pthread_once(&store_key_once, store_key_make);
    Store *st = pthread_getspecific(thread_store_key);
    if (st == NULL) {
        char err[128];
        StoreConfig sc = {service_cfg->redis,           service_cfg->prefix,
                          (int)service_cfg->shards,     (int)service_cfg->runs_kept,
                          (int)service_cfg->redis_wait, (int)service_cfg->redis_wait_ms};
        st = store_open(&sc, err, sizeof err);
        if (st == NULL) { /* the URL was checked at start-up */
            log_error("cannot open store", "{s:s}", "error", err);
            abort();
        }
        pthread_setspecific(thread_store_key, st);
    }
    return st;
}

void service_store_release(void)
{
    pthread_once(&store_key_once, store_key_make);
    store_close(pthread_getspecific(thread_store_key));
    pthread_setspecific(thread_store_key, NULL);
}

int service_wait_redis(Store *st)
{
    int64_t delay = 100, logged = 0;
    for (;;) {
        int rv = store_check(st);
        if (rv == STORE_OK)
            return 0;
        if (rv == STORE_EMETA) {
            log_error("refusing to start", "{s:s}", "error", store_errstr(st));
            return -1;
        }
        if (service_stopping)
            return -1;
        if (clock_mono_ms() - logged > 5000) {
            log_warn("waiting for redis", "{s:s}", "error", store_errstr(st));
            logged = clock_mono_ms();
        }
        clock_sleep_ms(delay);
        delay = delay < 2000 ? delay * 2 : 2000;
    }
}

void service_set_ready(service_ready_cb cb)
{
    ready_cb = cb;
}

/* The default readiness: Redis answers and agrees on the shard count. */
static int store_ready_cb(char *out, size_t len)
{
    if (service_cfg == NULL || service_cfg->redis == NULL) { /* a role with no store and no hook */
        snprintf(out, len, "{\"status\":\"not ready\",\"redis\":\"not configured\"}");
        return 0;
    }
    Store *st = service_store();
    int rv = store_check(st);
    json_t *body = json_pack("{s:s,s:s}", "status", rv == STORE_OK ? "ready" : "not ready", "redis",
                             rv == STORE_OK ? "ok" : store_errstr(st));
    char *text = json_dumps(body, JSON_COMPACT);
    snprintf(out, len, "%s", text);
    free(text);
    json_decref(body);
    return rv == STORE_OK;
}

int service_probe(const HttpRequest *req, HttpResponse *res)
{
    int is_probe = strcmp(req->path, "/healthz") == 0 || strcmp(req->path, "/readyz") == 0 ||
                   strcmp(req->path, "/metrics") == 0;
    if (is_probe && strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        http_add_header(res, "Allow", "GET, HEAD");
        http_problem(res, 405, NULL, NULL, NULL);
    } else if (strcmp(req->path, "/healthz") == 0) {
        http_respond(res, 200, "application/json", "{\"status\":\"ok\"}");
    } else if (strcmp(req->path, "/readyz") == 0) {
        char body[512];
        int ready = (ready_cb ? ready_cb : store_ready_cb)(body, sizeof body);
        http_respond(res, ready ? 200 : 503, "application/json", body);
    } else if (strcmp(req->path, "/metrics") == 0) {
        res->status = 200;
        res->content_type = "text/plain; version=0.0.4";
        procmetrics_update();
        res->body = metrics_render();
        res->body_len = strlen(res->body);
    } else {
        return 0;
    }
    return 1;
}

static void probe_only_cb(const HttpRequest *req, HttpResponse *res, void *ud)
{
    if (!service_probe(req, res))
        http_problem(res, 404, NULL, NULL, NULL);
}

HttpServer *service_probe_server(const char *listen, char *err, size_t errlen)
{
    if (listen == NULL || listen[0] == '\0')
        return NULL;
    HttpConfig hc = {.listen = listen, .max_body = 1024, .threads = 1, .handler = probe_only_cb};
    return httpd_start(&hc, err, errlen);
}

int service_tokens(const char *role, const char *path, const char *listen, TokenSet **set)
{
    char err[160];
    const char *named = getenv("DTS_TOKENS_FILE"); /* the documented name */
    *set = NULL;
    if (path[0] == '\0' && named != NULL)
        path = named;
    if (path[0] != '\0' && (*set = auth_load(path, err, sizeof err)) == NULL) {
        fprintf(stderr, "dts %s: %s\n", role, err);
        return 2;
    }
    if (!http_is_loopback(listen) && auth_count(*set) == 0) {
        fprintf(
            stderr,
            "dts %s: refusing to listen on %s without API tokens (--tokens FILE); use a loopback address\n",
            role, listen);
        auth_free(*set);
        *set = NULL;
        return 2;
    }
    return 0;
}

int service_guard(const char *role, const char *hosts, const char *cors, ReqGuard **guard)
{
    char err[160];
    if ((*guard = reqguard_new(hosts, cors, err, sizeof err)) == NULL) {
        fprintf(stderr, "dts %s: --allowed-hosts: %s\n", role, err);
        return 2;
    }
    return 0;
}

void service_instance_id(const char *role, char *out, size_t len)
{
    char host[64] = "host";
    unsigned short rnd = 0;
    gethostname(host, sizeof host - 1);
    if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
        rnd = 0;
    snprintf(out, len, "%s-%s-%d-%04x", role, host, (int)getpid(), rnd);
}
