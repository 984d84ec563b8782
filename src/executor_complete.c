/* executor_complete: the completion queue. Workers hand finished runs to one
 * completer thread and take their next job at once; the completer records
 * them a batch at a time (every COMPLETE_BATCH results or COMPLETE_WAIT_US,
 * whichever comes first), one fenced script call per shard, the shards' calls
 * pipelined in one round trip, retrying what Redis did not answer while it is
 * unreachable, and drops each job once its result is recorded or refused. A
 * queued job keeps its slot and its heartbeat. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "executor_private.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "service.h"

#define COMPLETE_BATCH 64
#define COMPLETE_WAIT_US 1000

void exec_complete_submit(Job *j)
{
    pthread_mutex_lock(&ex.lock);
    job_completing_locked(j);
    j->cq_next = NULL;
    if (ex.cq == NULL)
        ex.cq_tail = &ex.cq;
    *ex.cq_tail = j;
    ex.cq_tail = &j->cq_next;
    if (ex.cq_n++ == 0 || ex.cq_n >= COMPLETE_BATCH)
        pthread_cond_signal(&ex.done);
    pthread_mutex_unlock(&ex.lock);
}

/* Logs and counts J's outcome, then drops it. */
static void report(Job *j, int recorded)
{
    char labels[64];
    const RunResult *rr = &j->rr;
    exec_conc_release(service_store(), &j->e);
    snprintf(labels, sizeof labels, "outcome=\"%s\"", recorded ? rr->status : "dropped");
    metrics_add("dts_runs_total", labels, 1);
    log_info(recorded ? "run finished" : "run result dropped: entry no longer ours",
             "{s:s,s:s,s:s,s:i,s:s?,s:b}", "task_id", j->e.task, "run_id", j->run_id, "status", rr->status,
             "exit_code", rr->exit_code, "error", rr->error, "retry", rr->retry_delay_ms >= 0);
    free(j->ar.output);
    pthread_mutex_lock(&ex.lock);
    job_drop_locked(j);
    pthread_mutex_unlock(&ex.lock);
}

/* Records the N results JS, in GROUPS groups of one shard each (group g the
 * next COUNTS[g] jobs, at most COMPLETE_BATCH), in one round trip: a script
 * call per group, pipelined. Retries what Redis did not answer while it is
 * unreachable; a job the keeper saw taken away meanwhile is given up (its
 * late result would be dropped anyway). */
static void flush_groups(Store *st, Job **js, int *counts, int groups, int n)
{
    RunDone *d = xcalloc((size_t)n, sizeof *d);
    int *recorded = xcalloc((size_t)n, sizeof *recorded);
    int64_t retry = 100;
    while (n > 0) {
        for (int i = 0; i < n; i++)
            d[i] = (RunDone){.e = &js[i]->e, .run_id = js[i]->run_id, .res = js[i]->rr};
        int rv = store_runs_complete_shards(st, ex.self, d, counts, groups, ex.history_age_s * 1000,
                                            recorded);
        int kept = 0, at = 0, kept_groups = 0;
        for (int g = 0; g < groups; at += counts[g++]) {
            int in_group = 0;
            for (int i = at; i < at + counts[g]; i++) {
                if (recorded[i] >= 0 || atomic_load(&js[i]->cancel))
                    report(js[i], recorded[i] > 0);
                else
                    js[kept + in_group++] = js[i];
            }
            kept += in_group;
            if (in_group > 0)
                counts[kept_groups++] = in_group;
        }
        n = kept, groups = kept_groups;
        if (n == 0 || rv != STORE_EIO)
            break;
        clock_sleep_ms(retry);
        retry = retry < 2000 ? retry * 2 : 2000;
    }
    free(d);
    free(recorded);
}

/* Records every job of LIST: grouped by shard, in batches of at most
 * COMPLETE_BATCH, all in one flush_groups. */
static void flush(Store *st, Job *list)
{
    int n = 0, groups = 0;
    for (Job *j = list; j != NULL; j = j->cq_next)
        n++;
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers; its element is a pointer */
    Job **js = xcalloc((size_t)n, sizeof *js);
    int *counts = xcalloc((size_t)n, sizeof *counts), at = 0;
    while (list != NULL) {
        int shard = list->e.shard, c = 0;
        Job **p = &list;
        while (*p != NULL && c < COMPLETE_BATCH) {
            Job *j = *p;
            if (j->e.shard == shard) {
                *p = j->cq_next; /* unlink: it joins the batch */
                js[at + c++] = j;
            } else {
                p = &j->cq_next;
            }
        }
        counts[groups++] = c;
        at += c;
    }
    flush_groups(st, js, counts, groups, n);
    free(js);
    free(counts);
}

/* Waits on ex.done for more results, at most COMPLETE_WAIT_US. Called with
 * the lock held. */
static void gather_locked(void)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += COMPLETE_WAIT_US * 1000;
    if (until.tv_nsec >= 1000000000)
        until.tv_sec++, until.tv_nsec -= 1000000000;
    while (ex.cq_n < COMPLETE_BATCH && !ex.cq_stop &&
           pthread_cond_timedwait(&ex.done, &ex.lock, &until) == 0)
        ;
}

void *exec_completer_cb(void *arg)
{
    Store *st = service_store();
    pthread_mutex_lock(&ex.lock);
    for (;;) {
        if (ex.cq == NULL) {
            if (ex.cq_stop)
                break;
            pthread_cond_wait(&ex.done, &ex.lock);
            continue;
        }
        gather_locked();
        Job *list = ex.cq;
        ex.cq = NULL;
        ex.cq_n = 0;
        pthread_mutex_unlock(&ex.lock);
        flush(st, list);
        pthread_mutex_lock(&ex.lock);
    }
    pthread_mutex_unlock(&ex.lock);
    service_store_release();
    return NULL;
}

void exec_completer_stop(void)
{
    pthread_mutex_lock(&ex.lock);
    ex.cq_stop = 1;
    pthread_cond_signal(&ex.done);
    pthread_mutex_unlock(&ex.lock);
}
