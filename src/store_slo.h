/* store_slo: a task's lateness against its objective (slo_ms, issue 16), as
 * the api's task view shows it. */
#ifndef DTS_STORE_SLO_H
#define DTS_STORE_SLO_H

#include <jansson.h>

#include "store.h"

/* Adds "lateness" to TASK (the view of task ID, which has an slo_ms): the
 * late-run count LATE_TOTAL (the task's runs_late field, NULL: 0), and over
 * the runs its history keeps, how many were judged and late, and the
 * lateness p50 and p99 in ms. Returns STORE_OK or an error. */
int store_task_lateness(Store *st, const char *id, const char *late_total, json_t *task);

#endif
