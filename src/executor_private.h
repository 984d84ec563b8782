/* executor_private: the executor's shared state and the seams between its
 * files (executor.c the role, executor_run.c a run from start to result,
 * executor_jobs.c the held jobs and the drain, executor_keeper.c the
 * heartbeat and recovery, executor_fetch.c the reads). Not for other
 * modules. Every field of Exec after the options is guarded by ex.lock. */
#ifndef DTS_EXECUTOR_PRIVATE_H
#define DTS_EXECUTOR_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "action.h"
#include "clock.h"
#include "occurrence.h"
#include "store_exec.h"
#include "webhook.h"

typedef enum {
    JOB_QUEUED,
    JOB_RUNNING,
    JOB_WEBHOOK,
    JOB_COMPLETING,
    JOB_GATED /* concurrency (issue 16): not started, waits for a slot of its key */
} JobState;

typedef struct Job {
    ReadyEntry e; /* read-only once held (the keeper reads it under the lock) */
    JobState state;
    atomic_int cancel;      /* set by the keeper or the drain; read by the action */
    atomic_int pgid;        /* the action's process group while it may be signalled */
    atomic_int interrupted; /* set by the drain: an unfinished run is handed back */
    int slot_free;          /* completing, and its slot given to new entries (room_locked) */
    int inline_run;         /* set at its start: an in-process action, run by the thread that started it */
    /* while running */
    json_t *spec;
    int attempt;
    int64_t started_ms; /* Redis's time at the start */
    int64_t slo_ms;     /* the start's lateness judgement (RunStart) */
    char run_id[OCC_RUN_ID_MAX + 1], occ_id[OCC_ID_MAX + 1], sched[CLOCK_RFC3339_LEN];
    ActionContext ctx;
    /* once finished, queued for the completer (which owns the job then) */
    ActionResult ar; /* ar.output is the job's */
    RunResult rr;    /* points into ar */
    struct Job *cq_next;
    struct Job *next;
} Job;

typedef struct Exec {
    /* options, set before the threads start */
    char self[128];
    long concurrency, http_concurrency, recovery_ms, grace_ms, max_deliveries, output_cap, kill_grace_ms;
    long history_age_s, connect_timeout_ms;
    ShellPolicy shell;
    WebhookEngine *webhooks;
    /* guarded by lock */
    pthread_mutex_t lock;
    pthread_cond_t work; /* a job was queued, or the drain began: workers */
    pthread_cond_t room; /* a slot came free: the fetch loop */
    pthread_cond_t beat; /* the drain is over: the keeper, which else wakes on its timer */
    Job *jobs;           /* every held job, oldest first */
    int held, running, webhooks_in_flight;
    int reserved;        /* slots the fetch loop or the keeper are filling now */
    int gated;           /* held jobs in JOB_GATED (executor_conc.c) */
    int completing;      /* held jobs with slot_free set */
    int draining;        /* stop fetching; workers finish what runs */
    pthread_cond_t done; /* a result was queued, or the completer is to stop */
    Job *cq, **cq_tail;  /* finished jobs queued for the completer, oldest first */
    int cq_n, cq_stop;
} Exec;

extern Exec ex;

/* executor_jobs.c */

/* Adds the N started jobs JOBS to the held list, queued for a worker (or,
 * inline_run, taken already: the caller runs them), and gives back the
 * RESERVED slots they were fetched into. Takes the lock. */
void jobs_add(Job **jobs, int n, int reserved);
/* Unlinks and frees J. Called with the lock held. */
void job_drop_locked(Job *j);
/* Marks J's action over, its result about to be recorded (or handed back):
 * its entry is no longer "taken away" when it goes, and its slot is free
 * unless the task's next run waits on this completion. Called with the lock
 * held. */
void job_completing_locked(Job *j);
/* Stops J's action, if it runs. Called with the lock held. */
void job_cancel_locked(Job *j);
/* Stops or forgets the job holding ENTRY of SHARD at DELIVERIES: the entry is
 * no longer this executor's. Called with the lock held. */
void job_lost_locked(int shard, const char *entry, long long deliveries);
/* How many more entries to take now. Called with the lock held. */
int room_locked(void);
/* Reserves the free slots for the caller to fill; returns how many (0: none,
 * or draining). Give them back through jobs_add. Takes the lock. */
int room_reserve(void);
/* SIGTERM: stops fetching, gives back what never started, lets runs finish
 * within the grace period, then stops and hands back the rest. */
void exec_drain(Store *st);

/* executor_run.c */

/* Starts the N entries E just fetched into RESERVED slots (one script call
 * per shard and batch, after the gate), queues those that run, and gives the
 * slots back. Returns how many were queued. */
int exec_start_entries(Store *st, const ReadyEntry *e, int n, int reserved);

/* A worker thread: takes queued jobs one at a time until the drain. */
void *exec_worker_cb(void *arg);

/* executor_keeper.c */

/* The keeper thread: heartbeats held entries and claims lost ones every beat. */
void *exec_keeper_cb(void *arg);

/* executor_fetch.c */

/* The fetch loop, until SIGTERM. */
void exec_fetch(Store *st);

/* executor_complete.c */

/* Queues finished job J (its rr filled, its ar owned) for the completer,
 * which records it in a batch and drops it. Takes the lock. */
void exec_complete_submit(Job *j);
/* The completer thread: records queued results, a script call per shard and
 * batch, flushed every COMPLETE_BATCH results or COMPLETE_WAIT_US. */
void *exec_completer_cb(void *arg);
/* Lets the completer finish the queue and return. Takes the lock. */
void exec_completer_stop(void);

/* executor_conc.c (concurrency keys, issue 16) */

/* E's start answered RS, START_GATED: takes a slot of its key (E gets the key,
 * limit and slot_held) and returns 1 to start E again with it, or parks E
 * as a JOB_GATED held job and returns 0. */
int exec_gate(Store *st, ReadyEntry *e, const RunStart *rs);
/* Frees the slot E holds, if it holds one. */
void exec_conc_release(Store *st, const ReadyEntry *e);
/* The keeper's beat for keys: retries the slots of parked jobs (their place
 * in the queue's heartbeat) and starts those that got one, heartbeats the
 * slots of running ones, and reports the per-key gauges. */
void exec_conc_keep(Store *st);

#endif
