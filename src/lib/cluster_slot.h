/* cluster_slot: Redis Cluster's key -> hash slot mapping (CRC16 and hash tags),
 * and where each command dts sends keeps its first key. Pure, no I/O. */
#ifndef DTS_CLUSTER_SLOT_H
#define DTS_CLUSTER_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define CLUSTER_SLOTS 16384

/* CRC16 as the Redis Cluster specification defines it (CCITT/XMODEM:
 * polynomial 0x1021, initial value 0, no reflection, no final xor). */
uint16_t cluster_crc16(const char *buf, size_t len);

/* The hash slot (0..16383) of KEY: the CRC16 of its hash tag (the bytes
 * between the first '{' and the next '}', when not empty) or of the whole key,
 * modulo 16384. */
int cluster_key_slot(const char *key, size_t len);

/* Index in ARGV of the command's first key, or -1 for a command with no key
 * (PING, TIME, SCRIPT, WAIT, CLUSTER, INFO, an EVAL with no keys...). Knows the
 * commands dts sends: EVAL/EVALSHA (numkeys then keys), XREADGROUP/XREAD (the
 * first key after STREAMS), XGROUP (the key after the subcommand), and the
 * single-key commands, whose key is the first argument. */
int cluster_key_index(int argc, const char *const *argv, const size_t *lens);

#endif
