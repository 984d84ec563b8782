/* executor_keeper: the keeper thread. On its own timer (a quarter of the
 * recovery timeout), it heartbeats the executor and its held entries, kills
 * runs whose entry was taken away, and claims entries idle past the recovery
 * timeout (their executor died) while there is room for them. */
#include <stdlib.h>
#include <time.h>

#include "executor_private.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "service.h"

/* The held entries of one shard, copied under the lock (a worker may free a
 * job meanwhile). */
typedef struct Held {
    char **ids, **tasks;
    long long *dels;
    int *lost;
    int n, cap;
} Held;

static void held_collect(Held *h, int shard)
{
    pthread_mutex_lock(&ex.lock);
    if (h->cap < ex.held + 1 || h->dels == NULL) {
        h->cap = ex.held + 1;
        h->ids = xrealloc(h->ids, (size_t)h->cap * sizeof *h->ids);
        h->tasks = xrealloc(h->tasks, (size_t)h->cap * sizeof *h->tasks);
        h->dels = xrealloc(h->dels, (size_t)h->cap * sizeof *h->dels);
        h->lost = xrealloc(h->lost, (size_t)h->cap * sizeof *h->lost);
    }
    h->n = 0;
    for (Job *j = ex.jobs; j; j = j->next)
        if (j->e.shard == shard) {
            h->dels[h->n] = j->e.deliveries;
            h->tasks[h->n] = xstrdup(j->e.task);
            h->ids[h->n++] = xstrdup(j->e.entry);
        }
    pthread_mutex_unlock(&ex.lock);
}

static void held_clear(Held *h)
{
    for (int i = 0; i < h->n; i++) {
        free(h->ids[i]);
        free(h->tasks[i]);
    }
    h->n = 0;
}

/* Heartbeats held entries shard by shard; kills runs whose entry was lost. */
static void keeper_touch(Store *st, int shards)
{
    Held h = {0};
    for (int sh = 0; sh < shards; sh++) {
        held_collect(&h, sh);
        if (h.n == 0)
            continue;
        int rv = store_ready_touch(st, sh, ex.self, (const char *const *)h.ids,
                                   (const char *const *)h.tasks, h.dels, h.n, h.lost);
        pthread_mutex_lock(&ex.lock);
        for (int i = 0; rv == STORE_OK && i < h.n; i++)
            if (h.lost[i])
                job_lost_locked(sh, h.ids[i], h.dels[i]);
        pthread_mutex_unlock(&ex.lock);
        held_clear(&h);
    }
    free(h.ids);
    free(h.tasks);
    free(h.dels);
    free(h.lost);
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
        exec_start_entries(st, got, n, room);
        free(got);
    }
}

/* Waits on ex.beat until BEAT_MS from now. Called with the lock held. */
static void beat_wait_locked(long beat_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += beat_ms / 1000;
    until.tv_nsec += (beat_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000)
        until.tv_sec++, until.tv_nsec -= 1000000000;
    pthread_cond_timedwait(&ex.beat, &ex.lock, &until);
}

void *exec_keeper_cb(void *arg)
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
        exec_conc_keep(st); /* concurrency keys (issue 16) */
        keeper_claim(st, shards);
        pthread_mutex_lock(&ex.lock);
        if (!(ex.draining && ex.held == 0))
            beat_wait_locked(beat);
    }
    pthread_mutex_unlock(&ex.lock);
    service_store_release();
    return NULL;
}
