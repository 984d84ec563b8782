/* auth: API tokens with scopes, stored only as SHA-256 hashes.
 *
 * A token is 32 random bytes in hex behind the prefix "dts_". The server
 * keeps only sha256(token); a request's token is hashed and compared with
 * every stored hash in constant time (CRYPTO_memcmp), so neither timing nor a
 * stolen tokens file reveals a usable token. */
#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"

#define NAME_MAX_LEN 64

typedef struct Token {
    char name[NAME_MAX_LEN + 1];
    unsigned scopes;
    unsigned char hash[32];
} Token;

struct TokenSet {
    Token *tokens;
    int n;
};

static const char *const scope_names[] = {"read", "write", "shell", "admin"};

const char *auth_scope_name(unsigned scope)
{
    for (int i = 0; i < 4; i++)
        if (scope == 1u << i)
            return scope_names[i];
    return "?";
}

int auth_scopes_parse(const char *text)
{
    const char *const *names = scope_names;
    unsigned bits = 0;
    char *copy = xstrdup(text), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int found = -1;
        for (int i = 0; i < 4; i++)
            if (strcmp(tok, names[i]) == 0)
                found = i;
        if (found < 0) {
            free(copy);
            return -1;
        }
        bits |= 1u << found;
    }
    free(copy);
    return bits ? (int)bits : -1;
}

static int hex_decode(const char *hex, unsigned char out[32])
{
    if (strlen(hex) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        int hi = OPENSSL_hexchar2int((unsigned char)hex[2 * i]);
        int lo = OPENSSL_hexchar2int((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static int parse_line(char *line, Token *t)
{
    char name[128], scopes[128], hex[128], extra[2];
    int n = sscanf(line, "%127s %127s %127s %1s", name, scopes, hex, extra);
    int bits = n == 3 ? auth_scopes_parse(scopes) : -1;
    if (n != 3 || bits < 0 || strlen(name) > NAME_MAX_LEN || hex_decode(hex, t->hash) != 0)
        return -1;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->scopes = (unsigned)bits;
    return 0;
}

TokenSet *auth_parse(const char *text, char *err, size_t errlen)
{
    TokenSet *set = xcalloc(1, sizeof *set);
    char *copy = xstrdup(text), *next = copy;
    int lineno = 0;
    for (char *line = copy; next != NULL; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        lineno++;
        char *p = line + strspn(line, " \t\r");
        if (*p == '\0' || *p == '#')
            continue;
        set->tokens = xrealloc(set->tokens, (size_t)(set->n + 1) * sizeof *set->tokens);
        if (parse_line(p, &set->tokens[set->n]) != 0) {
            snprintf(err, errlen,
                     "tokens file line %d: want NAME SCOPES SHA256HEX "
                     "(scopes from read,write,shell,admin)",
                     lineno);
            free(copy);
            auth_free(set);
            return NULL;
        }
        set->n++;
    }
    free(copy);
    return set;
}

TokenSet *auth_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read tokens file %s", path);
        return NULL;
    }
    char *text = xcalloc(1, 1 << 20);
    size_t n = fread(text, 1, (1 << 20) - 1, f);
    fclose(f);
    text[n] = '\0';
    TokenSet *set = auth_parse(text, err, errlen);
    free(text);
    return set;
}

void auth_free(TokenSet *set)
{
    if (set == NULL)
        return;
    OPENSSL_cleanse(set->tokens, (size_t)set->n * sizeof *set->tokens);
    free(set->tokens);
    free(set);
}

int auth_count(const TokenSet *set)
{
    return set ? set->n : 0;
}

static void sha256(const char *data, size_t len, unsigned char out[32])
{
    unsigned int outlen = 32;
    EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL);
}

unsigned auth_check(const TokenSet *set, const char *header, const char **name)
{
    if (set == NULL || header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
        return 0;
    const char *token = header + 7 + strspn(header + 7, " ");
    unsigned char hash[32];
    sha256(token, strlen(token), hash);
    unsigned scopes = 0;
    for (int i = 0; i < set->n; i++) {
        if (CRYPTO_memcmp(hash, set->tokens[i].hash, 32) == 0) {
            scopes = set->tokens[i].scopes;
            *name = set->tokens[i].name;
        }
    }
    return scopes & AUTH_ADMIN ? AUTH_READ | AUTH_WRITE | AUTH_SHELL | AUTH_ADMIN : scopes;
}

struct AuthLive {
    pthread_rwlock_t lock;
    TokenSet *set;
    char *path;
};

AuthLive *auth_live_new(TokenSet *set, const char *path)
{
    AuthLive *live = xcalloc(1, sizeof *live);
    pthread_rwlock_init(&live->lock, NULL);
    live->set = set;
    live->path = xstrdup(path);
    return live;
}

void auth_live_free(AuthLive *live)
{
    if (live == NULL)
        return;
    pthread_rwlock_destroy(&live->lock);
    auth_free(live->set);
    free(live->path);
    free(live);
}

unsigned auth_live_check(AuthLive *live, const char *header, char *name, size_t len)
{
    const char *who = "";
    pthread_rwlock_rdlock(&live->lock);
    unsigned scopes = auth_check(live->set, header, &who);
    snprintf(name, len, "%s", who);
    pthread_rwlock_unlock(&live->lock);
    return scopes;
}

int auth_live_reload(AuthLive *live, int require_tokens, char *err, size_t errlen)
{
    TokenSet *set = auth_load(live->path, err, errlen), *old;
    if (set != NULL && require_tokens && set->n == 0) {
        snprintf(err, errlen, "tokens file %s holds no token (required beyond loopback)", live->path);
        auth_free(set);
        set = NULL;
    }
    if (set == NULL)
        return -1;
    pthread_rwlock_wrlock(&live->lock);
    old = live->set;
    live->set = set;
    pthread_rwlock_unlock(&live->lock);
    auth_free(old);
    return set->n;
}

int auth_token_main(int argc, char **argv)
{
    const char *name = argc >= 3 ? argv[2] : NULL, *scopes = "read";
    int ok = argc >= 3 && strcmp(argv[1], "create") == 0 && name[0] != '-';
    for (int i = 3; ok && i < argc; i++) {
        if (strcmp(argv[i], "--scopes") == 0 && i + 1 < argc)
            scopes = argv[++i];
        else if (strncmp(argv[i], "--scopes=", 9) == 0)
            scopes = argv[i] + 9;
        else
            ok = 0;
    }
    if (!ok || strlen(name) > NAME_MAX_LEN || strpbrk(name, " \t\n#") != NULL ||
        auth_scopes_parse(scopes) < 0) {
        fprintf(stderr, "usage: dts token create NAME [--scopes read,write,shell,admin]\n");
        return 2;
    }
    unsigned char raw[32], hash[32];
    char token[4 + 65], hex[65];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        fprintf(stderr, "dts token: no randomness available\n");
        return 1;
    }
    strcpy(token, "dts_");
    for (int i = 0; i < 32; i++)
        snprintf(token + 4 + 2 * i, 3, "%02x", raw[i]);
    sha256(token, strlen(token), hash);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", hash[i]);
    printf("token: %s\n# add this line to the tokens file (the token itself is not stored):\n%s %s %s\n",
           token, name, scopes, hex);
    OPENSSL_cleanse(token, sizeof token);
    return 0;
}
