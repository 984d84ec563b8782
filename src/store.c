/* store: connection, keys, embedded scripts and the shard agreement. */
#include "store.h"

#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "num.h"
#include "store_private.h"

extern const char script_create[], script_replace[], script_set_state[], script_delete[], script_trigger[],
    script_dispatch[], script_lease[], script_release[], script_start[], script_touch[], script_complete[],
    script_requeue[], script_redrive[], script_handback[], script_reject[], script_sweep[],
    script_sweep_consumers[];
extern const char script_create_batch[];
extern const char script_due_take[];
extern const char script_backfill[];
extern const char script_chain[], script_conc[];

static const char *const scripts[SCRIPT_COUNT] = {
    script_create,
    script_replace,
    script_set_state,
    script_delete,
    script_trigger,
    script_dispatch,
    script_lease,
    script_release,
    script_start,
    script_touch,
    script_complete,
    script_requeue,
    script_redrive,
    script_handback,
    script_reject,
    script_sweep,
    script_sweep_consumers,
    [SCRIPT_CREATE_BATCH] = script_create_batch,
    [SCRIPT_DUE_TAKE] = script_due_take,
    [SCRIPT_BACKFILL] = script_backfill,
    [SCRIPT_CHAIN] = script_chain,
    [SCRIPT_CONC] = script_conc,
};

uint32_t store_hash(const char *id)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *id; id++) {
        h ^= (unsigned char)*id;
        h *= 16777619u;
    }
    return h;
}

int store_shard_of(const char *id, int shards)
{
    return (int)(store_hash(id) % (uint32_t)shards);
}

/* Appends S to BUF (LEN bytes) at AT, truncated as snprintf would; returns
 * the new end. */
static size_t key_put(char *buf, size_t len, size_t at, const char *s)
{
    while (*s != '\0' && at + 1 < len)
        buf[at++] = *s++;
    return at;
}

/* Copies rather than snprintf: a run builds several keys, and format parsing
 * was a few per cent of an executor's CPU. The result is snprintf's. */
void store_key(char *buf, size_t len, const char *prefix, int shard, const char *name, const char *id)
{
    char tag[24] = "-";
    if (len == 0)
        return;
    *num_put(tag + (shard < 0), shard < 0 ? 0u - (unsigned)shard : (unsigned)shard) = '\0';
    size_t at = key_put(buf, len, 0, prefix);
    at = key_put(buf, len, at, ":{");
    at = key_put(buf, len, at, tag);
    at = key_put(buf, len, at, "}:");
    at = key_put(buf, len, at, name);
    if (id != NULL) {
        at = key_put(buf, len, at, ":");
        at = key_put(buf, len, at, id);
    }
    buf[at] = '\0';
}

void skey(const Store *st, char *buf, int shard, const char *name, const char *id)
{
    store_key(buf, KEY_MAX, st->prefix, shard, name, id);
}

const char *reply_field(const redisReply *flat, const char *name)
{
    for (size_t i = 0; flat != NULL && flat->type == REDIS_REPLY_ARRAY && i + 1 < flat->elements; i += 2) {
        const char *k = reply_str(flat->element[i]);
        if (k != NULL && strcmp(k, name) == 0)
            return reply_str(flat->element[i + 1]);
    }
    return NULL;
}

void reply_record(const redisReply *flat, Record *out)
{
    for (size_t i = 0; flat != NULL && flat->type == REDIS_REPLY_ARRAY && i + 1 < flat->elements; i += 2) {
        const char *k = reply_str(flat->element[i]), *v = reply_str(flat->element[i + 1]);
        if (k != NULL && v != NULL)
            record_add(out, k, v);
    }
}

const char *ms_str(char buf[32], int64_t ms)
{
    snprintf(buf, 32, "%lld", (long long)ms);
    return buf;
}

void args_addn(Args *a, const char *s, size_t len)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->v = xrealloc(a->v, (size_t)a->cap * sizeof *a->v);
        a->len = xrealloc(a->len, (size_t)a->cap * sizeof *a->len);
    }
    a->v[a->n] = xstrndup(s, len);
    a->len[a->n++] = len;
}

void args_add(Args *a, const char *s)
{
    args_addn(a, s, strlen(s));
}

void args_addf(Args *a, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    args_add(a, buf);
}

void args_addall(Args *a, const Args *b)
{
    for (int i = 0; i < b->n; i++)
        args_addn(a, b->v[i], b->len[i]);
}

void args_free(Args *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    free(a->len);
    *a = (Args){0};
}

Store *store_open(const StoreConfig *cfg, char *err, size_t errlen)
{
    if (cfg->shards < 1 || cfg->shards > STORE_SHARDS_MAX) {
        snprintf(err, errlen, "shards must be 1 to %d", STORE_SHARDS_MAX);
        return NULL;
    }
    RConn *rc = rconn_new(cfg->url, err, errlen);
    if (rc == NULL)
        return NULL;
    Store *st = xcalloc(1, sizeof *st);
    st->rc = rc;
    st->prefix = xstrdup(cfg->prefix);
    st->shards = cfg->shards;
    st->runs_kept = cfg->runs_kept > 0 ? cfg->runs_kept : 100;
    st->wait_replicas = cfg->wait_replicas;
    st->wait_timeout_ms = cfg->wait_timeout_ms > 0 ? cfg->wait_timeout_ms : 1000;
    return st;
}

void store_close(Store *st)
{
    if (st == NULL)
        return;
    rconn_free(st->rc);
    free(st->prefix);
    free(st);
}

const char *store_errstr(const Store *st)
{
    return st->errstr;
}

int store_shards(const Store *st)
{
    return st->shards;
}

uint64_t store_reconnects(const Store *st)
{
    return st->rc->reconnects;
}

int store_io_error(Store *st)
{
    snprintf(st->errstr, sizeof st->errstr, "%s", st->rc->errstr);
    return STORE_EIO;
}

int store_reply_error(Store *st, const redisReply *r)
{
    if (r->type != REDIS_REPLY_ERROR) {
        snprintf(st->errstr, sizeof st->errstr, "unexpected reply type %d", r->type);
        return STORE_EIO;
    }
    const char *space = strchr(r->str, ' '); /* scripts reply "ECODE human text" */
    const char *text = space && r->str[0] == 'E' ? space + 1 : r->str;
    snprintf(st->errstr, sizeof st->errstr, "%s", text);
    if (strncmp(r->str, "ENOTFOUND", 9) == 0)
        return STORE_ENOTFOUND;
    if (strncmp(r->str, "ESTALE", 6) == 0)
        return STORE_ESTALE;
    if (strncmp(r->str, "ECONFLICT", 9) == 0)
        return STORE_ECONFLICT;
    if (strncmp(r->str, "ERETRY", 6) == 0)
        return STORE_ERETRY;
    if (strncmp(r->str, "EFULL", 5) == 0)
        return STORE_EFULL;
    if (strncmp(r->str, "EEXIST", 6) == 0)
        return STORE_EEXIST;
    return STORE_EIO;
}

static int script_load(Store *st, ScriptId s);

/* The scripts whose success the caller acknowledges to a client. */
static const char script_acknowledged[SCRIPT_COUNT] = {
    [SCRIPT_CREATE] = 1,       [SCRIPT_REPLACE] = 1,  [SCRIPT_SET_STATE] = 1, [SCRIPT_DELETE] = 1,
    [SCRIPT_TRIGGER] = 1,      [SCRIPT_COMPLETE] = 1, [SCRIPT_REDRIVE] = 1,   [SCRIPT_BACKFILL] = 1,
    [SCRIPT_CREATE_BATCH] = 1, [SCRIPT_CHAIN] = 1,
};

/* While the replicas are missing (a WAIT came back short less than a second
 * ago, in any thread), writes wait only this long instead of the whole
 * timeout: they are short too, and counted, but do not each stall their
 * caller for the timeout (a primary promoted by a failover has no replica
 * until the old one rejoins). A WAIT that succeeds ends it. Process-wide, so
 * on a cluster one node without replicas shortens the waits for all. */
#define WAIT_DEGRADED_MS 10
#define WAIT_DEGRADED_FOR_MS 1000
static _Atomic int64_t wait_degraded_until;

/* WAIT for the configured replicas (on the node the write just went to). */
void store_replicate(Store *st)
{
    if (st->wait_replicas <= 0)
        return;
    int64_t now = clock_mono_ms();
    int degraded = now < atomic_load(&wait_degraded_until);
    redisReply *r = rconn_cmd(st->rc, "WAIT %d %d", st->wait_replicas,
                              degraded ? WAIT_DEGRADED_MS : st->wait_timeout_ms);
    long long got = r != NULL && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    if (got >= st->wait_replicas) {
        if (degraded)
            atomic_store(&wait_degraded_until, 0);
        return;
    }
    st->wait_short = 1;
    atomic_store(&wait_degraded_until, clock_mono_ms() + WAIT_DEGRADED_FOR_MS); /* from the answer on */
    metrics_add("dts_redis_wait_short_total", NULL, 1);
    log_warn("write reached fewer replicas than --redis-wait", "{s:i,s:i}", "replicas", (int)got, "wanted",
             st->wait_replicas);
}

int store_wait_shortfall(Store *st)
{
    int short_ = st->wait_short;
    st->wait_short = 0;
    return short_;
}

int store_script_ensure(Store *st, ScriptId s)
{
    return st->sha[s][0] != '\0' ? STORE_OK : script_load(st, s);
}

static int script_load(Store *st, ScriptId s)
{
    redisReply *r = rconn_cmd(st->rc, "SCRIPT LOAD %s", scripts[s]);
    if (r == NULL)
        return store_io_error(st);
    int ok = r->type == REDIS_REPLY_STRING && r->len == 40;
    if (ok)
        memcpy(st->sha[s], r->str, 41);
    else
        snprintf(st->errstr, sizeof st->errstr, "SCRIPT LOAD failed: %.100s", r->str ? r->str : "");
    freeReplyObject(r);
    return ok ? STORE_OK : STORE_EIO;
}

/* The argument vector of EVALSHA of loaded script S with NKEYS keys, then
 * the rest of A (NK holds the key count's text); the caller frees *ARGV and
 * *LENS. Returns the count. */
static int eval_argv(const Store *st, ScriptId s, int nkeys, const Args *a, const char ***argv,
                     size_t **lens, char nk[16])
{
    int argc = a->n + 3;
    const char **v = xmalloc((size_t)argc * sizeof *v);
    size_t *l = xmalloc((size_t)argc * sizeof *l);
    snprintf(nk, 16, "%d", nkeys);
    v[0] = "EVALSHA", l[0] = 7;
    v[1] = st->sha[s], l[1] = 40;
    v[2] = nk, l[2] = strlen(nk);
    for (int i = 0; i < a->n; i++)
        v[i + 3] = a->v[i], l[i + 3] = a->len[i];
    *argv = v;
    *lens = l;
    return argc;
}

int store_eval_append(Store *st, ScriptId s, int nkeys, const Args *a)
{
    const char **argv;
    size_t *lens;
    char nk[16];
    int argc = eval_argv(st, s, nkeys, a, &argv, &lens, nk);
    int rv = rconn_append_argv(st->rc, argc, argv, lens);
    free(argv);
    free(lens);
    return rv == 0 ? STORE_OK : store_io_error(st);
}

redisReply *store_eval(Store *st, ScriptId s, int nkeys, Args *a)
{
    for (int tries = 0; tries < 2; tries++) {
        if (st->sha[s][0] == '\0' && script_load(st, s) != STORE_OK)
            return NULL;
        const char **argv;
        size_t *lens;
        char nk[16];
        int argc = eval_argv(st, s, nkeys, a, &argv, &lens, nk);
        redisReply *r = rconn_argv(st->rc, argc, argv, lens);
        free(argv);
        free(lens);
        if (r == NULL) {
            store_io_error(st);
            return NULL;
        }
        if (store_noscript(st, s, r)) {
            freeReplyObject(r);
            continue;
        }
        if (r->type != REDIS_REPLY_ERROR && script_acknowledged[s])
            store_replicate(st);
        return r;
    }
    snprintf(st->errstr, sizeof st->errstr, "script kept disappearing");
    return NULL;
}

int store_noscript(Store *st, ScriptId s, const redisReply *r)
{
    if (r == NULL || r->type != REDIS_REPLY_ERROR || strncmp(r->str, "NOSCRIPT", 8) != 0)
        return 0;
    st->sha[s][0] = '\0';
    return 1;
}

int store_eval_int(Store *st, ScriptId s, int nkeys, Args *a, long long *out)
{
    redisReply *r = store_eval(st, s, nkeys, a);
    args_free(a);
    if (r == NULL)
        return STORE_EIO;
    int rv = STORE_OK;
    if (r->type == REDIS_REPLY_ERROR)
        rv = store_reply_error(st, r);
    else if (out != NULL && r->type != REDIS_REPLY_INTEGER)
        rv = STORE_EIO;
    else if (out != NULL)
        *out = r->integer;
    freeReplyObject(r);
    return rv;
}

/* On Redis Cluster: 0 if the node answers CLUSTER INFO with cluster_state:ok. */
static int cluster_state_ok(Store *st)
{
    redisReply *r = rconn_cmd(st->rc, "CLUSTER INFO");
    const char *info = reply_str(r);
    int ok = info != NULL && strstr(info, "cluster_state:ok") != NULL;
    if (r == NULL)
        store_io_error(st);
    else if (!ok)
        snprintf(st->errstr, sizeof st->errstr, "redis cluster state is not ok");
    freeReplyObject(r);
    return ok ? STORE_OK : STORE_EIO;
}

int store_check(Store *st)
{
    char key[KEY_MAX];
    if (rconn_is_cluster(st->rc) && cluster_state_ok(st) != STORE_OK)
        return STORE_EIO;
    snprintf(key, sizeof key, "%s:meta", st->prefix);
    redisReply *r = rconn_cmd(st->rc, "HSETNX %s shards %d", key, st->shards);
    if (r == NULL)
        return store_io_error(st);
    freeReplyObject(r);
    r = rconn_cmd(st->rc, "HGET %s shards", key);
    if (r == NULL)
        return store_io_error(st);
    long long theirs = -1; /* stays -1 unless the reply is a count */
    if (r->type == REDIS_REPLY_STRING)
        num_parse(r->str, 1, INT_MAX, &theirs);
    freeReplyObject(r);
    if (theirs != st->shards) {
        snprintf(st->errstr, sizeof st->errstr,
                 "shard count mismatch: this process uses %d, Redis (%.60s) says %lld", st->shards, key,
                 theirs);
        return STORE_EMETA;
    }
    return STORE_OK;
}

int store_time(Store *st, int64_t *now_ms)
{
    redisReply *r = rconn_cmd(st->rc, "TIME");
    const char *secs = reply_str(reply_elem(r, 0)), *usecs = reply_str(reply_elem(r, 1));
    if (secs == NULL || usecs == NULL) {
        int rv = r == NULL ? store_io_error(st) : STORE_EIO;
        freeReplyObject(r);
        return rv;
    }
    *now_ms = strtoll(secs, NULL, 10) * 1000 + strtoll(usecs, NULL, 10) / 1000;
    freeReplyObject(r);
    clock_shared_sync(*now_ms);
    return STORE_OK;
}
