/* idem: idempotent task creation (see idem.h for the protocol). */
#include "idem.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

int idem_key_valid(const char *key)
{
    size_t n = 0;
    for (; key[n]; n++)
        if ((unsigned char)key[n] < 0x21 || (unsigned char)key[n] > 0x7e)
            return 0;
    return n >= 1 && n <= IDEM_KEY_MAX;
}

void idem_hash(const void *data, size_t len, char out[STORE_IDEM_HASH_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1)
        abort(); /* SHA-256 of memory cannot fail but for lack of memory */
    for (unsigned int i = 0; i < mdlen && i < STORE_IDEM_HASH_LEN / 2; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int idem_begin(Store *st, const char *caller, const char *key, const char *hash, char id[TASK_ID_MAX + 1],
               IdemClaim *claim)
{
    size_t clen = strlen(caller), klen = strlen(key);
    char *scoped = xmalloc(clen + klen + 2);
    snprintf(scoped, clen + klen + 2, "%s\n%s", caller, key); /* caller names hold no line break */
    idem_hash(scoped, clen + klen + 1, claim->digest);
    free(scoped);
    snprintf(claim->hash, sizeof claim->hash, "%s", hash);
    IdemRecord rec;
    int rv = store_idem_claim(st, claim->digest, hash, id, IDEM_TTL_MS, &rec);
    if (rv != STORE_OK)
        return rv;
    if (strcmp(rec.hash, hash) != 0) {
        claim->verdict = IDEM_MISMATCH;
        return STORE_OK;
    }
    snprintf(id, TASK_ID_MAX + 1, "%s", rec.id);
    claim->verdict = rec.done ? IDEM_REPLAY : IDEM_CREATE;
    return STORE_OK;
}

int idem_finish(Store *st, const IdemClaim *claim, const char *id)
{
    return store_idem_done(st, claim->digest, claim->hash, id);
}
