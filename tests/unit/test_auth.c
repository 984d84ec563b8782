/* Unit tests of token files and checks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "auth.h"

/* sha256("dts_secret") */
#define SECRET_HASH "4f1d3613a43ab41ee68f2c3c05bf4a04d94cec8139c08990eb6ba5b69bd0d57e"

Test(auth, scopes_parse)
{
    cr_assert_eq(auth_scopes_parse("read"), AUTH_READ);
    cr_assert_eq(auth_scopes_parse("read,write,shell"), AUTH_READ | AUTH_WRITE | AUTH_SHELL);
    cr_assert_eq(auth_scopes_parse("admin"), AUTH_ADMIN);
    cr_assert_eq(auth_scopes_parse("root"), -1);
    cr_assert_eq(auth_scopes_parse(""), -1);
}

Test(auth, file_lines_and_errors)
{
    char err[160];
    TokenSet *set = auth_parse(
        "# ops tokens\n\nci read,write 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
        err, sizeof err);
    cr_assert_not_null(set, "%s", err);
    cr_assert_eq(auth_count(set), 1);
    auth_free(set);
    cr_assert_null(auth_parse("ci read,write nothex\n", err, sizeof err));
    cr_assert(strstr(err, "line 1") != NULL, "%s", err);
    cr_assert_null(auth_parse("\nci fly 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
                              err, sizeof err));
    cr_assert(strstr(err, "line 2") != NULL, "%s", err);
}

Test(auth, check_hashes_the_bearer_token)
{
    char err[160];
    const char *name = NULL;
    /* 9f86d0... is sha256("test"); admin expands to every scope. */
    TokenSet *set = auth_parse(
        "ops admin 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
        "ro read " SECRET_HASH "\n",
        err, sizeof err);
    cr_assert_not_null(set, "%s", err);
    cr_assert_eq(auth_check(set, "Bearer test", &name), AUTH_READ | AUTH_WRITE | AUTH_SHELL | AUTH_ADMIN);
    cr_assert_str_eq(name, "ops");
    cr_assert_eq(auth_check(set, "Bearer tesT", &name), 0);
    cr_assert_eq(auth_check(set, "Basic test", &name), 0);
    cr_assert_eq(auth_check(set, "Bearer ", &name), 0);
    cr_assert_eq(auth_check(set, NULL, &name), 0);
    /* The scheme is case-insensitive (RFC 9110, 11.1); the token is not. */
    cr_assert_eq(auth_check(set, "bearer test", &name), AUTH_READ | AUTH_WRITE | AUTH_SHELL | AUTH_ADMIN);
    cr_assert_eq(auth_check(set, "BEARER  test", &name), AUTH_READ | AUTH_WRITE | AUTH_SHELL | AUTH_ADMIN);
    cr_assert_eq(auth_check(set, "bearertest", &name), 0);
    auth_free(set);
}

Test(auth, live_set_reloads_and_keeps_the_old_one_on_a_bad_file)
{
    char err[160], name[72], path[] = "/tmp/dts-auth-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "ops admin 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n");
    fclose(f);
    AuthLive *live = auth_live_new(auth_load(path, err, sizeof err), path);
    cr_assert_neq(auth_live_check(live, "Bearer test", name, sizeof name), 0);
    cr_assert_str_eq(name, "ops");
    f = fopen(path, "w");
    fprintf(f, "ro read " SECRET_HASH "\n");
    fclose(f);
    cr_assert_eq(auth_live_reload(live, 1, err, sizeof err), 1);
    cr_assert_eq(auth_live_check(live, "Bearer test", name, sizeof name), 0, "a revoked token still works");
    f = fopen(path, "w");
    fprintf(f, "broken line\n");
    fclose(f);
    cr_assert_eq(auth_live_reload(live, 1, err, sizeof err), -1);
    f = fopen(path, "w");
    fclose(f);
    cr_assert_eq(auth_live_reload(live, 1, err, sizeof err), -1, "an empty file was taken beyond loopback");
    cr_assert_eq(auth_live_reload(live, 0, err, sizeof err), 0);
    unlink(path);
    auth_live_free(live);
}
