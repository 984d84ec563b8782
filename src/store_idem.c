/* store_idem: idempotency records of task creation (see store_idem.h). */
#include "store_idem.h"

#include <stdio.h>
#include <string.h>

#include "store_private.h"

static void idem_key(const Store *st, char k[KEY_MAX], const char *digest)
{
    skey(st, k, store_shard_of(digest, st->shards), "idem", digest);
}

/* Parses "state hash id" into *out; 0, or -1 if it is not one. */
static int record_parse(const char *text, IdemRecord *out)
{
    char state[8];
    if (sscanf(text, "%7s %64s %64s", state, out->hash, out->id) != 3 ||
        strlen(out->hash) != STORE_IDEM_HASH_LEN || !task_id_valid(out->id))
        return -1;
    out->done = strcmp(state, "done") == 0;
    return 0;
}

int store_idem_claim(Store *st, const char *digest, const char *hash, const char *id, int64_t ttl_ms,
                     IdemRecord *out)
{
    char k[KEY_MAX], value[160];
    idem_key(st, k, digest);
    snprintf(value, sizeof value, "pending %s %s", hash, id);
    redisReply *r = rconn_cmd(st->rc, "SET %s %s NX GET PX %lld", k, value, (long long)ttl_ms);
    if (r == NULL)
        return store_io_error(st);
    int rv = STORE_OK;
    *out = (IdemRecord){0};
    if (r->type == REDIS_REPLY_NIL) {
        out->claimed = 1;
        snprintf(out->hash, sizeof out->hash, "%s", hash);
        snprintf(out->id, sizeof out->id, "%s", id);
    } else if (reply_str(r) == NULL || record_parse(reply_str(r), out) != 0) {
        rv = r->type == REDIS_REPLY_ERROR ? store_reply_error(st, r) : STORE_EIO;
        if (rv == STORE_EIO && r->type != REDIS_REPLY_ERROR)
            snprintf(st->errstr, sizeof st->errstr, "malformed idempotency record");
    }
    freeReplyObject(r);
    return rv;
}

int store_idem_done(Store *st, const char *digest, const char *hash, const char *id)
{
    char k[KEY_MAX], value[160];
    idem_key(st, k, digest);
    snprintf(value, sizeof value, "done %s %s", hash, id);
    redisReply *r = rconn_cmd(st->rc, "SET %s %s XX KEEPTTL", k, value);
    if (r == NULL)
        return store_io_error(st);
    int rv = r->type == REDIS_REPLY_ERROR ? store_reply_error(st, r) : STORE_OK;
    freeReplyObject(r);
    return rv;
}
