/* Unit tests of key names and shard computation (pure parts of the store). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "store.h"

Test(store_keys, keys_carry_the_shard_hash_tag)
{
    char k[128];
    store_key(k, sizeof k, "dts", 3, "due", NULL);
    cr_assert_str_eq(k, "dts:{3}:due");
    store_key(k, sizeof k, "p", 15, "task", "abc");
    cr_assert_str_eq(k, "p:{15}:task:abc");
}

Test(store_keys, keys_are_what_snprintf_would_write_even_truncated)
{
    const int shards[] = {0, 7, 12, 255, -3};
    for (size_t s = 0; s < sizeof shards / sizeof *shards; s++)
        for (size_t len = 1; len <= 24; len++) {
            char got[32], want[32];
            memset(got, 'x', sizeof got);
            store_key(got, len, "dts", shards[s], "runs", "0123abc");
            snprintf(want, len, "dts:{%d}:runs:0123abc", shards[s]);
            cr_assert_str_eq(got, want, "shard %d, %zu bytes", shards[s], len);
            cr_assert_eq(got[len], 'x', "wrote past %zu bytes", len);
        }
}

Test(store_keys, fnv1a_matches_known_values)
{
    cr_assert_eq(store_hash(""), 2166136261u);
    cr_assert_eq(store_hash("a"), 0xe40c292cu);
    cr_assert_eq(store_hash("foobar"), 0xbf9cf968u);
}

Test(store_keys, shards_are_stable_in_range_and_spread)
{
    int counts[16] = {0};
    char id[32];
    for (int i = 0; i < 16000; i++) {
        snprintf(id, sizeof id, "%012x%012x", i * 7919, i);
        int s = store_shard_of(id, 16);
        cr_assert(s >= 0 && s < 16);
        cr_assert_eq(s, store_shard_of(id, 16));
        counts[s]++;
    }
    for (int s = 0; s < 16; s++)
        cr_expect(counts[s] > 800 && counts[s] < 1200, "shard %d got %d of 16000", s, counts[s]);
    cr_assert_eq(store_shard_of("anything", 1), 0);
}
