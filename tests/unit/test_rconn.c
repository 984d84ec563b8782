/* Unit tests of rconn's URL forms and command formatting (nothing connects). */
#include <criterion/criterion.h>
#include <string.h>

#include "rconn.h"

Test(rconn, parses_sentinel_urls)
{
    char err[128] = "";
    RConn *rc = rconn_new("redis-sentinel://u:p@127.0.0.1:26379,127.0.0.2:26380/dts", err, sizeof err);
    cr_assert_not_null(rc, "%s", err);
    cr_assert_eq(rc->nsentinels, 2);
    cr_assert_str_eq(rc->sentinel_hosts[1], "127.0.0.2");
    cr_assert_eq(rc->sentinel_ports[1], 26380);
    cr_assert_str_eq(rc->master, "dts");
    cr_assert_str_eq(rc->user, "u");
    cr_assert_str_eq(rc->password, "p");
    cr_assert_eq(rconn_is_cluster(rc), 0);
    rconn_free(rc);
}

Test(rconn, parses_cluster_urls)
{
    char err[128] = "";
    RConn *rc = rconn_new("redis-cluster://:secret@127.0.0.1:7000,127.0.0.1:7001", err, sizeof err);
    cr_assert_not_null(rc, "%s", err);
    cr_assert_eq(rconn_is_cluster(rc), 1);
    cr_assert_str_eq(rc->password, "secret");
    cr_assert_null(rc->user);
    rconn_free(rc);
}

Test(rconn, refuses_bad_cluster_and_sentinel_urls)
{
    static const char *bad[] = {
        "redis-cluster://",         "redis-cluster://host",        "redis-cluster://h:1,h:x",
        "redis-cluster://h:0",      "redis-cluster://h:1,",        "redis-cluster://:1",
        "redis-sentinel://h:1",     "redis-sentinel://h:1/",       "redis-sentinel:///m",
        "redis-sentinel://h:1/m/x", "redis-cluster://nocolon@h:1", "rediss://h:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[128] = "";
        RConn *rc = rconn_new(bad[i], err, sizeof err);
        cr_assert_null(rc, "%s was accepted", bad[i]);
        cr_assert(strncmp(err, "redis URL", 9) == 0, "%s: %s", bad[i], err);
    }
}

Test(rconn, formats_commands_as_hiredis_does)
{
    static char big[70000];
    memset(big, 'v', sizeof big);
    const char *argv[] = {"EVALSHA", "", "a\r\nb\0c", big, "12345678901"};
    const size_t lens[] = {7, 0, 7, sizeof big, 11};
    for (int argc = 0; argc <= 5; argc++) {
        char *ours = NULL, *theirs = NULL;
        long long n = rconn_format_argv(&ours, argc, argv, lens);
        long long m = redisFormatCommandArgv(&theirs, argc, argv, lens);
        cr_assert_eq(n, m, "%d arguments: %lld bytes, hiredis %lld", argc, n, m);
        cr_assert(memcmp(ours, theirs, (size_t)n) == 0, "%d arguments differ", argc);
        redisFreeCommand(ours);
        redisFreeCommand(theirs);
    }
    const char *plain[] = {"XREAD", "COUNT", "", "dts:{12}:outbox"};
    char *ours = NULL, *theirs = NULL;
    long long n = rconn_format_argv(&ours, 4, plain, NULL);
    cr_assert_eq(n, redisFormatCommandArgv(&theirs, 4, plain, NULL));
    cr_assert(memcmp(ours, theirs, (size_t)n) == 0, "C strings (no lengths) differ");
    redisFreeCommand(ours);
    redisFreeCommand(theirs);
}
