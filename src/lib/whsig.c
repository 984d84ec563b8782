/* whsig: Standard Webhooks signatures, computed with OpenSSL's HMAC-SHA256. */
#include "whsig.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* Decodes the base64 after "whsec_" into KEY; returns its length, or -1. */
static int secret_key(const char *secret, unsigned char key[WHSIG_KEY_MAX + 3])
{
    size_t plen = strlen(WHSIG_PREFIX);
    if (strncmp(secret, WHSIG_PREFIX, plen) != 0 || strlen(secret) > WHSIG_SECRET_MAX)
        return -1;
    const char *b64 = secret + plen;
    size_t n = strlen(b64);
    if (n == 0 || n % 4 != 0 ||
        strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
        return -1;
    size_t pad = b64[n - 1] == '=' ? (b64[n - 2] == '=' ? 2 : 1) : 0;
    const char *eq = strchr(b64, '=');
    if ((pad ? eq != b64 + n - pad : eq != NULL) || n / 4 * 3 > WHSIG_KEY_MAX + 3)
        return -1;
    int len = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)n);
    return len < 0 ? -1 : len - (int)pad;
}

int whsig_secret_check(const char *secret, char *why, size_t whylen)
{
    unsigned char key[WHSIG_KEY_MAX + 3];
    int len = secret_key(secret, key);
    if (len < 0) {
        snprintf(why, whylen, "must be \"%s\" followed by standard base64 (at most %d characters in all)",
                 WHSIG_PREFIX, WHSIG_SECRET_MAX);
        return -1;
    }
    if (len < WHSIG_KEY_MIN || len > WHSIG_KEY_MAX) {
        snprintf(why, whylen, "must encode a key of %d to %d bytes (this one has %d)", WHSIG_KEY_MIN,
                 WHSIG_KEY_MAX, len);
        return -1;
    }
    return 0;
}

int whsig_sign(const char *secret, const char *id, long long timestamp, const char *body, size_t len,
               char out[WHSIG_LEN])
{
    unsigned char key[WHSIG_KEY_MAX + 3], mac[EVP_MAX_MD_SIZE];
    int klen = secret_key(secret, key);
    if (klen < WHSIG_KEY_MIN || klen > WHSIG_KEY_MAX)
        return -1;
    char head[160];
    int hlen = snprintf(head, sizeof head, "%s.%lld.", id, timestamp);
    if (hlen < 0 || (size_t)hlen >= sizeof head)
        return -1;
    unsigned char *msg = xmalloc((size_t)hlen + len + 1);
    memcpy(msg, head, (size_t)hlen);
    if (len > 0)
        memcpy(msg + hlen, body, len);
    unsigned int mlen = 0;
    unsigned char *ok = HMAC(EVP_sha256(), key, klen, msg, (size_t)hlen + len, mac, &mlen);
    free(msg);
    if (ok == NULL)
        return -1;
    snprintf(out, 4, "v1,"); /* the signature follows, NUL-terminated by EVP_EncodeBlock */
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)mlen);
    return 0;
}
