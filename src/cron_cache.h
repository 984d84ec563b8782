/* cron_cache: compiled cron expressions kept by their text, so a scheduler
 * parses each schedule once, not on every due item of every pass. */
#ifndef DTS_CRON_CACHE_H
#define DTS_CRON_CACHE_H

#include <stddef.h>

#include "cron.h"

typedef struct CronCache CronCache;

/* Makes a cache of SLOTS entries (at least 1), direct-mapped by a hash of the
 * text: a busy slot is replaced, so memory stays bounded whatever the number
 * of schedules. The caller frees it with cron_cache_free. Not thread-safe. */
CronCache *cron_cache_new(size_t slots);

/* Frees the cache and every expression in it; cron_cache_free(NULL) is a no-op. */
void cron_cache_free(CronCache *c);

/* The compiled form of TEXT, parsed on a miss (cron_parse). The cache owns the
 * result; it stays valid until the next cron_cache_get on C or its free.
 * NULL, with err filled, if TEXT does not parse (failures are not kept). */
const CronExpr *cron_cache_get(CronCache *c, const char *text, char *err, size_t errlen);

/* Lookups answered without parsing, and parses, since the cache was made. */
size_t cron_cache_hits(const CronCache *c);
size_t cron_cache_misses(const CronCache *c);

#endif
