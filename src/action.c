/* action: runs one action of a task.
 *
 * A shell action is an argv (no implicit shell), checked against the
 * executor's allow-list, started with fork and execve in a process group of
 * its own, with stdin from /dev/null, stdout and stderr into one pipe, an
 * explicit, minimal environment, resource limits, and (when the executor runs
 * as root) an unprivileged user. posix_spawn cannot set limits or users, so
 * the child does it between fork and exec, with async-signal-safe calls only. We poll the pipe and a pidfd
 * for the child's exit; at the timeout the whole group gets SIGTERM, then
 * SIGKILL after a grace period. When the child exits, stragglers left in its
 * group are killed, and so are descendants that left the group (setsid) but
 * still carry the run's DTS_RUN_ID, so nothing outlives its run. */
#include "action.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "action_kind.h"
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
    size_t len = s[0] < 0x80             ? 1
                 : (s[0] & 0xE0) == 0xC0 ? 2
                 : (s[0] & 0xF0) == 0xE0 ? 3
                 : (s[0] & 0xF8) == 0xF0 ? 4
                                         : 0;
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
    json_object_foreach(env, key, v)
    {
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

int action_shell_allowed(const ShellPolicy *policy, const json_t *argv)
{
    if (policy == NULL || policy->allow == NULL)
        return 1;
    size_t len = 1;
    for (size_t i = 0; i < json_array_size(argv); i++)
        len += json_string_length(json_array_get(argv, i)) + 1;
    char *line = xcalloc(1, len);
    for (size_t i = 0, at = 0; i < json_array_size(argv); i++) /* fits: len counted each word */
        at += (size_t)snprintf(line + at, len - at, "%s%s", i > 0 ? " " : "",
                               json_string_value(json_array_get(argv, i)));
    int ok = 0;
    for (int i = 0; i < policy->nallow && !ok; i++)
        ok = fnmatch(policy->allow[i], line, 0) == 0;
    free(line);
    return ok;
}

int action_can_switch_user(const ShellPolicy *policy, char *err, size_t errlen)
{
    int status = 0;
    pid_t pid = fork();
    if (pid == 0)
        _exit(setgroups(0, NULL) == 0 && setgid(policy->gid) == 0 && setuid(policy->uid) == 0 ? 0 : 1);
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen,
                 "--run-as: cannot switch to uid %d (run as root, or grant CAP_SETUID and CAP_SETGID)",
                 (int)policy->uid);
        return -1;
    }
    return 0;
}

const char *action_env_refused(const ShellPolicy *policy, const json_t *env)
{
    const char *key;
    json_t *v;
    if (policy == NULL || policy->env_allow == NULL)
        return NULL;
    json_object_foreach((json_t *)env, key, v)
    {
        int ok = 0;
        for (int i = 0; i < policy->nenv_allow && !ok; i++)
            ok = fnmatch(policy->env_allow[i], key, 0) == 0;
        if (!ok)
            return key;
    }
    return NULL;
}

void action_patterns_parse(const char *list, char ***pats, int *n)
{
    char *copy = xstrdup(list), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        *pats = xrealloc(*pats, (size_t)(*n + 1) * sizeof **pats);
        (*pats)[(*n)++] = xstrdup(tok);
    }
    free(copy);
}

void action_patterns_free(char **pats, int n)
{
    for (int i = 0; i < n; i++)
        free(pats[i]);
    free(pats);
}

/* Finds NAME in the actions' PATH before forking (execvp may allocate, which a
 * child of a threaded process must not). Returns a new string or NULL. */
static char *resolve(const char *name)
{
    if (strchr(name, '/') != NULL)
        return xstrdup(name);
    static const char *const dirs[] = {"/usr/local/bin", "/usr/bin", "/bin", NULL};
    for (const char *const *d = dirs; *d; d++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", *d, name);
        if (access(path, X_OK) == 0)
            return xstrdup(path);
    }
    return NULL;
}

typedef struct SpawnError {
    int stage; /* what failed in the child */
    int err;
} SpawnError;

static const char *const stage_names[] = {"exec", "chdir to the working directory", "setrlimit",
                                          "drop privileges"};

/* Marks every descriptor above 2 close-on-exec (in the child: whatever a
 * library opened without SOCK_CLOEXEC, another thread's sockets included,
 * must not reach the action). The report pipe stays usable until exec.
 * MAXFD bounds the fallback for kernels without close_range. */
static void fds_close_on_exec(int maxfd)
{
    if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) == 0)
        return;
    for (int fd = 3; fd < maxfd; fd++)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child(const ShellPolicy *sp, const char *cwd, int out, int report, const char *path,
                  char **argv, char **envp, pid_t parent, int maxfd)
{
    SpawnError e = {0, 0};
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL); /* we ignore SIGPIPE; the action must not */
    setpgid(0, 0);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out, 1);
    dup2(out, 2);
    fds_close_on_exec(maxfd);
    if (cwd != NULL && chdir(cwd) != 0)
        e = (SpawnError){1, errno};
    const struct {
        int res;
        long v, scale;
    } lim[] = {{RLIMIT_CPU, sp ? sp->rlimit_cpu_s : 0, 1},
               {RLIMIT_AS, sp ? sp->rlimit_as_mb : 0, 1 << 20},
               {RLIMIT_NOFILE, sp ? sp->rlimit_nofile : 0, 1},
               {RLIMIT_NPROC, sp ? sp->rlimit_nproc : 0, 1}};
    struct rlimit nocore = {0, 0}; /* a core file would hold the run's environment */
    setrlimit(RLIMIT_CORE, &nocore);
    for (size_t i = 0; e.stage == 0 && i < sizeof lim / sizeof lim[0]; i++) {
        struct rlimit rl = {(rlim_t)lim[i].v * (rlim_t)lim[i].scale,
                            (rlim_t)lim[i].v * (rlim_t)lim[i].scale};
        if (lim[i].v > 0 && setrlimit(lim[i].res, &rl) != 0)
            e = (SpawnError){2, errno};
    }
    if (e.stage == 0 && sp && sp->set_user &&
        (setgroups(0, NULL) != 0 || setgid(sp->gid) != 0 || setuid(sp->uid) != 0))
        e = (SpawnError){3, errno};
    /* Die with the executor's thread (after the credential change, which
     * clears this); if it is already gone, do not start at all. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    if (e.stage == 0) {
        execve(path, argv, envp);
        e = (SpawnError){0, errno};
    }
    ssize_t w = write(report, &e, sizeof e);
    (void)w;
    _exit(127);
}

/* Starts the child; returns its pid, or -1 with res->error filled. *out_fd
 * gets the read end of its output. */
static pid_t spawn(const json_t *action, const ActionContext *ctx, int *out_fd, ActionResult *res)
{
    int out[2], report[2];
    const char *name = json_string_value(json_array_get(json_object_get(action, "command"), 0));
    const char *cwd = json_string_value(json_object_get(action, "cwd"));
    char *path = resolve(name);
    if (path == NULL) {
        snprintf(res->error, sizeof res->error,
                 "cannot start %s: not found in /usr/local/bin:/usr/bin:/bin", name);
        return -1;
    }
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0) {
        snprintf(res->error, sizeof res->error, "cannot start %s: %s", name, strerror(errno));
        free(path);
        return -1;
    }
    char **argv = build_argv(action), **envp = build_env(action, ctx);
    if (cwd == NULL && ctx->shell != NULL)
        cwd = ctx->shell->workdir;
    pid_t parent = getpid();
    struct rlimit nofile;
    int maxfd = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 65536 ? (int)nofile.rlim_cur
                                                                                  : 65536;
    pid_t pid = fork();
    if (pid == 0)
        child(ctx->shell, cwd, out[1], report[1], path, argv, envp, parent, maxfd);
    close(out[1]);
    close(report[1]);
    SpawnError e;
    ssize_t n = pid > 0 ? read(report[0], &e, sizeof e) : 0; /* EOF: exec succeeded */
    close(report[0]);
    strv_free(argv);
    strv_free(envp);
    free(path);
    if (pid < 0 || n == (ssize_t)sizeof e) {
        snprintf(res->error, sizeof res->error, "cannot start %s: %s failed: %s", name,
                 pid < 0 ? "fork" : stage_names[e.stage], strerror(pid < 0 ? errno : e.err));
        if (pid > 0)
            waitpid(pid, NULL, 0);
        close(out[0]);
        return -1;
    }
    *out_fd = out[0];
    return pid;
}

typedef struct Watch {
    pid_t pid;
    int out_fd, pid_fd;
    int status; /* wait status once exited */
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

/* Reaps the child once it has exited (OPTIONS: WNOHANG or 0). Stragglers of
 * its group are killed first, while the zombie leader still reserves the
 * group id, and the published pgid is cleared before the id can be reused. */
static void reap(Watch *w, const ActionContext *ctx, int options)
{
    siginfo_t info = {0};
    if (w->exited || waitid(P_PID, (id_t)w->pid, &info, WEXITED | WNOWAIT | options) != 0 ||
        info.si_pid != w->pid)
        return;
    kill(-w->pid, SIGKILL);
    atomic_store(ctx->pgid, 0);
    waitpid(w->pid, &w->status, 0);
    w->exited = 1;
}

/* 1 if /proc/PID/environ holds the entry NEEDLE ("\0DTS_RUN_ID=...\0", the
 * leading NUL standing for the start). Reads in chunks, keeping an overlap. */
static int environ_has(const char *pid, const char *needle, size_t nlen)
{
    char path[64], buf[65536];
    snprintf(path, sizeof path, "/proc/%s/environ", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t have = 1, found = 0;
    buf[0] = '\0';
    for (ssize_t n; !found && (n = read(fd, buf + have, sizeof buf - have - 1)) > 0;) {
        have += (size_t)n;
        buf[have] = '\0';
        found = memmem(buf, have + 1, needle, nlen) != NULL;
        size_t keep = have > nlen ? nlen : have;
        memmove(buf, buf + have - keep, keep);
        have = keep;
    }
    close(fd);
    return (int)found;
}

/* Kills what is left of run RUN_ID outside its process group: a descendant
 * that called setsid (or setpgid) escapes kill(-pgid), but keeps the run's
 * DTS_RUN_ID in its environment. One that also rewrote its environment
 * escapes this too (docs/security.md: cgroups would close that). */
static void kill_escaped(const char *run_id)
{
    char needle[160];
    int nlen = snprintf(needle, sizeof needle, "%cDTS_RUN_ID=%s%c", 0, run_id, 0);
    DIR *proc = opendir("/proc");
    if (proc == NULL || nlen >= (int)sizeof needle) {
        if (proc != NULL)
            closedir(proc);
        return;
    }
    pid_t self = getpid();
    for (struct dirent *d; (d = readdir(proc)) != NULL;) {
        char *end;
        long pid = strtol(d->d_name, &end, 10);
        if (*end == '\0' && pid > 1 && pid != self && environ_has(d->d_name, needle, (size_t)nlen))
            kill((pid_t)pid, SIGKILL);
    }
    closedir(proc);
}

/* Waits for exit, feeding output, until DEADLINE (monotonic ms) or cancel.
 * Returns 1 if the child exited. */
static int watch_until(Watch *w, int64_t deadline, const ActionContext *ctx)
{
    int open_out = w->out_fd >= 0;
    while (!w->exited) {
        int64_t left = deadline - clock_mono_ms();
        if (left <= 0 || (ctx->cancel && atomic_load(ctx->cancel)))
            return 0;
        struct pollfd fds[2] = {{.fd = open_out ? w->out_fd : -1, .events = POLLIN},
                                {.fd = w->pid_fd, .events = POLLIN}};
        int timeout = left < 100 ? (int)left : 100;
        if (poll(fds, 2, w->pid_fd >= 0 ? timeout : (timeout < 20 ? timeout : 20)) < 0 && errno != EINTR)
            return 0;
        if (open_out && (fds[0].revents & (POLLIN | POLLHUP)))
            open_out = drain(w);
        reap(w, ctx, WNOHANG);
    }
    return 1;
}

static void finish(Watch *w, ActionResult *res)
{
    fcntl(w->out_fd, F_SETFL, O_NONBLOCK);
    int64_t until = clock_mono_ms() + 1000;
    while (clock_mono_ms() < until && drain(w))
        ;
    close(w->out_fd);
    if (w->pid_fd >= 0)
        close(w->pid_fd);
    res->output = tail_finish(&w->tail, &res->output_len);
}

/* For runs that never started: the reason is their output too. */
static void output_is_error(ActionResult *res)
{
    res->output = xstrdup(res->error);
    res->output_len = strlen(res->output);
}

static int run_shell(const json_t *action, const ActionContext *ctx, ActionResult *res)
{
    Watch w = {.pid_fd = -1};
    res->status = ACTION_FAILED;
    if (!action_shell_allowed(ctx->shell, json_object_get(action, "command"))) {
        snprintf(res->error, sizeof res->error,
                 "refused by the executor's shell allow-list (--shell-allow)");
        output_is_error(res);
        return 0;
    }
    const char *env_name = action_env_refused(ctx->shell, json_object_get(action, "env"));
    if (env_name != NULL) {
        snprintf(res->error, sizeof res->error,
                 "refused by the executor's env allow-list (--env-allow): "
                 "action.env.%.80s",
                 env_name);
        output_is_error(res);
        return 0;
    }
    w.pid = spawn(action, ctx, &w.out_fd, res);
    if (w.pid < 0) {
        output_is_error(res);
        return 0;
    }
    atomic_store(ctx->pgid, w.pid);
    w.pid_fd = (int)syscall(SYS_pidfd_open, w.pid, 0);
    tail_init(&w.tail, ctx->output_cap);
    int exited = watch_until(&w, clock_mono_ms() + ctx->timeout_s * 1000, ctx);
    if (!exited) {
        int cancelled = ctx->cancel && atomic_load(ctx->cancel);
        kill(-w.pid, cancelled ? SIGKILL : SIGTERM);
        if (!watch_until(&w, clock_mono_ms() + ctx->kill_grace_ms, ctx))
            kill(-w.pid, SIGKILL);
        reap(&w, ctx, 0);
        res->status = cancelled ? ACTION_FAILED : ACTION_TIMED_OUT;
        snprintf(res->error, sizeof res->error, cancelled ? "cancelled" : "timed out after %ld s",
                 ctx->timeout_s);
    }
    finish(&w, res);
    kill_escaped(ctx->run_id);
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
    const ActionKind *kind = action_kind_of(action);
    if (kind != NULL && kind->runner == ACTION_RUN_SHELL)
        return run_shell(action, ctx, res);
    /* Webhooks run in the webhook engine, not here: only noop succeeds. */
    res->status = kind != NULL && kind->runner == ACTION_RUN_NOOP ? ACTION_SUCCEEDED : ACTION_FAILED;
    if (res->status == ACTION_FAILED)
        snprintf(res->error, sizeof res->error, "unknown action type");
    output_is_error(res);
    return 0;
}
