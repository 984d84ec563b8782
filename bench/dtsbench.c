/* dtsbench: the benchmark suite's driver (bench/run.sh calls it).
 *
 *   dtsbench seed HOST PORT N DUE0_MS RATE KIND [PREFIX SHARDS]
 *       Creates N tasks exactly as the api does (the embedded create.lua,
 *       pipelined EVALSHA), task i due at DUE0_MS + i * 1000 / RATE (RATE 0:
 *       all at DUE0_MS). KIND: at-noop, at-shell (a typical one-time spec) or
 *       cron-shell (a typical recurring spec). Prints one task id on stdout.
 *       HOST may be a URL (redis-cluster://h:p,...; PORT is then ignored), as
 *       for watch: both go through rconn, which routes by slot on a cluster.
 *   dtsbench ceiling HOST PORT SECONDS
 *       Raw Redis rates of the hot-path commands, one connection, without and
 *       with pipelining, and of the dispatch script on 200-item batches.
 *   dtsbench watch HOST PORT PREFIX SHARDS TARGET T0_MS TIMEOUT_S OUT
 *       Every 50 ms: occurrences dispatched so far (the ready streams'
 *       entries-added), executed (entries-added minus those still in the
 *       stream: executors XDEL on completion) and due members left. Stops when
 *       TARGET have executed (or, with TARGET < 0, when -TARGET have been
 *       dispatched). Writes "t_s dispatched executed due" lines to OUT.
 *   dtsbench lateness HOST PORT PREFIX SHARDS EXPECT TIMEOUT_S OUT
 *       Follows every shard's events stream (run.started: at - sched is the
 *       start lateness, as the start script saw it; without run.started
 *       events, run.finished's lateness_ms) until EXPECT runs started.
 *       Writes "sched_ms start_late" lines and prints the percentiles. It is
 *       an observer on the measured Redis, which BullMQ's window has none of,
 *       so it reads lightly: no BLOCK (a blocked reader on every stream is
 *       woken by every event), large batches, and a 100 ms pause once it has
 *       caught up. The streams keep 10,000 events each, seconds' worth at
 *       the rates measured.
 *
 * Loopback Redis only; every loop is bounded by a count and a timeout. */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "mem.h"
#include "rconn.h"
#include "store.h"
#include "store_task.h"
#include "task.h"

extern const char script_create[], script_dispatch[];

static redisContext *connect_or_die(const char *host, int port)
{
    struct timeval tv = {5, 0};
    redisContext *c = redisConnectWithTimeout(host, port, tv);
    if (c == NULL || c->err) {
        fprintf(stderr, "dtsbench: cannot connect to %s:%d\n", host, port);
        exit(1);
    }
    return c;
}

static redisReply *cmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (r == NULL) {
        fprintf(stderr, "dtsbench: redis: %s\n", c->errstr);
        exit(1);
    }
    return r;
}

static redisReply *get_reply(redisContext *c)
{
    void *r = NULL;
    if (redisGetReply(c, &r) != REDIS_OK || r == NULL) {
        fprintf(stderr, "dtsbench: redis: %s\n", c->errstr);
        exit(1);
    }
    redisReply *rr = r;
    if (rr->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "dtsbench: redis error: %s\n", rr->str);
        exit(1);
    }
    return rr;
}

static void script_load(redisContext *c, const char *text, char sha[41])
{
    redisReply *r = cmd(c, "SCRIPT LOAD %s", text);
    snprintf(sha, 41, "%s", r->str);
    freeReplyObject(r);
}

/* HOST:PORT, or HOST itself when it is a URL, through rconn. */
static RConn *rconn_or_die(const char *host, const char *port)
{
    char url[512], err[128];
    if (strstr(host, "://") != NULL)
        snprintf(url, sizeof url, "%s", host);
    else
        snprintf(url, sizeof url, "redis://%s:%s", host, port);
    RConn *rc = rconn_new(url, err, sizeof err);
    if (rc == NULL || rconn_ensure(rc) != 0) {
        fprintf(stderr, "dtsbench: cannot connect to %s: %s\n", url, rc ? rc->errstr : err);
        exit(1);
    }
    return rc;
}

/* The next pipelined reply of RC; exits on an error. */
static redisReply *rc_reply(RConn *rc)
{
    redisReply *r = rconn_read(rc);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "dtsbench: redis: %s\n", r ? r->str : rc->errstr);
        exit(1);
    }
    return r;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- seed ---- */

/* An argv under construction, for redisAppendCommandArgv. */
typedef struct Argv {
    int n;
    char *v[64];
    size_t len[64];
} Argv;

static void av_add(Argv *a, const char *s)
{
    a->v[a->n] = xstrdup(s);
    a->len[a->n++] = strlen(s);
}

static void av_free(Argv *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    a->n = 0;
}

/* The spec body of task I due at DUE_MS, as a client would POST it. */
static void spec_body(char *buf, size_t len, const char *kind, long i, int64_t due_ms)
{
    char at[CLOCK_RFC3339_LEN];
    clock_format_rfc3339(due_ms, at);
    if (strcmp(kind, "at-noop") == 0)
        snprintf(buf, len, "{\"name\":\"burst-%ld\",\"schedule\":{\"at\":\"%s\"},\"action\":{\"type\":\"noop\"}}", i, at);
    else if (strcmp(kind, "at-shell") == 0)
        snprintf(buf, len,
                 "{\"name\":\"report-%06ld\",\"labels\":{\"team\":\"data\"},\"schedule\":{\"at\":\"%s\"},"
                 "\"action\":{\"type\":\"shell\",\"command\":[\"/usr/local/bin/report\",\"--daily\"],"
                 "\"env\":{\"MODE\":\"full\"}},\"timeout_s\":600}",
                 i, at);
    else
        snprintf(buf, len,
                 "{\"name\":\"nightly-%06ld\",\"labels\":{\"team\":\"data\"},\"schedule\":{\"cron\":\"%ld %ld * * *\","
                 "\"timezone\":\"Europe/Berlin\"},\"action\":{\"type\":\"shell\",\"command\":[\"/usr/local/bin/report\","
                 "\"--daily\"],\"env\":{\"MODE\":\"full\"}},\"retry\":{\"max_attempts\":3},\"timeout_s\":600}",
                 i, i % 60, (i / 60) % 24);
}

/* The create.lua call for SPEC: the store's own arguments behind EVALSHA. */
static void create_argv(Argv *a, const char *sha, const char *prefix, int shards, const char *id,
                        const TaskSpec *spec, int64_t now, int64_t due)
{
    char **argv;
    size_t *lens;
    int n = store_task_create_argv(prefix, shards, id, spec, now, due, &argv, &lens);
    av_add(a, "EVALSHA");
    av_add(a, sha);
    av_add(a, "5");
    for (int i = 0; i < n; i++) {
        av_add(a, argv[i]);
        free(argv[i]);
    }
    free(argv);
    free(lens);
}

static int cmd_seed(int argc, char **argv)
{
    if (argc < 8)
        return 2;
    long n = atol(argv[4]);
    int64_t due0 = strtoll(argv[5], NULL, 10);
    double rate = atof(argv[6]);
    const char *kind = argv[7], *prefix = argc > 8 ? argv[8] : "dts";
    int shards = argc > 9 ? atoi(argv[9]) : 16;
    RConn *c = rconn_or_die(argv[2], argv[3]);
    char sha[41], body[1024], id[25], first[25] = "";
    redisReply *loaded = rconn_cmd(c, "SCRIPT LOAD %s", script_create);
    snprintf(sha, sizeof sha, "%s", loaded && loaded->type == REDIS_REPLY_STRING ? loaded->str : "");
    freeReplyObject(loaded);
    double t0 = mono_s();
    const long window = 512;
    long sent = 0, recv = 0;
    while (recv < n) {
        while (sent < n && sent - recv < window) {
            int64_t due = rate > 0 ? due0 + (int64_t)((double)sent * 1000.0 / rate) : due0;
            int64_t now = clock_now_ms();
            spec_body(body, sizeof body, kind, sent, due);
            TaskError err;
            TaskSpec *spec = task_spec_parse(body, strlen(body), &err);
            if (spec == NULL) {
                fprintf(stderr, "dtsbench: bad spec %s: %s %s\n", body, err.field, err.detail);
                return 1;
            }
            task_new_id(now, id);
            if (!first[0])
                snprintf(first, sizeof first, "%s", id);
            /* A past instant is "now" for the api; keep the instant itself so
             * that a burst's tasks are all due at exactly DUE0_MS. */
            int64_t d = spec->stype == SCHEDULE_AT ? due : task_first_due(spec, now, now);
            Argv a = {0};
            create_argv(&a, sha, prefix, shards, id, spec, now, d);
            rconn_append_argv(c, a.n, (const char **)a.v, a.len);
            av_free(&a);
            task_spec_free(spec);
            sent++;
        }
        freeReplyObject(rc_reply(c));
        recv++;
    }
    double dt = mono_s() - t0;
    fprintf(stderr, "seeded %ld %s tasks in %.1f s (%.0f/s)\n", n, kind, dt, (double)n / dt);
    printf("%s\n", first);
    rconn_free(c);
    return 0;
}

/* ---- ceiling ---- */

typedef struct Bench {
    redisContext *c;
    double secs;
    long counter;
} Bench;

/* Runs FILL (appends one command, returns the items it stands for) with DEPTH
 * commands in flight for SECS seconds; returns items per second. */
static double run_loop(Bench *b, int depth, long (*fill)(Bench *), int (*more)(Bench *))
{
    double t0 = mono_s(), end = t0 + b->secs;
    long items = 0, inflight = 0;
    long pending_items[1024];
    long head = 0, tail = 0;
    for (;;) {
        int go = mono_s() < end && (more == NULL || more(b));
        while (go && inflight < depth) {
            pending_items[tail++ % 1024] = fill(b);
            inflight++;
        }
        if (inflight == 0)
            break;
        freeReplyObject(get_reply(b->c));
        items += pending_items[head++ % 1024];
        inflight--;
    }
    return (double)items / (mono_s() - t0);
}

static long fill_xadd(Bench *b)
{
    redisAppendCommand(b->c, "XADD bench:{0}:ready * task 0190aa00bb11cc22dd33ee44 sched %ld attempt 1 kind schedule",
                       1700000000000L + b->counter++);
    return 1;
}

static long fill_zadd(Bench *b)
{
    redisAppendCommand(b->c, "ZADD bench:{0}:due %ld t%ld", 1700000000000L + (b->counter * 7919) % 86400000,
                       b->counter);
    b->counter++;
    return 1;
}

static long fill_zrange(Bench *b)
{
    redisAppendCommand(b->c, "ZRANGE bench:{0}:due -inf %ld BYSCORE LIMIT 0 200 WITHSCORES",
                       1700000000000L + 3600000L);
    return 200;
}

/* XREADGROUP of COUNT entries then one XACK of them all: two round trips per
 * batch, whatever the batch size. Returns entries per second. */
static double bench_read_ack(Bench *b, int count)
{
    double t0 = mono_s(), end = t0 + b->secs;
    long items = 0;
    while (mono_s() < end) {
        redisReply *r = cmd(b->c, "XREADGROUP GROUP g c COUNT %d STREAMS bench:{0}:rd >", count);
        if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
            freeReplyObject(r);
            break;
        }
        redisReply *entries = r->element[0]->element[1];
        const char *argv[1100];
        size_t lens[1100];
        int n = 0;
        argv[n] = "XACK", lens[n++] = 4;
        argv[n] = "bench:{0}:rd", lens[n++] = strlen("bench:{0}:rd");
        argv[n] = "g", lens[n++] = 1;
        for (size_t i = 0; i < entries->elements; i++) {
            argv[n] = entries->element[i]->element[0]->str;
            lens[n++] = entries->element[i]->element[0]->len;
        }
        redisAppendCommandArgv(b->c, n, argv, lens);
        freeReplyObject(get_reply(b->c));
        items += (long)entries->elements;
        freeReplyObject(r);
    }
    return (double)items / (mono_s() - t0);
}

static void fill_stream(redisContext *c, long n)
{
    freeReplyObject(cmd(c, "DEL bench:{0}:rd"));
    for (long i = 0; i < n; i++)
        redisAppendCommand(c, "XADD bench:{0}:rd * task 0190aa00bb11cc22dd33ee44 sched %ld attempt 1 kind schedule", i);
    for (long i = 0; i < n; i++)
        freeReplyObject(get_reply(c));
    freeReplyObject(cmd(c, "XGROUP CREATE bench:{0}:rd g 0"));
}

/* The dispatch script over a pool of due one-time tasks, BATCH per call. */
static char dispatch_sha[41];
static long pool_next, pool_size;

static void fill_pool(redisContext *c, long n)
{
    freeReplyObject(cmd(c, "DEL bench:{0}:due2 bench:{0}:ready2"));
    for (long i = 0; i < n; i++) {
        redisAppendCommand(c, "HSET bench:{0}:task:t%ld version 1 dispatched 0 next 1", i);
        redisAppendCommand(c, "ZADD bench:{0}:due2 1000 t%ld", i);
    }
    for (long i = 0; i < 2 * n; i++)
        freeReplyObject(get_reply(c));
    pool_next = 0;
    pool_size = n;
}

static int more_pool(Bench *b)
{
    return pool_next + 200 <= pool_size;
}

static long fill_dispatch(Bench *b)
{
    static char *argv[2 + 1 + 2 + 200 + 1 + 200 * 11];
    static size_t lens[sizeof argv / sizeof *argv];
    char buf[64];
    int n = 0, batch = 200;
#define ADD(s) (argv[n] = xstrdup(s), lens[n] = strlen(argv[n]), n++)
    ADD("EVALSHA");
    ADD(dispatch_sha);
    snprintf(buf, sizeof buf, "%d", batch + 2);
    ADD(buf);
    ADD("bench:{0}:due2");
    ADD("bench:{0}:ready2");
    for (int i = 0; i < batch; i++) {
        snprintf(buf, sizeof buf, "bench:{0}:task:t%ld", pool_next + i);
        ADD(buf);
    }
    ADD("1700000000000");
    for (int i = 0; i < batch; i++) {
        char m[32];
        snprintf(m, sizeof m, "t%ld", pool_next + i);
        ADD(m);
        ADD(m);
        ADD("1000");
        ADD("1");
        ADD("-1");
        ADD("1");
        ADD("0");
        ADD("0");
        ADD("1000");
        ADD("1");
        ADD("schedule");
    }
#undef ADD
    pool_next += batch;
    redisAppendCommandArgv(b->c, n, (const char **)argv, lens);
    for (int i = 0; i < n; i++)
        free(argv[i]);
    return batch;
}

static int cmd_ceiling(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    Bench b = {connect_or_die(argv[2], atoi(argv[3])), atof(argv[4]), 0};
    script_load(b.c, script_dispatch, dispatch_sha);
    freeReplyObject(cmd(b.c, "DEL bench:{0}:ready bench:{0}:due"));
    printf("XADD\t1\t%.0f\n", run_loop(&b, 1, fill_xadd, NULL));
    printf("XADD\t64\t%.0f\n", run_loop(&b, 64, fill_xadd, NULL));
    printf("ZADD\t1\t%.0f\n", run_loop(&b, 1, fill_zadd, NULL));
    printf("ZADD\t64\t%.0f\n", run_loop(&b, 64, fill_zadd, NULL));
    /* Keep the due set at 1M members, as in the sustained run. */
    for (b.counter = 0; b.counter < 1000000;) {
        for (int i = 0; i < 1000; i++)
            fill_zadd(&b);
        for (int i = 0; i < 1000; i++)
            freeReplyObject(get_reply(b.c));
    }
    printf("ZRANGE_BYSCORE_200\t1\t%.0f\n", run_loop(&b, 1, fill_zrange, NULL));
    printf("ZRANGE_BYSCORE_200\t16\t%.0f\n", run_loop(&b, 16, fill_zrange, NULL));
    fill_stream(b.c, 600000);
    printf("XREADGROUP+XACK\t1\t%.0f\n", bench_read_ack(&b, 1));
    printf("XREADGROUP+XACK\t64\t%.0f\n", bench_read_ack(&b, 64));
    fill_pool(b.c, 400000);
    printf("EVALSHA_dispatch_200\t1\t%.0f\n", run_loop(&b, 1, fill_dispatch, more_pool));
    fill_pool(b.c, 400000);
    printf("EVALSHA_dispatch_200\t8\t%.0f\n", run_loop(&b, 8, fill_dispatch, more_pool));
    freeReplyObject(cmd(b.c, "DEL bench:{0}:ready bench:{0}:due bench:{0}:rd bench:{0}:due2 bench:{0}:ready2"));
    /* The pool's task hashes: drop them with a scan. */
    redisReply *r;
    char cursor[32] = "0";
    do {
        r = cmd(b.c, "SCAN %s MATCH bench:* COUNT 10000", cursor);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++)
            redisAppendCommand(b.c, "UNLINK %s", r->element[1]->element[i]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++)
            freeReplyObject(get_reply(b.c));
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    redisFree(b.c);
    return 0;
}

/* ---- watch ---- */

static long long xinfo_field(redisReply *r, const char *name)
{
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2)
        if (r->element[i]->str && strcmp(r->element[i]->str, name) == 0)
            return r->element[i + 1]->integer;
    return 0;
}

static int cmd_watch(int argc, char **argv)
{
    if (argc < 10)
        return 2;
    RConn *c = rconn_or_die(argv[2], argv[3]);
    const char *prefix = argv[4];
    int shards = atoi(argv[5]);
    long long target = atoll(argv[6]);
    int64_t t0 = strtoll(argv[7], NULL, 10);
    double timeout = atof(argv[8]);
    FILE *out = fopen(argv[9], "w");
    if (out == NULL)
        return 1;
    double t_disp = -1, t_exec = -1, start = mono_s();
    long long goal = target < 0 ? -target : target;
    while (mono_s() - start < timeout) {
        for (int s = 0; s < shards; s++) {
            rconn_append(c, "XINFO STREAM %s:{%d}:ready", prefix, s);
            rconn_append(c, "ZCARD %s:{%d}:due", prefix, s);
        }
        long long added = 0, left = 0, due = 0;
        for (int s = 0; s < shards; s++) {
            redisReply *r = rconn_read(c);
            if (r == NULL)
                return 1;
            if (r->type == REDIS_REPLY_ARRAY) {
                added += xinfo_field(r, "entries-added");
                left += xinfo_field(r, "length");
            }
            freeReplyObject(r);
            r = rc_reply(c);
            due += r->integer;
            freeReplyObject(r);
        }
        double t = (double)(clock_now_ms() - t0) / 1000.0;
        fprintf(out, "%.3f %lld %lld %lld\n", t, added, added - left, due);
        if (t_disp < 0 && added >= goal)
            t_disp = t;
        if (t_exec < 0 && added - left >= goal)
            t_exec = t;
        if ((target < 0 && t_disp >= 0) || t_exec >= 0)
            break;
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
    }
    fclose(out);
    printf("dispatched_s %.3f\nexecuted_s %.3f\n", t_disp, t_exec);
    rconn_free(c);
    return t_disp < 0 ? 1 : 0;
}

/* ---- lateness ---- */

#define FOLLOW_COUNT 5000 /* entries per stream per read */

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static long long pct(const long long *v, long n, double p)
{
    if (n == 0)
        return 0;
    long i = (long)(p * (double)n);
    return v[i >= n ? n - 1 : i];
}

static void print_dist(const char *what, long long *v, long n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_ll);
    long early = 0;
    for (long i = 0; i < n && v[i] < 0; i++)
        early++;
    printf("%s n=%ld min=%lld p50=%lld p99=%lld p99.9=%lld max=%lld early=%ld\n", what, n, n ? v[0] : 0,
           pct(v, n, .5), pct(v, n, .99), pct(v, n, .999), n ? v[n - 1] : 0, early);
}

static const char *field(redisReply *fields, const char *name)
{
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        if (strcmp(fields->element[i]->str, name) == 0)
            return fields->element[i + 1]->str;
    return NULL;
}

/* The start lateness an event carries: run.started's `at` minus the scheduled
 * time; or, where the events have no run.started, a run.finished's own
 * `lateness_ms` (or `lateness`) field. Returns 1 with *LATE set, 0 to skip. */
static int run_lateness(redisReply *fields, const char *type, const char *at, long long sched, long long *late)
{
    static int saw_started;
    if (strcmp(type, "run.started") == 0) {
        saw_started = 1;
        *late = atoll(at) - sched;
        return 1;
    }
    const char *l = field(fields, "lateness_ms");
    if (l == NULL)
        l = field(fields, "lateness");
    if (saw_started || strcmp(type, "run.finished") != 0 || l == NULL)
        return 0;
    *late = atoll(l);
    return 1;
}

static int cmd_lateness(int argc, char **argv)
{
    if (argc < 9)
        return 2;
    redisContext *c = connect_or_die(argv[2], atoi(argv[3]));
    const char *prefix = argv[4];
    int shards = atoi(argv[5]);
    long expect = atol(argv[6]);
    double timeout = atof(argv[7]);
    FILE *out = fopen(argv[8], "w");
    if (out == NULL)
        return 1;
    /* keys: the events streams; ids start at "now". */
    int nk = shards;
    char (*keys)[64] = xcalloc((size_t)nk, sizeof *keys);
    char (*ids)[48] = xcalloc((size_t)nk, sizeof *ids);
    for (int i = 0; i < nk; i++) {
        snprintf(keys[i], sizeof keys[i], "%s:{%d}:events", prefix, i);
        snprintf(ids[i], sizeof ids[i], "%lld-0", (long long)clock_now_ms());
    }
    long cap = expect + 1024, ns = 0;
    long long *start = xcalloc((size_t)cap, sizeof *start);
    double t0 = mono_s();
    char count[16];
    snprintf(count, sizeof count, "%d", FOLLOW_COUNT);
    const char *av[4 + 2 * 64];
    size_t al[sizeof av / sizeof *av];
    while (ns < expect && mono_s() - t0 < timeout) {
        int n = 0, full = 0;
        av[n++] = "XREAD";
        av[n++] = "COUNT";
        av[n++] = count;
        av[n++] = "STREAMS";
        for (int i = 0; i < nk; i++)
            av[n++] = keys[i];
        for (int i = 0; i < nk; i++)
            av[n++] = ids[i];
        for (int i = 0; i < n; i++)
            al[i] = strlen(av[i]);
        redisAppendCommandArgv(c, n, av, al);
        redisReply *r = get_reply(c);
        for (size_t s = 0; r->type == REDIS_REPLY_ARRAY && s < r->elements; s++) {
            redisReply *st = r->element[s];
            int k = 0;
            while (k < nk && strcmp(keys[k], st->element[0]->str) != 0)
                k++;
            full |= st->element[1]->elements >= FOLLOW_COUNT;
            for (size_t e = 0; e < st->element[1]->elements; e++) {
                redisReply *ent = st->element[1]->element[e];
                snprintf(ids[k], sizeof ids[k], "%s", ent->element[0]->str);
                redisReply *f = ent->element[1];
                if (f == NULL || f->type != REDIS_REPLY_ARRAY)
                    continue;
                const char *type = field(f, "type"), *run = field(f, "run"), *at = field(f, "at");
                if (!type || !run || !at || ns >= cap)
                    continue;
                /* run id: task:sched_ms:attempt */
                const char *p = strchr(run, ':');
                if (p == NULL)
                    continue;
                long long sched = atoll(p + 1), late;
                if (!run_lateness(f, type, at, sched, &late))
                    continue;
                start[ns++] = late;
                fprintf(out, "%lld %lld\n", sched, late);
            }
        }
        freeReplyObject(r);
        if (!full)
            clock_sleep_ms(100);
    }
    fclose(out);
    print_dist("start_lateness_ms", start, ns);
    free(keys);
    free(ids);
    free(start);
    redisFree(c);
    return ns >= expect ? 0 : 1;
}

int main(int argc, char **argv)
{
    mem_init();
    int rv = 2;
    if (argc >= 2 && strcmp(argv[1], "seed") == 0)
        rv = cmd_seed(argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "ceiling") == 0)
        rv = cmd_ceiling(argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "watch") == 0)
        rv = cmd_watch(argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "lateness") == 0)
        rv = cmd_lateness(argc, argv);
    if (rv == 2)
        fprintf(stderr, "usage: see the comment at the top of bench/dtsbench.c\n");
    return rv;
}
