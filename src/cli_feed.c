/* cli_feed: `dts events [--follow]` and `dts dead list|retry`: what happened
 * and what gave up, named by task, from the command line. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_render.h"
#include "clock.h"

#define FOLLOW_POLL_MS 500

static const char events_help[] =
    "usage: dts events [--follow] [--since EVENT_ID] [--api URL] [-o json]\n"
    "\n"
    "Prints the recent activity (task created, changed, run started, finished,\n"
    "dead, ...) one event a line: local time, type, task name, details. With\n"
    "--follow, keeps printing new events as they happen, from the live stream\n"
    "(GET /api/v1/events/stream, resumed where it was after a drop), until\n"
    "interrupted (Ctrl-C); --since starts after an event id a previous run printed (-o json\n"
    "prints each event as one JSON object a line, with its id).\n"
    "\n"
    "examples:\n"
    "  dts events --follow\n"
    "  dts events -o json | jq -c 'select(.type == \"run.finished\")'\n"
    "Exit codes as for dts task (see dts task --help).\n";

static const char dead_help[] =
    "usage: dts dead list [--limit N] [--api URL] [-o json]\n"
    "       dts dead retry ID [--api URL]\n"
    "\n"
    "Dead letters are occurrences that used up their attempts (or kept crashing\n"
    "their executor). list shows them newest first with their task and last\n"
    "error; retry re-drives one as its next attempt (needs the admin scope).\n"
    "\n"
    "examples:\n"
    "  dts dead list\n"
    "  dts dead retry 3-1796156665002-0\n"
    "Exit codes as for dts task (see dts task --help).\n";

/* The task an event or dead letter is about: its name when the API sent one. */
static const char *task_label(json_t *e, const char *id_key)
{
    const char *name = json_string_value(json_object_get(e, "task_name"));
    return name ? name : json_string_value(json_object_get(e, id_key));
}

static void print_event(const Cli *c, json_t *e)
{
    if (c->json) {
        char *line = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
        puts(line);
        free(line);
        return;
    }
    char when[96] = "-", detail[256] = "";
    int64_t ms;
    const char *at = json_string_value(json_object_get(e, "at"));
    if (at && clock_parse_rfc3339(at, &ms) == 0)
        cli_local_time(ms, 0, when, sizeof when);
    const char *status = json_string_value(json_object_get(e, "status"));
    const char *run = json_string_value(json_object_get(e, "run"));
    snprintf(detail, sizeof detail, "%s%s%s%s", status ? status : "", status && run ? "  " : "",
             run ? "run " : "", run ? run : "");
    const char *task = task_label(e, "task") ? task_label(e, "task") : "-";
    if (detail[0])
        printf("%s  %-14s %-24s %s\n", when, json_string_value(json_object_get(e, "type")), task, detail);
    else
        printf("%s  %-14s %s\n", when, json_string_value(json_object_get(e, "type")), task);
}

/* One batch of events after *last (an id, "" for the recent ones); prints
 * them and moves *last. */
static int events_batch(const Cli *c, char *last, size_t len)
{
    char path[256];
    json_t *page, *e;
    size_t i;
    snprintf(path, sizeof path, "/api/v1/events%s%s", last[0] ? "?last_event_id=" : "", last);
    int rv = cli_call(c, "GET", path, NULL, &page);
    if (rv != CLI_OK)
        return rv;
    json_array_foreach(json_object_get(page, "items"), i, e)
    {
        print_event(c, e);
        const char *id = json_string_value(json_object_get(e, "id"));
        if (id != NULL)
            snprintf(last, len, "%s", id);
    }
    fflush(stdout);
    json_decref(page);
    return CLI_OK;
}

typedef struct Follow {
    const Cli *c;
    char last[128];
} Follow;

/* One SSE block of the stream: print its event and remember its id. */
static void follow_block_cb(void *ud, char *text)
{
    Follow *f = ud;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "data: ", 6) != 0)
            continue; /* id:, retry: and heartbeat comments */
        json_t *e = json_loads(line + 6, 0, NULL);
        const char *id = json_string_value(json_object_get(e, "id"));
        if (id != NULL) {
            print_event(f->c, e);
            snprintf(f->last, sizeof f->last, "%s", id);
        }
        json_decref(e);
    }
    fflush(stdout);
}

/* --follow: the live stream, resumed from the last id after each end or
 * drop; a server without the stream is polled instead. */
static int follow(const Cli *c, const char *last)
{
    Follow f = {.c = c};
    snprintf(f.last, sizeof f.last, "%s", last);
    for (int backoff = 500;;) {
        long status;
        int rv = cli_stream(c, "/api/v1/events/stream", f.last, follow_block_cb, &f, &status);
        if (status == 404 || status == 405) {
            while ((rv = events_batch(c, f.last, sizeof f.last)) == CLI_OK)
                clock_sleep_ms(FOLLOW_POLL_MS);
            return rv;
        }
        if (rv == CLI_EAUTH || rv == CLI_EAPI)
            return cli_fail(c, rv, "the event stream was refused (HTTP %ld)", status);
        backoff = rv == CLI_OK ? 500 : (backoff < 8000 ? backoff * 2 : backoff);
        clock_sleep_ms(backoff);
    }
}

int cli_events_main(int argc, char **argv)
{
    static const CliOpt opts[] = {{"follow", 0}, {"f", 0}, {"since", 1}};
    Cli c = {.cmd = "dts events"};
    CliArgs a;
    int rv = cli_parse(&c, opts, 3, argc, argv, &a);
    if (rv < 0) {
        fputs(events_help, stdout);
        return CLI_OK;
    }
    if (rv == CLI_OK && a.npos > 0)
        rv = cli_fail(&c, CLI_EUSAGE, "takes no arguments (see --help)");
    if (rv != CLI_OK)
        return rv;
    char last[128];
    const char *since = cli_opt(&a, "since");
    if (since != NULL)
        cli_urlencode(since, last, sizeof last);
    else
        last[0] = '\0';
    rv = events_batch(&c, last, sizeof last);
    if (rv == CLI_OK && cli_opt_count(&a, "follow") + cli_opt_count(&a, "f") > 0)
        rv = follow(&c, last);
    return rv;
}

static void dead_row(json_t *d, int64_t now, char cells[CLI_COLS_MAX][CLI_CELL_MAX])
{
    snprintf(cells[0], CLI_CELL_MAX, "%s", json_string_value(json_object_get(d, "id")));
    snprintf(cells[1], CLI_CELL_MAX, "%s", task_label(d, "task_id"));
    snprintf(cells[2], CLI_CELL_MAX, "%lld", (long long)json_integer_value(json_object_get(d, "attempts")));
    cli_when(json_string_value(json_object_get(d, "dead_at")), now, cells[3], CLI_CELL_MAX);
    cli_first_line(json_string_value(json_object_get(d, "error")), 60, cells[4], CLI_CELL_MAX);
}

static void print_dead(json_t *items)
{
    static const char *const head[] = {"ID", "TASK", "ATTEMPTS", "DEAD", "ERROR"};
    cli_print_items(head, 5, items, dead_row);
}

static int dead_list(Cli *c, CliArgs *a)
{
    const char *lim = cli_opt(a, "limit");
    char path[96], *end;
    long limit = lim ? strtol(lim, &end, 10) : 50;
    if (lim && (*end || limit < 1 || limit > 1000))
        return cli_fail(c, CLI_EUSAGE, "--limit wants a number from 1 to 1000");
    json_t *page;
    snprintf(path, sizeof path, "/api/v1/dead?limit=%ld", limit);
    int rv = cli_call(c, "GET", path, NULL, &page);
    if (rv != CLI_OK)
        return rv;
    if (c->json)
        cli_print_json(json_object_get(page, "items"));
    else
        print_dead(json_object_get(page, "items"));
    json_decref(page);
    return CLI_OK;
}

static int dead_retry(Cli *c, CliArgs *a)
{
    char enc[256], path[320];
    json_t *reply;
    cli_urlencode(a->pos[1], enc, sizeof enc);
    snprintf(path, sizeof path, "/api/v1/dead/%s/retry", enc);
    int rv = cli_call(c, "POST", path, NULL, &reply);
    if (rv == CLI_OK && c->json)
        cli_print_json(reply);
    else if (rv == CLI_OK)
        printf("dead occurrence %s re-driven as its next attempt\n", a->pos[1]);
    json_decref(reply);
    return rv;
}

int cli_dead_main(int argc, char **argv)
{
    static const CliOpt opts[] = {{"limit", 1}};
    Cli c = {.cmd = "dts dead"};
    CliArgs a;
    int rv = cli_parse(&c, opts, 1, argc, argv, &a);
    if (rv < 0 || (rv == CLI_OK && a.npos == 1 && !strcmp(a.pos[0], "help"))) {
        fputs(dead_help, stdout);
        return CLI_OK;
    }
    if (rv != CLI_OK)
        return rv;
    if (a.npos == 1 && strcmp(a.pos[0], "list") == 0)
        return dead_list(&c, &a);
    if (a.npos == 2 && strcmp(a.pos[0], "retry") == 0)
        return dead_retry(&c, &a);
    fputs(dead_help, stderr);
    return CLI_EUSAGE;
}
