/* run_record: the stored run record, encoded in C for the completion script,
 * which only adds Redis's finish time: the script no longer decodes and
 * re-encodes JSON per run. The record stays the JSON object the api serves
 * (docs/openapi.yaml's Run); every time in it is Redis's. Pure. */
#ifndef DTS_RUN_RECORD_H
#define DTS_RUN_RECORD_H

#include <stddef.h>
#include <stdint.h>

typedef struct RunRecord {
    const char *id, *task_id, *occurrence_id;
    int64_t sched_ms;
    int64_t started_ms; /* Redis's time at the start (lateness is started
                           * minus scheduled); < 0: unknown */
    const char *status; /* succeeded, failed, timed_out */
    int attempt;
    int exit_code; /* < 0: none */
    const char *output;
    size_t output_len;
    const char *executor, *kind; /* kind: the occurrence's; NULL: none */
    const char *error;           /* NULL: none */
    int http_status;             /* 0: none */
    int64_t next_attempt_in_ms;  /* >= 0: a retry follows */
    int dead;                    /* 1: the attempts are used up */
    int64_t slo_ms;              /* > 0: the run was judged against this objective
                           * (slo_ms and late are recorded); 0: not judged */
} RunRecord;

/* Encodes the finished record R without its finished_ms, as the text of a
 * JSON object after its opening brace: the script stores
 * '{"finished_ms":<ms>,' .. text. Returns the text (the caller frees), or
 * NULL if R cannot be encoded. Output is stored as given (the executor keeps
 * it valid UTF-8). */
char *run_record_tail(const RunRecord *r);

/* As run_record_tail, for the record start.lua stores when R starts: status
 * running, nothing finished, and without started_ms and lateness_ms, which
 * the script puts first ('{"started_ms":<ms>,"lateness_ms":<ms>,' ..
 * text). R's status, exit code, output, error and retry are not read. */
char *run_record_start_tail(const RunRecord *r);

/* As run_record_tail, for the task's last_run summary of R. */
char *run_record_last_tail(const RunRecord *r);

#endif
