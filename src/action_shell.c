/* action_shell: the "shell" action kind's validation: an argv (never a
 * shell line), an environment without the variables that make a program run
 * other code, and an absolute working directory. The executor's allow-lists
 * are checked again where it runs (action.c). */
#include <stdio.h>
#include <string.h>

#include "action_kind.h"
#include "task_private.h"

/* Variables that make a shell, the dynamic loader or an interpreter run code
 * of the caller's choosing before (or instead of) the allowed command, or
 * change which program a name finds. A trailing '*' is a prefix. */
static const char *const env_reserved[] = {"BASH_ENV",
                                           "ENV",
                                           "SHELLOPTS",
                                           "BASHOPTS",
                                           "PS4",
                                           "PROMPT_COMMAND",
                                           "BASH_FUNC_*",
                                           "IFS",
                                           "PATH",
                                           "LD_*",
                                           "GCONV_PATH",
                                           "GLIBC_TUNABLES",
                                           "MALLOC_*",
                                           "HOSTALIASES",
                                           "LOCALDOMAIN",
                                           "RES_OPTIONS",
                                           "NLSPATH",
                                           "LOCPATH",
                                           "PERL5OPT",
                                           "PERL5LIB",
                                           "PERLLIB",
                                           "PERL5DB",
                                           "PERL_MB_OPT",
                                           "NODE_OPTIONS",
                                           "NODE_PATH",
                                           "NODE_REPL_EXTERNAL_MODULE",
                                           "PYTHONSTARTUP",
                                           "PYTHONPATH",
                                           "PYTHONHOME",
                                           "PYTHONUSERBASE",
                                           "PYTHONINSPECT",
                                           "PYTHONBREAKPOINT",
                                           "PYTHONWARNINGS",
                                           "RUBYOPT",
                                           "RUBYLIB",
                                           "JAVA_TOOL_OPTIONS",
                                           "_JAVA_OPTIONS",
                                           "JDK_JAVA_OPTIONS",
                                           "CLASSPATH",
                                           "GIT_SSH",
                                           "GIT_SSH_COMMAND",
                                           "GIT_EXEC_PATH",
                                           "GIT_CONFIG_*",
                                           "GIT_ASKPASS",
                                           "GIT_PROXY_COMMAND",
                                           "GIT_EXTERNAL_DIFF",
                                           "GIT_PAGER",
                                           "PAGER",
                                           "EDITOR",
                                           "VISUAL",
                                           "SSH_ASKPASS",
                                           "LESSOPEN",
                                           "LESSCLOSE",
                                           "PHPRC",
                                           "PHP_INI_SCAN_DIR",
                                           "LUA_INIT*",
                                           "LUA_PATH*",
                                           "LUA_CPATH*",
                                           "TCLLIBPATH",
                                           NULL};

int task_env_name_reserved(const char *name)
{
    for (const char *const *r = env_reserved; *r; r++) {
        size_t n = strlen(*r);
        if ((*r)[n - 1] == '*' ? strncmp(name, *r, n - 1) == 0 : strcmp(name, *r) == 0)
            return 1;
    }
    return 0;
}

static int env_name_ok(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_' ||
              (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

static int check_env(json_t *env, TaskError *err)
{
    const char *key;
    json_t *v;
    if (!json_is_object(env)) {
        task_fail(err, "action.env", "must be an object of strings");
        return -1;
    }
    if (json_object_size(env) > TASK_ENV_MAX) {
        task_fail(err, "action.env", "at most %d variables", TASK_ENV_MAX);
        return -1;
    }
    json_object_foreach(env, key, v)
    {
        char field[64];
        snprintf(field, sizeof field, "action.env.%.40s", key);
        if (!env_name_ok(key) || strlen(key) > 128 || strncmp(key, "DTS_", 4) == 0) {
            task_fail(err, field, "variable names are [A-Za-z_][A-Za-z0-9_]*, up to 128 bytes, not DTS_*");
            return -1;
        }
        if (task_env_name_reserved(key)) {
            task_fail(err, field,
                      "may not be set: it makes a shell, the loader or an interpreter run "
                      "other code (see docs/security.md)");
            return -1;
        }
        if (task_check_string(v, field, TASK_ENV_VALUE_MAX, 0, err) != 0)
            return -1;
    }
    return 0;
}

static int check_command(json_t *cmd, TaskError *err)
{
    size_t i;
    json_t *arg;
    if (!json_is_array(cmd) || json_array_size(cmd) == 0) {
        task_fail(err, "action.command", "must be a non-empty array of strings (an argv; no shell)");
        return -1;
    }
    if (json_array_size(cmd) > TASK_ARGV_MAX) {
        task_fail(err, "action.command", "at most %d arguments", TASK_ARGV_MAX);
        return -1;
    }
    json_array_foreach(cmd, i, arg)
    {
        char field[64];
        snprintf(field, sizeof field, "action.command[%zu]", i);
        if (task_check_string(arg, field, TASK_ARG_MAX, i == 0, err) != 0)
            return -1;
    }
    return 0;
}

int action_shell_validate(json_t *action, TaskError *err)
{
    static const char *const shell_keys[] = {"type", "command", "env", "cwd", NULL};
    if (task_only_keys(action, shell_keys, "action", err) ||
        check_command(json_object_get(action, "command"), err))
        return -1;
    json_t *env = json_object_get(action, "env"), *cwd = json_object_get(action, "cwd");
    if (env != NULL && check_env(env, err) != 0)
        return -1;
    if (cwd != NULL && task_check_string(cwd, "action.cwd", TASK_PATH_MAX, 1, err) != 0)
        return -1;
    if (cwd != NULL && json_string_value(cwd)[0] != '/') {
        task_fail(err, "action.cwd", "must be an absolute path");
        return -1;
    }
    return 0;
}
