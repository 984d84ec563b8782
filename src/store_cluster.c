/* store_cluster: what the store does differently on Redis Cluster. A command
 * may not name keys of two hash slots (CROSSSLOT), even when one node serves
 * both, and every shard has its own slot: so the executor reads each shard's
 * ready stream with its own command instead of one XREADGROUP over all. */
#include <string.h>

#include "clock.h"
#include "store_private.h"

#define POLL_MS 50 /* between sweeps over empty streams (no BLOCK over many slots) */

/* Reads up to COUNT new entries of SHARD's stream into *OUT. */
static int read_shard(Store *st, int shard, const char *consumer, int count, ReadyEntry **out, int *n,
                      int *cap)
{
    char k[KEY_MAX];
    skey(st, k, shard, "ready", NULL);
    redisReply *r = rconn_cmd(st->rc, "XREADGROUP GROUP %s %s COUNT %d STREAMS %s >", STORE_GROUP,
                              consumer, count, k);
    if (r == NULL)
        return store_io_error(st);
    int rv = STORE_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        rv = store_reply_error(st, r);
        if (strncmp(r->str, "NOGROUP", 7) == 0) /* Redis lost its data: recreate */
            rv = store_groups_create(st);
    }
    const redisReply *sr = reply_elem(r, 0);
    if (sr != NULL && sr->type == REDIS_REPLY_ARRAY && sr->elements == 2 &&
        sr->element[1]->type == REDIS_REPLY_ARRAY)
        store_entries_append(sr->element[1], shard, out, n, cap);
    freeReplyObject(r);
    return rv;
}

/* Sweeps the shards, each for up to COUNT entries as one XREADGROUP over
 * every stream would, starting one further each time so that none starves,
 * and polls for up to BLOCK_MS while none arrive. A shard that cannot be read
 * (its node failing over) does not stop the others; entries read are returned
 * even then: they are this consumer's now. */
int store_ready_read_each(Store *st, const char *consumer, int count, int block_ms, ReadyEntry **out, int *n)
{
    *out = NULL;
    *n = 0;
    int cap = 0;
    int64_t until = clock_mono_ms() + block_ms;
    for (;;) {
        int start = st->read_next, rv = STORE_OK;
        st->read_next = (st->read_next + 1) % st->shards;
        for (int i = 0; i < st->shards; i++) {
            int one = read_shard(st, (start + i) % st->shards, consumer, count, out, n, &cap);
            rv = rv == STORE_OK ? one : rv;
        }
        if (*n > 0)
            return STORE_OK;
        if (rv != STORE_OK || clock_mono_ms() + POLL_MS > until)
            return rv;
        clock_sleep_ms(POLL_MS);
    }
}
