/* fuzz_task_spec: libFuzzer target for the task-spec parser (task_spec_parse):
 * any bytes as a request body; a spec that parses must also yield due times. */
#include <stdint.h>
#include <stdlib.h>

#include "task.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > TASK_BODY_MAX) /* the API answers 413 before parsing */
        return 0;
    TaskError err;
    TaskSpec *spec = task_spec_parse((const char *)data, size, &err);
    if (spec != NULL) {
        int64_t now = INT64_C(1795700000000);
        int64_t due = task_first_due(spec, now, now);
        if (due >= 0)
            task_next_due(spec, now, due);
        task_spec_free(spec);
    }
    return 0;
}
