/* scheduler: the clock. Moves due occurrences into the ready streams.
 *
 * Concurrency: one thread, one Redis connection, no timer per task: due times
 * live in Redis's sorted sets. Each loop turn (1) every third of the lease TTL,
 * heartbeats into P:schedulers, sees who is alive and takes or renews leases
 * on its share of the shards (shard s belongs to the scheduler at index s mod n
 * in the sorted list of live ones) and releases the rest; (2) runs
 * scripts/due_take.lua on every shard it holds, pipelined in one round trip:
 * each reads a batch of due members at Redis's time, dispatches the plain
 * one-time ones itself (read and removal in one script need no
 * compare-and-set) and returns the others with their tasks' fields and the
 * shard's earliest due time left; (3) for those (cron tasks, retry tokens,
 * misfires) computes the next fire times in C, with schedules compiled once
 * (cron_cache), and applies them with the dispatch compare-and-set
 * (scripts/dispatch.lua), a second round trip; (4) sleeps until the earliest
 * due time, at most --idle-ms, so a task added meanwhile is seen within that
 * bound, or not at all while a shard had a full batch.
 *
 * Leases only save work: the dispatch script is a compare-and-set, so two
 * schedulers that both believe they own a shard still cannot dispatch an
 * occurrence twice. A scheduler may die at any instruction; nothing is held
 * outside Redis. */
#include "scheduler.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "clock.h"
#include "cron_cache.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "plan.h"
#include "service.h"
#include "shift.h"
#include "store_sched.h"
#include "sweeper.h"
#include "task.h"

/* cron_next calls one pass may spend on misfire counting (a few ms). */
#define PASS_BUDGET 50000
/* Compiled schedules kept: a slot per distinct expression in a busy pass. */
#define CRON_CACHE_SLOTS 1024

typedef struct Sched {
    Store *st;
    char self[128];
    long lease_ttl_ms, idle_ms, batch, misfire_ms;
    long ignore_leases; /* test seam: dispatch every shard, to prove the CAS alone */
    int nshards;
    int *held;  /* held[s]: 1 if this scheduler holds shard s */
    int *owned; /* the held shards, as a list */
    int nowned;
    int64_t next_lease_ms;
    DueItem *items;
    int *counts;
    int64_t *late_ms;  /* lateness of the occurrences due_take dispatched */
    CronCache *crons;  /* the schedules' compiled forms, parsed once */
    CronCache *xcrons; /* the exclude_cron expressions', likewise */
} Sched;

/* Which shards this scheduler should hold, given the live schedulers. */
static void desired_shards(Sched *s, json_t *alive, int *want)
{
    size_t n = json_array_size(alive), me = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(json_string_value(json_array_get(alive, i)), s->self) == 0)
            me = i;
    for (int sh = 0; sh < s->nshards; sh++)
        want[sh] = n == 0 || (size_t)sh % n == me;
}

/* Backlog gauges for the shards this scheduler holds (each shard is reported
 * by its one holder, so the series add up across schedulers). */
static void report_depth(Sched *s)
{
    long long len[STORE_SHARDS_MAX], pending[STORE_SHARDS_MAX];
    if (s->nowned == 0 || store_ready_depth(s->st, s->owned, s->nowned, len, pending) != STORE_OK)
        return;
    for (int i = 0; i < s->nowned; i++) {
        char labels[32];
        snprintf(labels, sizeof labels, "shard=\"%d\"", s->owned[i]);
        metrics_set("dts_ready_entries", labels, (double)len[i]);
        metrics_set("dts_ready_pending", labels, (double)pending[i]);
    }
}

static void leases_update(Sched *s, int64_t now)
{
    json_t *alive;
    if (store_schedulers_alive(s->st, s->self, now, s->lease_ttl_ms, &alive) != STORE_OK)
        return;
    int *want = xcalloc((size_t)s->nshards, sizeof *want);
    int *list = xcalloc((size_t)s->nshards, sizeof *list);
    int *got = xcalloc((size_t)s->nshards, sizeof *got);
    int n = 0;
    desired_shards(s, alive, want);
    for (int sh = 0; sh < s->nshards; sh++) {
        if (want[sh])
            list[n++] = sh;
        else if (s->held[sh] && store_lease_release(s->st, sh, s->self) == STORE_OK) {
            s->held[sh] = 0;
            log_info("lease released", "{s:i}", "shard", sh);
        }
    }
    if (n > 0 && store_leases_acquire(s->st, list, n, s->self, s->lease_ttl_ms, got) == STORE_OK) {
        for (int i = 0; i < n; i++) {
            if (got[i] != s->held[list[i]])
                log_info(got[i] ? "lease acquired" : "lease lost", "{s:i}", "shard", list[i]);
            s->held[list[i]] = got[i];
        }
    }
    s->nowned = 0;
    for (int sh = 0; sh < s->nshards; sh++)
        if (s->held[sh] || s->ignore_leases)
            s->owned[s->nowned++] = sh;
    metrics_set("dts_leases_held", NULL, s->nowned);
    report_depth(s);
    metrics_set("dts_schedulers_alive", NULL, (double)json_array_size(alive));
    json_decref(alive);
    free(want);
    free(list);
    free(got);
}

/* Reads IT's stored exclusions into X (zone TZ); -1, logged, if they no
 * longer parse (the task then runs as if it had none). */
static int exclusions_load(Sched *s, const DueItem *it, const Tz *tz, Exclusions *x)
{
    char err[160];
    memset(x, 0, sizeof *x);
    x->tz = tz;
    if (it->exclude_cron[0] &&
        (x->cron = cron_cache_get(s->xcrons, it->exclude_cron, err, sizeof err)) == NULL) {
        log_error("stored exclude_cron no longer parses; ignored", "{s:s,s:s}", "task_id", it->id, "error",
                  err);
        return -1;
    }
    if (exclude_parse(it->exclude, x) != 0) {
        log_error("stored exclude ranges no longer parse; ignored", "{s:s}", "task_id", it->id);
        return -1;
    }
    return 0;
}

/* Decides what dispatching IT means (plan.h), spending at most *BUDGET
 * cron_next calls; an item planned when the pass's budget is spent waits for
 * the next pass (it->defer), so a pass stays short whatever the backlog. */
static void plan_item(Sched *s, DueItem *it, int64_t now, int64_t *budget)
{
    it->dispatch = 1;
    it->next_ms = -1;
    if (it->retry)
        return; /* a retry or held occurrence: no schedule of its own */
    int cron = strcmp(it->stype, "cron") == 0;
    if (cron && *budget < PLAN_MIN_BUDGET) {
        it->defer = 1;
        return;
    }
    char err[160];
    const CronExpr *e = cron ? cron_cache_get(s->crons, it->cron, err, sizeof err) : NULL;
    const Tz *tz = cron ? tz_get(it->tz[0] ? it->tz : "UTC", err, sizeof err) : NULL;
    if (cron && (e == NULL || tz == NULL)) {
        log_error("stored schedule no longer parses; the task stops", "{s:s,s:s}", "task_id", it->id,
                  "error", err);
        return;
    }
    PlanInput in = {.expr = e,
                    .tz = tz,
                    .anchor_ms = it->created_ms,
                    .due_ms = it->due_ms,
                    .now_ms = now,
                    .threshold_ms = it->misfire_ms >= 0 ? it->misfire_ms : s->misfire_ms,
                    .misfire = task_misfire_parse(it->misfire) < 0
                                   ? MISFIRE_RUN_ONCE
                                   : (MisfirePolicy)task_misfire_parse(it->misfire),
                    .end_at_ms = it->end_at_ms,
                    .max_runs = it->max_runs,
                    .dispatched = it->dispatched,
                    .offset_ms = shift_offset_ms(it->id, it->jitter_ms)};
    Exclusions x;
    if (cron && (it->exclude[0] || it->exclude_cron[0]) && exclusions_load(s, it, tz, &x) == 0)
        in.excl = &x;
    Plan p;
    plan_due(&in, *budget, &p);
    *budget -= p.work;
    it->dispatch = p.dispatch;
    it->next_ms = p.next_ms;
    it->skipped = p.skipped;
    it->coalesced = p.coalesced;
    it->excluded = p.excluded;
    if (p.excluded > 0)
        metrics_add("dts_occurrences_excluded_total", NULL, (double)p.excluded);
}

/* Plans and applies, through the compare-and-set, the members due_take left
 * (cron tasks, retry tokens, misfires): counts[i] of them for owned shard i.
 * Returns 1 if some were deferred to the next pass. */
static int dispatch_planned(Sched *s, int64_t now, int *dispatched)
{
    int64_t budget = PASS_BUDGET;
    int deferred = 0;
    for (int i = 0; i < s->nowned; i++)
        for (int j = 0; j < s->counts[i]; j++) {
            plan_item(s, &s->items[i * s->batch + j], now, &budget);
            deferred |= s->items[i * s->batch + j].defer;
        }
    if (store_dispatch(s->st, s->owned, s->nowned, s->items, s->counts, (int)s->batch, now, dispatched) !=
        STORE_OK)
        log_warn("dispatch failed", "{s:s}", "error", store_errstr(s->st));
    for (int i = 0; i < s->nowned; i++)
        for (int j = 0; j < s->counts[i]; j++)
            metrics_observe("dts_dispatch_lateness_seconds", NULL,
                            (double)(now - s->items[i * s->batch + j].due_ms) / 1000.0);
    return deferred;
}

/* One pass over the owned shards, in one pipelined round trip when every due
 * member is a plain one-time task (due_take.lua dispatches those itself) and
 * two when some need planning in C. Returns the time to sleep before the next
 * pass: none while a shard had a full batch, else until the earliest due time
 * left, at most --idle-ms (a task created meanwhile is seen within that). */
static int64_t dispatch_pass(Sched *s)
{
    DueTaken t = {.late_ms = s->late_ms};
    int dispatched = 0, total = 0, full;
    if (s->nowned == 0)
        return s->idle_ms;
    if (store_due_take(s->st, s->owned, s->nowned, (int)s->batch, s->misfire_ms, s->items, s->counts, &t) !=
        STORE_OK) {
        log_warn("due read failed", "{s:s}", "error", store_errstr(s->st));
        return s->idle_ms;
    }
    int64_t now = t.now_ms >= 0 ? t.now_ms : clock_shared_ms(); /* Redis's, read by the scripts */
    for (int i = 0; i < t.nlate; i++)
        metrics_observe("dts_dispatch_lateness_seconds", NULL, (double)t.late_ms[i] / 1000.0);
    full = t.full;
    for (int i = 0; i < s->nowned; i++)
        total += s->counts[i];
    if (total > 0)
        full |= dispatch_planned(s, now, &dispatched);
    metrics_add("dts_occurrences_dispatched_total", NULL, t.dispatched + dispatched);
    if (full)
        return 0;
    int64_t wait = t.earliest_ms == INT64_MAX ? s->idle_ms : t.earliest_ms - clock_shared_ms();
    return wait < 0 ? 0 : wait < s->idle_ms ? wait : s->idle_ms;
}

/* Every decision of a pass (what is due, who is alive, what misfired) is made
 * on Redis's clock: the due reads take it inside their script (TIME), and the
 * lease turn, every third of the TTL, reads it first. Host clocks disagree by
 * seconds; the host clock only measures how long to sleep. A pass that finds
 * Redis unreachable sleeps --idle-ms and tries again. */
static void run(Sched *s, Sweeper *sw)
{
    ChainDrainer cd; /* chain (issue 16): drains the leased shards' outboxes */
    chain_drain_init(&cd);
    while (!service_stopping) {
        if (clock_mono_ms() >= s->next_lease_ms) {
            int64_t now;
            if (store_time(s->st, &now) != STORE_OK) {
                log_warn("redis unreachable; retrying", "{s:s}", "error", store_errstr(s->st));
                clock_sleep_ms(s->idle_ms);
                continue;
            }
            leases_update(s, now);
            s->next_lease_ms = clock_mono_ms() + s->lease_ttl_ms / 3;
        }
        int64_t wait = dispatch_pass(s);
        sweeper_run(sw, s->st, s->owned, s->nowned);
        chain_drain_run(&cd, s->st, s->owned, s->nowned);
        int64_t until_lease = s->next_lease_ms - clock_mono_ms();
        clock_sleep_ms(wait < until_lease ? wait : until_lease);
    }
}

static void shutdown_leases(Sched *s)
{
    for (int sh = 0; sh < s->nshards; sh++)
        if (s->held[sh])
            store_lease_release(s->st, sh, s->self);
    store_scheduler_leave(s->st, s->self);
}

int scheduler_main(int argc, char **argv)
{
    static ServiceConfig cfg;
    static Sched s;
    static Sweeper sw;
    static const char *listen;
    static const Option opts[] = {
        {"listen", OPT_STR, &listen, "", 0, 0, "serve /healthz, /readyz, /metrics here (HOST:PORT)"},
        {"lease-ttl-ms", OPT_INT, &s.lease_ttl_ms, "3000", 300, 60000,
         "shard lease TTL; failover takes about this long"},
        {"idle-ms", OPT_INT, &s.idle_ms, "50", 1, 1000, "longest sleep between due reads"},
        {"batch", OPT_INT, &s.batch, "200", 1, STORE_DISPATCH_MAX, "occurrences per dispatch script"},
        {"misfire-threshold-ms", OPT_INT, &s.misfire_ms, "5000", 0, 86400000,
         "an occurrence later than this is a misfire (a task's misfire_threshold_s wins)"},
        {"ignore-leases", OPT_INT, &s.ignore_leases, "0", 0, 1,
         "testing only: 1 dispatches every shard, held or not"},
        SWEEPER_OPTIONS(sw),
        SERVICE_OPTIONS(cfg),
        {0},
    };
    int rv;
    if (service_init("scheduler", "Moves due occurrences into the ready streams.", opts, argc, argv, &cfg,
                     &rv) != 0)
        return rv;
    metrics_declare("dts_occurrences_dispatched_total", METRIC_COUNTER,
                    "Occurrences moved to the ready streams.");
    metrics_declare("dts_occurrences_excluded_total", METRIC_COUNTER,
                    "Occurrences passed over because the task excludes them (exclude, exclude_cron).");
    metrics_declare("dts_dispatch_lateness_seconds", METRIC_HISTOGRAM, "Dispatch time minus due time.");
    metrics_declare("dts_leases_held", METRIC_GAUGE, "Shard leases held by this scheduler.");
    metrics_declare("dts_schedulers_alive", METRIC_GAUGE, "Live schedulers seen by this one.");
    metrics_declare("dts_ready_entries", METRIC_GAUGE,
                    "Entries in a held shard's ready stream (waiting or running).");
    metrics_declare("dts_ready_pending", METRIC_GAUGE,
                    "Entries of a held shard delivered to executors and not yet acknowledged.");
    char err[160];
    HttpServer *probes = service_probe_server(listen, err, sizeof err);
    if (listen[0] && probes == NULL) {
        fprintf(stderr, "dts scheduler: %s\n", err);
        return 1;
    }
    s.st = service_store();
    s.nshards = (int)cfg.shards;
    service_instance_id("scheduler", s.self, sizeof s.self);
    if (service_wait_redis(s.st) != 0)
        return 1;
    s.held = xcalloc((size_t)s.nshards, sizeof *s.held);
    s.owned = xcalloc((size_t)s.nshards, sizeof *s.owned);
    s.counts = xcalloc((size_t)s.nshards, sizeof *s.counts);
    s.items = xcalloc((size_t)(s.nshards * s.batch), sizeof *s.items);
    s.late_ms = xcalloc((size_t)(s.nshards * s.batch), sizeof *s.late_ms);
    s.crons = cron_cache_new(CRON_CACHE_SLOTS);
    s.xcrons = cron_cache_new(CRON_CACHE_SLOTS);
    log_info("scheduler started", "{s:s}", "id", s.self);
    sweeper_init(&sw);
    run(&s, &sw);
    log_info("scheduler stopping; releasing leases", NULL);
    shutdown_leases(&s);
    httpd_stop(probes);
    free(s.held);
    free(s.owned);
    free(s.counts);
    free(s.items);
    free(s.late_ms);
    cron_cache_free(s.crons);
    cron_cache_free(s.xcrons);
    service_store_release();
    return 0;
}
