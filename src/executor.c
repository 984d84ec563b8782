/* executor: the workers. Runs ready occurrences and records their results.
 *
 * Concurrency: a bounded pool. The main thread fetches entries while fewer
 * than --concurrency jobs wait or run, never more than the free slots: it
 * reads the shards' ready streams one at a time, in rotation, for the room it
 * reserved, and blocks on all of them only when every one was empty (the
 * keeper's claims reserve slots the same way, under the lock, so their sum
 * never exceeds --concurrency); the entries of one read are started together,
 * one start script per shard, by the thread that read them. --concurrency
 * worker threads each take one started job at a time and run its action (an
 * in-process action, noop, is run by the thread that started it: the handoff
 * would cost more than the action); one
 * completer thread records the results, a script call per shard for every
 * batch (64 results or 1 ms), the shards' calls pipelined. A slot is free
 * once its action is over: the result waiting for the completer (its entry
 * still pending, heartbeated, fenced) holds none, up to --concurrency such. HTTP actions are
 * handed to the webhook engine's single thread (libcurl multi), which
 * completes them, so up to --http-concurrency webhooks in flight cost no
 * worker. One keeper thread, on its own timer (a quarter of the recovery
 * timeout), heartbeats the held entries, kills actions whose entries were
 * taken away, and claims entries idle longer than the recovery timeout (their
 * executor died). Each thread that speaks to Redis owns its connection (a
 * worker opens one only to hand a run back).
 *
 * Files: executor.c (the role and its options), executor_fetch.c (reads),
 * executor_run.c (starts and runs), executor_complete.c (the completion
 * queue), executor_keeper.c (heartbeat and recovery), executor_jobs.c (held
 * jobs, slots, the drain), executor_conc.c (concurrency keys);
 * retry_plan.c plans retries, occurrence.c makes the ids, run_record.c
 * encodes the run record.
 *
 * Retries are decided here and scheduled through Redis: the completion script
 * puts a retry token in the due set, which a scheduler dispatches as the next
 * attempt of the same occurrence. Nothing sleeps in the executor.
 *
 * The run state machine (scripts/start.lua, touch.lua, complete.lua):
 *   fetched (pending, ours) -> started (run record "running") -> completed
 *   (XACK+XDEL, run record final). The delivery count the entry was received
 *   with (1 when read, XPENDING's + 1 when claimed) gives the attempt, and
 *   every step first checks that the entry is still ours at it; a stale
 *   executor's late result is dropped. An entry idle past the recovery
 *   timeout is claimed by another executor and runs again as the next attempt
 *   of the same occurrence. A paused task's entry is held at start instead.
 *   On shutdown, a run still going after --grace-ms is stopped and handed
 *   back (run record "interrupted", a fresh entry as the next attempt). Every
 *   time a script decides on is Redis's; the keeper syncs the shared clock
 *   with store_time on every beat. */
#include "executor.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "concurrency.h"
#include "executor_private.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "service.h"

Exec ex = {.lock = PTHREAD_MUTEX_INITIALIZER,
           .work = PTHREAD_COND_INITIALIZER,
           .room = PTHREAD_COND_INITIALIZER,
           .beat = PTHREAD_COND_INITIALIZER,
           .done = PTHREAD_COND_INITIALIZER};

/* Fills ex.shell from --shell-allow, --env-allow and --run-as. */
static int shell_policy(const char *allow, const char *env_allow, const char *run_as, char *err,
                        size_t errlen)
{
    action_patterns_parse(allow, &ex.shell.allow, &ex.shell.nallow);
    action_patterns_parse(env_allow, &ex.shell.env_allow, &ex.shell.nenv_allow);
    if ((geteuid() != 0 && run_as[0] == '\0') || strcmp(run_as, "root") == 0)
        return 0;
    const char *user = run_as[0] ? run_as : "nobody";
    struct passwd *pw = getpwnam(user);
    if (pw == NULL) {
        snprintf(err, errlen, "--run-as: no user \"%s\"", user);
        return -1;
    }
    ex.shell.set_user = 1;
    ex.shell.uid = pw->pw_uid;
    ex.shell.gid = pw->pw_gid;
    return action_can_switch_user(&ex.shell, err, errlen);
}

int executor_main(int argc, char **argv)
{
    static ServiceConfig cfg;
    static const char *listen, *http_allow, *shell_allow, *run_as, *env_allow;
    static const Option opts[] = {
        {"listen", OPT_STR, &listen, "", 0, 0, "serve /healthz, /readyz, /metrics here (HOST:PORT)"},
        {"concurrency", OPT_INT, &ex.concurrency, "16", 1, 4096, "actions run at once"},
        {"recovery-timeout-ms", OPT_INT, &ex.recovery_ms, "5000", 500, 3600000,
         "an entry idle this long is taken from its (dead) executor"},
        {"grace-ms", OPT_INT, &ex.grace_ms, "30000", 0, 3600000,
         "on SIGTERM, how long running actions may finish"},
        {"kill-grace-ms", OPT_INT, &ex.kill_grace_ms, "5000", 0, 600000,
         "after a timeout's SIGTERM, wait this long before SIGKILL"},
        {"max-deliveries", OPT_INT, &ex.max_deliveries, "5", 1, 1000,
         "entries delivered more often are dead-lettered"},
        {"output-cap", OPT_INT, &ex.output_cap, "65536", 256, 16777216,
         "bytes of output kept per run (the tail)"},
        {"http-concurrency", OPT_INT, &ex.http_concurrency, "256", 1, 100000,
         "webhooks in flight at once (one thread)"},
        {"http-allow", OPT_STR, &http_allow, "", 0, 0,
         "internal address blocks webhooks may reach (CIDR list)"},
        {"http-connect-timeout-ms", OPT_INT, &ex.connect_timeout_ms, "5000", 100, 600000,
         "webhook connect timeout"},
        {"shell-allow", OPT_STR, &shell_allow, "", 0, 0,
         "if set, shell commands (argv joined by spaces) must match one of these comma-separated patterns"},
        {"env-allow", OPT_STR, &env_allow, "", 0, 0,
         "if set, action.env names must match one of these comma-separated patterns"},
        {"run-as", OPT_STR, &run_as, "", 0, 0,
         "user for shell actions; when root, defaults to nobody (\"root\" keeps root); a non-root executor "
         "needs CAP_SETUID and CAP_SETGID"},
        {"workdir", OPT_STR, &ex.shell.workdir, "/", 0, 0, "working directory of actions that name none"},
        {"rlimit-cpu-s", OPT_INT, &ex.shell.rlimit_cpu_s, "3600", 0, 1000000,
         "CPU seconds per action (0: unlimited)"},
        {"rlimit-as-mb", OPT_INT, &ex.shell.rlimit_as_mb, "8192", 0, 1048576,
         "address space per action (0: unlimited)"},
        {"rlimit-nofile", OPT_INT, &ex.shell.rlimit_nofile, "1024", 0, 1048576,
         "open files per action (0: unchanged)"},
        {"rlimit-nproc", OPT_INT, &ex.shell.rlimit_nproc, "4096", 0, 1048576,
         "processes of the action's user (0: unchanged)"},
        {"history-max-age-s", OPT_INT, &ex.history_age_s, "604800", 60, 315360000,
         "runs older than this leave the history when a completion trims it (over --runs-kept); the "
         "sweeper trims by age"},
        SERVICE_OPTIONS(cfg),
        {0},
    };
    int rv;
    if (service_init("executor", "Runs ready occurrences and records their results.", opts, argc, argv,
                     &cfg, &rv) != 0)
        return rv;
    /* Not dumpable: an action running as our own uid cannot read
     * /proc/<executor>/environ (the Redis password), its memory or its fds. */
    prctl(PR_SET_DUMPABLE, 0);
    metrics_declare("dts_runs_total", METRIC_COUNTER, "Runs finished, by outcome.");
    metrics_declare("dts_run_lateness_seconds", METRIC_HISTOGRAM, "Run start minus scheduled time.");
    metrics_declare("dts_runs_late_total", METRIC_COUNTER,
                    "Runs that started later than their task's slo_ms.");
    conc_init(); /* concurrency keys (issue 16): the per-key gauges */
    metrics_declare("dts_runs_in_flight", METRIC_GAUGE, "Actions running now.");
    metrics_declare("dts_entries_recovered_total", METRIC_COUNTER, "Entries claimed from dead executors.");
    char err[160];
    NetAcl *acl = netacl_parse(http_allow, err, sizeof err);
    if (acl == NULL || shell_policy(shell_allow, env_allow, run_as, err, sizeof err) != 0) {
        fprintf(stderr, "dts executor: %s\n", err);
        netacl_free(acl);
        return 2;
    }
    HttpServer *probes = service_probe_server(listen, err, sizeof err);
    if (listen[0] && probes == NULL) {
        fprintf(stderr, "dts executor: %s\n", err);
        return 1;
    }
    WebhookConfig wc = {.allow = acl, .connect_timeout_ms = ex.connect_timeout_ms, .body_cap = 4096};
    ex.webhooks = webhook_start(&wc, err, sizeof err);
    Store *st = service_store();
    service_instance_id("executor", ex.self, sizeof ex.self);
    int64_t redis_now;
    if (service_wait_redis(st) != 0 || store_time(st, &redis_now) != STORE_OK)
        return 1;
    while (store_groups_create(st) != STORE_OK && !service_stopping)
        clock_sleep_ms(500);
    pthread_t keeper, completer, *workers = xcalloc((size_t)ex.concurrency, sizeof *workers);
    for (long i = 0; i < ex.concurrency; i++)
        pthread_create(&workers[i], NULL, exec_worker_cb, NULL);
    pthread_create(&keeper, NULL, exec_keeper_cb, NULL);
    pthread_create(&completer, NULL, exec_completer_cb, NULL);
    log_info("executor started", "{s:s,s:i}", "id", ex.self, "concurrency", (int)ex.concurrency);
    exec_fetch(st);
    exec_drain(st);
    for (long i = 0; i < ex.concurrency; i++)
        pthread_join(workers[i], NULL);
    pthread_join(keeper, NULL);
    webhook_stop(ex.webhooks);
    exec_completer_stop();
    pthread_join(completer, NULL);
    netacl_free(acl);
    action_patterns_free(ex.shell.allow, ex.shell.nallow);
    action_patterns_free(ex.shell.env_allow, ex.shell.nenv_allow);
    free(workers);
    httpd_stop(probes);
    service_store_release();
    log_info("executor stopped", NULL);
    return 0;
}
