/* quota: token buckets per caller, in a small fixed table under one lock. */
#include "quota.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define QUOTA_CALLERS 256 /* distinct callers tracked; the rest share the last slot */

typedef struct Bucket {
    int used;
    char who[72];
    double tokens;
    int64_t at_ms;
} Bucket;

struct Quota {
    pthread_mutex_t lock;
    double rate, burst;
    Bucket buckets[QUOTA_CALLERS];
    int n;
};

Quota *quota_new(double rate, double burst)
{
    Quota *q = xcalloc(1, sizeof *q);
    pthread_mutex_init(&q->lock, NULL);
    q->rate = rate;
    q->burst = burst < 1 ? 1 : burst;
    return q;
}

void quota_free(Quota *q)
{
    if (q == NULL)
        return;
    pthread_mutex_destroy(&q->lock);
    free(q);
}

/* WHO's bucket, made full on first use. The last slot is shared by every
 * caller past the table's size. */
static Bucket *bucket_of(Quota *q, const char *who, int64_t now_ms)
{
    for (int i = 0; i < q->n; i++)
        if (strcmp(q->buckets[i].who, who) == 0)
            return &q->buckets[i];
    Bucket *b = &q->buckets[q->n < QUOTA_CALLERS - 1 ? q->n++ : QUOTA_CALLERS - 1];
    if (!b->used) {
        *b = (Bucket){.used = 1, .tokens = q->burst, .at_ms = now_ms};
        snprintf(b->who, sizeof b->who, "%s", who);
    }
    return b;
}

int64_t quota_take(Quota *q, const char *who, int64_t now_ms)
{
    if (q == NULL || q->rate <= 0)
        return 0;
    pthread_mutex_lock(&q->lock);
    Bucket *b = bucket_of(q, who, now_ms);
    b->tokens += (double)(now_ms - b->at_ms) * q->rate / 1000.0;
    b->tokens = b->tokens > q->burst ? q->burst : b->tokens;
    b->at_ms = now_ms;
    int64_t wait = 0;
    if (b->tokens >= 1)
        b->tokens -= 1;
    else
        wait = (int64_t)((1 - b->tokens) * 1000.0 / q->rate) + 1;
    pthread_mutex_unlock(&q->lock);
    return wait;
}
