/* record: a flat list of name/value strings (see record.h). */
#include "record.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

void record_add(Record *r, const char *name, const char *value)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->name = xrealloc(r->name, r->cap * sizeof *r->name);
        r->value = xrealloc(r->value, r->cap * sizeof *r->value);
    }
    r->name[r->n] = xstrdup(name);
    r->value[r->n] = xstrdup(value);
    r->n++;
}

const char *record_get(const Record *r, const char *name)
{
    for (size_t i = 0; r != NULL && i < r->n; i++)
        if (strcmp(r->name[i], name) == 0)
            return r->value[i];
    return NULL;
}

long long record_ll(const Record *r, const char *name, long long default_value)
{
    const char *v = record_get(r, name);
    return v != NULL && v[0] != '\0' ? strtoll(v, NULL, 10) : default_value;
}

void record_clear(Record *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->name[i]);
        free(r->value[i]);
    }
    free(r->name);
    free(r->value);
    *r = (Record){0};
}

Record *record_list_add(RecordList *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->n] = (Record){0};
    return &l->items[l->n++];
}

void record_list_clear(RecordList *l)
{
    for (size_t i = 0; i < l->n; i++)
        record_clear(&l->items[i]);
    free(l->items);
    *l = (RecordList){0};
}
