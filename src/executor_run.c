/* executor_run: one run from its fenced start to its recorded result, on a
 * worker thread (or, for a webhook, finished on the webhook engine's thread);
 * see executor.c for the run state machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "action_kind.h"
#include "executor_private.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "retry_plan.h"
#include "service.h"
#include "task.h"

static const char *status_name(ActionStatus s)
{
    return s == ACTION_SUCCEEDED ? "succeeded" : s == ACTION_TIMED_OUT ? "timed_out" : "failed";
}

/* Plans what follows J's finished attempt into RR: only a failed run's task
 * with a retry policy is read, and only that policy (not the whole spec). */
static void plan_retry(const Job *j, const ActionResult *ar, RunResult *rr)
{
    json_t *retry = json_object_get(j->spec, "retry");
    if (ar->status == ACTION_SUCCEEDED || retry == NULL)
        return; /* the common case: no policy to read */
    TaskError err;
    RetryPolicy policy;
    if (task_retry_parse(retry, &policy, &err) != 0)
        return;
    unsigned rnd = 0;
    if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
        rnd = 0;
    RetryPlan plan = retry_plan(&policy, 0, j->attempt, (double)rnd / 4294967296.0);
    rr->retry_delay_ms = plan.delay_ms;
    rr->dead = plan.dead;
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
static void hand_back(Job *j, const ActionResult *ar)
{
    Store *st = service_store(); /* this thread's; opened on first use */
    int handed = 0;
    int64_t retry = 100;
    pthread_mutex_lock(&ex.lock);
    job_completing_locked(j);
    pthread_mutex_unlock(&ex.lock);
    while (store_run_handback(st, &j->e, ex.self, j->run_id, j->attempt, ar ? ar->output : NULL,
                              ar ? ar->output_len : 0, &handed) == STORE_EIO &&
           backoff(j, &retry))
        ;
    exec_conc_release(st, &j->e);
    metrics_add("dts_runs_total", handed ? "outcome=\"interrupted\"" : "outcome=\"dropped\"", 1);
    log_info(handed ? "run interrupted by shutdown; handed back"
                    : "run result dropped: entry no longer ours",
             "{s:s,s:s}", "task_id", j->e.task, "run_id", j->run_id);
}

/* Hands J's finished run to the completer, which records it and drops the
 * job; returns 1. A run the drain stopped is handed back instead (a shutdown
 * is not its failure); returns 0 then, and the caller drops J. Takes AR's
 * output. */
static int finish(Job *j, ActionResult *ar)
{
    if (atomic_load(&j->interrupted) && ar->status != ACTION_SUCCEEDED) {
        hand_back(j, ar);
        return 0;
    }
    j->ar = *ar;
    ar->output = NULL;
    const ActionResult *mine = &j->ar;
    j->rr = (RunResult){.status = status_name(mine->status),
                        .exit_code = mine->exit_code,
                        .output = mine->output,
                        .output_len = mine->output_len,
                        .error = mine->error[0] ? mine->error : NULL,
                        .http_status = mine->http_status,
                        .attempt = j->attempt,
                        .retry_delay_ms = -1,
                        .history_max_age_ms = ex.history_age_s * 1000,
                        .started_ms = j->started_ms,
                        .slo_ms = j->slo_ms};
    plan_retry(j, mine, &j->rr);
    exec_complete_submit(j);
    return 1;
}

/* The webhook engine's completion, on its thread. */
static void webhook_finished_cb(void *ud, ActionResult *ar)
{
    Job *j = ud;
    pthread_mutex_lock(&ex.lock);
    ex.webhooks_in_flight--; /* from here on a plain held job */
    pthread_mutex_unlock(&ex.lock);
    if (!finish(j, ar)) {
        pthread_mutex_lock(&ex.lock);
        job_drop_locked(j);
        pthread_mutex_unlock(&ex.lock);
    }
}

#define START_BATCH 64 /* entries per start script: a bounded call */

/* Logs a start that ended without a run. */
static void start_log(const ReadyEntry *e, const RunStart *rs)
{
    if (rs->verdict == START_DEAD || rs->verdict == START_SKIPPED || rs->verdict == START_HELD)
        log_warn(rs->verdict == START_DEAD      ? "occurrence dead-lettered"
                 : rs->verdict == START_SKIPPED ? "occurrence skipped: overlap forbid"
                                                : "occurrence held: the task is paused",
                 "{s:s,s:i}", "task_id", e->task, "attempt", rs->attempt);
}

/* Starts up to START_BATCH entries E of one shard that the gate let through;
 * appends a job for each that runs to JOBS. Returns how many it appended. */
static int start_shard(Store *st, const ReadyEntry *e, int n, Job **jobs)
{
    RunStart rs[START_BATCH];
    if (store_runs_start(st, e, n, ex.self, (int)ex.max_deliveries, ex.recovery_ms, rs) != STORE_OK) {
        log_warn("run start failed; the entries will be retried", "{s:s,s:i}", "error", store_errstr(st),
                 "count", n);
        return 0; /* they stay pending: recovered after the timeout */
    }
    int queued = 0, again = 0;
    ReadyEntry slotted[START_BATCH]; /* concurrency: gated entries that got a slot */
    int64_t now = clock_shared_ms();
    for (int i = 0; i < n; i++) {
        start_log(&e[i], &rs[i]);
        if (rs[i].verdict == START_GATED) {
            slotted[again] = e[i];
            again += exec_gate(st, &slotted[again], &rs[i]);
            continue;
        }
        if (rs[i].verdict != START_RUN || rs[i].spec == NULL) {
            exec_conc_release(st, &e[i]); /* nothing runs in its slot */
            json_decref(rs[i].spec);
            continue;
        }
        metrics_observe("dts_run_lateness_seconds", NULL, (double)(now - e[i].sched_ms) / 1000.0);
        if (rs[i].late) /* slo (issue 16): start.lua judged it late */
            metrics_add("dts_runs_late_total", NULL, 1);
        Job *j = xcalloc(1, sizeof *j);
        j->e = e[i];
        j->spec = rs[i].spec;
        j->attempt = rs[i].attempt;
        j->started_ms = rs[i].started_ms;
        j->slo_ms = rs[i].slo_ms;
        const ActionKind *kind = action_kind_of(json_object_get(j->spec, "action"));
        j->inline_run = kind != NULL && kind->runner == ACTION_RUN_NOOP;
        occurrence_run_id(j->run_id, sizeof j->run_id, e[i].task, e[i].sched_ms, j->attempt);
        jobs[queued++] = j;
    }
    if (again > 0) /* with their slots they pass the gate */
        queued += start_shard(st, slotted, again, jobs + queued);
    return queued;
}

static void run_taken(Job *j);

int exec_start_entries(Store *st, const ReadyEntry *e, int n, int reserved)
{
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers; its element is a pointer */
    Job **jobs = xcalloc((size_t)n + 1, sizeof *jobs);
    ReadyEntry batch[START_BATCH];
    int queued = 0, nb = 0;
    for (int i = 0; i < n; i++) {
        if (nb > 0 && (nb == START_BATCH || batch[0].shard != e[i].shard)) {
            queued += start_shard(st, batch, nb, jobs + queued);
            nb = 0;
        }
        batch[nb++] = e[i];
    }
    if (nb > 0)
        queued += start_shard(st, batch, nb, jobs + queued);
    /* An in-process action costs less than the handoff to a worker thread
     * (a wake-up and a lock each way): this thread runs it, now. Taken
     * before jobs_add, after which the others may be run and freed. */
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers; its element is a pointer */
    Job **mine = xcalloc((size_t)queued + 1, sizeof *mine);
    int nmine = 0;
    for (int i = 0; i < queued; i++)
        if (jobs[i]->inline_run)
            mine[nmine++] = jobs[i];
    jobs_add(jobs, queued, reserved);
    for (int i = 0; i < nmine; i++)
        run_taken(mine[i]);
    free(mine);
    free(jobs);
    return queued;
}

/* Runs started job J. Returns 1 if the webhook engine or the completer took
 * it (they drop it), 0 if the caller drops it. */
static int work(Job *j)
{
    if (atomic_load(&j->interrupted)) { /* the drain came first: do not begin */
        hand_back(j, NULL);
        return 0;
    }
    clock_format_rfc3339(j->e.sched_ms, j->sched);
    occurrence_id(j->occ_id, sizeof j->occ_id, j->e.task, j->e.sched_ms);
    json_t *timeout = json_object_get(j->spec, "timeout_s"), *action = json_object_get(j->spec, "action");
    j->ctx = (ActionContext){.run_id = j->run_id,
                             .task_id = j->e.task,
                             .occurrence_id = j->occ_id,
                             .scheduled_at = j->sched,
                             .attempt = j->attempt,
                             .timeout_s = timeout ? (long)json_integer_value(timeout) : 3600,
                             .kill_grace_ms = ex.kill_grace_ms,
                             .output_cap = (size_t)ex.output_cap,
                             .cancel = &j->cancel,
                             .pgid = &j->pgid,
                             .shell = &ex.shell};
    log_info("run started", "{s:s,s:s,s:i}", "task_id", j->e.task, "run_id", j->run_id, "attempt",
             j->attempt);
    const ActionKind *kind = action_kind_of(action);
    if (kind != NULL && kind->runner == ACTION_RUN_WEBHOOK) {
        pthread_mutex_lock(&ex.lock);
        j->state = JOB_WEBHOOK;
        ex.webhooks_in_flight++;
        pthread_mutex_unlock(&ex.lock);
        webhook_submit(ex.webhooks, action, &j->ctx, webhook_finished_cb, j);
        return 1;
    }
    ActionResult ar;
    action_run(action, &j->ctx, &ar);
    int queued = finish(j, &ar);
    free(ar.output);
    return queued;
}

/* Runs J, taken (JOB_RUNNING, counted in ex.running), and drops it unless
 * the webhook engine or the completer took it. */
static void run_taken(Job *j)
{
    int handed_off = work(j);
    pthread_mutex_lock(&ex.lock);
    ex.running--;
    if (!handed_off)
        job_drop_locked(j);
    pthread_mutex_unlock(&ex.lock);
}

void *exec_worker_cb(void *arg)
{
    pthread_mutex_lock(&ex.lock);
    for (;;) {
        Job *j = ex.jobs;
        while (j && j->state != JOB_QUEUED)
            j = j->next;
        if (j == NULL) {
            if (ex.draining)
                break;
            pthread_cond_wait(&ex.work, &ex.lock);
            continue;
        }
        j->state = JOB_RUNNING;
        metrics_set("dts_runs_in_flight", NULL, ++ex.running);
        pthread_mutex_unlock(&ex.lock);
        run_taken(j);
        pthread_mutex_lock(&ex.lock);
    }
    pthread_mutex_unlock(&ex.lock);
    service_store_release();
    return NULL;
}
