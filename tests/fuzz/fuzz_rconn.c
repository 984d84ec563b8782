/* fuzz_rconn: a fake rconn (see src/lib/rconn.h) for fuzz_replies. Commands
 * go nowhere; each reply is the next one redisReader parses from the fuzzed
 * bytes, and running out of them (or a protocol error) is an I/O error, as a
 * dropped connection is for the real rconn. */
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rconn.h"

static redisReader *reader;

/* hiredis 0.14's reader allocates a multi-bulk's element array as soon as it
 * reads the header, with no upper bound: "*700000000" asks for 5.6 GB before
 * any element arrives. That is hiredis's, not ours to fuzz (a hostile server
 * can do it to any hiredis 0.14 client), so inputs that announce more than
 * this many elements are answered with no replies at all. */
#define FUZZ_MAX_ELEMENTS 100000

static int huge_multibulk(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        if (data[i] != '*')
            continue;
        unsigned long long n = 0;
        for (size_t j = i + 1; j < size && data[j] >= '0' && data[j] <= '9' && n <= FUZZ_MAX_ELEMENTS; j++)
            n = n * 10 + (data[j] - '0');
        if (n > FUZZ_MAX_ELEMENTS)
            return 1;
    }
    return 0;
}

void fuzz_rconn_feed(const uint8_t *data, size_t size)
{
    if (reader != NULL)
        redisReaderFree(reader);
    reader = redisReaderCreate();
    if (size > 0 && !huge_multibulk(data, size))
        redisReaderFeed(reader, (const char *)data, size);
}

static redisReply *next_reply(RConn *rc)
{
    void *r = NULL;
    if (reader == NULL || redisReaderGetReply(reader, &r) != REDIS_OK || r == NULL) {
        rc->err = -1;
        snprintf(rc->errstr, sizeof rc->errstr, "fuzz: no more replies");
        return NULL;
    }
    rc->err = 0;
    return r;
}

RConn *rconn_new(const char *url, char *err, size_t errlen)
{
    RConn *rc = calloc(1, sizeof *rc);
    if (rc == NULL)
        abort();
    return rc;
}

void rconn_free(RConn *rc)
{
    free(rc);
}

int rconn_ensure(RConn *rc)
{
    return 0;
}

redisReply *rconn_argv(RConn *rc, int argc, const char **argv, const size_t *lens)
{
    return next_reply(rc);
}

redisReply *rconn_cmd(RConn *rc, const char *fmt, ...)
{
    return next_reply(rc);
}

int rconn_append_argv(RConn *rc, int argc, const char **argv, const size_t *lens)
{
    return 0;
}

int rconn_append(RConn *rc, const char *fmt, ...)
{
    return 0;
}

redisReply *rconn_read(RConn *rc)
{
    return next_reply(rc);
}

void rconn_drop(RConn *rc)
{
}

int rconn_is_cluster(const RConn *rc)
{
    return 0;
}
