/* store_cluster: what the store does differently on Redis Cluster. A command
 * may not name keys of two hash slots (CROSSSLOT), even when one node serves
 * both, and every shard has its own slot: so the executor reads each shard's
 * ready stream with its own command instead of one XREADGROUP over all. */
#include <string.h>

#include "clock.h"
#include "store_private.h"

#define POLL_MS 50       /* between sweeps over empty streams (no BLOCK over many slots) */
#define STORE_ENOGROUP 1 /* private: a stream lost its consumer group */

/* Takes the reply to SHARD's XREADGROUP for CONSUMER into *OUT. */
static int read_reply(Store *st, const char *consumer, int shard, ReadyEntry **out, int *n, int *cap)
{
    redisReply *r = rconn_read(st->rc);
    if (r == NULL)
        return store_io_error(st);
    int rv = STORE_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        rv = store_reply_error(st, r);
        if (strncmp(r->str, "NOGROUP", 7) == 0) /* Redis lost its data: recreate */
            rv = STORE_ENOGROUP;
    }
    const redisReply *sr = reply_elem(r, 0);
    if (sr != NULL && sr->type == REDIS_REPLY_ARRAY && sr->elements == 2 &&
        sr->element[1]->type == REDIS_REPLY_ARRAY)
        store_entries_append(st, consumer, sr->element[1], shard, out, n, cap);
    freeReplyObject(r);
    return rv;
}

/* One XREADGROUP per shard for up to COUNT entries each, as one read over
 * every stream would take, pipelined (so split per node, all nodes at once),
 * and polls for up to BLOCK_MS while none arrive. A shard that cannot be read
 * (its node failing over) does not stop the others; entries read are returned
 * even then: they are this consumer's now. */
int store_ready_read_each(Store *st, const char *consumer, int count, int block_ms, ReadyEntry **out,
                          int *n)
{
    char k[KEY_MAX];
    *out = NULL;
    *n = 0;
    int cap = 0;
    int64_t until = clock_mono_ms() + block_ms;
    for (;;) {
        for (int s = 0; s < st->shards; s++) {
            skey(st, k, s, "ready", NULL);
            rconn_append(st->rc, "XREADGROUP GROUP %s %s COUNT %d STREAMS %s >", STORE_GROUP, consumer,
                         count, k);
        }
        int rv = STORE_OK, nogroup = 0;
        for (int s = 0; s < st->shards; s++) {
            int one = read_reply(st, consumer, s, out, n, &cap);
            nogroup |= one == STORE_ENOGROUP;
            rv = rv == STORE_OK && one != STORE_ENOGROUP ? one : rv;
        }
        if (nogroup) /* after the pipeline: the groups are made with one of their own */
            rv = store_groups_create(st) == STORE_OK ? rv : STORE_EIO;
        if (*n > 0)
            return STORE_OK;
        if (rv != STORE_OK || clock_mono_ms() + POLL_MS > until)
            return rv;
        clock_sleep_ms(POLL_MS);
    }
}
