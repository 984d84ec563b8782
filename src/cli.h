/* cli: the operator's command line (`dts task|dead|events`), a client of the REST API.
 *
 * Exit codes, which scripts may rely on (docs/cli.md):
 *   0 ok; 1 usage error (bad flags, unreadable spec file, ambiguous name);
 *   2 the API refused the request (4xx other than 401/403/404);
 *   3 not found (404, or no task by that name); 4 authentication or scope (401, 403);
 *   5 the server failed or could not be reached (5xx, connection error). */
#ifndef DTS_CLI_H
#define DTS_CLI_H

#include <jansson.h>

enum {
    CLI_OK = 0,
    CLI_EUSAGE = 1,
    CLI_EAPI = 2,
    CLI_ENOTFOUND = 3,
    CLI_EAUTH = 4,
    CLI_ESERVER = 5,
};

#define CLI_OPTS_MAX 32   /* options of one command */
#define CLI_VALUES_MAX 64 /* occurrences of one repeatable option */
#define CLI_POS_MAX 4

/* One option of a command: --NAME VALUE (or --NAME=VALUE), or a bare flag. */
typedef struct CliOpt {
    const char *name;
    int has_value;
} CliOpt;

/* A parsed command line. Values point into argv: nothing to free. */
typedef struct CliArgs {
    const CliOpt *opts;
    int nopts;
    const char *values[CLI_OPTS_MAX][CLI_VALUES_MAX];
    int count[CLI_OPTS_MAX];      /* occurrences of each option */
    const char *pos[CLI_POS_MAX]; /* positional arguments */
    int npos;
    char **rest; /* the words after "--" (an argv), or NULL */
    int nrest;
} CliArgs;

/* Where the API is and how to talk to it. */
typedef struct Cli {
    const char *api;      /* base URL without a trailing slash: --api, DTS_API, or the default */
    const char *token;    /* DTS_TOKEN, or NULL */
    int json;             /* -o json: print the API's JSON instead of tables */
    const char *cmd;      /* "dts task create", for messages */
    const char *if_match; /* a task version to send as If-Match, or NULL */
} Cli;

/* Parses argv[1..] against OPTS (NOPTS entries; the common --api, -o/--output
 * and --help are always known) into A, and fills C from --api/DTS_API,
 * DTS_TOKEN and -o. Returns CLI_OK, -1 if --help was asked for, or
 * CLI_EUSAGE after printing a one-line message. */
int cli_parse(Cli *c, const CliOpt *opts, int nopts, int argc, char **argv, CliArgs *a);

/* The last value of option NAME, or NULL when it was not given. */
const char *cli_opt(const CliArgs *a, const char *name);

/* How often option NAME was given; its values are cli_opt_values(a, name)[0..n-1]. */
int cli_opt_count(const CliArgs *a, const char *name);
const char *const *cli_opt_values(const CliArgs *a, const char *name);

/* Sends METHOD PATH (under the API base, with the query already in PATH) with
 * BODY as JSON (or none), and parses the reply into *reply (NULL when it has no
 * JSON body; the caller json_decrefs it) and its status into *status (0 when
 * the server could not be reached). Returns CLI_OK on 2xx, else the exit code
 * for the failure, printing nothing. */
int cli_request(const Cli *c, const char *method, const char *path, json_t *body, json_t **reply,
                long *status);

/* cli_request, and on failure prints the one-line error (naming the API's
 * field: "dts: action.command: required") and frees the reply. */
int cli_call(const Cli *c, const char *method, const char *path, json_t *body, json_t **reply);

/* What cli_call does after cli_request: for a failure with a STATUS, prints
 * the error and frees *reply (setting it NULL). Returns RV. */
int cli_report(const Cli *c, int rv, long status, json_t **reply);

/* Prints "CMD: MESSAGE" on stderr and returns CODE. */
int cli_fail(const Cli *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reads the Server-Sent Events stream at PATH (sending LAST_ID, if any, as
 * Last-Event-ID), calling BLOCK with the text of each event block (its lines,
 * without the blank line that ends it) as it arrives, until the server ends
 * the stream. *status gets the HTTP status (0 if none came). Returns CLI_OK
 * when the stream ended, the exit code of a non-2xx status, or CLI_ESERVER
 * when the connection failed or went quiet for 45 s. Prints nothing. */
int cli_stream(const Cli *c, const char *path, const char *last_id, void (*block)(void *ud, char *text),
               void *ud, long *status);

/* Resolves REF, a task id or a task name, to a task id (ID of TASK_ID_MAX+1
 * bytes): an id is taken as is; a name must belong to exactly one task (else
 * CLI_ENOTFOUND, or CLI_EUSAGE listing the ids). Prints its own errors. */
int cli_task_resolve(const Cli *c, const char *ref, char *id);

/* Percent-encodes S for a URL query into OUT (LEN bytes). */
void cli_urlencode(const char *s, char *out, size_t len);

/* Prints V as indented JSON on stdout. */
void cli_print_json(json_t *v);

/* Roles in main.c's table. */
int cli_task_main(int argc, char **argv);
int cli_dead_main(int argc, char **argv);
int cli_events_main(int argc, char **argv);

#endif
