/* task_private: validation helpers shared by task.c and task_policy.c. */
#ifndef DTS_TASK_PRIVATE_H
#define DTS_TASK_PRIVATE_H

#include "task.h"

/* Fills *err (field and a printf-style detail); returns NULL. */
void *task_fail(TaskError *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Checks that OBJ has only keys from ALLOWED (NULL-terminated); 0 or -1. */
int task_only_keys(json_t *obj, const char *const *allowed, const char *where, TaskError *err);

/* Checks V is a string of at most MAXLEN bytes (non-empty if NONEMPTY). */
int task_check_string(json_t *v, const char *field, size_t maxlen, int nonempty, TaskError *err);

/* Checks V is an integer from 1 to MAX ("must be an integer from 1 to MAX",
 * then UNIT if not NULL, naming FIELD otherwise). */
int task_check_count(json_t *v, const char *field, long long max, const char *unit, TaskError *err);

/* 1 if NAME is an environment variable an action may not set: one that
 * makes a shell, the loader or an interpreter run other code (BASH_ENV,
 * LD_PRELOAD, PYTHONPATH, PATH, ...). Pure. */
int task_env_name_reserved(const char *name);

/* retry, overlap, misfire, misfire_threshold_s, start_at, end_at, max_runs:
 * validates, fills defaults into spec->json, and sets SPEC's fields. */
int task_check_policies(TaskSpec *spec, TaskError *err);

/* jitter_s (cron only, at most the schedule's shortest gap): validates and
 * sets spec->jitter_ms (task_shift.c). */
int task_check_shift(TaskSpec *spec, TaskError *err);

/* exclude and exclude_cron (cron only): validates, writes date ranges as
 * instants of the task's zone into spec->excl, compiles exclude_cron
 * (task_exclude.c). */
int task_check_exclude(TaskSpec *spec, TaskError *err);
/* slo_ms, then, concurrency (task_exec.c): validates, fills defaults into
 * spec->json, and sets SPEC's fields. */
int task_check_exec(TaskSpec *spec, TaskError *err);

#endif
