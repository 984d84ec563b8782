/* whsig: Standard Webhooks signatures (HMAC-SHA256 over "id.timestamp.body"),
 * pure: no I/O, OpenSSL's HMAC and base64. */
#ifndef DTS_WHSIG_H
#define DTS_WHSIG_H

#include <stddef.h>

#define WHSIG_PREFIX "whsec_"
#define WHSIG_KEY_MIN 24 /* bytes of decoded key, as the spec recommends */
#define WHSIG_KEY_MAX 64
#define WHSIG_SECRET_MAX 128 /* characters of a whole "whsec_..." secret */
#define WHSIG_LEN 64         /* "v1," + 44 base64 characters + NUL, with room */

/* Checks that SECRET is "whsec_" then standard base64 of 24 to 64 bytes.
 * Returns 0, or -1 with a one-sentence reason in WHY. */
int whsig_secret_check(const char *secret, char *why, size_t whylen);

/* Writes the webhook-signature header value ("v1,<base64>") for message ID
 * sent at TIMESTAMP (Unix seconds) with BODY (LEN bytes) into OUT. Returns 0,
 * or -1 if SECRET is not valid (see whsig_secret_check). */
int whsig_sign(const char *secret, const char *id, long long timestamp, const char *body, size_t len,
               char out[WHSIG_LEN]);

#endif
