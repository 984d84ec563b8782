/* dts: one binary, many roles. This file is only the table of them. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "build_info.h"
#include "cli.h"
#include "cron.h"
#include "executor.h"
#include "probe.h"
#include "scheduler.h"
#include "up.h"
#include "web.h"

/* jemalloc's options, which it reads from this symbol at start (CMakeLists.txt
 * links it; other builds never read it): blocks of 128 KiB and more (big
 * specs, pages of them) go back to the system when freed, as glibc's mmap
 * threshold has them do, instead of staying resident for seconds as dirty
 * pages. The run path's allocations are all smaller. */
extern const char *malloc_conf;
const char *malloc_conf = "oversize_threshold:131072";

typedef struct Role {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
} Role;

static const Role roles[] = {
    {"api", api_main, "serve the REST API under /api/v1"},
    {"scheduler", scheduler_main, "move due occurrences into the ready streams"},
    {"executor", executor_main, "run ready occurrences and record their results"},
    {"web", web_main, "serve the web UI and proxy /api to the api"},
    {"up", up_main, "run the whole system locally, with its own redis-server"},
    {"cron", cron_cli_main, "cron tools: dts cron next EXPR [--tz Z] [--from T] [--count N]"},
    {"probe", probe_main,
     "health check: dts probe [http://127.0.0.1:8321/healthz] (default: DTS_LISTEN's)"},
    {"task", cli_task_main, "tasks from the command line: dts task create|list|get|edit|runs|pause|..."},
    {"dead", cli_dead_main, "dead letters: dts dead list, dts dead retry ID"},
    {"events", cli_events_main, "the activity feed: dts events [--follow]"},
    {"token", auth_token_main, "API tokens: dts token create NAME --scopes read,write,shell,admin"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: dts ROLE [options]   (dts ROLE --help for a role's options)\n\nroles:\n");
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        fprintf(out, "  %-10s %s\n", roles[i].name, roles[i].summary);
    fprintf(out, "  %-10s %s\n", "version", "print the version");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("dts %s (commit %s%s)\n", dts_build_version, dts_build_commit,
               dts_build_dirty ? ", modified" : "");
        return 0;
    }
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(argv[1], roles[i].name) == 0)
            return roles[i].main(argc - 1, argv + 1);
    fprintf(stderr, "dts: unknown role \"%s\" (see dts --help)\n", argv[1]);
    return 2;
}
