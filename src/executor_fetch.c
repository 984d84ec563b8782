/* executor_fetch: the fetch loop on the main thread. It takes entries only
 * into free slots (reserved first, so the keeper's claims and the reads never
 * exceed --concurrency together), reading the shards in rotation, and blocks
 * on all of them only when every one was empty. */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "executor_private.h"
#include "log.h"
#include "service.h"

/* Reads the streams one at a time, in rotation from shard *NEXT, at most
 * ROOM entries in all, until ROOM is filled or every stream was empty, so an
 * executor never takes more than it can run (XREADGROUP over all streams
 * would take COUNT from each). Returns how many it took. */
static int fetch_rotation(Store *st, int shards, int *next, int room)
{
    int taken = 0;
    for (int tried = 0; tried < shards && taken < room && !service_stopping; tried++) {
        ReadyEntry *got;
        int n;
        if (store_ready_read_shard(st, (*next + tried) % shards, ex.self, room - taken, &got, &n) !=
            STORE_OK) {
            log_warn("read failed; retrying", "{s:s}", "error", store_errstr(st));
            free(got);
            clock_sleep_ms(200);
            break;
        }
        exec_start_entries(st, got, n, 0);
        taken += n;
        free(got);
    }
    *next = (*next + 1) % shards; /* the next pass starts elsewhere: fairness */
    return taken;
}

/* The blocking read's timeout, 250 to 749 ms, drawn afresh each time. Redis
 * hands an entry to the reader blocked longest; with a fixed timeout that
 * divides a schedule's period (500 ms, and a task due every second), the
 * executors re-block in step with the entries, and one of them is always the
 * oldest when one arrives: it took every entry, the others none. */
static int block_ms(void)
{
    static uint32_t x;
    if (x == 0)
        x = ((uint32_t)getpid() * 2654435761u ^ (uint32_t)clock_mono_ms()) | 1u;
    x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32: spread, not secrecy */
    return 250 + (int)(x % 500);
}

/* Every stream was empty: blocks on all of them at once (one stream's entry
 * wakes it), holding no reservation meanwhile, so the keeper may claim.
 * Entries beyond the room left when it returns (several streams filled in a
 * race) are given back at once. */
static void fetch_blocking(Store *st)
{
    ReadyEntry *got;
    int n;
    if (store_ready_read(st, ex.self, 1, block_ms(), &got, &n) != STORE_OK) {
        log_warn("read failed; retrying", "{s:s}", "error", store_errstr(st));
        clock_sleep_ms(200);
    }
    pthread_mutex_lock(&ex.lock);
    int room = room_locked(), keep = n < room ? n : room > 0 ? room : 0;
    ex.reserved += keep;
    pthread_mutex_unlock(&ex.lock);
    for (int i = keep; i < n; i++)
        store_ready_requeue(st, &got[i], ex.self);
    exec_start_entries(st, got, keep, keep);
    free(got);
}

/* Waits on ex.room for a slot to come free, at most 100 ms. */
static void room_wait(void)
{
    pthread_mutex_lock(&ex.lock);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 100000000;
    if (until.tv_nsec >= 1000000000)
        until.tv_sec++, until.tv_nsec -= 1000000000;
    if (room_locked() <= 0)
        pthread_cond_timedwait(&ex.room, &ex.lock, &until);
    pthread_mutex_unlock(&ex.lock);
}

/* Lets free slots gather while workers are busy, at most GATHER_US, up to a
 * quarter of --concurrency (at most 32): one read and one start script then
 * serve several entries, instead of two round trips for each. */
#define GATHER_US 1000
static void room_gather(void)
{
    int want = ex.concurrency / 4 < 32 ? (int)ex.concurrency / 4 : 32;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += GATHER_US * 1000;
    if (until.tv_nsec >= 1000000000)
        until.tv_sec++, until.tv_nsec -= 1000000000;
    pthread_mutex_lock(&ex.lock);
    while (!service_stopping && ex.held > ex.webhooks_in_flight && room_locked() < want &&
           pthread_cond_timedwait(&ex.room, &ex.lock, &until) == 0)
        ;
    pthread_mutex_unlock(&ex.lock);
}

void exec_fetch(Store *st)
{
    int shards = store_shards(st), next = 0;
    while (!service_stopping) {
        room_gather();
        int room = room_reserve();
        if (room == 0) {
            room_wait();
            continue;
        }
        int taken = fetch_rotation(st, shards, &next, room);
        jobs_add(NULL, 0, room);
        if (taken == 0 && !service_stopping)
            fetch_blocking(st);
    }
}
