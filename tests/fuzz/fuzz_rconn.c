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

void fuzz_rconn_feed(const uint8_t *data, size_t size)
{
    if (reader != NULL)
        redisReaderFree(reader);
    reader = redisReaderCreate();
    if (size > 0)
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
