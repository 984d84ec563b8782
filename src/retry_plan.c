/* retry_plan: a finished attempt's retry or dead letter (see retry_plan.h). */
#include "retry_plan.h"

RetryPlan retry_plan(const RetryPolicy *p, int succeeded, int attempt, double rnd)
{
    RetryPlan plan = {.delay_ms = -1, .dead = 0};
    if (succeeded || p == NULL || p->max_attempts <= 1)
        return plan;
    plan.delay_ms = task_retry_delay_ms(p, attempt, rnd);
    plan.dead = plan.delay_ms < 0;
    return plan;
}
