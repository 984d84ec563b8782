/* Unit tests of the action runner with real processes: output, exit codes,
 * timeouts that kill the whole group, the output cap, and UTF-8 cleaning. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action.h"
#include "clock.h"

static atomic_int cancel;
static atomic_int pgid;

static ActionResult run(const char *action_json, long timeout_s, size_t cap)
{
    json_t *action = json_loads(action_json, 0, NULL);
    cr_assert_not_null(action);
    /* A run id of this test's own: at a run's end the runner kills every
     * process carrying its DTS_RUN_ID, and Criterion runs tests in parallel. */
    static char run_id[32];
    snprintf(run_id, sizeof run_id, "t:%d:1", (int)getpid());
    ActionContext ctx = {.run_id = run_id,
                         .task_id = "t",
                         .scheduled_at = "2026-01-01T00:00:00.000Z",
                         .attempt = 1,
                         .timeout_s = timeout_s,
                         .kill_grace_ms = 300,
                         .output_cap = cap,
                         .cancel = &cancel,
                         .pgid = &pgid};
    ActionResult res;
    action_run(action, &ctx, &res);
    json_decref(action);
    return res;
}

Test(action, captures_output_exit_code_and_environment)
{
    ActionResult r = run(
        "{\"type\":\"shell\",\"command\":[\"sh\",\"-c\",\"echo $DTS_RUN_ID $FOO; echo err >&2; exit 3\"],"
        "\"env\":{\"FOO\":\"bar\"}}",
        10, 4096);
    cr_assert_eq(r.status, ACTION_FAILED);
    cr_assert_eq(r.exit_code, 3);
    char want[64];
    snprintf(want, sizeof want, "t:%d:1 bar\nerr\n", (int)getpid());
    cr_assert_str_eq(r.output, want);
    free(r.output);
}

Test(action, argv_is_not_a_shell)
{
    ActionResult r = run("{\"type\":\"shell\",\"command\":[\"echo\",\"$HOME; rm -rf /\"]}", 10, 4096);
    cr_assert_eq(r.status, ACTION_SUCCEEDED);
    cr_assert_str_eq(r.output, "$HOME; rm -rf /\n");
    free(r.output);
}

Test(action, missing_program_is_a_failed_run_with_a_reason)
{
    ActionResult r = run("{\"type\":\"shell\",\"command\":[\"/no/such/program\"]}", 10, 4096);
    cr_assert_eq(r.status, ACTION_FAILED);
    cr_assert(strstr(r.error, "cannot start") != NULL, "%s", r.error);
    cr_assert_str_eq(r.output, r.error); /* the reason is the run's output too */
    cr_assert_eq(r.output_len, strlen(r.output));
    free(r.output);
}

Test(action, timeout_kills_the_whole_group_including_grandchildren)
{
    char cmd[512], pidfile[] = "/tmp/dts-action-XXXXXX";
    int fd = mkstemp(pidfile);
    close(fd);
    snprintf(cmd, sizeof cmd,
             "{\"type\":\"shell\",\"command\":[\"sh\",\"-c\","
             "\"trap '' TERM; (trap '' TERM; sleep 60) & echo $! > %s; sleep 60\"]}",
             pidfile);
    int64_t t0 = clock_mono_ms();
    ActionResult r = run(cmd, 1, 4096);
    int64_t took = clock_mono_ms() - t0;
    cr_assert_eq(r.status, ACTION_TIMED_OUT);
    cr_assert(took >= 1000 && took < 5000, "took %lld ms", (long long)took);
    FILE *f = fopen(pidfile, "r");
    char line[32] = "";
    cr_assert_not_null(fgets(line, sizeof line, f));
    fclose(f);
    int grandchild = (int)strtol(line, NULL, 10);
    cr_assert_gt(grandchild, 0, "pid file held %s", line);
    unlink(pidfile);
    /* The grandchild ignored SIGTERM; SIGKILL to the group must have got it. */
    int64_t until = clock_mono_ms() + 2000;
    while (kill(grandchild, 0) == 0 && clock_mono_ms() < until)
        clock_sleep_ms(10);
    cr_assert_neq(kill(grandchild, 0), 0, "grandchild %d survived", grandchild);
    free(r.output);
}

Test(action, output_cap_keeps_the_tail)
{
    ActionResult r = run("{\"type\":\"shell\",\"command\":[\"sh\",\"-c\",\"seq 1 100000\"]}", 10, 1024);
    cr_assert_eq(r.status, ACTION_SUCCEEDED);
    cr_assert_leq(r.output_len, 1024);
    cr_assert(r.output_len > 1000);
    cr_assert(strcmp(r.output + r.output_len - 13, "99999\n100000\n") == 0);
    free(r.output);
}

Test(action, tail_makes_valid_utf8)
{
    TailBuf t;
    size_t len;
    tail_init(&t, 5);
    tail_append(&t,
                "a\xc3\xa9"
                "b\xff\x00z",
                7); /* keeps the last 5: \xa9 b \xff \0 z */
    char *s = tail_finish(&t, &len);
    cr_assert_str_eq(s, "\xEF\xBF\xBD"
                        "b"
                        "\xEF\xBF\xBD"
                        "\xEF\xBF\xBD"
                        "z");
    cr_assert_eq(len, strlen(s));
    free(s);
}

Test(action, noop_succeeds)
{
    ActionResult r = run("{\"type\":\"noop\"}", 10, 64);
    cr_assert_eq(r.status, ACTION_SUCCEEDED);
    free(r.output);
}
