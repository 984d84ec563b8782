/* executor: the workers. Runs ready occurrences and records their results.
 *
 * Concurrency: a bounded pool. The main thread fetches entries while fewer
 * than --concurrency jobs wait or run, never more than the free slots: it
 * reads the shards' ready streams one at a time, in rotation, for the room it
 * reserved, and blocks on all of them only when every one was empty (the
 * keeper's claims reserve slots the same way, under the lock, so their sum
 * never exceeds --concurrency); --concurrency worker threads each take one
 * job at a time (start script, action, completion script). HTTP actions are
 * handed to the webhook engine's single thread (libcurl multi), which
 * completes them, so up to --http-concurrency webhooks in flight cost no
 * worker. One keeper thread heartbeats the held entries, kills actions whose
 * entries were taken away, and claims entries idle longer than the recovery
 * timeout (their executor died). Each thread owns its Redis connection.
 *
 * Retries are decided here and scheduled through Redis: the completion script
 * puts a retry token in the due set, which a scheduler dispatches as the next
 * attempt of the same occurrence. Nothing sleeps in the executor.
 *
 * The run state machine (scripts/start.lua, touch.lua, complete.lua):
 *   fetched (pending, ours) -> started (run record "running") -> completed
 *   (XACK+XDEL, run record final). Every step first checks that the entry is
 *   still ours, with the delivery count start.lua reported; a stale
 *   executor's late result is dropped. An entry idle past the recovery
 *   timeout is claimed by another executor and runs again as the next attempt
 *   of the same occurrence. A paused task's entry is held at start instead.
 *   On shutdown, a run still going after --grace-ms is stopped and handed
 *   back (run record "interrupted", a fresh entry as the next attempt). Every
 *   time a script decides on is Redis's; the keeper syncs the shared clock
 *   with store_time on every beat. */
#include "executor.h"

#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "action.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "service.h"
#include "task.h"
#include "webhook.h"

typedef enum { JOB_QUEUED, JOB_RUNNING, JOB_WEBHOOK, JOB_COMPLETING } JobState;

typedef struct Job {
    ReadyEntry e;
    JobState state;
    atomic_int cancel; /* set by the keeper or the drain; read by the action */
    atomic_int pgid;   /* the action's process group while it may be signalled */
    atomic_int interrupted; /* set by the drain: an unfinished run is handed back */
    /* while running */
    json_t *spec;
    int attempt;
    char run_id[192], sched[CLOCK_RFC3339_LEN];
    ActionContext ctx;
    struct Job *next;
} Job;

typedef struct Exec {
    char self[128];
    long concurrency, http_concurrency, recovery_ms, grace_ms, max_deliveries, output_cap, kill_grace_ms;
    long history_age_s, connect_timeout_ms;
    ShellPolicy shell;
    WebhookEngine *webhooks;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    Job *jobs; /* every held job, oldest first */
    int held, running, webhooks_in_flight;
    int reserved; /* slots the fetch loop or the keeper are filling now */
    int draining; /* stop fetching; workers finish what runs */
} Exec;

static Exec ex = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

/* Adds fetched entries to the held list and gives back the RESERVED slots
 * they were fetched into (called without the lock). */
static void jobs_add(ReadyEntry *entries, int n, int reserved)
{
    pthread_mutex_lock(&ex.lock);
    Job **tail = &ex.jobs;
    while (*tail)
        tail = &(*tail)->next;
    for (int i = 0; i < n; i++) {
        Job *j = xcalloc(1, sizeof *j);
        j->e = entries[i];
        *tail = j;
        tail = &j->next;
        ex.held++;
    }
    ex.reserved -= reserved;
    pthread_cond_broadcast(&ex.changed);
    pthread_mutex_unlock(&ex.lock);
}

/* Unlinks and frees J; called with the lock held. */
static void job_drop(Job *j)
{
    for (Job **p = &ex.jobs; *p; p = &(*p)->next) {
        if (*p == j) {
            *p = j->next;
            break;
        }
    }
    ex.held--;
    json_decref(j->spec);
    free(j);
    pthread_cond_broadcast(&ex.changed);
}

static const char *status_name(ActionStatus s)
{
    return s == ACTION_SUCCEEDED ? "succeeded" : s == ACTION_TIMED_OUT ? "timed_out" : "failed";
}

/* Decides what follows a finished attempt: a retry, a dead letter, or
 * nothing, from the task's retry policy. */
static void plan_retry(const Job *j, const ActionResult *ar, RunResult *rr)
{
    if (ar->status == ACTION_SUCCEEDED || json_object_get(j->spec, "retry") == NULL)
        return; /* the common case: no policy to read */
    TaskError err;
    TaskSpec *spec = task_spec_from_json(json_incref(j->spec), &err);
    if (spec == NULL)
        return;
    unsigned rnd = 0;
    if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
        rnd = 0;
    int64_t delay = task_retry_delay_ms(&spec->retry, j->attempt, (double)rnd / 4294967296.0);
    if (delay >= 0)
        rr->retry_delay_ms = delay;
    else
        rr->dead = spec->retry.max_attempts > 1;
    task_spec_free(spec);
}

/* Sleeps before the next try of a store write while Redis is unreachable;
 * returns 0 once the keeper saw the entry is no longer ours. */
static int backoff(Job *j, int64_t *retry)
{
    if (atomic_load(&j->cancel))
        return 0;
    clock_sleep_ms(*retry);
    *retry = *retry < 2000 ? *retry * 2 : 2000;
    return 1;
}

/* Hands J's started run back (shutdown): another executor runs the
 * occurrence as its next attempt at once. */
static void hand_back(Store *st, Job *j, const ActionResult *ar)
{
    int handed = 0;
    int64_t retry = 100;
    pthread_mutex_lock(&ex.lock);
    j->state = JOB_COMPLETING;
    pthread_mutex_unlock(&ex.lock);
    while (store_run_handback(st, &j->e, ex.self, j->run_id, j->attempt, ar ? ar->output : NULL,
                              ar ? ar->output_len : 0, clock_shared_ms(), &handed) == STORE_EIO &&
           backoff(j, &retry))
        ;
    metrics_add("dts_runs_total", handed ? "outcome=\"interrupted\"" : "outcome=\"dropped\"", 1);
    log_info(handed ? "run interrupted by shutdown; handed back" : "run result dropped: entry no longer ours",
             "{s:s,s:s}", "task_id", j->e.task, "run_id", j->run_id);
}

/* Records the outcome of J's run, retrying while Redis is unreachable. A run
 * the drain stopped is handed back instead: a shutdown is not its failure. */
static void finish(Store *st, Job *j, ActionResult *ar)
{
    char labels[64];
    if (atomic_load(&j->interrupted) && ar->status != ACTION_SUCCEEDED) {
        hand_back(st, j, ar);
        return;
    }
    RunResult rr = {.status = status_name(ar->status), .exit_code = ar->exit_code, .output = ar->output,
                    .output_len = ar->output_len, .error = ar->error[0] ? ar->error : NULL,
                    .http_status = ar->http_status, .attempt = j->attempt, .retry_delay_ms = -1,
                    .history_max_age_ms = ex.history_age_s * 1000};
    plan_retry(j, ar, &rr);
    pthread_mutex_lock(&ex.lock);
    j->state = JOB_COMPLETING; /* its entry is about to go: not "taken away" */
    pthread_mutex_unlock(&ex.lock);
    int recorded = 0;
    int64_t retry = 100;
    while (store_run_complete(st, &j->e, ex.self, j->run_id, &rr, &recorded) == STORE_EIO &&
           backoff(j, &retry))
        ;
    snprintf(labels, sizeof labels, "outcome=\"%s\"", recorded ? rr.status : "dropped");
    metrics_add("dts_runs_total", labels, 1);
    log_info(recorded ? "run finished" : "run result dropped: entry no longer ours", "{s:s,s:s,s:s,s:i,s:s?,s:b}",
             "task_id", j->e.task, "run_id", j->run_id, "status", rr.status, "exit_code", ar->exit_code,
             "error", rr.error, "retry", rr.retry_delay_ms >= 0);
}

/* The webhook engine's completion, on its thread. */
static void webhook_finished_cb(void *ud, ActionResult *ar)
{
    Job *j = ud;
    finish(service_store(), j, ar);
    pthread_mutex_lock(&ex.lock);
    ex.webhooks_in_flight--;
    job_drop(j);
    pthread_mutex_unlock(&ex.lock);
}

/* Starts J (fenced) and runs it. Returns 1 if the webhook engine took it. */
static int work(Store *st, Job *j)
{
    StartVerdict verdict = START_STALE;
    ReadyEntry e = j->e; /* the keeper reads j->e under the lock meanwhile */
    int rv = store_run_start(st, &e, ex.self, (int)ex.max_deliveries, ex.recovery_ms, &verdict, &j->attempt,
                             &j->spec);
    pthread_mutex_lock(&ex.lock);
    j->e.deliveries = e.deliveries;
    pthread_mutex_unlock(&ex.lock);
    if (rv != STORE_OK) {
        log_warn("run start failed; the entry will be retried", "{s:s,s:s}", "task_id", j->e.task,
                 "error", store_errstr(st));
        return 0; /* stays pending: recovered after the timeout */
    }
    if (verdict == START_DEAD || verdict == START_SKIPPED || verdict == START_HELD)
        log_warn(verdict == START_DEAD      ? "occurrence dead-lettered"
                 : verdict == START_SKIPPED ? "occurrence skipped: overlap forbid"
                                            : "occurrence held: the task is paused",
                 "{s:s,s:i}", "task_id", j->e.task, "attempt", j->attempt);
    if (verdict != START_RUN || j->spec == NULL)
        return 0;
    metrics_observe("dts_run_lateness_seconds", NULL, (double)(clock_shared_ms() - j->e.sched_ms) / 1000.0);
    store_run_id(j->run_id, sizeof j->run_id, &j->e, j->attempt);
    if (atomic_load(&j->interrupted)) { /* the drain came first: do not begin */
        hand_back(st, j, NULL);
        return 0;
    }
    clock_format_rfc3339(j->e.sched_ms, j->sched);
    json_t *timeout = json_object_get(j->spec, "timeout_s"), *action = json_object_get(j->spec, "action");
    j->ctx = (ActionContext){.run_id = j->run_id, .task_id = j->e.task, .scheduled_at = j->sched,
                             .attempt = j->attempt, .timeout_s = timeout ? (long)json_integer_value(timeout) : 3600,
                             .kill_grace_ms = ex.kill_grace_ms, .output_cap = (size_t)ex.output_cap,
                             .cancel = &j->cancel, .pgid = &j->pgid, .shell = &ex.shell};
    log_info("run started", "{s:s,s:s,s:i}", "task_id", j->e.task, "run_id", j->run_id, "attempt", j->attempt);
    const char *type = json_string_value(json_object_get(action, "type"));
    if (type != NULL && strcmp(type, "http") == 0) {
        pthread_mutex_lock(&ex.lock);
        j->state = JOB_WEBHOOK;
        ex.webhooks_in_flight++;
        pthread_mutex_unlock(&ex.lock);
        webhook_submit(ex.webhooks, action, &j->ctx, webhook_finished_cb, j);
        return 1;
    }
    ActionResult ar;
    action_run(action, &j->ctx, &ar);
    finish(st, j, &ar);
    free(ar.output);
    return 0;
}

static void *worker_cb(void *arg)
{
    Store *st = service_store();
    pthread_mutex_lock(&ex.lock);
    for (;;) {
        Job *j = ex.jobs;
        while (j && j->state != JOB_QUEUED)
            j = j->next;
        if (j == NULL) {
            if (ex.draining)
                break;
            pthread_cond_wait(&ex.changed, &ex.lock);
            continue;
        }
        j->state = JOB_RUNNING;
        ex.running++;
        metrics_set("dts_runs_in_flight", NULL, ex.running);
        pthread_mutex_unlock(&ex.lock);
        int handed_off = work(st, j);
        pthread_mutex_lock(&ex.lock);
        ex.running--;
        if (!handed_off)
            job_drop(j);
    }
    pthread_mutex_unlock(&ex.lock);
    service_store_release();
    return NULL;
}

/* Heartbeats held entries shard by shard; kills runs whose entry was lost. */
/* Stops J's action, if it runs. Called with the lock held. */
static void job_cancel_locked(Job *j)
{
    atomic_store(&j->cancel, 1);
    int pg = atomic_load(&j->pgid);
    if (pg > 0)
        kill(-pg, SIGKILL);
}

/* An entry this executor held is no longer its own (claimed after a stall,
 * replaced, or just completed): stop its action or forget it. Jobs are found
 * by entry id and the delivery count they started with, never by address: the
 * job seen before the lock was dropped may have finished, and another be
 * allocated at the same address (or hold the same entry, claimed back).
 * Called with the lock held. */
static void job_lost_locked(int shard, const char *entry, long long deliveries)
{
    Job *j = ex.jobs;
    while (j && !(j->e.shard == shard && strcmp(j->e.entry, entry) == 0 && j->e.deliveries == deliveries))
        j = j->next;
    if (j == NULL || j->state == JOB_COMPLETING)
        return; /* finished meanwhile: its own completion removed the entry */
    log_warn("entry taken away from this executor; stopping our run", "{s:s,s:s}", "task_id", j->e.task,
             "entry", entry);
    job_cancel_locked(j);
    if (j->state == JOB_QUEUED)
        job_drop(j);
}

static void keeper_touch(Store *st, int shards)
{
    char **ids = NULL, **tasks = NULL;
    long long *dels = NULL;
    int *lost = NULL;
    for (int sh = 0; sh < shards; sh++) {
        int n = 0;
        pthread_mutex_lock(&ex.lock);
        ids = xrealloc(ids, (size_t)(ex.held + 1) * sizeof *ids);
        tasks = xrealloc(tasks, (size_t)(ex.held + 1) * sizeof *tasks);
        dels = xrealloc(dels, (size_t)(ex.held + 1) * sizeof *dels);
        for (Job *j = ex.jobs; j; j = j->next)
            if (j->e.shard == sh) { /* copies: a worker may free the job meanwhile */
                dels[n] = j->e.deliveries;
                tasks[n] = xstrdup(j->e.task), ids[n++] = xstrdup(j->e.entry);
            }
        pthread_mutex_unlock(&ex.lock);
        if (n == 0)
            continue;
        lost = xrealloc(lost, (size_t)n * sizeof *lost);
        int rv = store_ready_touch(st, sh, ex.self, (const char *const *)ids, (const char *const *)tasks, dels, n,
                                   lost);
        pthread_mutex_lock(&ex.lock);
        for (int i = 0; rv == STORE_OK && i < n; i++)
            if (lost[i])
                job_lost_locked(sh, ids[i], dels[i]);
        pthread_mutex_unlock(&ex.lock);
        for (int i = 0; i < n; i++) {
            free(ids[i]);
            free(tasks[i]);
        }
    }
    free(ids);
    free(tasks);
    free(dels);
    free(lost);
}

/* How many more entries to take: workers free for them, less the slots being
 * filled now, unless the webhook engine is full. Called with the lock held. */
static int room_locked(void)
{
    if (ex.webhooks_in_flight >= ex.http_concurrency)
        return 0;
    return (int)ex.concurrency - (ex.held - ex.webhooks_in_flight) - ex.reserved;
}

/* Reserves the free slots for the caller to fill; returns how many (0: none,
 * or draining). Give them back through jobs_add. */
static int room_reserve(void)
{
    pthread_mutex_lock(&ex.lock);
    int room = ex.draining ? 0 : room_locked();
    if (room > 0)
        ex.reserved += room;
    pthread_mutex_unlock(&ex.lock);
    return room > 0 ? room : 0;
}

/* Claims entries whose executor died, while there is room for them. */
static void keeper_claim(Store *st, int shards)
{
    for (int sh = 0; sh < shards; sh++) {
        int room = room_reserve();
        if (room == 0)
            return;
        ReadyEntry *got;
        int n;
        if (store_ready_claim(st, sh, ex.self, ex.recovery_ms, room, &got, &n) == STORE_OK && n > 0) {
            log_info("recovered entries of a lost executor", "{s:i,s:i}", "shard", sh, "count", n);
            metrics_add("dts_entries_recovered_total", NULL, n);
        }
        jobs_add(got, n, room);
        free(got);
    }
}

static void *keeper_cb(void *arg)
{
    Store *st = service_store();
    int shards = store_shards(st);
    long beat = ex.recovery_ms / 4 > 100 ? ex.recovery_ms / 4 : 100;
    pthread_mutex_lock(&ex.lock);
    while (!(ex.draining && ex.held == 0)) {
        pthread_mutex_unlock(&ex.lock);
        int64_t now; /* Redis's: the heartbeat, and the shared clock's sync */
        if (store_time(st, &now) == STORE_OK)
            store_executor_alive(st, ex.self, now);
        keeper_touch(st, shards);
        keeper_claim(st, shards);
        pthread_mutex_lock(&ex.lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += beat / 1000;
        until.tv_nsec += (beat % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000)
            until.tv_sec++, until.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&ex.changed, &ex.lock, &until);
    }
    pthread_mutex_unlock(&ex.lock);
    service_store_release();
    return NULL;
}

/* Reads the streams one at a time, in rotation from shard *NEXT, at most
 * ROOM entries in all, until ROOM is filled or every stream was empty, so an
 * executor never takes more than it can run (XREADGROUP over all streams
 * would take COUNT from each). Returns how many it took. */
static int fetch_rotation(Store *st, int shards, int *next, int room)
{
    int taken = 0;
    for (int tried = 0; tried < shards && taken < room && !service_stopping; tried++) {
        ReadyEntry *got;
        int n;
        if (store_ready_read_shard(st, (*next + tried) % shards, ex.self, room - taken, &got, &n) != STORE_OK) {
            log_warn("read failed; retrying", "{s:s}", "error", store_errstr(st));
            free(got);
            clock_sleep_ms(200);
            break;
        }
        jobs_add(got, n, 0);
        taken += n;
        free(got);
    }
    *next = (*next + 1) % shards; /* the next pass starts elsewhere: fairness */
    return taken;
}

/* Every stream was empty: blocks on all of them at once (one stream's entry
 * wakes it), holding no reservation meanwhile, so the keeper may claim.
 * Entries beyond the room left when it returns (several streams filled in a
 * race) are given back at once. */
static void fetch_blocking(Store *st)
{
    ReadyEntry *got;
    int n;
    if (store_ready_read(st, ex.self, 1, 500, &got, &n) != STORE_OK) {
        log_warn("read failed; retrying", "{s:s}", "error", store_errstr(st));
        clock_sleep_ms(200);
    }
    pthread_mutex_lock(&ex.lock);
    int room = room_locked(), keep = n < room ? n : room > 0 ? room : 0;
    ex.reserved += keep;
    pthread_mutex_unlock(&ex.lock);
    for (int i = keep; i < n; i++)
        store_ready_requeue(st, &got[i], ex.self);
    jobs_add(got, keep, keep);
    free(got);
}

/* The fetch loop, until SIGTERM. */
static void fetch(Store *st)
{
    int shards = store_shards(st), next = 0;
    while (!service_stopping) {
        int room = room_reserve();
        if (room == 0) {
            pthread_mutex_lock(&ex.lock);
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 100000000;
            if (until.tv_nsec >= 1000000000)
                until.tv_sec++, until.tv_nsec -= 1000000000;
            pthread_cond_timedwait(&ex.changed, &ex.lock, &until);
            pthread_mutex_unlock(&ex.lock);
            continue;
        }
        int taken = fetch_rotation(st, shards, &next, room);
        jobs_add(NULL, 0, room);
        if (taken == 0 && !service_stopping)
            fetch_blocking(st);
    }
}

/* Waits up to MS for every held job to finish. Called with the lock held. */
static void drain_wait_locked(int64_t ms)
{
    int64_t deadline = clock_mono_ms() + ms;
    while (ex.held > 0 && clock_mono_ms() < deadline) {
        pthread_mutex_unlock(&ex.lock);
        clock_sleep_ms(50);
        pthread_mutex_lock(&ex.lock);
    }
}

/* SIGTERM: stop fetching, give back what never started, let runs finish within
 * the grace period. Past it, what still runs is stopped as a timeout is
 * (SIGTERM to its process group, SIGKILL after --kill-grace-ms; a webhook is
 * cancelled) and handed back: a shutdown is not the action's failure, and the
 * occurrence runs again elsewhere as its next attempt. */
static void drain(Store *st)
{
    pthread_mutex_lock(&ex.lock);
    ex.draining = 1;
    for (Job *j = ex.jobs, *next; j; j = next) {
        next = j->next;
        if (j->state == JOB_QUEUED) {
            store_ready_requeue(st, &j->e, ex.self);
            job_drop(j);
        }
    }
    log_info("draining", "{s:i}", "running", ex.running);
    drain_wait_locked(ex.grace_ms);
    for (Job *j = ex.jobs; j; j = j->next) {
        atomic_store(&j->interrupted, 1);
        int pg = atomic_load(&j->pgid);
        if (pg > 0)
            kill(-pg, SIGTERM);
        if (j->state == JOB_WEBHOOK)
            atomic_store(&j->cancel, 1);
    }
    drain_wait_locked(ex.kill_grace_ms);
    for (Job *j = ex.jobs; j; j = j->next)
        job_cancel_locked(j);
    pthread_cond_broadcast(&ex.changed);
    pthread_mutex_unlock(&ex.lock);
}

/* Fills ex.shell from --shell-allow, --env-allow and --run-as. */
static int shell_policy(const char *allow, const char *env_allow, const char *run_as, char *err, size_t errlen)
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
        {"recovery-timeout-ms", OPT_INT, &ex.recovery_ms, "5000", 500, 3600000, "an entry idle this long is taken from its (dead) executor"},
        {"grace-ms", OPT_INT, &ex.grace_ms, "30000", 0, 3600000, "on SIGTERM, how long running actions may finish"},
        {"kill-grace-ms", OPT_INT, &ex.kill_grace_ms, "5000", 0, 600000, "after a timeout's SIGTERM, wait this long before SIGKILL"},
        {"max-deliveries", OPT_INT, &ex.max_deliveries, "5", 1, 1000, "entries delivered more often are dead-lettered"},
        {"output-cap", OPT_INT, &ex.output_cap, "65536", 256, 16777216, "bytes of output kept per run (the tail)"},
        {"http-concurrency", OPT_INT, &ex.http_concurrency, "256", 1, 100000, "webhooks in flight at once (one thread)"},
        {"http-allow", OPT_STR, &http_allow, "", 0, 0, "internal address blocks webhooks may reach (CIDR list)"},
        {"http-connect-timeout-ms", OPT_INT, &ex.connect_timeout_ms, "5000", 100, 600000, "webhook connect timeout"},
        {"shell-allow", OPT_STR, &shell_allow, "", 0, 0, "if set, shell commands (argv joined by spaces) must match one of these comma-separated patterns"},
        {"env-allow", OPT_STR, &env_allow, "", 0, 0, "if set, action.env names must match one of these comma-separated patterns"},
        {"run-as", OPT_STR, &run_as, "", 0, 0, "user for shell actions; when root, defaults to nobody (\"root\" keeps root); a non-root executor needs CAP_SETUID and CAP_SETGID"},
        {"workdir", OPT_STR, &ex.shell.workdir, "/", 0, 0, "working directory of actions that name none"},
        {"rlimit-cpu-s", OPT_INT, &ex.shell.rlimit_cpu_s, "3600", 0, 1000000, "CPU seconds per action (0: unlimited)"},
        {"rlimit-as-mb", OPT_INT, &ex.shell.rlimit_as_mb, "8192", 0, 1048576, "address space per action (0: unlimited)"},
        {"rlimit-nofile", OPT_INT, &ex.shell.rlimit_nofile, "1024", 0, 1048576, "open files per action (0: unchanged)"},
        {"rlimit-nproc", OPT_INT, &ex.shell.rlimit_nproc, "4096", 0, 1048576, "processes of the action's user (0: unchanged)"},
        {"history-max-age-s", OPT_INT, &ex.history_age_s, "604800", 60, 315360000, "runs older than this leave the history"},
        SERVICE_OPTIONS(cfg),
        {0},
    };
    int rv = service_init("executor", "Runs ready occurrences and records their results.", opts, argc, argv, &cfg);
    if (rv != 0)
        return rv - 1;
    /* Not dumpable: an action running as our own uid cannot read
     * /proc/<executor>/environ (the Redis password), its memory or its fds. */
    prctl(PR_SET_DUMPABLE, 0);
    metrics_declare("dts_runs_total", METRIC_COUNTER, "Runs finished, by outcome.");
    metrics_declare("dts_run_lateness_seconds", METRIC_HISTOGRAM, "Run start minus scheduled time.");
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
    pthread_t keeper, *workers = xcalloc((size_t)ex.concurrency, sizeof *workers);
    for (long i = 0; i < ex.concurrency; i++)
        pthread_create(&workers[i], NULL, worker_cb, NULL);
    pthread_create(&keeper, NULL, keeper_cb, NULL);
    log_info("executor started", "{s:s,s:i}", "id", ex.self, "concurrency", (int)ex.concurrency);
    fetch(st);
    drain(st);
    for (long i = 0; i < ex.concurrency; i++)
        pthread_join(workers[i], NULL);
    pthread_join(keeper, NULL);
    webhook_stop(ex.webhooks);
    netacl_free(acl);
    action_patterns_free(ex.shell.allow, ex.shell.nallow);
    action_patterns_free(ex.shell.env_allow, ex.shell.nenv_allow);
    free(workers);
    httpd_stop(probes);
    service_store_release();
    log_info("executor stopped", NULL);
    return 0;
}
