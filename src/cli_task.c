/* cli_task: `dts task ...`, the tasks of the REST API from the command line.
 * Each command is a row of a table (name, handler, its options, its help), as
 * main.c's roles are; the handlers share cli.c's flags, calls and errors. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_render.h"
#include "cli_spec.h"
#include "clock.h"
#include "task.h"

typedef struct TaskCmd {
    const char *name;
    int (*run)(Cli *c, CliArgs *a);
    const CliOpt *opts;
    int nopts;
    int refs; /* positional arguments it needs (a task name or id, or the new task's name) */
    const char *usage;
} TaskCmd;

static const char task_help[] =
    "usage: dts task COMMAND [ARGS] [--api URL] [-o json]\n"
    "\n"
    "Manages the tasks of a dts API from the command line. TASK is a task's name\n"
    "(when exactly one task has it) or its 24-digit id.\n"
    "\n"
    "commands:\n"
    "  create NAME [flags] [-- COMMAND ARGS...]   register a task (or -f FILE)\n"
    "  list [--state S] [--label K=V]... [--name-prefix P] [--limit N] [--all]\n"
    "       [--sort -created|created|name|next_run]  filters and order apply on the server\n"
    "  get TASK                                   show one task\n"
    "  edit TASK [-f FILE | flags]                change a task (the flags of create)\n"
    "  runs TASK [--limit N]                      its run history, newest first\n"
    "  pause TASK | resume TASK                   stop or restart its schedule\n"
    "  trigger TASK                               run it once now\n"
    "  delete TASK                                delete it\n"
    "  backfill TASK --from T --to T              run the occurrences it missed\n"
    "\n"
    "schedule flags (one of):\n"
    "  --cron EXPR [--tz ZONE]   cron, 5 fields or 6 with seconds (docs/cron.md)\n"
    "  --every DURATION          a fixed interval: 90s, 5m, 1h30m\n"
    "  --at RFC3339              once, at an instant (a past instant means now)\n"
    "  --now                     once, right away (the default for a new task)\n"
    "action (one of):\n"
    "  -- COMMAND ARGS...        a shell action: an argv, never a shell string\n"
    "      [--env K=V]... [--cwd DIR]\n"
    "  --http URL                a webhook [--method M] [--header 'K: V']... [--body TEXT]\n"
    "  --noop                    does nothing (measures the scheduler)\n"
    "more: --label K=V (repeatable; K- removes on edit), --timeout 90s|5m|2h,\n"
    "  --retries N (attempts after the first), --overlap allow|forbid|replace,\n"
    "  --misfire run_once|skip|run_all, --name NAME (edit: rename), -f FILE|-\n"
    "  (a JSON or YAML spec, the API's task body; flags given too override it).\n"
    "\n"
    "common options:\n"
    "  --api URL        the API (default $DTS_API, else http://127.0.0.1:8321)\n"
    "  -o json|table    JSON for scripts (the API's representation) or tables (default)\n"
    "  DTS_TOKEN        the API token to send, from the environment only (never a flag,\n"
    "                   so it does not show in ps)\n"
    "\n"
    "exit codes: 0 ok, 1 usage error or ambiguous name, 2 the API refused the\n"
    "  request (4xx: the message names the field), 3 not found, 4 unauthorized or\n"
    "  forbidden (401/403), 5 server error or API unreachable.\n"
    "\n"
    "examples:\n"
    "  dts task create nightly --cron \"0 3 * * *\" --tz Europe/Berlin -- /usr/local/bin/report --daily\n"
    "  dts task create ping --every 30s --http https://hooks.example/ping --label team=ops\n"
    "  dts task create -f task.yaml\n"
    "  dts task list --label team=ops --sort next_run\n"
    "  dts task runs nightly --limit 5\n"
    "  dts task edit nightly --cron \"0 4 * * *\"\n"
    "  dts task get nightly -o json | jq .next_run_at\n"
    "See docs/cli.md.\n";

static char *path_of(char *buf, size_t len, const char *id, const char *suffix)
{
    snprintf(buf, len, "/api/v1/tasks/%s%s", id, suffix);
    return buf;
}

/* Writes the schedule of TASK as text: "cron 0 3 * * * (Europe/Berlin)". */
static void schedule_text(json_t *task, int64_t now, char *out, size_t len)
{
    json_t *s = json_object_get(task, "schedule");
    const char *cron = json_string_value(json_object_get(s, "cron"));
    const char *tz = json_string_value(json_object_get(s, "timezone"));
    const char *at = json_string_value(json_object_get(s, "at"));
    char when[96];
    if (cron)
        snprintf(out, len, "%s%s%s%s", cron, tz ? " (" : "", tz ? tz : "", tz ? ")" : "");
    else if (at) {
        cli_when(at, now, when, sizeof when);
        snprintf(out, len, "at %s", when);
    } else
        snprintf(out, len, "once, now");
}

/* "succeeded 5s ago", or "-" when it never ran. */
static void last_text(json_t *task, int64_t now, char *out, size_t len)
{
    json_t *last = json_object_get(task, "last_run");
    const char *status = json_string_value(json_object_get(last, "status"));
    const char *at = json_string_value(json_object_get(last, "finished_at"));
    int64_t ms;
    char rel[32] = "";
    if (status == NULL) {
        snprintf(out, len, "-");
        return;
    }
    if (at && clock_parse_rfc3339(at, &ms) == 0)
        cli_relative(ms - now, rel, sizeof rel);
    snprintf(out, len, "%s%s%s", status, rel[0] ? " " : "", rel);
}

static void task_row(json_t *task, int64_t now, char cells[CLI_COLS_MAX][CLI_CELL_MAX])
{
    snprintf(cells[0], CLI_CELL_MAX, "%s", json_string_value(json_object_get(task, "name")));
    snprintf(cells[1], CLI_CELL_MAX, "%s", json_string_value(json_object_get(task, "id")));
    snprintf(cells[2], CLI_CELL_MAX, "%s", json_string_value(json_object_get(task, "state")));
    schedule_text(task, now, cells[3], CLI_CELL_MAX);
    cli_when(json_string_value(json_object_get(task, "next_run_at")), now, cells[4], CLI_CELL_MAX);
    last_text(task, now, cells[5], CLI_CELL_MAX);
}

static void print_tasks(json_t *items)
{
    static const char *const head[] = {"NAME", "ID", "STATE", "SCHEDULE", "NEXT RUN", "LAST"};
    cli_print_items(head, 6, items, task_row);
}

/* The action as one line: "shell: /usr/local/bin/report --daily". */
static void action_text(json_t *action, char *out, size_t len)
{
    const char *type = json_string_value(json_object_get(action, "type"));
    size_t o = (size_t)snprintf(out, len, "%s", type ? type : "?");
    json_t *argv = json_object_get(action, "command"), *w;
    size_t i;
    if (json_is_array(argv)) {
        json_array_foreach(argv, i, w) if (o < len)
            o += (size_t)snprintf(out + o, len - o, "%s%s", i ? " " : ": ", json_string_value(w));
    } else if (json_object_get(action, "url") && o < len) {
        const char *m = json_string_value(json_object_get(action, "method"));
        snprintf(out + o, len - o, ": %s %s", m ? m : "GET",
                 json_string_value(json_object_get(action, "url")));
    }
}

static void print_task(json_t *task)
{
    char buf[1024], when[96];
    int64_t now = clock_now_ms();
    const char *key;
    json_t *v, *runs = json_object_get(task, "runs");
    printf("Name:       %s\n", json_string_value(json_object_get(task, "name")));
    printf("ID:         %s\n", json_string_value(json_object_get(task, "id")));
    printf("State:      %s\n", json_string_value(json_object_get(task, "state")));
    schedule_text(task, now, buf, sizeof buf);
    printf("Schedule:   %s\n", buf);
    action_text(json_object_get(task, "action"), buf, sizeof buf);
    printf("Action:     %s\n", buf);
    printf("Labels:    ");
    json_object_foreach(json_object_get(task, "labels"), key, v)
        printf(" %s=%s", key, json_string_value(v));
    if (json_object_size(json_object_get(task, "labels")) == 0)
        printf(" -");
    printf("\nTimeout:    %llds\n", (long long)json_integer_value(json_object_get(task, "timeout_s")));
    cli_when(json_string_value(json_object_get(task, "next_run_at")), now, when, sizeof when);
    printf("Next run:   %s\n", when);
    last_text(task, now, buf, sizeof buf);
    printf("Last run:   %s\n", buf);
    printf("Runs:       %lld succeeded, %lld failed, %lld dispatched\n",
           (long long)json_integer_value(json_object_get(runs, "succeeded")),
           (long long)json_integer_value(json_object_get(runs, "failed")),
           (long long)json_integer_value(json_object_get(runs, "dispatched")));
    cli_when(json_string_value(json_object_get(task, "created_at")), now, when, sizeof when);
    printf("Created:    %s\n", when);
    printf("Version:    %lld\n", (long long)json_integer_value(json_object_get(task, "version")));
}

/* Prints the task the API answered, as JSON or as a summary line or page. */
static int show(Cli *c, json_t *task, const char *verb)
{
    if (c->json)
        cli_print_json(task);
    else if (verb == NULL)
        print_task(task);
    else
        printf("task %s (%s) %s\n", json_string_value(json_object_get(task, "name")),
               json_string_value(json_object_get(task, "id")), verb);
    json_decref(task);
    return CLI_OK;
}

static int task_create(Cli *c, CliArgs *a)
{
    const char *file = cli_opt(a, "f") ? cli_opt(a, "f") : cli_opt(a, "file");
    json_t *spec = NULL, *task;
    if (file == NULL && a->npos == 0)
        return cli_fail(c, CLI_EUSAGE, "give the task's NAME, or -f FILE (see --help)");
    int rv = file ? cli_spec_read(c, file, &spec) : (spec = json_object(), CLI_OK);
    if (rv == CLI_OK && a->npos > 0)
        json_object_set_new(spec, "name", json_string(a->pos[0]));
    if (rv == CLI_OK)
        rv = cli_spec_apply(c, a, spec);
    if (rv == CLI_OK)
        rv = cli_call(c, "POST", "/api/v1/tasks", spec, &task);
    json_decref(spec);
    return rv == CLI_OK ? show(c, task, "created") : rv;
}

/* The list query from the flags: state, name prefix, labels, sort. */
static int list_query(Cli *c, CliArgs *a, char *q, size_t len)
{
    static const char *const plain[][2] = {
        {"state", "state"}, {"name-prefix", "name_prefix"}, {"sort", "sort"}};
    char enc[1024];
    size_t o = 0;
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        const char *v = cli_opt(a, plain[i][0]);
        if (v != NULL && o < len) {
            cli_urlencode(v, enc, sizeof enc);
            o += (size_t)snprintf(q + o, len - o, "&%s=%s", plain[i][1], enc);
        }
    }
    const char *const *labels = cli_opt_values(a, "label");
    for (int i = 0; i < cli_opt_count(a, "label") && o < len; i++) {
        if (strchr(labels[i], '=') == NULL)
            return cli_fail(c, CLI_EUSAGE, "--label wants KEY=VALUE, not \"%s\"", labels[i]);
        cli_urlencode(labels[i], enc, sizeof enc);
        o += (size_t)snprintf(q + o, len - o, "&label=%s", enc);
    }
    return o < len ? CLI_OK : cli_fail(c, CLI_EUSAGE, "the filters are too long");
}

static int task_list(Cli *c, CliArgs *a)
{
    char q[4096], path[4400], *end;
    const char *lim = cli_opt(a, "limit");
    long limit = lim ? strtol(lim, &end, 10) : 50;
    int all = cli_opt_count(a, "all") > 0, rv;
    if (lim && (*end || limit < 1 || limit > 100000))
        return cli_fail(c, CLI_EUSAGE, "--limit wants a number from 1 to 100000");
    if ((rv = list_query(c, a, q, sizeof q)) != CLI_OK)
        return rv;
    json_t *items = json_array(), *page;
    char *cursor = NULL;
    do {
        long want = limit - (long)json_array_size(items);
        snprintf(path, sizeof path, "/api/v1/tasks?limit=%ld%s%s%s", all || want > 500 ? 500 : want, q,
                 cursor ? "&cursor=" : "", cursor ? cursor : "");
        free(cursor);
        cursor = NULL;
        if ((rv = cli_call(c, "GET", path, NULL, &page)) != CLI_OK)
            break;
        json_array_extend(items, json_object_get(page, "items"));
        const char *next = json_string_value(json_object_get(page, "next_cursor"));
        cursor = next ? strdup(next) : NULL;
        json_decref(page);
    } while (cursor && (all || (long)json_array_size(items) < limit));
    free(cursor);
    if (rv == CLI_OK && c->json)
        cli_print_json(items);
    else if (rv == CLI_OK)
        print_tasks(items);
    json_decref(items);
    return rv;
}

/* Resolves the task named by the first argument (its id into ID) and sends
 * METHOD to its path + SUFFIX; *reply as for cli_call. */
static int task_on(Cli *c, CliArgs *a, const char *method, const char *suffix, char *id, json_t **reply)
{
    char path[128];
    int rv = cli_task_resolve(c, a->pos[0], id);
    return rv == CLI_OK ? cli_call(c, method, path_of(path, sizeof path, id, suffix), NULL, reply) : rv;
}

static int task_get(Cli *c, CliArgs *a)
{
    char id[TASK_ID_MAX + 1];
    json_t *task;
    int rv = task_on(c, a, "GET", "", id, &task);
    return rv == CLI_OK ? show(c, task, NULL) : rv;
}

/* Reads the task, applies the file or the flags, and PUTs it with If-Match. */
static int task_edit(Cli *c, CliArgs *a)
{
    const char *file = cli_opt(a, "f") ? cli_opt(a, "f") : cli_opt(a, "file");
    char id[TASK_ID_MAX + 1], path[128];
    json_t *task = NULL, *spec = NULL, *out;
    if (file == NULL && !cli_spec_has_flags(a))
        return cli_fail(c, CLI_EUSAGE, "say what to change: -f FILE or flags (see --help)");
    int rv = cli_task_resolve(c, a->pos[0], id);
    if (rv == CLI_OK)
        rv = cli_call(c, "GET", path_of(path, sizeof path, id, ""), NULL, &task);
    if (rv == CLI_OK && file)
        rv = cli_spec_read(c, file, &spec);
    else if (rv == CLI_OK)
        spec = json_incref(task);
    if (rv == CLI_OK)
        rv = cli_spec_apply(c, a, spec);
    if (rv == CLI_OK) {
        /* The version read is the precondition: a concurrent edit makes this a 412. */
        char version[24];
        snprintf(version, sizeof version, "%lld",
                 (long long)json_integer_value(json_object_get(task, "version")));
        c->if_match = version;
        rv = cli_call(c, "PUT", path, spec, &out);
    }
    json_decref(spec);
    json_decref(task);
    return rv == CLI_OK ? show(c, out, "updated") : rv;
}

static void run_row(json_t *run, int64_t now, char cells[CLI_COLS_MAX][CLI_CELL_MAX])
{
    json_t *late = json_object_get(run, "lateness_ms"), *code = json_object_get(run, "exit_code");
    const char *text = json_string_value(json_object_get(run, "output"));
    cli_when(json_string_value(json_object_get(run, "scheduled_at")), now, cells[0], CLI_CELL_MAX);
    snprintf(cells[1], CLI_CELL_MAX, "%lld",
             (long long)json_integer_value(json_object_get(run, "attempt")));
    snprintf(cells[2], CLI_CELL_MAX, "%s", json_string_value(json_object_get(run, "status")));
    if (json_is_integer(late))
        snprintf(cells[3], CLI_CELL_MAX, "%lldms", (long long)json_integer_value(late));
    if (json_is_integer(code))
        snprintf(cells[4], CLI_CELL_MAX, "%lld", (long long)json_integer_value(code));
    cli_first_line(text ? text : json_string_value(json_object_get(run, "error")), 48, cells[5],
                   CLI_CELL_MAX);
}

static void print_runs(json_t *items)
{
    static const char *const head[] = {"SCHEDULED", "ATTEMPT", "STATUS", "LATE", "EXIT", "OUTPUT"};
    cli_print_items(head, 6, items, run_row);
}

static int task_runs(Cli *c, CliArgs *a)
{
    char id[TASK_ID_MAX + 1], path[160], *end;
    const char *lim = cli_opt(a, "limit");
    long limit = lim ? strtol(lim, &end, 10) : 20;
    if (lim && (*end || limit < 1 || limit > 1000))
        return cli_fail(c, CLI_EUSAGE, "--limit wants a number from 1 to 1000");
    json_t *page;
    int rv = cli_task_resolve(c, a->pos[0], id);
    if (rv != CLI_OK)
        return rv;
    snprintf(path, sizeof path, "/api/v1/tasks/%s/runs?limit=%ld", id, limit);
    if ((rv = cli_call(c, "GET", path, NULL, &page)) != CLI_OK)
        return rv;
    if (c->json)
        cli_print_json(json_object_get(page, "items"));
    else
        print_runs(json_object_get(page, "items"));
    json_decref(page);
    return CLI_OK;
}

/* pause, resume: POST and show the task the API answers. */
static int task_post(Cli *c, CliArgs *a, const char *suffix, const char *verb)
{
    char id[TASK_ID_MAX + 1];
    json_t *task;
    int rv = task_on(c, a, "POST", suffix, id, &task);
    return rv == CLI_OK ? show(c, task, verb) : rv;
}

static int task_pause(Cli *c, CliArgs *a)
{
    return task_post(c, a, "/pause", "paused");
}
static int task_resume(Cli *c, CliArgs *a)
{
    return task_post(c, a, "/resume", "resumed");
}

static int task_trigger(Cli *c, CliArgs *a)
{
    char id[TASK_ID_MAX + 1];
    json_t *occ;
    int rv = task_on(c, a, "POST", "/trigger", id, &occ);
    if (rv != CLI_OK)
        return rv;
    if (c->json)
        cli_print_json(occ);
    else
        printf("triggered %s: occurrence %s\n", a->pos[0],
               json_string_value(json_object_get(occ, "occurrence_id")));
    json_decref(occ);
    return CLI_OK;
}

static int task_delete(Cli *c, CliArgs *a)
{
    char id[TASK_ID_MAX + 1];
    json_t *none = NULL;
    int rv = task_on(c, a, "DELETE", "", id, &none);
    json_decref(none);
    if (rv == CLI_OK && c->json)
        printf("{\"id\": \"%s\", \"deleted\": true}\n", id);
    else if (rv == CLI_OK)
        printf("task %s (%s) deleted\n", a->pos[0], id);
    return rv;
}

/* POST /tasks/{id}/backfill {"from","to"}: queues the task's past occurrences
 * in [from, to); a server without the endpoint is reported as such. */
static int task_backfill(Cli *c, CliArgs *a)
{
    const char *from = cli_opt(a, "from"), *to = cli_opt(a, "to");
    char id[TASK_ID_MAX + 1], path[128];
    int64_t ms;
    long status;
    json_t *reply;
    if (!from || !to || clock_parse_rfc3339(from, &ms) || clock_parse_rfc3339(to, &ms))
        return cli_fail(c, CLI_EUSAGE, "give --from and --to as RFC 3339 instants");
    int rv = cli_task_resolve(c, a->pos[0], id);
    if (rv != CLI_OK)
        return rv;
    json_t *body = json_pack("{s:s,s:s}", "from", from, "to", to);
    rv = cli_request(c, "POST", path_of(path, sizeof path, id, "/backfill"), body, &reply, &status);
    json_decref(body);
    if (status == 404 || status == 405) {
        json_decref(reply);
        return cli_fail(c, CLI_EAPI, "backfill is not supported by this server (HTTP %ld)", status);
    }
    if (rv != CLI_OK)
        return cli_report(c, rv, status, &reply);
    if (c->json)
        cli_print_json(reply);
    else
        printf("backfill of %s: %lld queued, %lld already backfilled or run\n", a->pos[0],
               (long long)json_integer_value(json_object_get(reply, "queued")),
               (long long)json_integer_value(json_object_get(reply, "already")));
    json_decref(reply);
    return CLI_OK;
}

static const CliOpt list_opts[] = {{"state", 1}, {"name-prefix", 1}, {"label", 1},
                                   {"sort", 1},  {"limit", 1},       {"all", 0}};
static const CliOpt limit_opts[] = {{"limit", 1}};
static const CliOpt backfill_opts[] = {{"from", 1}, {"to", 1}};

static const TaskCmd cmds[] = {
    {"create", task_create, cli_spec_opts, 0, 0, "create NAME [flags] [-- COMMAND ARGS...] | -f FILE"},
    {"list", task_list, list_opts, 6, 0,
     "list [--state S] [--label K=V]... [--name-prefix P] [--sort -created|created|name|next_run] [--limit "
     "N] [--all]"},
    {"get", task_get, NULL, 0, 1, "get TASK"},
    {"edit", task_edit, cli_spec_opts, 0, 1, "edit TASK [-f FILE | flags]"},
    {"runs", task_runs, limit_opts, 1, 1, "runs TASK [--limit N]"},
    {"pause", task_pause, NULL, 0, 1, "pause TASK"},
    {"resume", task_resume, NULL, 0, 1, "resume TASK"},
    {"trigger", task_trigger, NULL, 0, 1, "trigger TASK"},
    {"delete", task_delete, NULL, 0, 1, "delete TASK"},
    {"backfill", task_backfill, backfill_opts, 2, 1, "backfill TASK --from RFC3339 --to RFC3339"},
};

static int run_cmd(const TaskCmd *cmd, int argc, char **argv)
{
    char name[32];
    snprintf(name, sizeof name, "dts task %s", cmd->name);
    Cli c = {.cmd = name};
    CliArgs a;
    int nopts = cmd->opts == cli_spec_opts ? cli_spec_nopts : cmd->nopts;
    int rv = cli_parse(&c, cmd->opts, nopts, argc, argv, &a);
    if (rv < 0) {
        printf("usage: dts task %s\n\n", cmd->usage);
        fputs(task_help, stdout);
        return CLI_OK;
    }
    if (rv != CLI_OK)
        return rv;
    if (a.nrest > 0 && cmd->opts != cli_spec_opts)
        return cli_fail(&c, CLI_EUSAGE, "takes no command after --");
    if (a.npos < cmd->refs || (cmd->refs > 0 && a.npos > cmd->refs) || a.npos > 1)
        return cli_fail(&c, CLI_EUSAGE, "usage: dts task %s", cmd->usage);
    return cmd->run(&c, &a);
}

int cli_task_main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(task_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EUSAGE : CLI_OK;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return run_cmd(&cmds[i], argc - 1, argv + 1);
    fprintf(stderr, "dts task: unknown command \"%s\" (see dts task --help)\n", argv[1]);
    return CLI_EUSAGE;
}
