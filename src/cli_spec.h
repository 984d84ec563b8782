/* cli_spec: a task spec (the API's JSON) from a JSON or YAML file, or from
 * the flags of `dts task create|edit`. No I/O but reading the file. */
#ifndef DTS_CLI_SPEC_H
#define DTS_CLI_SPEC_H

#include "cli.h"

/* The flags create and edit take (besides the common ones). */
extern const CliOpt cli_spec_opts[];
extern const int cli_spec_nopts;

/* Reads the spec file PATH ("-" for stdin): JSON, or YAML when it is not
 * JSON. Returns CLI_OK with a new object in *spec, or CLI_EUSAGE after a
 * one-line message. */
int cli_spec_read(const Cli *c, const char *path, json_t **spec);

/* Applies the flags in A (and the argv after "--") to SPEC, which is a new
 * spec or a task's current one: --cron/--at/--every replace the schedule,
 * --label adds (k=) or removes (k-) labels, an argv replaces the action, and
 * so on. Returns CLI_OK, or CLI_EUSAGE after a one-line message naming the
 * flag. */
int cli_spec_apply(const Cli *c, const CliArgs *a, json_t *spec);

/* Whether A holds any flag cli_spec_apply uses. */
int cli_spec_has_flags(const CliArgs *a);

#endif
