/* Unit tests of the YAML reader: the JSON values scalars become, nesting,
 * and the one-line errors for what it refuses. */
#include <criterion/criterion.h>
#include <string.h>

#include "yamljson.h"

static json_t *parse(const char *text, char *err)
{
    return yaml_to_json(text, strlen(text), err, 160);
}

Test(yamljson, a_task_spec_becomes_its_json)
{
    char err[160] = "";
    json_t *v = parse(
        "# comment\nname: billing-sync\nschedule: {cron: '*/10 * * * *', timezone: Europe/Berlin}\n"
        "action:\n  type: shell\n  command: [sh, -c, \"echo 'hi'\"]\n"
        "retry: {max_attempts: 5, initial_s: 0.5, jitter: true}\nlabels: {tier: \"1\"}\n"
        "end_at: ~\n",
        err);
    cr_assert_not_null(v, "%s", err);
    json_t *want = json_loads(
        "{\"name\":\"billing-sync\",\"schedule\":{\"cron\":\"*/10 * * * *\",\"timezone\":"
        "\"Europe/Berlin\"},\"action\":{\"type\":\"shell\",\"command\":[\"sh\",\"-c\","
        "\"echo 'hi'\"]},\"retry\":{\"max_attempts\":5,\"initial_s\":0.5,\"jitter\":true},"
        "\"labels\":{\"tier\":\"1\"},\"end_at\":null}",
        0, NULL);
    cr_assert(json_equal(v, want), "%s", json_dumps(v, 0));
    json_decref(v);
    json_decref(want);
}

Test(yamljson, quoted_scalars_stay_strings)
{
    char err[160];
    json_t *v = parse("a: '5'\nb: \"true\"\nc: 5\nd: -7\ne: 1.5e3\nf: 0x10\ng: ''\n", err);
    cr_assert_not_null(v, "%s", err);
    cr_assert_str_eq(json_string_value(json_object_get(v, "a")), "5");
    cr_assert_str_eq(json_string_value(json_object_get(v, "b")), "true");
    cr_assert_eq(json_integer_value(json_object_get(v, "c")), 5);
    cr_assert_eq(json_integer_value(json_object_get(v, "d")), -7);
    cr_assert_float_eq(json_real_value(json_object_get(v, "e")), 1500.0, 1e-9);
    cr_assert_str_eq(json_string_value(json_object_get(v, "f")), "0x10");
    cr_assert_str_eq(json_string_value(json_object_get(v, "g")), "");
    json_decref(v);
}

Test(yamljson, refusals_are_one_line_with_the_line_number)
{
    static const char *const bad[][2] = {
        {"a: 1\na: 2\n", "line 2: duplicate key"},
        {"a: &x 1\nb: *x\n", "anchors and aliases"},
        {"a: [1, 2\n", "line "},
        {"", "empty document"},
        {"? [1]\n: x\n", "mapping keys must be scalars"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[160] = "";
        json_t *v = parse(bad[i][0], err);
        cr_assert_null(v, "%s", bad[i][0]);
        cr_assert(strstr(err, bad[i][1]) != NULL, "%s -> %s", bad[i][0], err);
        cr_assert(strchr(err, '\n') == NULL, "%s", err);
    }
}

Test(yamljson, deep_nesting_is_refused_not_a_crash)
{
    char text[400], err[160];
    memset(text, '[', 300);
    text[300] = '\0';
    cr_assert_null(parse(text, err));
    cr_assert(strstr(err, "nested too deeply") != NULL || strstr(err, "line") != NULL, "%s", err);
}
