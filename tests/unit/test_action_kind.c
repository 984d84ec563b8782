/* Unit tests of the action kinds' table and its validators. */
#include <criterion/criterion.h>
#include <string.h>

#include "action_kind.h"
#include "auth.h"

static int validate(const char *text, TaskError *err)
{
    json_t *a = json_loads(text, 0, NULL);
    cr_assert_not_null(a, "bad test JSON: %s", text);
    int rv = action_kind_validate(a, err);
    json_decref(a);
    return rv;
}

Test(action_kind, every_type_has_one_row)
{
    const ActionKind *shell = action_kind_find("shell"), *http = action_kind_find("http");
    cr_assert_not_null(shell);
    cr_assert_not_null(http);
    cr_assert_not_null(action_kind_find("noop"));
    cr_expect_null(action_kind_find("Shell"), "types are exact");
    cr_expect_null(action_kind_find(NULL));
    cr_expect_eq(shell->scope, AUTH_SHELL, "shell actions need the shell scope");
    cr_expect_eq(http->scope, 0);
    cr_expect_eq(http->runner, ACTION_RUN_WEBHOOK);
    cr_expect_str_eq(shell->secrets[0], "env");
    cr_expect_str_eq(http->secrets[0], "headers");
    json_t *a = json_pack("{s:s}", "type", "http");
    cr_expect_eq(action_kind_of(a), http);
    json_decref(a);
    cr_expect_null(action_kind_of(NULL));
}

Test(action_kind, validation_names_the_field)
{
    TaskError err;
    cr_expect_eq(validate("{\"type\":\"noop\"}", &err), 0);
    cr_expect_eq(validate("{\"type\":\"shell\",\"command\":[\"true\"],\"cwd\":\"/tmp\"}", &err), 0);
    cr_expect_eq(validate("{\"type\":\"http\",\"url\":\"https://example.invalid/\"}", &err), 0);
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"[]", "action"},
        {"{}", "action.type"},
        {"{\"type\":\"ftp\"}", "action.type"},
        {"{\"type\":\"noop\",\"x\":1}", "action.x"},
        {"{\"type\":\"shell\",\"command\":[]}", "action.command"},
        {"{\"type\":\"shell\",\"command\":[\"x\"],\"cwd\":\"rel\"}", "action.cwd"},
        {"{\"type\":\"shell\",\"command\":[\"x\"],\"env\":{\"LD_PRELOAD\":\"x\"}}",
         "action.env.LD_PRELOAD"},
        {"{\"type\":\"http\"}", "action.url"},
        {"{\"type\":\"http\",\"url\":\"ftp://x\"}", "action.url"},
        {"{\"type\":\"http\",\"url\":\"http://x\",\"method\":\"BREW\"}", "action.method"},
        {"{\"type\":\"http\",\"url\":\"http://x\",\"headers\":{\"Host\":\"y\"}}", "action.headers.Host"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        cr_expect_eq(validate(bad[i].json, &err), -1, "accepted %s", bad[i].json);
        cr_expect_str_eq(err.field, bad[i].field, "for %s", bad[i].json);
    }
}
