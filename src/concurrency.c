/* concurrency: the executor's gate before a run of a task with a concurrency
 * key, its release, and the per-key figures (the design note is in
 * concurrency.h). */
#include "concurrency.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "store_conc.h"

#define KEYS_TRACKED 64 /* keys whose gauges this executor keeps reporting */

static char seen[KEYS_TRACKED][TASK_CONCURRENCY_KEY_MAX + 1];
static int nseen;

void conc_init(void)
{
    metrics_declare("dts_concurrency_running", METRIC_GAUGE,
                    "Runs holding a slot of a concurrency key, by key.");
    metrics_declare("dts_concurrency_waiting", METRIC_GAUGE,
                    "Occurrences waiting for a slot of a concurrency key, by key.");
}

int conc_try(Store *st, ReadyEntry *e, int64_t stale_ms)
{
    int acquired = 0;
    int rv = store_conc_acquire(st, e, stale_ms, &acquired);
    if (rv != STORE_OK)
        return rv;
    e->slot_held = acquired;
    return acquired;
}

void conc_release(Store *st, ReadyEntry *e, int64_t stale_ms)
{
    if (e->conc_key[0] == '\0')
        return;
    if (store_conc_release(st, e, stale_ms) != STORE_OK)
        log_warn("concurrency slot release failed; it frees after the recovery timeout", "{s:s,s:s}", "key",
                 e->conc_key, "error", store_errstr(st));
    e->slot_held = 0;
}

static void set_gauges(const char *key, int running, int waiting)
{
    char labels[TASK_CONCURRENCY_KEY_MAX + 16];
    snprintf(labels, sizeof labels, "key=\"%s\"", key); /* keys are [A-Za-z0-9_-] */
    metrics_set("dts_concurrency_running", labels, running);
    metrics_set("dts_concurrency_waiting", labels, waiting);
}

void conc_report(const char *const *keys, const int *running, const int *waiting, int n)
{
    for (int s = 0; s < nseen; s++) {
        int found = 0;
        for (int i = 0; i < n && !found; i++)
            found = strcmp(seen[s], keys[i]) == 0;
        if (!found)
            set_gauges(seen[s], 0, 0);
    }
    for (int i = 0; i < n; i++) {
        set_gauges(keys[i], running[i], waiting[i]);
        int known = 0;
        for (int s = 0; s < nseen && !known; s++)
            known = strcmp(seen[s], keys[i]) == 0;
        if (!known && nseen < KEYS_TRACKED)
            snprintf(seen[nseen++], sizeof seen[0], "%s", keys[i]);
    }
}
