/* yamljson: a YAML document read into the JSON data model (jansson), with libyaml. */
#ifndef DTS_YAMLJSON_H
#define DTS_YAMLJSON_H

#include <stddef.h>

#include <jansson.h>

/* Parses the first YAML document in TEXT (LEN bytes) into JSON: mappings become
 * objects (keys must be scalars), sequences arrays; a plain scalar is null
 * (null, ~, empty), a boolean (true/false), an integer or a real when it reads
 * as a decimal number, else a string; a quoted scalar is always a string. Anchors, aliases
 * and duplicate keys are refused. Returns a new reference the caller
 * json_decrefs, or NULL with a one-line message (with line number) in err.
 * Pure: no I/O. */
json_t *yaml_to_json(const char *text, size_t len, char *err, size_t errlen);

#endif
