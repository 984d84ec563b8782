/* Unit tests of the health-check URL `dts probe` derives from DTS_LISTEN. */
#include <criterion/criterion.h>

#include "probe.h"

static void check(const char *listen, const char *want)
{
    char url[64];
    cr_assert_eq(probe_listen_url(listen, url, sizeof url), 0, "%s", listen);
    cr_assert_str_eq(url, want);
}

Test(probe, keeps_a_concrete_address)
{
    check("127.0.0.1:8323", "http://127.0.0.1:8323/healthz");
    check("[::1]:9000", "http://[::1]:9000/healthz");
}

Test(probe, probes_a_wildcard_on_loopback)
{
    check("0.0.0.0:8321", "http://127.0.0.1:8321/healthz");
    check("[::]:8321", "http://[::1]:8321/healthz");
    check(":8320", "http://127.0.0.1:8320/healthz");
}

Test(probe, refuses_what_names_no_port)
{
    char url[64];
    cr_assert_eq(probe_listen_url(NULL, url, sizeof url), -1);
    cr_assert_eq(probe_listen_url("", url, sizeof url), -1);
    cr_assert_eq(probe_listen_url("localhost", url, sizeof url), -1);
    cr_assert_eq(probe_listen_url("127.0.0.1:", url, sizeof url), -1);
    cr_assert_eq(probe_listen_url("127.0.0.1:8321", url, 10), -1);
}
