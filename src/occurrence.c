/* occurrence: makes and parses occurrence ids, run ids, retry tokens and
 * ready-entry fields (see occurrence.h). Pure. */
#include "occurrence.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_PREFIX "retry:"

int occurrence_id(char *buf, size_t len, const char *task, int64_t sched_ms)
{
    return snprintf(buf, len, "%s:%lld", task, (long long)sched_ms);
}

int occurrence_run_id(char *buf, size_t len, const char *task, int64_t sched_ms, int attempt)
{
    return snprintf(buf, len, "%s:%lld:%d", task, (long long)sched_ms, attempt);
}

int occurrence_token(char *buf, size_t len, const Occurrence *o, int with_kind)
{
    if (with_kind && o->kind[0])
        return snprintf(buf, len, TOKEN_PREFIX "%s:%lld:%d:%s", o->task, (long long)o->sched_ms, o->attempt,
                        o->kind);
    return snprintf(buf, len, TOKEN_PREFIX "%s:%lld:%d", o->task, (long long)o->sched_ms, o->attempt);
}

int occurrence_run_id_around(char *head, size_t head_len, char *tail, size_t tail_len, const char *task,
                             int attempt)
{
    int h = snprintf(head, head_len, "%s:", task), t = snprintf(tail, tail_len, ":%d", attempt);
    return h < 0 || (size_t)h >= head_len || t < 0 || (size_t)t >= tail_len ? -1 : 0;
}

int occurrence_token_around(char *head, size_t head_len, char *tail, size_t tail_len, const char *task,
                            int attempt, const char *kind)
{
    int h = snprintf(head, head_len, TOKEN_PREFIX "%s:", task);
    int t = kind && kind[0] ? snprintf(tail, tail_len, ":%d:%s", attempt, kind)
                            : snprintf(tail, tail_len, ":%d", attempt);
    return h < 0 || (size_t)h >= head_len || t < 0 || (size_t)t >= tail_len ? -1 : 0;
}

/* Parses the whole decimal number at *S up to the next ':' or the end, in
 * [MIN, MAX]; advances *S past it. Returns 0 or -1. */
static int number(const char **s, long long min, long long max, long long *out)
{
    const char *p = *s;
    if (*p < '0' || *p > '9')
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(p, &end, 10);
    if (errno != 0 || v < min || v > max || (*end != ':' && *end != '\0'))
        return -1;
    *out = v;
    *s = end;
    return 0;
}

/* Parses "TASK:SCHED_MS:ATTEMPT" at S into *O; *REST gets what follows (at
 * a ':' or the end). Returns 0 or -1. */
static int triple(const char *s, Occurrence *o, const char **rest)
{
    memset(o, 0, sizeof *o);
    const char *colon = strchr(s, ':');
    if (colon == NULL || (size_t)(colon - s) > TASK_ID_MAX)
        return -1;
    memcpy(o->task, s, (size_t)(colon - s));
    o->task[colon - s] = '\0';
    if (!task_id_valid(o->task))
        return -1;
    long long sched, attempt;
    const char *p = colon + 1;
    if (number(&p, 0, INT64_MAX / 2, &sched) != 0 || *p++ != ':' || number(&p, 1, 1000000, &attempt) != 0)
        return -1;
    o->sched_ms = sched;
    o->attempt = (int)attempt;
    *rest = p;
    return 0;
}

int occurrence_run_id_parse(const char *s, Occurrence *o)
{
    const char *rest;
    return triple(s, o, &rest) == 0 && *rest == '\0' ? 0 : -1;
}

/* 1 if S is a kind word: 1..OCC_KIND_MAX lowercase letters. */
static int kind_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (s[n] < 'a' || s[n] > 'z')
            return 0;
    return n >= 1 && n <= OCC_KIND_MAX;
}

int occurrence_token_parse(const char *s, Occurrence *o)
{
    const char *rest;
    if (strncmp(s, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1) != 0 ||
        triple(s + sizeof TOKEN_PREFIX - 1, o, &rest))
        return -1;
    if (*rest == '\0') {
        snprintf(o->kind, sizeof o->kind, "retry");
        return 0;
    }
    if (!kind_valid(rest + 1))
        return -1;
    snprintf(o->kind, sizeof o->kind, "%s", rest + 1);
    return 0;
}

void occurrence_entry_init(Occurrence *o)
{
    memset(o, 0, sizeof *o);
    o->attempt = 1;
}

int occurrence_entry_field(Occurrence *o, const char *field, const char *value)
{
    long long v;
    const char *p = value;
    if (strcmp(field, OCC_FIELD_TASK) == 0) {
        if (!task_id_valid(value))
            return -1;
        snprintf(o->task, sizeof o->task, "%s", value);
    } else if (strcmp(field, OCC_FIELD_SCHED) == 0) {
        if (number(&p, 0, INT64_MAX / 2, &v) != 0 || *p != '\0')
            return -1;
        o->sched_ms = v;
    } else if (strcmp(field, OCC_FIELD_ATTEMPT) == 0) {
        if (number(&p, 1, 1000000, &v) != 0 || *p != '\0')
            return -1;
        o->attempt = (int)v;
    } else if (strcmp(field, OCC_FIELD_KIND) == 0) {
        if (!kind_valid(value))
            return -1;
        snprintf(o->kind, sizeof o->kind, "%s", value);
    }
    return 0;
}

int occurrence_entry_valid(const Occurrence *o)
{
    return o->task[0] != '\0' && o->attempt >= 1;
}
