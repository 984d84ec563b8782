/* executor_conc: concurrency keys on the executor (issue 16; the design note
 * is in concurrency.h). A start that answers "gated" takes a slot of the
 * task's key and starts again with it; without a free slot the entry is
 * parked as a held job (JOB_GATED) that takes no worker, kept fresh by the
 * keeper, which retries its slot every beat (its place in the key's queue
 * stays alive only so) and starts it once it has one. Slots are heartbeated
 * while their runs last and freed when they end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concurrency.h"
#include "executor_private.h"
#include "mem.h"
#include "store_conc.h"

/* Parks E, which waits for a slot, as a held job. Takes the lock. */
static void park(const ReadyEntry *e)
{
    Job *j = xcalloc(1, sizeof *j);
    j->e = *e;
    j->state = JOB_GATED;
    pthread_mutex_lock(&ex.lock);
    Job **tail = &ex.jobs;
    while (*tail)
        tail = &(*tail)->next;
    *tail = j;
    ex.held++;
    ex.gated++;
    pthread_mutex_unlock(&ex.lock);
}

int exec_gate(Store *st, ReadyEntry *e, const RunStart *rs)
{
    snprintf(e->conc_key, sizeof e->conc_key, "%s", rs->conc_key);
    e->conc_limit = rs->conc_limit;
    if (conc_try(st, e, ex.recovery_ms) == 1)
        return 1;
    park(e); /* an error too: the keeper tries again */
    return 0;
}

void exec_conc_release(Store *st, const ReadyEntry *e)
{
    if (!e->slot_held)
        return;
    ReadyEntry slot = *e;
    conc_release(st, &slot, ex.recovery_ms);
}

/* Takes parked job E out of the held list once the keeper got it a slot;
 * returns 0 (and frees the slot) if it is gone meanwhile. Takes the lock. */
static int unpark(Store *st, ReadyEntry *e)
{
    pthread_mutex_lock(&ex.lock);
    Job *j = ex.jobs;
    while (j && !(j->state == JOB_GATED && j->e.shard == e->shard && strcmp(j->e.entry, e->entry) == 0 &&
                  j->e.deliveries == e->deliveries))
        j = j->next;
    if (j != NULL)
        job_drop_locked(j);
    pthread_mutex_unlock(&ex.lock);
    if (j == NULL)
        conc_release(st, e, ex.recovery_ms);
    return j != NULL;
}

/* Counts entry E (PARKED or running) under its key among the N keys KEYS. */
static void tally(const char **keys, int *running, int *waiting, int *n, const ReadyEntry *e, int parked)
{
    int k = 0;
    while (k < *n && strcmp(keys[k], e->conc_key) != 0)
        k++;
    if (k == *n) {
        keys[k] = e->conc_key;
        running[k] = waiting[k] = 0;
        (*n)++;
    }
    running[k] += !parked;
    waiting[k] += parked;
}

/* Copies the entries of held jobs with a key, parked or holding a slot, into
 * a new array (the caller frees); *parked (caller frees) marks the parked. */
static ReadyEntry *keyed_collect(int **parked, int *n)
{
    pthread_mutex_lock(&ex.lock);
    ReadyEntry *es = xcalloc((size_t)ex.held + 1, sizeof *es);
    *parked = xcalloc((size_t)ex.held + 1, sizeof **parked);
    *n = 0;
    for (Job *j = ex.jobs; j; j = j->next)
        if (j->e.conc_key[0] && (j->state == JOB_GATED || j->e.slot_held)) {
            (*parked)[*n] = j->state == JOB_GATED;
            es[(*n)++] = j->e;
        }
    pthread_mutex_unlock(&ex.lock);
    return es;
}

void exec_conc_keep(Store *st)
{
    int n, *parked, nkeys = 0, ngo = 0;
    ReadyEntry *es = keyed_collect(&parked, &n);
    ReadyEntry *go = xcalloc((size_t)n + 1, sizeof *go);
    const char **keys = xcalloc((size_t)n + 1, sizeof *keys);
    int *running = xcalloc((size_t)n + 1, sizeof *running),
        *waiting = xcalloc((size_t)n + 1, sizeof *waiting);
    for (int i = 0; i < n; i++) {
        if (!parked[i])
            store_conc_touch(st, &es[i], ex.recovery_ms);
        else if (conc_try(st, &es[i], ex.recovery_ms) == 1 && unpark(st, &es[i]))
            go[ngo++] = es[i];
        tally(keys, running, waiting, &nkeys, &es[i], parked[i] && !es[i].slot_held);
    }
    conc_report(keys, running, waiting, nkeys);
    if (ngo > 0)
        exec_start_entries(st, go, ngo, 0);
    free(go);
    free(keys);
    free(running);
    free(waiting);
    free(parked);
    free(es);
}
