/* plan: what dispatching a due occurrence means, decided purely: whether it
 * runs, where the task's due score moves, and what the misfire policy counts.
 * The scheduler plans every due member with it; the api settles the overdue
 * occurrences of a schedule an edit replaces with it. No I/O. */
#ifndef DTS_PLAN_H
#define DTS_PLAN_H

#include <stdint.h>

#include "cron.h"
#include "exclude.h"
#include "task.h"

#define PLAN_DEFAULT_THRESHOLD_MS 5000                 /* the scheduler's --misfire-threshold-ms default */
#define PLAN_MIN_BUDGET (4 * TASK_MISFIRE_RUN_ALL_CAP) /* cron_next calls a plan may need */

typedef struct PlanInput {
    const CronExpr *expr; /* NULL: a one-time occurrence (at, now, or a held token) */
    const Tz *tz;         /* NULL: UTC */
    int64_t anchor_ms;    /* the task's creation, for @every */
    int64_t due_ms;       /* the member's due score */
    int64_t now_ms;       /* Redis's time */
    int64_t threshold_ms; /* later than this is a misfire */
    MisfirePolicy misfire;
    int64_t end_at_ms;      /* 0: none */
    int64_t max_runs;       /* 0: no limit */
    int64_t dispatched;     /* occurrences dispatched so far */
    int64_t offset_ms;      /* the task's jitter offset: fires are cron times plus this (shift.h) */
    const Exclusions *excl; /* cron: the task's exclusions (exclude.h), NULL: none */
} PlanInput;

typedef struct Plan {
    int dispatch;               /* 1: run the occurrence scheduled at due_ms */
    int64_t next_ms;            /* the member's next due score; -1: remove it */
    int64_t skipped, coalesced; /* misfire counts to add to the task */
    int64_t excluded;           /* excluded occurrences passed over, to add to the task */
    int partial;                /* 1: the count did not finish within the budget;
                                  next_ms moved part of the way, nothing runs */
    int64_t work;               /* cron_next calls spent */
} Plan;

/* Plans the member IN describes with at most BUDGET (>= PLAN_MIN_BUDGET)
 * cron_next calls. On time, or late within the threshold, the occurrence runs
 * and the score moves to the next fire. Past the threshold the policy decides
 * what happens to it and to the later fires also past it (fires within the
 * threshold of now are on time: the score moves to the first of them):
 *   run_once  runs it and counts the later missed fires as coalesced;
 *   skip      runs none and counts them all as skipped;
 *   run_all   runs each in turn, at most TASK_MISFIRE_RUN_ALL_CAP of them
 *             (the newest); older ones are counted as skipped.
 * A one-time occurrence past the threshold runs unless the policy is skip.
 * When counting would take more than BUDGET calls (a per-second task after a
 * long outage), the plan is partial: the score moves to the last fire counted
 * and the fires passed are counted, so a later plan finishes the job without
 * ever running one twice or losing a count. max_runs and end_at end the task.
 * Exclusions: an excluded due occurrence never runs (it is counted as
 * excluded and the score moves on), and the next score passes over excluded
 * fires, counting them, at most EXCLUDE_SEARCH_MAX of them per plan: a task
 * whose every fire is excluded costs one bounded plan per that many fires. */
void plan_due(const PlanInput *in, int64_t budget, Plan *out);

/* Settles the occurrences a schedule owes at in->now_ms, in->due_ms being its
 * pending one (an edit replaces the schedule): plans each overdue occurrence
 * in turn as a scheduler would have. Writes the scheduled ms of those that run
 * now into RUNS (at most MAX; past that they are counted as coalesced) and
 * adds what the policy skipped or coalesced to the counts. Returns how many
 * run. Nothing is owed when the pending occurrence is not yet due. */
int plan_settle(const PlanInput *in, int64_t *runs, int max, int64_t *skipped, int64_t *coalesced);

#endif
