/* task: the task spec clients send, parsed and validated purely (no I/O but
 * reading the zone database). */
#ifndef DTS_TASK_H
#define DTS_TASK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cron.h"
#include "exclude.h"
#include "tz.h"

#define TASK_NAME_MAX 200 /* characters */
#define TASK_ID_MAX 64    /* bytes */
#define TASK_ARGV_MAX 256 /* arguments */
#define TASK_ARG_MAX 8192 /* bytes per argument */
#define TASK_ENV_MAX 64   /* variables */
#define TASK_ENV_VALUE_MAX 8192
#define TASK_LABELS_MAX 32
#define TASK_LABEL_MAX 256 /* bytes per key or value */
#define TASK_PATH_MAX 4096
#define TASK_CRON_MAX 256
#define TASK_TIMEOUT_MAX (7 * 24 * 3600)
#define TASK_BODY_MAX (256 * 1024) /* bytes of request body */

typedef enum { SCHEDULE_NOW, SCHEDULE_AT, SCHEDULE_CRON } ScheduleType;
typedef enum { OVERLAP_ALLOW, OVERLAP_FORBID, OVERLAP_REPLACE } OverlapPolicy;
typedef enum { MISFIRE_RUN_ONCE, MISFIRE_SKIP, MISFIRE_RUN_ALL } MisfirePolicy;

#define TASK_HTTP_BODY_MAX (64 * 1024)
#define TASK_HTTP_HEADERS_MAX 64
#define TASK_URL_MAX 4096
#define TASK_RETRY_ATTEMPTS_MAX 100
#define TASK_MISFIRE_RUN_ALL_CAP 100       /* run_all replays at most this many missed occurrences */
#define TASK_SLO_MS_MAX (24 * 3600 * 1000) /* slo_ms: a day */
#define TASK_THEN_MAX 16                   /* chained tasks per task */
#define TASK_CONCURRENCY_KEY_MAX 64        /* bytes of a concurrency key */
#define TASK_CONCURRENCY_LIMIT_MAX 10000

/* "retry": a failed run is retried as the next attempt of its occurrence. */
typedef struct RetryPolicy {
    int max_attempts; /* 1: no retry */
    int exponential;  /* else fixed */
    double initial_s, max_s;
    int jitter; /* up to +-25% */
} RetryPolicy;

typedef struct TaskSpec {
    /* read-only */
    json_t *json;         /* the normalized spec: name, labels, schedule, action, timeout_s */
    const char *name;     /* points into json */
    ScheduleType stype;   /* now, at or cron (the word "kind" is the occurrence's) */
    int64_t at_ms;        /* SCHEDULE_AT */
    const char *cron;     /* SCHEDULE_CRON, points into json */
    const char *timezone; /* SCHEDULE_CRON, points into json */
    RetryPolicy retry;
    OverlapPolicy overlap;
    MisfirePolicy misfire;
    int64_t misfire_threshold_ms;   /* -1: the scheduler's default */
    int64_t start_at_ms, end_at_ms; /* cron window, 0: open */
    int64_t max_runs;               /* cron: stop after this many occurrences, 0: no limit */
    int64_t jitter_ms;              /* cron: fires spread over [0, jitter_ms) after their times, 0: none */
    int64_t offset_ms;              /* this task's offset in that range (task_spec_bind), 0 until bound */
    Exclusions *excl;               /* cron: exclude and exclude_cron, NULL: none */
    const char *exclude_cron;       /* points into json, NULL: none */
    int64_t slo_ms;                 /* a run starting later than this is late; 0: no objective */
    json_t *then;                   /* chained tasks (array in json), NULL: none */
    const char *concurrency_key;    /* points into json, NULL: none */
    int concurrency_limit;          /* runs of the key at once, with a key */
    /* private */
    CronExpr *excl_expr; /* exclude_cron compiled; excl->cron points to it */
    CronExpr *expr;
    const Tz *tz;
} TaskSpec;

typedef struct TaskError {
    char field[64];   /* JSON pointer-ish path of the bad field: "action.command[2]" */
    char detail[256]; /* one sentence */
} TaskError;

/* Parses and validates a request body. Returns a spec (free with
 * task_spec_free), or NULL with *err naming the field. */
TaskSpec *task_spec_parse(const char *body, size_t len, TaskError *err);

/* Validates a parsed body, taking ownership of SPEC (freed with the result,
 * or at once on error). */
TaskSpec *task_spec_from_json(json_t *spec, TaskError *err);

/* Policy names as stored and shown: "allow", "run_once", ... */
const char *task_overlap_name(OverlapPolicy p);
const char *task_misfire_name(MisfirePolicy p);
int task_misfire_parse(const char *name); /* -1 if unknown */

/* The delay before attempt ATTEMPT + 1 after attempt ATTEMPT failed, in ms,
 * with RND in [0, 1) for jitter; -1 if the policy allows no more attempts. */
int64_t task_retry_delay_ms(const RetryPolicy *p, int attempt, double rnd);

/* Validates a spec's "retry" member RETRY (NULL: none, one attempt) into
 * *OUT, filling its defaults into RETRY; the executor reads a stored spec's
 * policy with it without parsing the whole spec. 0, or -1 with ERR set. */
int task_retry_parse(json_t *retry, RetryPolicy *out, TaskError *err);

void task_spec_free(TaskSpec *spec);

/* The placeholder that replaces a secret value in a redacted task view. */
#define TASK_REDACTED "***"

/* Hides TASK's secrets from a reader: replaces every value of action.env and
 * action.headers (a webhook's Authorization) with TASK_REDACTED and sets
 * "redacted": true on TASK. Changes TASK in place; pure otherwise. */
void task_redact(json_t *task);

/* The schedule type as stored (task hash field "stype"): "now", "at" or
 * "cron". */
const char *task_schedule_type_name(ScheduleType stype);
/* Removes TASK's write-only fields from a view of it, for every caller:
 * action.signing_secret becomes "signed": true. Changes TASK in place (a
 * shared action object is copied first); pure otherwise. */
void task_hide_write_only(json_t *task);

/* The first due time of a new or resumed task at NOW_MS: NOW for "now", the
 * instant (or now, if past) for "at", the next cron fire after now for cron.
 * anchor_ms is the task's creation time (for @every). -1 if it never fires. */
int64_t task_first_due(const TaskSpec *spec, int64_t now_ms, int64_t anchor_ms);

/* Parses the exclusions of OBJ ("exclude" ranges, dates in zone TZ, and
 * "exclude_cron") into *OUT (NULL if it has none; the caller frees it with
 * free) and the compiled exclude_cron into *EXPR (NULL if none; the caller
 * frees it with cron_free; (*out)->cron points to it). 0, or -1 with ERR
 * naming the field ("exclude[3].to", "exclude_cron"). Pure. */
int task_exclusions_from_json(json_t *obj, const Tz *tz, Exclusions **out, CronExpr **expr, TaskError *err);

/* Binds SPEC to task ID: sets its jitter offset (shift_offset_ms), which the
 * due times below include. Call it before task_first_due and task_next_due. */
void task_spec_bind(TaskSpec *spec, const char *id);

/* The next cron fire strictly after AFTER_MS, shifted by the task's jitter
 * offset, or -1 (also for one-time tasks). */
int64_t task_next_due(const TaskSpec *spec, int64_t anchor_ms, int64_t after_ms);

/* Writes a new, time-ordered task id (12 hex digits of milliseconds, then 12
 * random hex digits) into out, which holds 25 bytes. */
void task_new_id(int64_t now_ms, char out[25]);

/* 1 if ID is a syntactically acceptable task id ([A-Za-z0-9_-], 1..64). */
int task_id_valid(const char *id);

#endif
