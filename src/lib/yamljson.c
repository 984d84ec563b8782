/* yamljson: builds a jansson value from libyaml's event stream, one node at a time. */
#include "yamljson.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define YAML_DEPTH_MAX 64

typedef struct Reader {
    yaml_parser_t p;
    char *err;
    size_t errlen;
    int failed;
} Reader;

static json_t *node(Reader *r, yaml_event_t *ev, int depth);

static void fail(Reader *r, size_t line, const char *what)
{
    if (!r->failed)
        snprintf(r->err, r->errlen, "line %zu: %s", line + 1, what);
    r->failed = 1;
}

/* The next event into EV; 0, or -1 after recording the parser's error. */
static int next(Reader *r, yaml_event_t *ev)
{
    if (yaml_parser_parse(&r->p, ev))
        return 0;
    fail(r, r->p.problem_mark.line, r->p.problem ? r->p.problem : "malformed YAML");
    return -1;
}

/* A plain scalar's JSON meaning (YAML 1.2 core schema, roughly). */
static json_t *plain(const char *s)
{
    if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
        return json_null();
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
        return json_true();
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
        return json_false();
    char *end;
    errno = 0;
    long long i = strtoll(s, &end, 10);
    if (*end == '\0' && errno == 0 && (s[0] == '-' || s[0] == '+' || (s[0] >= '0' && s[0] <= '9')))
        return json_integer(i);
    double d = strtod(s, &end); /* decimal only: no hex, inf or nan */
    if (*end == '\0' && errno == 0 && s[strspn(s, "+-.0123456789eE")] == '\0' && strpbrk(s, "0123456789"))
        return json_real(d);
    return json_string(s);
}

static json_t *scalar(Reader *r, yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    if (ev->data.scalar.length != strlen(s)) {
        fail(r, ev->start_mark.line, "NUL bytes are not allowed");
        return NULL;
    }
    json_t *v = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain(s) : json_string(s);
    if (v == NULL)
        fail(r, ev->start_mark.line, "not valid UTF-8");
    return v;
}

static json_t *sequence(Reader *r, int depth)
{
    json_t *arr = json_array();
    for (;;) {
        yaml_event_t ev;
        if (next(r, &ev) != 0)
            break;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return arr;
        }
        json_t *v = node(r, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (v == NULL)
            break;
        json_array_append_new(arr, v);
    }
    json_decref(arr);
    return NULL;
}

static json_t *mapping(Reader *r, int depth)
{
    json_t *obj = json_object();
    for (;;) {
        yaml_event_t kev, vev;
        if (next(r, &kev) != 0)
            break;
        if (kev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&kev);
            return obj;
        }
        size_t line = kev.start_mark.line;
        char *key = kev.type == YAML_SCALAR_EVENT ? strdup((const char *)kev.data.scalar.value) : NULL;
        yaml_event_delete(&kev);
        if (key == NULL || json_object_get(obj, key) != NULL) {
            fail(r, line, key ? "duplicate key" : "mapping keys must be scalars");
            free(key);
            break;
        }
        json_t *v = NULL;
        if (next(r, &vev) == 0) {
            v = node(r, &vev, depth + 1);
            yaml_event_delete(&vev);
        }
        int bad = v == NULL || json_object_set_new(obj, key, v) != 0;
        free(key);
        if (bad) {
            fail(r, line, "bad key");
            break;
        }
    }
    json_decref(obj);
    return NULL;
}

/* The value that starts with event EV (which the caller deletes). */
static json_t *node(Reader *r, yaml_event_t *ev, int depth)
{
    if (depth > YAML_DEPTH_MAX) {
        fail(r, ev->start_mark.line, "nested too deeply");
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        if (ev->data.scalar.anchor == NULL)
            return scalar(r, ev);
        break;
    case YAML_SEQUENCE_START_EVENT:
        if (ev->data.sequence_start.anchor == NULL)
            return sequence(r, depth);
        break;
    case YAML_MAPPING_START_EVENT:
        if (ev->data.mapping_start.anchor == NULL)
            return mapping(r, depth);
        break;
    default:
        break;
    }
    fail(r, ev->start_mark.line, "anchors and aliases are not supported");
    return NULL;
}

/* Skips the events up to the document's root node, which it returns in EV. */
static int document_root(Reader *r, yaml_event_t *ev)
{
    for (;;) {
        if (next(r, ev) != 0)
            return -1;
        if (ev->type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(ev);
            fail(r, 0, "empty document");
            return -1;
        }
        if (ev->type != YAML_STREAM_START_EVENT && ev->type != YAML_DOCUMENT_START_EVENT)
            return 0;
        yaml_event_delete(ev);
    }
}

json_t *yaml_to_json(const char *text, size_t len, char *err, size_t errlen)
{
    Reader r = {.err = err, .errlen = errlen};
    yaml_event_t ev;
    json_t *v = NULL;
    if (!yaml_parser_initialize(&r.p)) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&r.p, (const unsigned char *)text, len);
    if (document_root(&r, &ev) == 0) {
        v = node(&r, &ev, 0);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&r.p);
    return v;
}
