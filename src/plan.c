/* plan: the misfire and end planning of a due occurrence (see plan.h). */
#include "plan.h"

#include <string.h>

#include "shift.h"

#define CAP TASK_MISFIRE_RUN_ALL_CAP

/* Fires in (from, to], counted up to BUDGET calls. RING keeps the last CAP + 1
 * fires (ring[i % (CAP + 1)] is fire i, fire 0 being FROM itself). Returns the
 * count; *after gets the first fire past TO (-1: none), or the last fire
 * counted when the budget ran out (*done = 0). */
static int64_t count_fires(const PlanInput *in, int64_t from, int64_t to, int64_t budget, int64_t *ring,
                           int64_t *after, int *done, int64_t *work)
{
    int64_t n = 0, t = from;
    ring[0] = from;
    *done = 1;
    for (;;) {
        if (*work >= budget) {
            *done = 0;
            *after = t;
            return n;
        }
        t = shift_next(in->expr, in->tz, in->anchor_ms, t, in->offset_ms);
        (*work)++;
        if (t < 0 || t > to) {
            *after = t;
            return n;
        }
        ring[++n % (CAP + 1)] = t;
    }
}

/* The plan of an occurrence past its threshold. Only fires past the
 * threshold are misfires: those due within it are on time, and the plan
 * leaves the score at the first of them, so the next plan runs it (coalescing
 * it would lose an occurrence that was never late, say one due just after a
 * resume). */
static void plan_misfire(const PlanInput *in, int64_t budget, Plan *p)
{
    int64_t ring[CAP + 1], after;
    int done;
    int64_t missed = count_fires(in, in->due_ms, in->now_ms - in->threshold_ms - 1, budget, ring, &after,
                                 &done, &p->work);
    int64_t total = missed + 1; /* the due one too */
    if (!done) {                /* fires 0..missed counted; more may follow */
        p->partial = 1;
        p->dispatch = 0;
        if (in->misfire == MISFIRE_RUN_ALL) { /* keep the CAP newest counted: they may be the last */
            int64_t drop = total > CAP ? total - CAP : 0;
            p->skipped = drop;
            p->next_ms = ring[drop % (CAP + 1)];
        } else {
            p->next_ms = after; /* fire MISSED, still overdue: planned again next time */
            *(in->misfire == MISFIRE_SKIP ? &p->skipped : &p->coalesced) = missed;
        }
        return;
    }
    switch (in->misfire) {
    case MISFIRE_SKIP:
        p->dispatch = 0;
        p->skipped = total;
        p->next_ms = after;
        break;
    case MISFIRE_RUN_ALL:
        if (total > CAP) { /* skip the oldest, run the CAP newest from the next plan on */
            p->dispatch = 0;
            p->skipped = total - CAP;
            p->next_ms = ring[(total - CAP) % (CAP + 1)];
        } else {
            p->dispatch = 1;
            p->next_ms = missed > 0 ? ring[1 % (CAP + 1)] : after;
        }
        break;
    default:
        p->dispatch = 1;
        p->coalesced = missed;
        p->next_ms = after;
    }
}

/* Moves OUT's next score past the fires IN's exclusions exclude. */
static void plan_skip_excluded(const PlanInput *in, Plan *out)
{
    if (out->next_ms >= 0 && !out->partial && exclude_any(in->excl))
        out->next_ms = exclude_skip(in->excl, in->expr, in->tz, in->anchor_ms, in->offset_ms, out->next_ms,
                                    EXCLUDE_SEARCH_MAX, &out->excluded, &out->work);
}

void plan_due(const PlanInput *in, int64_t budget, Plan *out)
{
    memset(out, 0, sizeof *out);
    out->dispatch = 1;
    out->next_ms = -1;
    if (budget < PLAN_MIN_BUDGET)
        budget = PLAN_MIN_BUDGET;
    int late = in->now_ms - in->due_ms > in->threshold_ms;
    if (in->expr == NULL) {
        if (late && in->misfire == MISFIRE_SKIP)
            out->dispatch = 0, out->skipped = 1;
        return;
    }
    if (exclude_any(in->excl) && exclude_match(in->excl, in->due_ms - in->offset_ms)) {
        out->dispatch = 0; /* excluded: never run, counted, and the schedule moves on */
        out->excluded = 1;
        out->next_ms = shift_next(in->expr, in->tz, in->anchor_ms, in->due_ms, in->offset_ms);
        out->work = 1;
    } else if (late) {
        plan_misfire(in, budget, out);
    } else {
        out->next_ms = shift_next(in->expr, in->tz, in->anchor_ms, in->due_ms, in->offset_ms);
        out->work = 1;
    }
    plan_skip_excluded(in, out);
    if (in->max_runs > 0 && in->dispatched + out->dispatch >= in->max_runs)
        out->next_ms = -1;
    if (in->end_at_ms > 0 && out->next_ms > in->end_at_ms)
        out->next_ms = -1;
}

int plan_settle(const PlanInput *in, int64_t *runs, int max, int64_t *skipped, int64_t *coalesced)
{
    PlanInput cur = *in;
    int n = 0;
    while (cur.due_ms >= 0 && cur.due_ms <= cur.now_ms) {
        Plan p;
        plan_due(&cur, INT64_MAX, &p);
        if (p.dispatch && n < max)
            runs[n++] = cur.due_ms;
        else if (p.dispatch)
            (*coalesced)++;
        *skipped += p.skipped;
        *coalesced += p.coalesced;
        cur.dispatched += p.dispatch;
        cur.due_ms = p.next_ms;
    }
    return n;
}
