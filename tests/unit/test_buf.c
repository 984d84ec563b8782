/* Unit tests of the growable byte buffer. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

Test(buf, grows_keeps_nuls_and_terminates)
{
    Buf b = {0};
    buf_add(&b, "a\0b", 3);
    cr_expect_eq(b.len, 3);
    cr_expect_eq(memcmp(b.data, "a\0b", 4), 0, "the bytes and a terminating NUL");
    for (int i = 0; i < 1000; i++)
        buf_adds(&b, "0123456789");
    cr_expect_eq(b.len, 10003);
    cr_expect_eq(b.data[b.len], '\0');
    cr_expect_eq(memcmp(b.data + 9993, "0123456789", 10), 0);
    buf_free(&b);
    cr_expect_null(b.data);
    buf_free(&b); /* a second free is a no-op */
}

Test(buf, formats_past_the_room_it_has)
{
    Buf b = {0};
    buf_addf(&b, "%s=%d;", "x", 1);
    char big[5000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    buf_addf(&b, "%s", big); /* longer than any first guess */
    buf_addf(&b, "%s", "");
    cr_expect_eq(b.len, 4 + sizeof big - 1);
    cr_expect_eq(strncmp(b.data, "x=1;yyy", 7), 0);
    cr_expect_eq(b.data[b.len], '\0');
    buf_free(&b);
}

Test(buf, take_hands_over_and_empties)
{
    Buf b = {0};
    size_t len = 99;
    char *s = buf_take(&b, &len);
    cr_expect_str_eq(s, "", "an empty buffer hands over an empty string, not NULL");
    cr_expect_eq(len, 0);
    free(s);
    buf_adds(&b, "hello");
    s = buf_take(&b, &len);
    cr_expect_str_eq(s, "hello");
    cr_expect_eq(len, 5);
    cr_expect_null(b.data);
    cr_expect_eq(b.len, 0);
    free(s);
    buf_adds(&b, "abc");
    buf_reset(&b);
    cr_expect_eq(b.len, 0);
    cr_expect_str_eq(b.data, "");
    buf_adds(&b, "d");
    cr_expect_str_eq(b.data, "d");
    buf_free(&b);
}
