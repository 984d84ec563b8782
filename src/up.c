/* up: the whole system on one machine, for local use: a redis-server with its
 * data under --data (AOF on), one api, one scheduler, --executors executors
 * and the web UI, each a child process of this one running the same binary.
 *
 * Concurrency: one supervisor thread waits for children and restarts any that
 * die (with a backoff); SIGINT or SIGTERM stops them all: the dts roles first
 * (executors drain), then redis-server, which flushes its AOF as it exits. */
#include "up.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "service.h"

#define MAX_CHILDREN 40
#define MAX_ARGS 24

typedef struct Child {
    const char *name;
    char *argv[MAX_ARGS];
    int64_t started_ms;
    pid_t pid;
    int restarts;
} Child;

static Child children[MAX_CHILDREN];
static int nchildren;

static int port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static int port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static int wait_port(int port, int64_t timeout_ms)
{
    int64_t until = clock_mono_ms() + timeout_ms;
    while (!port_accepts(port)) {
        if (clock_mono_ms() > until || service_stopping)
            return -1;
        clock_sleep_ms(50);
    }
    return 0;
}

static Child *child_add(const char *name, ...)
{
    Child *c = &children[nchildren++];
    va_list ap;
    int i = 0;
    c->name = name;
    va_start(ap, name);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && i < MAX_ARGS - 1;)
        c->argv[i++] = xstrdup(a);
    va_end(ap);
    return c;
}

static int child_start(Child *c, const char *logdir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.log", logdir, c->name);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the supervisor */
        FILE *log = freopen(path, "a", stderr);
        if (log != NULL)
            dup2(fileno(stderr), 1);
        signal(SIGINT, SIG_IGN); /* Ctrl-C reaches the group; the supervisor decides */
        execv(strcmp(c->argv[0], "dts") == 0 ? "/proc/self/exe" : c->argv[0], c->argv);
        execvp(c->argv[0], c->argv);
        fprintf(stderr, "cannot run %s: %s\n", c->argv[0], strerror(errno));
        _exit(127);
    }
    c->pid = pid;
    c->started_ms = clock_mono_ms();
    return 0;
}

static void children_stop(int from, int to, int64_t grace_ms)
{
    for (int i = from; i < to; i++)
        if (children[i].pid > 0)
            kill(children[i].pid, SIGTERM);
    int64_t until = clock_mono_ms() + grace_ms;
    for (;;) {
        int alive = 0;
        for (int i = from; i < to; i++) {
            if (children[i].pid > 0 && waitpid(children[i].pid, NULL, WNOHANG) == children[i].pid)
                children[i].pid = 0;
            alive += children[i].pid > 0;
        }
        if (alive == 0)
            return;
        if (clock_mono_ms() > until) {
            for (int i = from; i < to; i++)
                if (children[i].pid > 0)
                    kill(children[i].pid, SIGKILL);
            until = INT64_MAX;
        }
        clock_sleep_ms(20);
    }
}

/* Restarts children that exited, with a growing delay for crash loops. */
static void supervise(const char *logdir)
{
    while (!service_stopping) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        for (int i = 0; pid > 0 && i < nchildren; i++) {
            Child *c = &children[i];
            if (c->pid != pid)
                continue;
            c->pid = 0;
            int quick = clock_mono_ms() - c->started_ms < 5000;
            c->restarts = quick ? c->restarts + 1 : 0;
            log_warn("child exited; restarting", "{s:s,s:i,s:i}", "child", c->name, "status", status,
                     "restarts", c->restarts);
            clock_sleep_ms(c->restarts > 5 ? 5000 : 200 * c->restarts);
            child_start(c, logdir);
        }
        if (pid <= 0)
            clock_sleep_ms(100);
    }
}

/* 1 if the N ports from FIRST on are all free. */
static int ports_free(int first, int n)
{
    for (int i = 0; i < n; i++)
        if (!port_free(first + i))
            return 0;
    return 1;
}

/* The embedded Redis's password: DIR/redis.pass (0600), made once from 24
 * random bytes. Writes its path into PATH. Returns 0, or -1 after printing. */
static int password_ensure(const char *dir, char *path, size_t len, char *pw, size_t pwlen)
{
    unsigned char rnd[24];
    snprintf(path, len, "%s/redis.pass", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) {
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
            close(fd);
            unlink(path);
            fprintf(stderr, "dts up: cannot get random bytes for the Redis password\n");
            return -1;
        }
        char hex[2 * sizeof rnd + 2];
        for (size_t i = 0; i < sizeof rnd; i++)
            snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
        memcpy(hex + 2 * sizeof rnd, "\n", 2);
        ssize_t w = write(fd, hex, strlen(hex));
        close(fd);
        if (w != (ssize_t)strlen(hex))
            return -1;
    }
    chmod(path, 0600);
    FILE *f = fopen(path, "r");
    int ok = f != NULL && fgets(pw, (int)pwlen, f) != NULL;
    if (f != NULL)
        fclose(f);
    if (ok)
        pw[strcspn(pw, "\n")] = '\0';
    if (!ok || pw[0] == '\0') {
        fprintf(stderr, "dts up: cannot read the Redis password from %s\n", path);
        return -1;
    }
    return 0;
}

/* redis-server reads its password from a config file (0600), never argv. */
static int redis_conf_write(const char *dir, const char *pw, char *path, size_t len)
{
    snprintf(path, len, "%s/redis.conf", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        fprintf(stderr, "dts up: cannot write %s\n", path);
        return -1;
    }
    fchmod(fd, 0600);
    fprintf(f, "# written by dts up on every start\nrequirepass %s\n", pw);
    return fclose(f) == 0 ? 0 : -1;
}

/* The data folder and everything under it are the user's alone: task specs
 * (with their secrets) are in the AOF. */
static int data_dirs_make(const char *dir, const char *rdir, const char *logdir)
{
    umask(077); /* redis-server's AOF and every log are created 0600 */
    mkdir(dir, 0700);
    mkdir(rdir, 0700);
    mkdir(logdir, 0700);
    if (chmod(dir, 0700) != 0) {
        fprintf(stderr, "dts up: cannot use %s as the data folder: %s\n", dir, strerror(errno));
        return -1;
    }
    chmod(rdir, 0700);
    chmod(logdir, 0700);
    return 0;
}

int up_main(int argc, char **argv)
{
    static ServiceConfig cfg;
    static const char *data, *redis_bin, *tokens, *http_allow;
    static long api_port, web_port, redis_port, executors, concurrency, metrics_port;
    static const Option opts[] = {
        {"data", OPT_STR, &data, "var", 0, 0, "folder for Redis's data and the logs"},
        {"api-port", OPT_INT, &api_port, "8321", 1, 65535, "the api's port on 127.0.0.1"},
        {"web-port", OPT_INT, &web_port, "8320", 1, 65535, "the web UI's port on 127.0.0.1"},
        {"redis-port", OPT_INT, &redis_port, "16379", 1, 65535, "the embedded redis-server's port"},
        {"metrics-port", OPT_INT, &metrics_port, "8322", 1, 65000,
         "the scheduler's /metrics port; executor N's is this + N"},
        {"redis-server", OPT_STR, &redis_bin, "redis-server", 0, 0, "the redis-server program"},
        {"executors", OPT_INT, &executors, "2", 1, 32, "executor processes"},
        {"concurrency", OPT_INT, &concurrency, "16", 1, 4096, "actions each executor runs at once"},
        {"tokens", OPT_STR, &tokens, "", 0, 0, "API tokens file for the api (see dts token create)"},
        {"http-allow", OPT_STR, &http_allow, "", 0, 0,
         "internal address blocks webhooks may reach (executor --http-allow)"},
        SERVICE_OPTIONS(cfg),
        {0},
    };
    int rv;
    if (service_init("up", "Runs the whole system locally, with its own redis-server.", opts, argc, argv,
                     &cfg, &rv) != 0)
        return rv;
    char dir[512], logdir[512], rdir[512], url[64], port[16], shards[16], listen[32], conc[16];
    char web_listen[32], api_url[48];
    snprintf(dir, sizeof dir, "%s", data);
    snprintf(rdir, sizeof rdir, "%s/redis", dir);
    snprintf(logdir, sizeof logdir, "%s/logs", dir);
    char pass_path[600], conf_path[600], pw[128];
    if (data_dirs_make(dir, rdir, logdir) != 0 ||
        password_ensure(dir, pass_path, sizeof pass_path, pw, sizeof pw) != 0 ||
        redis_conf_write(dir, pw, conf_path, sizeof conf_path) != 0)
        return 1;
    if (!port_free((int)redis_port) || !port_free((int)api_port) || !port_free((int)web_port) ||
        !ports_free((int)metrics_port, (int)executors + 1)) {
        fprintf(stderr,
                "dts up: port %ld, %ld, %ld or %ld-%ld is in use (another dts up?); choose others with "
                "--redis-port, --api-port, --web-port and --metrics-port\n",
                redis_port, api_port, web_port, metrics_port, metrics_port + executors);
        return 1;
    }
    snprintf(port, sizeof port, "%ld", redis_port);
    snprintf(url, sizeof url, "redis://127.0.0.1:%ld", redis_port);
    snprintf(shards, sizeof shards, "%ld", cfg.shards);
    snprintf(listen, sizeof listen, "127.0.0.1:%ld", api_port);
    snprintf(conc, sizeof conc, "%ld", concurrency);
    snprintf(web_listen, sizeof web_listen, "127.0.0.1:%ld", web_port);
    snprintf(api_url, sizeof api_url, "http://127.0.0.1:%ld", api_port);
    Child *redis = child_add("redis", redis_bin, conf_path, "--port", port, "--bind", "127.0.0.1", "--dir",
                             rdir, "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
                             "--daemonize", "no", "--protected-mode", "yes",
                             /* task hashes carry their spec (JSON, >64 B): keep them compact */
                             "--hash-max-listpack-value", "1024",
                             /* XDEL of a finished run seeks through its stream node: keep nodes short */
                             "--stream-node-max-entries", "16", NULL);
    if (child_start(redis, logdir) != 0 || wait_port((int)redis_port, 10000) != 0) {
        fprintf(stderr, "dts up: redis-server did not start; see %s/redis.log\n", logdir);
        children_stop(0, nchildren, 2000);
        return 1;
    }
    /* Optional flags go last: a NULL in their place ends the list early. */
    child_add("api", "dts", "api", "--redis", url, "--redis-password-file", pass_path, "--listen", listen,
              "--shards", shards, tokens[0] ? "--tokens" : NULL, tokens, NULL);
    char mlisten[32]; /* child_add copies it */
    snprintf(mlisten, sizeof mlisten, "127.0.0.1:%ld", metrics_port);
    child_add("scheduler", "dts", "scheduler", "--redis", url, "--redis-password-file", pass_path,
              "--shards", shards, "--listen", mlisten, NULL);
    for (long i = 0; i < executors && nchildren < MAX_CHILDREN; i++) {
        char *name = xmalloc(32);
        snprintf(name, 32, "executor-%ld", i + 1);
        snprintf(mlisten, sizeof mlisten, "127.0.0.1:%ld", metrics_port + i + 1);
        child_add(name, "dts", "executor", "--redis", url, "--redis-password-file", pass_path, "--shards",
                  shards, "--concurrency", conc, "--grace-ms", "10000", "--listen", mlisten,
                  http_allow[0] ? "--http-allow" : NULL, http_allow, NULL);
    }
    for (int i = 1; i < nchildren; i++)
        child_start(&children[i], logdir);
    /* The web role health-checks the api: start it once the api listens. */
    int api_up = wait_port((int)api_port, 15000) == 0;
    Child *web = child_add("web", "dts", "web", "--listen", web_listen, "--api", api_url,
                           tokens[0] ? "--tokens" : NULL, tokens, NULL);
    child_start(web, logdir);
    if (api_up && wait_port((int)web_port, 5000) == 0)
        printf(
            "dts is up.\n  Open:  http://127.0.0.1:%ld/\n  API:   http://127.0.0.1:%ld/api/v1/tasks\n"
            "  Redis: %s (password in %s; data in %s)\n  Logs:  %s/\n  Metrics: "
            "http://127.0.0.1:%ld/metrics (api), "
            "http://127.0.0.1:%ld/metrics (scheduler), ports %ld-%ld (executors)\nPress Ctrl-C to stop.\n",
            web_port, api_port, url, pass_path, rdir, logdir, api_port, metrics_port, metrics_port + 1,
            metrics_port + executors);
    else
        fprintf(stderr, "dts up: the api did not come up; see %s/api.log\n", logdir);
    fflush(stdout);
    supervise(logdir);
    log_info("stopping", NULL);
    children_stop(1, nchildren, 15000);
    children_stop(0, 1, 10000);
    printf("dts stopped.\n");
    return 0;
}
