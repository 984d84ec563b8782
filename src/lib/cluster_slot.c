/* cluster_slot: CRC16, hash tags and key positions for Redis Cluster routing. */
#include "cluster_slot.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

uint16_t cluster_crc16(const char *buf, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((unsigned char)buf[i] << 8);
        for (int bit = 0; bit < 8; bit++)
            crc = crc & 0x8000 ? (uint16_t)(crc << 1 ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

int cluster_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open != NULL) {
        size_t rest = len - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close != NULL && close > open + 1)
            return cluster_crc16(open + 1, (size_t)(close - open - 1)) & (CLUSTER_SLOTS - 1);
    }
    return cluster_crc16(key, len) & (CLUSTER_SLOTS - 1);
}

static int arg_is(const char *arg, size_t len, const char *word)
{
    return len == strlen(word) && strncasecmp(arg, word, len) == 0;
}

/* Commands without keys: they go to whichever node served the previous one. */
static const char *const keyless[] = {"PING",   "TIME",   "SCRIPT",  "WAIT",     "CLUSTER",  "INFO",
                                      "ROLE",   "ASKING", "AUTH",    "SELECT",   "HELLO",    "CLIENT",
                                      "CONFIG", "DBSIZE", "COMMAND", "READONLY", "FLUSHALL", NULL};

int cluster_key_index(int argc, const char *const *argv, const size_t *lens)
{
    if (argc < 1)
        return -1;
    const char *cmd = argv[0];
    size_t clen = lens[0];
    for (int i = 0; keyless[i] != NULL; i++)
        if (arg_is(cmd, clen, keyless[i]))
            return -1;
    if (arg_is(cmd, clen, "EVAL") || arg_is(cmd, clen, "EVALSHA") || arg_is(cmd, clen, "EVALSHA_RO") ||
        arg_is(cmd, clen, "EVAL_RO") || arg_is(cmd, clen, "FCALL")) {
        if (argc < 4 || lens[2] == 0 || lens[2] > 9 || argv[2][0] < '1' || argv[2][0] > '9')
            return -1;
        return 3;
    }
    if (arg_is(cmd, clen, "XREADGROUP") || arg_is(cmd, clen, "XREAD")) {
        for (int i = 1; i + 1 < argc; i++)
            if (arg_is(argv[i], lens[i], "STREAMS"))
                return i + 1;
        return -1;
    }
    if (arg_is(cmd, clen, "XGROUP") || arg_is(cmd, clen, "XINFO") || arg_is(cmd, clen, "OBJECT"))
        return argc > 2 ? 2 : -1;
    return argc > 1 ? 1 : -1;
}
