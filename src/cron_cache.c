/* cron_cache: compiled cron expressions kept by their text (see cron_cache.h). */
#include "cron_cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

typedef struct Slot {
    char *text; /* NULL: empty */
    CronExpr *expr;
} Slot;

struct CronCache {
    Slot *slots;
    size_t n, hits, misses;
};

/* FNV-1a: a cheap, well-spread hash of short strings. */
static uint64_t text_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

CronCache *cron_cache_new(size_t slots)
{
    CronCache *c = xcalloc(1, sizeof *c);
    c->n = slots ? slots : 1;
    c->slots = xcalloc(c->n, sizeof *c->slots);
    return c;
}

static void slot_clear(Slot *s)
{
    free(s->text);
    cron_free(s->expr);
    s->text = NULL;
    s->expr = NULL;
}

void cron_cache_free(CronCache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        slot_clear(&c->slots[i]);
    free(c->slots);
    free(c);
}

const CronExpr *cron_cache_get(CronCache *c, const char *text, char *err, size_t errlen)
{
    Slot *s = &c->slots[text_hash(text) % c->n];
    if (s->text != NULL && strcmp(s->text, text) == 0) {
        c->hits++;
        return s->expr;
    }
    c->misses++;
    CronExpr *e = cron_parse(text, err, errlen);
    if (e == NULL)
        return NULL; /* the slot keeps what it had */
    slot_clear(s);
    s->text = xstrdup(text);
    s->expr = e;
    return e;
}

size_t cron_cache_hits(const CronCache *c)
{
    return c->hits;
}

size_t cron_cache_misses(const CronCache *c)
{
    return c->misses;
}
