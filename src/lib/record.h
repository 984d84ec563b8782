/* record: a flat list of name/value strings, the shape of a Redis hash or a
 * stream entry's fields, copied out of a reply so that its readers (views,
 * tests) need neither hiredis nor the store's reply types. */
#ifndef DTS_RECORD_H
#define DTS_RECORD_H

#include <stddef.h>

/* The fields, in the order they were added. A zeroed Record is empty. */
typedef struct Record {
    size_t n, cap;
    char **name; /* private: read through record_get */
    char **value;
} Record;

/* A list of records (a page of tasks, a batch of events). A zeroed
 * RecordList is empty. */
typedef struct RecordList {
    size_t n, cap;
    Record *items;
} RecordList;

/* Appends NAME = VALUE (both copied). A name may repeat; record_get finds the
 * first. */
void record_add(Record *r, const char *name, const char *value);

/* The value of the first field NAME, or NULL if there is none. The string
 * belongs to R. */
const char *record_get(const Record *r, const char *name);

/* The value of field NAME as a decimal integer, or DEFAULT_VALUE if the field
 * is missing or empty. */
long long record_ll(const Record *r, const char *name, long long default_value);

/* Frees R's fields and leaves it empty (a zeroed Record too). */
void record_clear(Record *r);

/* Appends an empty record to L and returns it; it belongs to L. */
Record *record_list_add(RecordList *l);

/* Frees every record of L and leaves it empty. */
void record_list_clear(RecordList *l);

#endif
