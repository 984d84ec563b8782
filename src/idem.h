/* idem: idempotent task creation. A request under an Idempotency-Key pins the
 * key to the id of the task it creates, so a repeat with the same key and
 * body within IDEM_TTL_MS creates nothing and answers with that task, and
 * the same key with another body is refused. Reusable per item of a batch:
 * each item brings its own key and body hash. */
#ifndef DTS_IDEM_H
#define DTS_IDEM_H

#include <stddef.h>

#include "store.h"
#include "store_idem.h"

#define IDEM_TTL_MS (24LL * 3600 * 1000) /* how long a key is remembered */
#define IDEM_KEY_MAX 255                 /* characters of a key */

typedef enum {
    IDEM_CREATE,   /* create the task with the (possibly replaced) id */
    IDEM_REPLAY,   /* a repeat: answer with the task of that id */
    IDEM_MISMATCH, /* the key was used with another body: refuse (422) */
} IdemVerdict;

typedef struct IdemClaim {
    IdemVerdict verdict;
    char digest[STORE_IDEM_HASH_LEN + 1]; /* the key, scoped to its caller */
    char hash[STORE_IDEM_HASH_LEN + 1];   /* the body's */
} IdemClaim;

/* 1 if KEY is an acceptable Idempotency-Key: 1 to 255 visible ASCII characters. */
int idem_key_valid(const char *key);

/* The SHA-256 of LEN bytes at DATA as 64 lower-case hex digits into OUT. */
void idem_hash(const void *data, size_t len, char out[STORE_IDEM_HASH_LEN + 1]);

/* Decides a create under KEY, sent by CALLER (keys of different callers never
 * meet), of a body whose hash is HASH, that would make task ID. On
 * IDEM_CREATE or IDEM_REPLAY, ID holds the task id to create or show: the id
 * the key is pinned to when a first request got there before (if that one
 * died before creating, this one creates the same task; the create script's
 * refusal of an existing id keeps it to one). STORE_OK or STORE_EIO. */
int idem_begin(Store *st, const char *caller, const char *key, const char *hash, char id[TASK_ID_MAX + 1],
               IdemClaim *claim);

/* Records that CLAIM's task ID now exists, so later repeats replay it. */
int idem_finish(Store *st, const IdemClaim *claim, const char *id);

#endif
