/* action: runs one action of a task.
 *
 * A shell action is an argv started with posix_spawnp (no implicit shell) in a
 * process group of its own, with stdin from /dev/null, stdout and stderr into
 * one pipe, and an explicit, minimal environment. We poll the pipe and a pidfd
 * for the child's exit; at the timeout the whole group gets SIGTERM, then
 * SIGKILL after a grace period. When the child exits, stragglers left in its
 * group are killed so nothing outlives its run. */
#include "action.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "mem.h"

void tail_init(TailBuf *t, size_t cap)
{
    *t = (TailBuf){.buf = xmalloc(cap ? cap : 1), .cap = cap ? cap : 1};
}

void tail_append(TailBuf *t, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (t->len == t->cap) {
            t->start = (t->start + 1) % t->cap;
            t->len--;
            t->dropped++;
        }
        t->buf[(t->start + t->len++) % t->cap] = data[i];
    }
}

/* Length of a valid UTF-8 sequence at S (N bytes left), or 0 if invalid. */
static size_t utf8_valid(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
                                 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || len > n || (len == 2 && s[0] < 0xC2) || (len == 4 && s[0] > 0xF4))
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if (len == 3 && ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0)))
        return 0;
    if (len == 4 && ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90)))
        return 0;
    return s[0] == 0 ? 0 : len;
}

char *tail_finish(TailBuf *t, size_t *len)
{
    unsigned char *flat = xmalloc(t->len + 1);
    for (size_t i = 0; i < t->len; i++)
        flat[i] = (unsigned char)t->buf[(t->start + i) % t->cap];
    char *out = xmalloc(t->len * 3 + 1), *o = out;
    for (size_t i = 0; i < t->len;) {
        size_t n = utf8_valid(flat + i, t->len - i);
        if (n == 0) {
            memcpy(o, "\xEF\xBF\xBD", 3); /* U+FFFD */
            o += 3;
            i++;
        } else {
            memcpy(o, flat + i, n);
            o += n;
            i += n;
        }
    }
    *o = '\0';
    *len = (size_t)(o - out);
    free(flat);
    free(t->buf);
    t->buf = NULL;
    return out;
}

/* Builds the child's environment: a minimal base, the action's own variables,
 * then the run's identity (which the action cannot override). */
static char **build_env(const json_t *action, const ActionContext *ctx)
{
    json_t *env = json_object_get(action, "env");
    size_t n = 8 + json_object_size(env), i = 0;
    char **envp = xcalloc(n + 1, sizeof *envp);
    const char *key;
    json_t *v;
    envp[i++] = xstrdup("PATH=/usr/local/bin:/usr/bin:/bin");
    envp[i++] = xstrdup("LANG=C.UTF-8");
    json_object_foreach(env, key, v) {
        size_t len = strlen(key) + json_string_length(v) + 2;
        envp[i] = xmalloc(len);
        snprintf(envp[i++], len, "%s=%s", key, json_string_value(v));
    }
    char buf[256];
    snprintf(buf, sizeof buf, "DTS_RUN_ID=%s", ctx->run_id);
    envp[i++] = xstrdup(buf);
    snprintf(buf, sizeof buf, "DTS_TASK_ID=%s", ctx->task_id);
    envp[i++] = xstrdup(buf);
    snprintf(buf, sizeof buf, "DTS_SCHEDULED_AT=%s", ctx->scheduled_at);
    envp[i++] = xstrdup(buf);
    snprintf(buf, sizeof buf, "DTS_ATTEMPT=%d", ctx->attempt);
    envp[i++] = xstrdup(buf);
    return envp;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static char **build_argv(const json_t *action)
{
    json_t *cmd = json_object_get(action, "command");
    char **argv = xcalloc(json_array_size(cmd) + 1, sizeof *argv);
    for (size_t i = 0; i < json_array_size(cmd); i++)
        argv[i] = xstrdup(json_string_value(json_array_get(cmd, i)));
    return argv;
}

/* Starts the child; returns its pid, or -errno. *out_fd gets the read end. */
static pid_t spawn(const json_t *action, const ActionContext *ctx, int *out_fd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -errno;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, defaults;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    const char *cwd = json_string_value(json_object_get(action, "cwd"));
    if (cwd != NULL)
        posix_spawn_file_actions_addchdir_np(&fa, cwd);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigfillset(&defaults);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &defaults); /* we ignore SIGPIPE; the child must not */
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char **argv = build_argv(action), **envp = build_env(action, ctx);
    pid_t pid;
    int rv = posix_spawnp(&pid, argv[0], &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    strv_free(argv);
    strv_free(envp);
    close(p[1]);
    if (rv != 0) {
        close(p[0]);
        return -rv;
    }
    *out_fd = p[0];
    return pid;
}

typedef struct Watch {
    pid_t pid;
    int out_fd, pid_fd;
    int status;   /* wait status once exited */
    int exited;
    TailBuf tail;
} Watch;

/* Reads what the pipe has; returns 0 at EOF, 1 otherwise. */
static int drain(Watch *w)
{
    char buf[4096];
    ssize_t n = read(w->out_fd, buf, sizeof buf);
    if (n > 0) {
        tail_append(&w->tail, buf, (size_t)n);
        return 1;
    }
    return n < 0 && (errno == EINTR || errno == EAGAIN);
}

static void reap(Watch *w, int options)
{
    if (!w->exited && waitpid(w->pid, &w->status, options) == w->pid)
        w->exited = 1;
}

/* Waits for exit, feeding output, until DEADLINE (monotonic ms) or cancel.
 * Returns 1 if the child exited. */
static int watch_until(Watch *w, int64_t deadline, const ActionContext *ctx)
{
    int open_out = w->out_fd >= 0;
    while (!w->exited) {
        int64_t left = deadline - clock_mono_ms();
        if (left <= 0 || (ctx->cancel && *ctx->cancel))
            return 0;
        struct pollfd fds[2] = {{.fd = open_out ? w->out_fd : -1, .events = POLLIN},
                                {.fd = w->pid_fd, .events = POLLIN}};
        int timeout = left < 100 ? (int)left : 100;
        if (poll(fds, 2, w->pid_fd >= 0 ? timeout : (timeout < 20 ? timeout : 20)) < 0 && errno != EINTR)
            return 0;
        if (open_out && (fds[0].revents & (POLLIN | POLLHUP)))
            open_out = drain(w);
        reap(w, WNOHANG);
    }
    return 1;
}

static void finish(Watch *w, ActionResult *res)
{
    kill(-w->pid, SIGKILL); /* stragglers in the group end with the run */
    fcntl(w->out_fd, F_SETFL, O_NONBLOCK);
    int64_t until = clock_mono_ms() + 1000;
    while (clock_mono_ms() < until && drain(w))
        ;
    close(w->out_fd);
    if (w->pid_fd >= 0)
        close(w->pid_fd);
    res->output = tail_finish(&w->tail, &res->output_len);
}

static int run_shell(const json_t *action, const ActionContext *ctx, ActionResult *res)
{
    Watch w = {.pid_fd = -1};
    w.pid = spawn(action, ctx, &w.out_fd);
    if (w.pid < 0) {
        res->status = ACTION_FAILED;
        snprintf(res->error, sizeof res->error, "cannot start %s: %s",
                 json_string_value(json_array_get(json_object_get(action, "command"), 0)), strerror((int)-w.pid));
        res->output = xstrdup("");
        return 0;
    }
    *ctx->pgid = w.pid;
    w.pid_fd = (int)syscall(SYS_pidfd_open, w.pid, 0);
    tail_init(&w.tail, ctx->output_cap);
    int exited = watch_until(&w, clock_mono_ms() + ctx->timeout_s * 1000, ctx);
    if (!exited) {
        int cancelled = ctx->cancel && *ctx->cancel;
        kill(-w.pid, cancelled ? SIGKILL : SIGTERM);
        if (!watch_until(&w, clock_mono_ms() + ctx->kill_grace_ms, ctx))
            kill(-w.pid, SIGKILL);
        reap(&w, 0);
        res->status = cancelled ? ACTION_FAILED : ACTION_TIMED_OUT;
        snprintf(res->error, sizeof res->error, cancelled ? "cancelled" : "timed out after %ld s", ctx->timeout_s);
    }
    *ctx->pgid = 0;
    finish(&w, res);
    if (WIFEXITED(w.status))
        res->exit_code = WEXITSTATUS(w.status);
    else if (WIFSIGNALED(w.status))
        res->exit_code = 128 + WTERMSIG(w.status);
    if (exited)
        res->status = res->exit_code == 0 ? ACTION_SUCCEEDED : ACTION_FAILED;
    return 0;
}

int action_run(const json_t *action, const ActionContext *ctx, ActionResult *res)
{
    memset(res, 0, sizeof *res);
    res->exit_code = -1;
    const char *type = json_string_value(json_object_get(action, "type"));
    if (type != NULL && strcmp(type, "shell") == 0)
        return run_shell(action, ctx, res);
    res->output = xstrdup("");
    res->status = type != NULL && strcmp(type, "noop") == 0 ? ACTION_SUCCEEDED : ACTION_FAILED;
    if (res->status == ACTION_FAILED)
        snprintf(res->error, sizeof res->error, "unknown action type");
    return 0;
}
