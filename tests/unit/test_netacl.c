/* Unit tests of the outbound address policy. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>

#include "netacl.h"

static struct sockaddr_storage addr(const char *text)
{
    struct sockaddr_storage ss = {0};
    if (strchr(text, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        cr_assert_eq(inet_pton(AF_INET6, text, &a->sin6_addr), 1);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        cr_assert_eq(inet_pton(AF_INET, text, &a->sin_addr), 1);
    }
    return ss;
}

/* Expects netacl_internal to say WANT for each of the N addresses. */
static void expect_internal(const char *const *addrs, size_t n, int want)
{
    for (size_t i = 0; i < n; i++) {
        struct sockaddr_storage a = addr(addrs[i]);
        cr_expect_eq(netacl_internal((struct sockaddr *)&a), want, "%s should be %s", addrs[i],
                     want ? "internal" : "public");
    }
}

Test(netacl, internal_addresses_are_recognised)
{
    static const char *internal[] = {"127.0.0.1",
                                     "10.1.2.3",
                                     "172.31.255.255",
                                     "192.168.0.1",
                                     "169.254.169.254",
                                     "0.0.0.0",
                                     "100.64.0.1",
                                     "224.0.0.1",
                                     "::1",
                                     "::",
                                     "fd00:ec2::254",
                                     "fe80::1",
                                     "::ffff:127.0.0.1",
                                     "::ffff:10.0.0.1"};
    static const char *public[] = {"8.8.8.8", "172.32.0.1", "1.1.1.1", "2606:4700:4700::1111",
                                   "::ffff:8.8.8.8"};
    expect_internal(internal, sizeof internal / sizeof *internal, 1);
    expect_internal(public, sizeof public / sizeof *public, 0);
}

Test(netacl, allow_list_opens_exactly_its_blocks)
{
    char err[128], why[256];
    NetAcl *acl = netacl_parse("127.0.0.0/8, 10.1.0.0/16,::1", err, sizeof err);
    cr_assert_not_null(acl, "%s", err);
    struct sockaddr_storage lo = addr("127.0.0.1"), ten = addr("10.1.9.9"), other = addr("10.2.0.1"),
                            v6 = addr("::1"), meta = addr("169.254.169.254"), pub = addr("8.8.8.8");
    cr_assert(netacl_permits(acl, (struct sockaddr *)&lo, why, sizeof why));
    cr_assert(netacl_permits(acl, (struct sockaddr *)&ten, why, sizeof why));
    cr_assert(netacl_permits(acl, (struct sockaddr *)&v6, why, sizeof why));
    cr_assert(netacl_permits(acl, (struct sockaddr *)&pub, why, sizeof why));
    cr_assert_not(netacl_permits(acl, (struct sockaddr *)&other, why, sizeof why));
    cr_assert_not(netacl_permits(acl, (struct sockaddr *)&meta, why, sizeof why));
    cr_assert(strstr(why, "refused") != NULL, "%s", why);
    cr_assert(strstr(why, "169.254") == NULL, "the reason reveals the internal address: %s", why);
    netacl_free(acl);
    NetAcl *none = netacl_parse("", err, sizeof err);
    cr_assert_not(netacl_permits(none, (struct sockaddr *)&lo, NULL, 0));
    netacl_free(none);
}

/* Issue 12, item 12: IPv6 ranges that reach IPv4 or are not global. */
Test(netacl, ipv6_forms_that_embed_or_translate_ipv4_are_internal)
{
    static const char *internal[] = {"fec0::1",
                                     "feff::1",
                                     "2002:a00:1::1",
                                     "2002:808:808::1",
                                     "::10.0.0.1",
                                     "::8.8.8.8",
                                     "::ffff:0:10.0.0.1",
                                     "::ffff:0:8.8.8.8",
                                     "64:ff9b::a00:1",
                                     "64:ff9b:1::1",
                                     "64:ff9b:1:ffff::1",
                                     "100::1",
                                     "100::ffff:ffff:ffff:ffff",
                                     "::ffff:169.254.169.254",
                                     "::ffff:100.64.0.1",
                                     "2001:db8::1"};
    static const char *public[] = {"100:0:0:1::1", "64:ff9b:2::1",   "2003::1",
                                   "2606:4700::1", "::ffff:1.1.1.1", "fe00::1"};
    expect_internal(internal, sizeof internal / sizeof *internal, 1);
    expect_internal(public, sizeof public / sizeof *public, 0);
}

Test(netacl, bad_blocks_are_refused)
{
    char err[128];
    cr_assert_null(netacl_parse("10.0.0.0/33", err, sizeof err));
    cr_assert_null(netacl_parse("banana", err, sizeof err));
    cr_assert_null(netacl_parse("10.0.0.0/", err, sizeof err));
    cr_assert(strstr(err, "10.0.0.0/") != NULL);
}
