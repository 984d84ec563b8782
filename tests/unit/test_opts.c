/* Unit tests of the option table: flags, DTS_* variables, defaults, errors. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "opts.h"

static const char *redis;
static long shards;
static const Option opts[] = {
    {"redis", OPT_STR, &redis, "redis://x", 0, 0, "url"},
    {"shards", OPT_INT, &shards, "16", 1, 1024, "n"},
    {0},
};

Test(opts, flags_win_over_environment_over_defaults)
{
    char err[128];
    char *argv1[] = {"role", NULL};
    unsetenv("DTS_REDIS");
    setenv("DTS_SHARDS", "8", 1);
    cr_assert_eq(opts_parse(opts, 1, argv1, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(redis, "redis://x");
    cr_assert_eq(shards, 8);
    char *argv2[] = {"role", "--shards=4", "--redis", "redis://y", NULL};
    cr_assert_eq(opts_parse(opts, 4, argv2, err, sizeof err), 0, "%s", err);
    cr_assert_eq(shards, 4);
    cr_assert_str_eq(redis, "redis://y");
}

Test(opts, errors_are_one_line)
{
    char err[128];
    char *unknown[] = {"role", "--nope", NULL}, *range[] = {"role", "--shards", "0", NULL},
         *missing[] = {"role", "--redis", NULL}, *help[] = {"role", "--help", NULL};
    unsetenv("DTS_SHARDS");
    cr_assert_eq(opts_parse(opts, 2, unknown, err, sizeof err), -1);
    cr_assert(strstr(err, "--nope") != NULL);
    cr_assert_eq(opts_parse(opts, 3, range, err, sizeof err), -1);
    cr_assert(strstr(err, "1 to 1024") != NULL);
    cr_assert_eq(opts_parse(opts, 2, missing, err, sizeof err), -1);
    cr_assert_eq(opts_parse(opts, 2, help, err, sizeof err), 1);
}
