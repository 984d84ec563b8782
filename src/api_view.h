/* api_view: the REST representation, rendered in one place. The store
 * returns records (a task's hash, a dead letter's or an event's fields,
 * dashboard figures); this module turns them into docs/openapi.yaml's JSON,
 * formatting times as RFC 3339 (they are ms inside Redis) and owning the list
 * of fields a task shows but a client never writes. Runs are rendered where
 * their record is decoded, not here. */
#ifndef DTS_API_VIEW_H
#define DTS_API_VIEW_H

#include <jansson.h>
#include <stdint.h>

#include "record.h"
#include "store_events.h"
#include "store_task.h"

/* The fields of a task's view that the server owns (a PUT may carry them back
 * from a GET; they are dropped), NULL-terminated. "id" is not among them: a
 * PUT's id must match its URL. */
extern const char *const api_view_read_only[];

/* The API's view of a task from its stored hash H: a new JSON object (caller
 * decrefs). Secrets are in it: redact with task_redact for readers. */
json_t *api_view_task(const Record *h);

/* The same view with the spec already parsed (SPEC borrowed; H's "spec" field
 * is not read): a create answers from what it wrote without parsing it back. */
json_t *api_view_task_spec(const Record *h, json_t *spec);

/* Turns a stored run record (or a task's last_run) RUN into the API's run, in
 * place: its times, integer ms inside Redis (scheduled_ms, started_ms,
 * finished_ms), become RFC 3339 scheduled_at, started_at and finished_at
 * (null when unknown). A record stored by an older version, with the text
 * already, is left as it is. Returns RUN. */
json_t *api_view_run(json_t *run);

/* A dead letter as the API shows it (id, task_id, occurrence_id, attempts,
 * error, dead_at): a new JSON object. */
json_t *api_view_dead(const Record *d);

/* One event of the feed ({id, type, task, at, run?, status?}): a new JSON
 * object. */
json_t *api_view_event(const Record *e);

/* The dashboard figures as docs/openapi.yaml's Stats: a new JSON object. */
json_t *api_view_stats(const StoreStats *s);

/* Adds "task_name" to each object in the JSON array ITEMS whose string member
 * ID_KEY is the id of a task that still exists (at most API_VIEW_NAMES_MAX
 * distinct ids a call), with one store_task_names round trip. Items of
 * deleted tasks are left as they are. Returns the store's code. */
#define API_VIEW_NAMES_MAX 1000
int api_view_task_names(Store *st, json_t *items, const char *id_key);

/* The store reads behind the api's resources, rendered: each calls the store
 * function of the same name and returns its code; on STORE_OK *out is a new
 * JSON value (caller decrefs), else it is left NULL. */
int api_view_task_get(Store *st, const char *id, json_t **out);
int api_view_task_list(Store *st, const TaskQuery *q, json_t **items, char next_cursor[TASK_ID_MAX + 1]);
int api_view_dead_list(Store *st, int limit, json_t **items);
int api_view_events_read(Store *st, const EventCursor *c, int count, json_t **events);
int api_view_stats_read(Store *st, int64_t now_ms, int scan, json_t **stats);

#endif
