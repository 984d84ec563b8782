/* store_conc: the slots of concurrency keys (issue 16), kept in each key's
 * own hash slot, P:{c:KEY}:running|waiting|seen|meta (scripts/conc.lua). */
#include <stdio.h>
#include <string.h>

#include "occurrence.h"
#include "store_conc.h"
#include "store_private.h"

/* Adds the four keys of concurrency key KEY to A. */
static void conc_keys(const Store *st, Args *a, const char *key)
{
    static const char *const names[] = {"running", "waiting", "seen", "meta"};
    for (int i = 0; i < 4; i++)
        args_addf(a, "%s:{c:%s}:%s", st->prefix, key, names[i]);
}

/* Runs conc.lua's MODE for occurrence OCC (its holder E, or NULL). */
static redisReply *conc_eval(Store *st, const char *mode, const char *key, const char *occ,
                             const ReadyEntry *e, int limit, int64_t stale_ms)
{
    char ms[32];
    Args a = {0};
    conc_keys(st, &a, key);
    args_add(&a, mode);
    args_add(&a, occ);
    args_add(&a, ms_str(ms, e != NULL ? e->sched_ms : 0));
    args_addf(&a, "%d", limit);
    args_add(&a, ms_str(ms, stale_ms));
    /* The holder: this delivery of the entry. A redelivery (the entry claimed
     * by another executor, or handed back as a new one) is another holder. */
    if (e != NULL)
        args_addf(&a, "%s/%lld", e->entry, e->deliveries);
    else
        args_add(&a, "");
    redisReply *r = store_eval(st, SCRIPT_CONC, 4, &a);
    args_free(&a);
    return r;
}

/* One integer answer of conc.lua into *out (NULL: ignore). */
static int conc_int(Store *st, redisReply *r, int *out)
{
    if (r == NULL)
        return STORE_EIO;
    int rv = r->type == REDIS_REPLY_INTEGER ? STORE_OK
             : r->type == REDIS_REPLY_ERROR ? store_reply_error(st, r)
                                            : STORE_EIO;
    if (rv == STORE_OK && out != NULL)
        *out = r->integer == 1;
    freeReplyObject(r);
    return rv;
}

int store_conc_acquire(Store *st, const ReadyEntry *e, int64_t stale_ms, int *acquired)
{
    char occ[OCC_ID_MAX + 1];
    occurrence_id(occ, sizeof occ, e->task, e->sched_ms);
    return conc_int(st, conc_eval(st, "acquire", e->conc_key, occ, e, e->conc_limit, stale_ms), acquired);
}

int store_conc_touch(Store *st, const ReadyEntry *e, int64_t stale_ms)
{
    char occ[OCC_ID_MAX + 1];
    occurrence_id(occ, sizeof occ, e->task, e->sched_ms);
    return conc_int(st, conc_eval(st, "touch", e->conc_key, occ, e, 0, stale_ms), NULL);
}

int store_conc_release(Store *st, const ReadyEntry *e, int64_t stale_ms)
{
    char occ[OCC_ID_MAX + 1];
    occurrence_id(occ, sizeof occ, e->task, e->sched_ms);
    return conc_int(st, conc_eval(st, "release", e->conc_key, occ, e, 0, stale_ms), NULL);
}

static json_t *strings_of(const redisReply *r)
{
    json_t *a = json_array();
    for (size_t i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        if (reply_str(r->element[i]) != NULL)
            json_array_append_new(a, json_string(r->element[i]->str));
    return a;
}

int store_conc_show(Store *st, const char *key, int64_t stale_ms, json_t **out)
{
    redisReply *r = conc_eval(st, "show", key, "", NULL, 0, stale_ms);
    if (r == NULL)
        return STORE_EIO;
    int rv = STORE_OK;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 5) {
        rv = r->type == REDIS_REPLY_ERROR ? store_reply_error(st, r) : STORE_EIO;
    } else {
        long long n[3];
        for (int i = 0; i < 3; i++)
            n[i] = r->element[i]->type == REDIS_REPLY_INTEGER ? r->element[i]->integer : 0;
        *out = json_pack("{s:s,s:I,s:I,s:I,s:o,s:o}", "key", key, "limit", (json_int_t)n[0], "running",
                         (json_int_t)n[1], "waiting", (json_int_t)n[2], "running_occurrences",
                         strings_of(r->element[3]), "waiting_occurrences", strings_of(r->element[4]));
    }
    freeReplyObject(r);
    return rv;
}
