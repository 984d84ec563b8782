/* scheduler: the clock. Moves due occurrences into the ready streams.
 *
 * Concurrency: one thread, one Redis connection, no timer per task: due times
 * live in Redis's sorted sets. Each loop turn (1) every third of the lease TTL,
 * heartbeats into P:schedulers, sees who is alive and takes or renews leases
 * on its share of the shards (shard s belongs to the scheduler at index s mod n
 * in the sorted list of live ones) and releases the rest; (2) reads a batch of
 * due members of every shard it holds, plus each shard's earliest due time, in
 * one pipelined round trip; (3) for each batch computes the next fire times in
 * C and applies them with the dispatch compare-and-set (scripts/dispatch.lua);
 * (4) sleeps until the earliest due time, at most --idle-ms, so a task added
 * meanwhile is seen within that bound.
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

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "plan.h"
#include "service.h"
#include "sweeper.h"
#include "task.h"

/* cron_next calls one pass may spend on misfire counting (a few ms). */
#define PASS_BUDGET 50000

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

/* Decides what dispatching IT means (plan.h), spending at most *BUDGET
 * cron_next calls; an item planned when the pass's budget is spent waits for
 * the next pass (it->defer), so a pass stays short whatever the backlog. */
static void plan_item(Sched *s, DueItem *it, int64_t now, int64_t *budget)
{
    it->dispatch = 1;
    it->next_ms = -1;
    if (it->retry)
        return; /* a retry or held occurrence: no schedule of its own */
    int cron = strcmp(it->kind, "cron") == 0;
    if (cron && *budget < PLAN_MIN_BUDGET) {
        it->defer = 1;
        return;
    }
    char err[160];
    CronExpr *e = cron ? cron_parse(it->cron, err, sizeof err) : NULL;
    const Tz *tz = cron ? tz_get(it->tz[0] ? it->tz : "UTC", err, sizeof err) : NULL;
    if (cron && (e == NULL || tz == NULL)) {
        log_error("stored schedule no longer parses; the task stops", "{s:s,s:s}", "task_id", it->id, "error", err);
        cron_free(e);
        return;
    }
    PlanInput in = {.expr = e, .tz = tz, .anchor_ms = it->created_ms, .due_ms = it->due_ms, .now_ms = now,
                    .threshold_ms = it->misfire_ms >= 0 ? it->misfire_ms : s->misfire_ms,
                    .misfire = task_misfire_parse(it->misfire) < 0 ? MISFIRE_RUN_ONCE
                                                                    : (MisfirePolicy)task_misfire_parse(it->misfire),
                    .end_at_ms = it->end_at_ms, .max_runs = it->max_runs, .dispatched = it->dispatched};
    Plan p;
    plan_due(&in, *budget, &p);
    *budget -= p.work;
    it->dispatch = p.dispatch;
    it->next_ms = p.next_ms;
    it->skipped = p.skipped;
    it->coalesced = p.coalesced;
    cron_free(e);
}

/* One pass over the owned shards: due members of all of them, their tasks,
 * and the dispatch scripts, in three pipelined round trips. Returns the time
 * to sleep before the next pass. */
static int64_t dispatch_pass(Sched *s, int64_t now)
{
    int64_t earliest;
    int dispatched = 0, full = 0, total = 0;
    if (s->nowned == 0)
        return s->idle_ms;
    if (store_due_fetch(s->st, s->owned, s->nowned, now, (int)s->batch, s->items, s->counts, &earliest) != STORE_OK) {
        log_warn("due read failed", "{s:s}", "error", store_errstr(s->st));
        return s->idle_ms;
    }
    for (int i = 0; i < s->nowned; i++) {
        total += s->counts[i];
        full |= s->counts[i] == s->batch;
    }
    if (total > 0 && store_due_details(s->st, s->owned, s->nowned, s->items, s->counts, (int)s->batch) == STORE_OK) {
        int64_t budget = PASS_BUDGET;
        for (int i = 0; i < s->nowned; i++)
            for (int j = 0; j < s->counts[i]; j++) {
                plan_item(s, &s->items[i * s->batch + j], now, &budget);
                full |= s->items[i * s->batch + j].defer;
            }
        if (store_dispatch(s->st, s->owned, s->nowned, s->items, s->counts, (int)s->batch, now, &dispatched) != STORE_OK)
            log_warn("dispatch failed", "{s:s}", "error", store_errstr(s->st));
        for (int i = 0; i < s->nowned; i++)
            for (int j = 0; j < s->counts[i]; j++)
                metrics_observe("dts_dispatch_lateness_seconds", NULL,
                                (double)(now - s->items[i * s->batch + j].due_ms) / 1000.0);
        metrics_add("dts_occurrences_dispatched_total", NULL, dispatched);
    }
    if (full)
        return 0;
    int64_t wait = earliest == INT64_MAX ? s->idle_ms : earliest - clock_shared_ms();
    return wait < 0 ? 0 : wait < s->idle_ms ? wait : s->idle_ms;
}

/* Every decision of a pass (what is due, who is alive, what misfired) is made
 * on Redis's clock, read once per pass: host clocks disagree by seconds. The
 * host clock only measures how long to sleep. */
static void run(Sched *s, Sweeper *sw)
{
    while (!service_stopping) {
        int64_t now;
        if (store_time(s->st, &now) != STORE_OK) {
            log_warn("redis unreachable; retrying", "{s:s}", "error", store_errstr(s->st));
            clock_sleep_ms(s->idle_ms);
            continue;
        }
        if (clock_mono_ms() >= s->next_lease_ms) {
            leases_update(s, now);
            s->next_lease_ms = clock_mono_ms() + s->lease_ttl_ms / 3;
        }
        int64_t wait = dispatch_pass(s, clock_shared_ms());
        sweeper_run(sw, s->st, s->owned, s->nowned);
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
        {"lease-ttl-ms", OPT_INT, &s.lease_ttl_ms, "3000", 300, 60000, "shard lease TTL; failover takes about this long"},
        {"idle-ms", OPT_INT, &s.idle_ms, "50", 1, 1000, "longest sleep between due reads"},
        {"batch", OPT_INT, &s.batch, "200", 1, STORE_DISPATCH_MAX, "occurrences per dispatch script"},
        {"misfire-threshold-ms", OPT_INT, &s.misfire_ms, "5000", 0, 86400000, "an occurrence later than this is a misfire (a task's misfire_threshold_s wins)"},
        {"ignore-leases", OPT_INT, &s.ignore_leases, "0", 0, 1, "testing only: 1 dispatches every shard, held or not"},
        SWEEPER_OPTIONS(sw),
        SERVICE_OPTIONS(cfg),
        {0},
    };
    int rv = service_init("scheduler", "Moves due occurrences into the ready streams.", opts, argc, argv, &cfg);
    if (rv != 0)
        return rv - 1;
    metrics_declare("dts_occurrences_dispatched_total", METRIC_COUNTER, "Occurrences moved to the ready streams.");
    metrics_declare("dts_dispatch_lateness_seconds", METRIC_HISTOGRAM, "Dispatch time minus due time.");
    metrics_declare("dts_leases_held", METRIC_GAUGE, "Shard leases held by this scheduler.");
    metrics_declare("dts_schedulers_alive", METRIC_GAUGE, "Live schedulers seen by this one.");
    metrics_declare("dts_ready_entries", METRIC_GAUGE, "Entries in a held shard's ready stream (waiting or running).");
    metrics_declare("dts_ready_pending", METRIC_GAUGE, "Entries of a held shard delivered to executors and not yet acknowledged.");
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
    service_store_release();
    return 0;
}
