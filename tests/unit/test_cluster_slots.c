/* Unit tests of Redis Cluster slot routing against the specification's values. */
#include <criterion/criterion.h>
#include <string.h>

#include "cluster_slot.h"

static int slot(const char *key)
{
    return cluster_key_slot(key, strlen(key));
}

Test(cluster_slots, crc16_matches_the_specification)
{
    /* The Cluster specification: CRC16 of "123456789" is 0x31C3. */
    cr_assert_eq(cluster_crc16("123456789", 9), 0x31C3);
    cr_assert_eq(cluster_crc16("", 0), 0);
}

Test(cluster_slots, slots_of_plain_keys)
{
    /* Values Redis answers to CLUSTER KEYSLOT. */
    cr_assert_eq(slot("foo"), 12182);
    cr_assert_eq(slot("bar"), 5061);
    cr_assert_eq(slot("123456789"), 0x31C3 & 16383);
}

Test(cluster_slots, hash_tags_follow_the_specification)
{
    /* The specification's examples. */
    cr_assert_eq(slot("{user1000}.following"), slot("user1000"));
    cr_assert_eq(slot("{user1000}.followers"), slot("user1000"));
    cr_assert_eq(slot("foo{}{bar}"), slot("foo{}{bar}")); /* empty first tag: whole key */
    cr_assert_neq(slot("foo{}{bar}"), slot("bar"));
    cr_assert_eq(slot("foo{{bar}}zap"), slot("{bar"));
    cr_assert_eq(slot("foo{bar}{zap}"), slot("bar"));
    cr_assert_eq(slot("{"), slot("{")); /* no closing brace: whole key */
    cr_assert_eq(cluster_key_slot("{", 1), cluster_crc16("{", 1) & 16383);
    cr_assert_eq(cluster_key_slot("a{}", 3), cluster_crc16("a{}", 3) & 16383);
    /* dts's shard keys: every key of shard N hashes like N. */
    cr_assert_eq(slot("dts:{7}:ready"), slot("7"));
    cr_assert_eq(slot("dts:{7}:task:abc"), slot("dts:{7}:due"));
    cr_assert_eq(slot("{0}"), 13907); /* CLUSTER KEYSLOT {0} */
}

static int key_index(int argc, const char *const *argv)
{
    size_t lens[16];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    return cluster_key_index(argc, argv, lens);
}

Test(cluster_slots, first_key_of_each_command)
{
    const char *evalsha[] = {"EVALSHA", "sha", "2", "k1", "k2", "a"};
    cr_assert_eq(key_index(6, evalsha), 3);
    const char *nokeys[] = {"EVAL", "return 1", "0"};
    cr_assert_eq(key_index(3, nokeys), -1);
    const char *xread[] = {"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s1", "s2", ">", ">"};
    cr_assert_eq(key_index(11, xread), 7);
    const char *xgroup[] = {"XGROUP", "CREATE", "s", "g", "0"};
    cr_assert_eq(key_index(5, xgroup), 2);
    const char *zadd[] = {"zadd", "z", "1", "m"};
    cr_assert_eq(key_index(4, zadd), 1);
    const char *ping[] = {"PING"};
    cr_assert_eq(key_index(1, ping), -1);
    const char *load[] = {"SCRIPT", "LOAD", "return 1"};
    cr_assert_eq(key_index(3, load), -1);
    const char *wait[] = {"WAIT", "1", "100"};
    cr_assert_eq(key_index(3, wait), -1);
}
