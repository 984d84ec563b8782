/* role_help: one page of manual per service role, as data. */
#include "role_help.h"

#include <string.h>

typedef struct RoleHelp {
    const char *role;
    const char *text;
} RoleHelp;

static const char common[] =
    "\n"
    "Every role serves /healthz (alive), /readyz (Redis reachable, shard count\n"
    "agreed) and /metrics (Prometheus text: process_*, dts_build_info and the\n"
    "role's own families), and logs one JSON object a line on stderr.\n"
    "\n"
    "exit status: 0 after a clean stop (SIGTERM or SIGINT), 1 when it cannot start\n"
    "(port taken, Redis unreachable, shard count disagrees), 2 on a bad flag.\n"
    "See README.md, docs/operations.md and docs/cli.md.\n";

static const RoleHelp pages[] = {
    {"api", "description:\n"
            "  Validates and stores tasks, and answers the REST API under /api/v1 (the\n"
            "  contract is docs/openapi.yaml). Stateless: run two or more behind a load\n"
            "  balancer. Without --tokens it listens on loopback only.\n"
            "\n"
            "examples:\n"
            "  dts api --redis redis://127.0.0.1:6379 --listen 127.0.0.1:8321\n"
            "  dts api --listen 0.0.0.0:8321 --tokens /etc/dts/tokens --threads 8\n"
            "  DTS_REDIS=redis://:secret@redis:6379 dts api\n"},
    {"scheduler", "description:\n"
                  "  The clock: holds a fair share of the shard leases and moves due\n"
                  "  occurrences into the ready streams with one compare-and-set script per\n"
                  "  batch, so racing schedulers never dispatch an occurrence twice. Run two\n"
                  "  or more; a dead one's shards are taken over within --lease-ttl-ms.\n"
                  "\n"
                  "examples:\n"
                  "  dts scheduler --redis redis://127.0.0.1:6379 --listen 127.0.0.1:8322\n"
                  "  curl -s 127.0.0.1:8322/metrics | grep dts_dispatch_lateness\n"},
    {"executor", "description:\n"
                 "  The workers: read the ready streams through the consumer group, run up\n"
                 "  to --concurrency actions at once, record results, retry and dead-letter.\n"
                 "  On SIGTERM it stops fetching and lets running actions finish within the\n"
                 "  grace period; what is still running is handed back, never failed.\n"
                 "\n"
                 "examples:\n"
                 "  dts executor --redis redis://127.0.0.1:6379 --concurrency 16 --listen 127.0.0.1:8323\n"
                 "  dts executor --http-allow 10.0.0.0/8 --shell-allow \"/usr/local/bin/report *\"\n"},
    {"web", "description:\n"
            "  Serves the web UI (built into the binary) and proxies /api to the api\n"
            "  replicas, round robin and health-checked.\n"
            "\n"
            "examples:\n"
            "  dts web --listen 127.0.0.1:8320 --api http://127.0.0.1:8321\n"
            "  dts web --api http://api-1:8321,http://api-2:8321 --tokens /etc/dts/tokens\n"},
    {"up",
     "description:\n"
     "  Runs the whole system on this machine: a private redis-server (AOF on,\n"
     "  data under --data), one api, one scheduler, --executors executors and\n"
     "  the web UI, restarting any that dies; prints the addresses (the UI, the\n"
     "  API, and each role's /metrics). Ctrl-C stops them all.\n"
     "\n"
     "examples:\n"
     "  dts up\n"
     "  dts up --data /tmp/dts --api-port 9321 --web-port 9320 --redis-port 19379 --metrics-port 9322\n"
     "  dts up --http-allow 127.0.0.0/8      # webhooks may call local services\n"},
};

void role_help_print(FILE *out, const char *role)
{
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        if (strcmp(pages[i].role, role) == 0) {
            fprintf(out, "\n%s%s", pages[i].text, common);
            return;
        }
    }
}
