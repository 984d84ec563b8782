/* auth: API tokens with scopes, stored only as SHA-256 hashes. */
#ifndef DTS_AUTH_H
#define DTS_AUTH_H

#include <stddef.h>

/* Scopes, as bits. admin implies every other. */
enum {
    AUTH_READ = 1,  /* GET */
    AUTH_WRITE = 2, /* create, replace, delete, pause, resume, trigger */
    AUTH_SHELL = 4, /* register or change tasks whose action is a shell command */
    AUTH_ADMIN = 8, /* dead letters, and everything above */
};

typedef struct TokenSet TokenSet;

/* The name of one scope bit ("read", "write", "shell", "admin"), or "?". */
const char *auth_scope_name(unsigned scope);

/* Parses a tokens file: one "NAME SCOPES SHA256HEX" a line (scopes joined by
 * commas: read, write, shell, admin), blank lines and # comments allowed.
 * Returns NULL with a one-line reason (with the line number) in err. The
 * caller frees with auth_free. Pure apart from reading PATH. */
TokenSet *auth_load(const char *path, char *err, size_t errlen);
TokenSet *auth_parse(const char *text, char *err, size_t errlen);
void auth_free(TokenSet *set);

/* How many tokens the set holds. */
int auth_count(const TokenSet *set);

/* Checks an Authorization header value ("Bearer TOKEN"; the scheme in any
 * letter case, RFC 9110). Returns the token's
 * scopes (admin expanded) and its name in *name, or 0 if the header is
 * missing, malformed or names no token. Every stored hash is compared, in
 * constant time, whatever matches. */
unsigned auth_check(const TokenSet *set, const char *header, const char **name);

/* A token set that can be swapped while requests are checked against it
 * (reloaded on SIGHUP, so revoking a token needs no restart). */
typedef struct AuthLive AuthLive;

/* Takes ownership of SET (not NULL), to be reloaded from PATH. The caller
 * frees with auth_live_free. */
AuthLive *auth_live_new(TokenSet *set, const char *path);
void auth_live_free(AuthLive *live);

/* auth_check against the current set; the token's name is copied into NAME
 * (LEN bytes). Thread-safe. */
unsigned auth_live_check(AuthLive *live, const char *header, char *name, size_t len);

/* Reads the file again and swaps it in. Returns the number of tokens, or -1
 * with err filled (the old set stays) when the file is unreadable, bad, or
 * empty while REQUIRE_TOKENS is set. */
int auth_live_reload(AuthLive *live, int require_tokens, char *err, size_t errlen);

/* Parses "read,write" into scope bits; -1 on an unknown scope. */
int auth_scopes_parse(const char *text);

/* `dts token create NAME --scopes read,write`: prints a new token and its
 * tokens-file line. Returns the exit code. */
int auth_token_main(int argc, char **argv);

#endif
