/* executor_jobs: the executor's held jobs, its free slots, and the drain on
 * SIGTERM (see executor.c for the design). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "executor_private.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"

void jobs_add(Job **jobs, int n, int reserved)
{
    pthread_mutex_lock(&ex.lock);
    Job **tail = &ex.jobs;
    while (*tail)
        tail = &(*tail)->next;
    for (int i = 0; i < n; i++) {
        *tail = jobs[i];
        tail = &jobs[i]->next;
        ex.held++;
        if (jobs[i]->inline_run) {
            jobs[i]->state = JOB_RUNNING;
            metrics_set("dts_runs_in_flight", NULL, ++ex.running);
        } else {
            pthread_cond_signal(&ex.work); /* one worker per job: no herd */
        }
    }
    ex.reserved -= reserved;
    if (reserved > n)
        pthread_cond_signal(&ex.room);
    pthread_mutex_unlock(&ex.lock);
}

void job_drop_locked(Job *j)
{
    for (Job **p = &ex.jobs; *p; p = &(*p)->next) {
        if (*p == j) {
            *p = j->next;
            break;
        }
    }
    ex.held--;
    ex.gated -= j->state == JOB_GATED;
    ex.completing -= j->slot_free;
    json_decref(j->spec);
    free(j);
    pthread_cond_signal(&ex.room);
    if (ex.draining && ex.held == 0)
        pthread_cond_broadcast(&ex.beat);
}

/* Whether J's slot may take a new entry while J's result waits for the
 * completer. Not when the task's next run waits on that completion: under
 * overlap forbid or replace (the task's marker, cleared by it) the next run
 * would be skipped or replace this one, and with a concurrency key (its
 * slot, released after it) parked until the keeper's next beat. */
static int frees_early(const Job *j)
{
    const char *overlap = json_string_value(json_object_get(j->spec, "overlap"));
    return j->e.conc_key[0] == '\0' && (overlap == NULL || strcmp(overlap, "allow") == 0);
}

void job_completing_locked(Job *j)
{
    j->state = JOB_COMPLETING;
    if (frees_early(j)) {
        j->slot_free = 1;
        ex.completing++;
        pthread_cond_signal(&ex.room);
    }
}

void job_cancel_locked(Job *j)
{
    atomic_store(&j->cancel, 1);
    int pg = atomic_load(&j->pgid);
    if (pg > 0)
        kill(-pg, SIGKILL);
}

/* An entry this executor held is no longer its own (claimed after a stall,
 * replaced, or just completed): stop its action or forget it. Jobs are found
 * by entry id and the delivery count they hold, never by address: the job
 * seen before the lock was dropped may have finished, and another be
 * allocated at the same address (or hold the same entry, claimed back). */
void job_lost_locked(int shard, const char *entry, long long deliveries)
{
    Job *j = ex.jobs;
    while (j && !(j->e.shard == shard && strcmp(j->e.entry, entry) == 0 && j->e.deliveries == deliveries))
        j = j->next;
    if (j == NULL || j->state == JOB_COMPLETING)
        return; /* finished meanwhile: its own completion removed the entry */
    log_warn("entry taken away from this executor; stopping our run", "{s:s,s:s}", "task_id", j->e.task,
             "entry", entry);
    job_cancel_locked(j);
    if (j->state == JOB_QUEUED || j->state == JOB_GATED)
        job_drop_locked(j);
}

/* Workers free for new entries, less the slots being filled now, unless the
 * webhook engine is full. */
int room_locked(void)
{
    if (ex.webhooks_in_flight >= ex.http_concurrency)
        return 0;
    /* Parked jobs (concurrency keys) take no worker: up to 4 x concurrency
     * of them do not count. Nor do up to --concurrency jobs whose action is
     * over and whose result waits for the completer (slot_free, see
     * frees_early): --concurrency bounds the actions that run at once, and a
     * slot held through the completion round trip idles (50k no-op runs on
     * 2 x 32 slots drained 1.15-1.5x faster, by interleaved pairs, with the
     * slot freed). The entry stays
     * pending and heartbeated until its completion: its fence is unchanged. */
    int parked = ex.gated < ex.concurrency * 4 ? ex.gated : (int)ex.concurrency * 4;
    int completing = ex.completing < ex.concurrency ? ex.completing : (int)ex.concurrency;
    return (int)ex.concurrency - (ex.held - ex.webhooks_in_flight - parked - completing) - ex.reserved;
}

int room_reserve(void)
{
    pthread_mutex_lock(&ex.lock);
    int room = ex.draining ? 0 : room_locked();
    if (room > 0)
        ex.reserved += room;
    pthread_mutex_unlock(&ex.lock);
    return room > 0 ? room : 0;
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

/* Queued jobs (started, not yet begun) are handed back at once: they run
 * elsewhere as their next attempt. Past the grace period, what still runs is stopped as a timeout is (SIGTERM
 * to its process group, SIGKILL after --kill-grace-ms; a webhook is
 * cancelled) and handed back: a shutdown is not the action's failure, and
 * the occurrence runs again elsewhere as its next attempt. */
void exec_drain(Store *st)
{
    pthread_mutex_lock(&ex.lock);
    ex.draining = 1;
    pthread_cond_broadcast(&ex.work);
    for (Job *j = ex.jobs, *next; j; j = next) {
        next = j->next;
        if (j->state == JOB_QUEUED) { /* started, never begun: hand it back at once */
            int handed = 0;
            store_run_handback(st, &j->e, ex.self, j->run_id, j->attempt, NULL, 0, &handed);
            exec_conc_release(st, &j->e);
            job_drop_locked(j);
        } else if (j->state == JOB_GATED) { /* never started: back to its stream */
            store_ready_requeue(st, &j->e, ex.self);
            ReadyEntry slot = j->e;
            slot.slot_held = 1; /* frees its place in the key's queue too */
            exec_conc_release(st, &slot);
            job_drop_locked(j);
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
    pthread_cond_broadcast(&ex.work);
    pthread_cond_broadcast(&ex.beat);
    pthread_mutex_unlock(&ex.lock);
}
