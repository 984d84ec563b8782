/* occurrence: the identities of DESIGN.md's "Identity", made and parsed in one
 * place, and the fields of a ready-stream entry. Pure (no I/O, no allocation):
 * the store passes the strings it makes here to the scripts, and the scripts
 * never build an id themselves.
 *
 *   occurrence id  TASK:SCHED_MS                   e.g. 01ab…:1795719900000
 *   run id         TASK:SCHED_MS:ATTEMPT           (handed to the action)
 *   retry token    retry:TASK:SCHED_MS:ATTEMPT[:KIND]
 *
 * A retry token is a due-set member standing for attempt ATTEMPT of the
 * occurrence; a held token (an occurrence kept while its task is paused) is a
 * retry token that names the kind the occurrence runs as when resumed. */
#ifndef DTS_OCCURRENCE_H
#define DTS_OCCURRENCE_H

#include <stddef.h>
#include <stdint.h>

#include "task.h"

#define OCC_KIND_MAX 11                                   /* bytes of a kind word */
#define OCC_ID_MAX (TASK_ID_MAX + 21)                     /* TASK:SCHED_MS */
#define OCC_RUN_ID_MAX (OCC_ID_MAX + 12)                  /* …:ATTEMPT */
#define OCC_TOKEN_MAX (OCC_RUN_ID_MAX + 7 + OCC_KIND_MAX) /* retry:…[:KIND] */

/* The ready entry's field names (ready streams are read by every executor and
 * written by the api, the scheduler and the scripts: the names never change). */
#define OCC_FIELD_TASK "task"
#define OCC_FIELD_SCHED "sched"
#define OCC_FIELD_ATTEMPT "attempt"
#define OCC_FIELD_KIND "kind"

/* One occurrence and the attempt an entry or token stands for. kind is the
 * occurrence's kind (now, schedule, retry, manual, redrive, …); "" if absent. */
typedef struct Occurrence {
    char task[TASK_ID_MAX + 1];
    int64_t sched_ms;
    int attempt;
    char kind[OCC_KIND_MAX + 1];
} Occurrence;

/* Writes the occurrence id of TASK at SCHED_MS into BUF (OCC_ID_MAX + 1 bytes
 * always suffice). Returns the length it needed, as snprintf does. */
int occurrence_id(char *buf, size_t len, const char *task, int64_t sched_ms);

/* Writes the run id of attempt ATTEMPT into BUF (OCC_RUN_ID_MAX + 1 bytes
 * suffice). Returns the length it needed. */
int occurrence_run_id(char *buf, size_t len, const char *task, int64_t sched_ms, int attempt);

/* Writes the retry token of O (its task, sched_ms and attempt) into BUF
 * (OCC_TOKEN_MAX + 1 bytes suffice), with ":KIND" appended when WITH_KIND is
 * set and O->kind is not empty (a held token). Returns the length it needed. */
int occurrence_token(char *buf, size_t len, const Occurrence *o, int with_kind);

/* A run id's text around its scheduled ms, as occurrence_token_around does
 * for a token: HEAD .. ms .. TAIL is occurrence_run_id's run id of attempt
 * ATTEMPT. Returns 0, or -1 if either did not fit. */
int occurrence_run_id_around(char *head, size_t head_len, char *tail, size_t tail_len, const char *task,
                             int attempt);

/* A token's text around its scheduled ms, for a script that learns the ms
 * only when it runs (from Redis's clock): HEAD gets "retry:TASK:" and TAIL
 * ":ATTEMPT" (":ATTEMPT:KIND" with KIND), so HEAD .. ms .. TAIL is the
 * token occurrence_token makes. Returns 0, or -1 if either did not fit. */
int occurrence_token_around(char *head, size_t head_len, char *tail, size_t tail_len, const char *task,
                            int attempt, const char *kind);

/* Parses a run id into *O (kind left ""). Returns 0, or -1 if S is not a
 * run id (the task id must be a valid one, the numbers whole and in range). */
int occurrence_run_id_parse(const char *s, Occurrence *o);

/* Parses a retry or held token into *O; O->kind gets the token's kind, or
 * "retry" when it names none. Returns 0, or -1 if S is not a token. */
int occurrence_token_parse(const char *s, Occurrence *o);

/* Applies one ready-entry field to *O: task, sched, attempt or kind (a field
 * it does not know is ignored, so writers may add fields). Start from
 * occurrence_entry_init. Returns 0, or -1 for a known field with a bad value. */
void occurrence_entry_init(Occurrence *o);
int occurrence_entry_field(Occurrence *o, const char *field, const char *value);

/* Returns 1 if *O, filled from an entry's fields, names a task and a
 * positive attempt; 0 if the entry is malformed. */
int occurrence_entry_valid(const Occurrence *o);

#endif
