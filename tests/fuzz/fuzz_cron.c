/* fuzz_cron: libFuzzer target driving cron_parse and cron_next with arbitrary input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"
#include "tz.h"

static const char *const zones[] = {NULL, "Europe/Berlin", "Australia/Lord_Howe",
                                    "America/Santiago", "Pacific/Chatham", "Asia/Gaza"};

/* CPU time of this thread: a busy machine must not fail the time limit. */
static int64_t fuzz_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Loads the zones once, outside the timed inputs. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];
    for (size_t i = 1; i < sizeof zones / sizeof zones[0]; i++) {
        if (!tz_get(zones[i], err, sizeof err))
            abort();
    }
    return 0;
}

/* Parses TEXT and chains eight cron_next calls from AFTER in ZONE. */
static void fuzz_run(const char *text, const Tz *zone, int64_t after, int raw)
{
    char err[256];
    CronExpr *e = cron_parse(text, err, sizeof err);
    if (e) {
        /* Keep most starts in a useful range, but also try the raw value. */
        int64_t t = raw ? after : (int64_t)((uint64_t)after % INT64_C(253402300799000));
        for (int i = 0; i < 8 && t >= 0; i++) {
            int64_t next = cron_next(e, zone, after, t);
            if (next >= 0 && next <= t)
                abort(); /* must move strictly forward */
            t = next;
        }
    }
    cron_free(e);
}

/* Input: 8 bytes of start instant, 1 byte of zone choice, then the expression. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9 || size > 512)
        return 0;
    int64_t after;
    memcpy(&after, data, sizeof after);
    const char *zname = zones[data[8] % (sizeof zones / sizeof zones[0])];
    char err[256];
    const Tz *zone = zname ? tz_get(zname, err, sizeof err) : NULL;
    char *text = malloc(size - 8);
    memcpy(text, data + 9, size - 9);
    text[size - 9] = '\0';
    /* Instrumented code runs 10-20x slower: 20 ms of CPU here is about 1 ms in
     * production. A slow input is run again, so that a one-off pause of the
     * sanitizers' allocator is not reported; a slow input stays slow. */
    const char *limit = getenv("FUZZ_CRON_MAX_US");
    int64_t max_us = limit ? atoll(limit) : 20000;
    for (int attempt = 0; attempt < 2; attempt++) {
        int64_t t0 = fuzz_now_us();
        fuzz_run(text, zone, after, data[8] & 0x80);
        if (max_us <= 0 || fuzz_now_us() - t0 <= max_us)
            break;
        if (attempt == 1)
            abort();
    }
    free(text);
    return 0;
}
