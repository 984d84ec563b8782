/* action: runs one action of a task (a shell argv, or the noop diagnostic). */
#ifndef DTS_ACTION_H
#define DTS_ACTION_H

#include <jansson.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum { ACTION_SUCCEEDED, ACTION_FAILED, ACTION_TIMED_OUT } ActionStatus;

typedef struct ActionResult {
    ActionStatus status;
    int exit_code; /* the exit status, 128+N for signal N, or -1 if it never ran */
    char *output;  /* the tail of stdout+stderr, valid UTF-8; caller frees */
    size_t output_len;
    char error[256]; /* why it failed beyond its exit code, or "" */
    int http_status; /* webhooks: the response status, 0 if none */
} ActionResult;

/* What the executor allows shell actions (see executor --help). */
typedef struct ShellPolicy {
    char **allow; /* fnmatch patterns on the argv joined by spaces; NULL: any */
    int nallow;
    char **env_allow; /* fnmatch patterns action.env names must match; NULL: any */
    int nenv_allow;
    int set_user; /* 1: drop to uid/gid before exec */
    uid_t uid;
    gid_t gid;
    long rlimit_cpu_s, rlimit_as_mb, rlimit_nofile, rlimit_nproc; /* 0: unchanged */
    const char *workdir;                                          /* the cwd when the action names none */
} ShellPolicy;

/* 1 if POLICY lets ARGV (a JSON array of strings) run. */
int action_shell_allowed(const ShellPolicy *policy, const json_t *argv);

/* Checks, in a short-lived child, that this process may switch to
 * POLICY's uid and gid (root, or CAP_SETUID and CAP_SETGID). Returns 0, or
 * -1 with ERR filled. */
int action_can_switch_user(const ShellPolicy *policy, char *err, size_t errlen);

/* The first name of ENV (a JSON object) that POLICY's env allow-list does
 * not match, or NULL if every name is allowed. */
const char *action_env_refused(const ShellPolicy *policy, const json_t *env);

/* Appends the comma-separated patterns of LIST to *PATS (*N of them); the
 * caller frees them with action_patterns_free. */
void action_patterns_parse(const char *list, char ***pats, int *n);
void action_patterns_free(char **pats, int n);

typedef struct ActionContext {
    const char *run_id, *task_id, *scheduled_at;
    const char *occurrence_id; /* the same for every attempt: a webhook's webhook-id */
    int attempt;
    long timeout_s;
    long kill_grace_ms;       /* SIGTERM, then SIGKILL this much later */
    size_t output_cap;        /* bytes of output kept (the tail) */
    atomic_int *cancel;       /* set to stop the action early (killed) */
    const ShellPolicy *shell; /* NULL: no restrictions */
    /* written by action_run: the process group while it may be signalled,
     * else 0 (cleared before the group's leader is reaped, so its id is never
     * reused under a signaller). */
    atomic_int *pgid;
} ActionContext;

/* Runs ACTION (the spec's "action" object) to completion, timeout or
 * cancellation, and fills *res. Returns 0; the outcome is in res. */
int action_run(const json_t *action, const ActionContext *ctx, ActionResult *res);

/* Keeps the last CAP bytes of a stream and makes the result valid UTF-8.
 * Exposed for tests. */
typedef struct TailBuf {
    char *buf;
    size_t cap, len, start; /* a ring: len bytes from start */
    size_t dropped;         /* bytes that fell off the front */
} TailBuf;

void tail_init(TailBuf *t, size_t cap);
void tail_append(TailBuf *t, const char *data, size_t n);
/* Returns the kept bytes as a new NUL-terminated string with invalid UTF-8
 * and NUL bytes replaced by U+FFFD; *len gets its length. Frees the ring. */
char *tail_finish(TailBuf *t, size_t *len);

#endif
