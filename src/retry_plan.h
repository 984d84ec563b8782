/* retry_plan: what follows a finished attempt, decided purely: a retry after
 * a delay, a dead letter (the attempts are used up), or nothing. The executor
 * plans every finished run with it; the completion script carries the plan
 * out (a retry token in the due set, a dead letter). No I/O. */
#ifndef DTS_RETRY_PLAN_H
#define DTS_RETRY_PLAN_H

#include <stdint.h>

#include "task.h"

typedef struct RetryPlan {
    int64_t delay_ms; /* >= 0: run attempt + 1 this long after Redis's now; -1: no retry */
    int dead;         /* 1: a retry policy's attempts are used up; record a dead letter */
} RetryPlan;

/* Plans what follows attempt ATTEMPT (1-based) of an occurrence whose run
 * SUCCEEDED or not, under retry policy P (NULL or max_attempts 1: none). RND
 * in [0, 1) places the jitter. A success, or a failure with no policy, plans
 * nothing; a failure with attempts left retries after the policy's backoff;
 * the last one is dead. Returns the plan. */
RetryPlan retry_plan(const RetryPolicy *p, int succeeded, int attempt, double rnd);

#endif
