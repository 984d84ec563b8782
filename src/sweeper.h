/* sweeper: keeps Redis from growing without bound. A pass, every interval,
 * over the shards the caller holds: drops executors silent for longer than
 * the dead timeout from P:executors, removes their consumer-group consumers
 * once they have nothing pending, and walks each shard's tasks with a cursor
 * kept in Redis, BATCH tasks per shard per pass, trimming run histories (by
 * count and age; skipped records too) and deleting completed one-time tasks
 * past their retention. Work per pass is bounded, every step is idempotent,
 * and any replica may run it (the scheduler runs it for its leased shards). */
#ifndef DTS_SWEEPER_H
#define DTS_SWEEPER_H

#include <stdint.h>

#include "store.h"

typedef struct Sweeper {
    /* public: set by the options below */
    long interval_ms, batch, history_age_s, completed_retention_s, executor_dead_ms;
    /* private */
    int64_t next_ms; /* monotonic time of the next pass */
} Sweeper;

/* The sweeper's command-line options, for a role's option table. */
#define SWEEPER_OPTIONS(sw)                                                                                 \
    {"sweep-interval-ms", OPT_INT, &(sw).interval_ms, "10000", 100, 3600000, "how often the sweeper runs"}, \
        {"sweep-batch",                                                                                     \
         OPT_INT,                                                                                           \
         &(sw).batch,                                                                                       \
         "50",                                                                                              \
         1,                                                                                                 \
         10000,                                                                                             \
         "tasks per shard the sweeper visits per pass"},                                                    \
        {"history-max-age-s",                                                                               \
         OPT_INT,                                                                                           \
         &(sw).history_age_s,                                                                               \
         "604800",                                                                                          \
         1,                                                                                                 \
         315360000,                                                                                         \
         "the sweeper removes runs older than this"},                                                       \
        {"completed-retention-s",                                                                           \
         OPT_INT,                                                                                           \
         &(sw).completed_retention_s,                                                                       \
         "604800",                                                                                          \
         1,                                                                                                 \
         315360000,                                                                                         \
         "completed one-time tasks are deleted this long after they completed"},                            \
    {                                                                                                       \
        "executor-dead-ms", OPT_INT, &(sw).executor_dead_ms, "60000", 1000, 86400000,                       \
            "an executor silent this long is dead: its heartbeat and idle consumers are removed"            \
    }

/* Declares the sweeper's metrics; call once before sweeper_run. */
void sweeper_init(Sweeper *sw);

/* Runs a pass over the N shards in SHARDS if one is due (else returns at
 * once). Errors are logged; the next pass tries again. */
void sweeper_run(Sweeper *sw, Store *st, const int *shards, int n);

#endif
