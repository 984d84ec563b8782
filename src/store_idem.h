/* store_idem: the idempotency records of task creation, one Redis string per
 * key in the shard its digest hashes to: "pending|done <body hash> <task id>",
 * expiring after the replay window. */
#ifndef DTS_STORE_IDEM_H
#define DTS_STORE_IDEM_H

#include <stdint.h>

#include "store.h"
#include "task.h"

#define STORE_IDEM_HASH_LEN 64 /* hex digits of a SHA-256 */

typedef struct IdemRecord {
    int claimed;                        /* 1: the record is new, and holds the caller's id */
    int done;                           /* 1: its task was created */
    char hash[STORE_IDEM_HASH_LEN + 1]; /* the body hash of the request that made it */
    char id[TASK_ID_MAX + 1];           /* the task id it stands for */
} IdemRecord;

/* Claims idempotency key DIGEST (hex, already scoped to its caller) for a
 * request with body hash HASH that would create task ID, for TTL_MS: sets the
 * record if absent (out->claimed = 1, out's hash and id the caller's), else
 * reads it into *out. One atomic SET NX GET. STORE_OK or STORE_EIO. */
int store_idem_claim(Store *st, const char *digest, const char *hash, const char *id, int64_t ttl_ms,
                     IdemRecord *out);

/* Marks DIGEST's record done (its task exists), keeping its expiry. STORE_OK
 * (also if it expired meanwhile) or STORE_EIO. */
int store_idem_done(Store *st, const char *digest, const char *hash, const char *id);

#endif
