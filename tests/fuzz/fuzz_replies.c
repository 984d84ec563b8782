/* fuzz_replies: libFuzzer target for the parsing of Redis replies, those of
 * our Lua scripts and of the plain commands the store sends. The store's
 * reply handling is not a pure function: it sits inside each store_* call,
 * after the command is sent. So this harness links the store's real sources
 * against a fake connection (fuzz_rconn.c, the rconn.h contract) whose replies
 * are parsed by hiredis's redisReader from the fuzzed bytes: a misbehaving or
 * confused server (or a script whose reply shape changed) must never crash a
 * dts process. Input: byte 0 picks the store call, the rest is RESP. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api_view.h"
#include "store.h"
#include "store_create.h"
#include "store_events.h"
#include "store_private.h"

/* The embedded scripts (normally generated from src/scripts/ at build time);
 * their text never reaches a server here. */
const char script_create[] = "", script_replace[] = "", script_set_state[] = "", script_delete[] = "",
           script_trigger[] = "", script_dispatch[] = "", script_lease[] = "", script_release[] = "",
           script_start[] = "", script_touch[] = "", script_complete[] = "", script_requeue[] = "",
           script_redrive[] = "", script_handback[] = "", script_reject[] = "", script_sweep[] = "",
           script_sweep_consumers[] = "";
const char script_create_batch[] = "";
const char script_due_take[] = "";
const char script_backfill[] = "";
const char script_chain[] = "", script_conc[] = ""; /* issue 16 */

void fuzz_rconn_feed(const uint8_t *data, size_t size); /* fuzz_rconn.c */

#define SHARDS 4
#define TASK "01a219632ff9c1096782f918"

static Store *open_store(void)
{
    char err[128];
    StoreConfig cfg = {.url = "redis://127.0.0.1:1", .prefix = "dts", .shards = SHARDS, .runs_kept = 100};
    Store *st = store_open(&cfg, err, sizeof err);
    if (st == NULL)
        abort();
    for (int s = 0; s < SCRIPT_COUNT; s++) /* as if loaded: no SCRIPT LOAD round trip */
        memset(st->sha[s], 'a', 40), st->sha[s][40] = '\0';
    return st;
}

static ReadyEntry entry(void)
{
    ReadyEntry e = {.shard = 1, .sched_ms = 1795700000000, .attempt = 1};
    strcpy(e.entry, "1795700000000-0");
    strcpy(e.task, TASK);
    strcpy(e.kind, "schedule");
    return e;
}

static void exec_calls(Store *st, int op)
{
    ReadyEntry *got = NULL, e = entry();
    int n = 0;
    switch (op) {
    case 0:
        store_ready_read(st, "c", 8, 0, &got, &n);
        break;
    case 1:
        store_ready_claim(st, 1, "c", 1000, 8, &got, &n);
        break;
    case 2: {
        StartVerdict v;
        int attempt;
        json_t *spec = NULL;
        store_run_start(st, &e, "c", 5, 5000, &v, &attempt, &spec);
        json_decref(spec);
        break;
    }
    case 3: {
        const char *ids[3] = {"1-0", "2-0", "3-0"}, *tasks[3] = {TASK, TASK, TASK};
        const long long dels[3] = {1, 0, 2};
        int lost[3];
        store_ready_touch(st, 1, "c", ids, tasks, dels, 3, lost);
        break;
    }
    case 4: {
        RunResult r = {.status = "succeeded", .exit_code = 0, .output = "ok", .output_len = 2, .attempt = 1,
                       .retry_delay_ms = -1};
        int recorded;
        store_run_complete(st, &e, "c", TASK ":1795700000000:1", &r, &recorded);
        break;
    }
    case 5:
        store_ready_requeue(st, &e, "c");
        break;
    default:
        store_groups_create(st);
    }
    free(got);
}

static void sched_calls(Store *st, int op)
{
    int shards[SHARDS] = {0, 1, 2, 3}, held[SHARDS], counts[SHARDS], dispatched;
    static DueItem items[SHARDS * 4];
    long long len[SHARDS], pending[SHARDS];
    static int64_t late[SHARDS * 4];
    DueTaken taken = {.late_ms = late};
    json_t *alive = NULL;
    switch (op) {
    case 0:
        store_schedulers_alive(st, "me", 1795700000000, 3000, &alive);
        json_decref(alive);
        break;
    case 1:
        store_leases_acquire(st, shards, SHARDS, "me", 3000, held);
        break;
    case 2:
        memset(items, 0, sizeof items);
        store_due_take(st, shards, SHARDS, 4, 5000, items, counts, &taken);
        break;
    case 3:
        memset(items, 0, sizeof items);
        store_due_take(st, shards, 1, 1, 0, items, counts, &taken);
        break;
    case 4:
        memset(items, 0, sizeof items);
        strcpy(items[0].id, TASK), strcpy(items[0].member, TASK), items[0].dispatch = 1;
        {
            int one = 1, count = 1;
            store_dispatch(st, &one, 1, items, &count, 4, 1795700000000, &dispatched);
        }
        break;
    case 5:
        store_ready_depth(st, shards, SHARDS, len, pending);
        break;
    default:
        store_lease_release(st, 1, "me");
        store_scheduler_leave(st, "me");
    }
}

/* One create and a batch of two (a reply array per shard call). */
static void create_calls(Store *st)
{
    static const char body[] = "{\"name\":\"f\",\"action\":{\"type\":\"noop\"}}";
    TaskError err;
    TaskSpec *spec = task_spec_parse(body, sizeof body - 1, &err);
    TaskCreate c[2] = {{.id = TASK, .spec = spec, .due_ms = -1, .immediate = 1},
                       {.id = "01a219632ff9c1096782f919", .spec = spec, .due_ms = 1795700000000}};
    store_task_create_batch(st, c, 2, 1795700000000, 10, 1);
    record_clear(&c[0].written);
    record_clear(&c[1].written);
    store_task_create(st, &c[0], 1795700000000, 10, 1);
    record_clear(&c[0].written);
    task_spec_free(spec);
}

static void api_calls(Store *st, int op)
{
    json_t *out = NULL, *spec = NULL;
    char cursor[TASK_ID_MAX + 1];
    TaskQuery q = {.limit = 10, .state = op & 8 ? "active" : NULL, .name_prefix = op & 16 ? "a" : NULL};
    EventCursor ec = {.ms = op & 8 ? 1795700000000 : 0, .seq = 0, .shard = 1};
    switch (op & 7) {
    case 0:
        api_view_task_get(st, TASK, &out); /* the store read and its view */
        break;
    case 1:
        api_view_task_list(st, &q, &out, cursor);
        break;
    case 2:
        store_runs_list(st, TASK, 10, &out);
        break;
    case 3:
        api_view_dead_list(st, 10, &out);
        break;
    case 4: {
        int64_t sched;
        store_dead_retry(st, "1-1795700000000-0", 1795700000000);
        store_task_trigger(st, TASK, 1795700000000, &sched);
        break;
    }
    case 5:
        api_view_events_read(st, &ec, 20, &out);
        break;
    case 6:
        store_task_delete(st, TASK, 1795700000000);
        store_task_set_state(st, TASK, 3, "paused", -1, 1795700000000);
        create_calls(st);
        break;
    default:
        store_check(st);
    }
    json_decref(out);
    json_decref(spec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    Store *st = open_store();
    fuzz_rconn_feed(data + 1, size - 1);
    int op = data[0];
    switch (op % 3) {
    case 0:
        exec_calls(st, op / 3 % 8);
        break;
    case 1:
        sched_calls(st, op / 3 % 8);
        break;
    default:
        api_calls(st, op / 3);
    }
    store_close(st);
    return 0;
}
