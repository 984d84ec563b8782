/* Unit tests of the cross-site, DNS-rebinding and form-body request guard. */
#include <criterion/criterion.h>

#include "reqguard.h"

static int judge(const ReqGuard *g, GuardRequest r)
{
    char why[160];
    if (r.method == NULL)
        r.method = "POST";
    return reqguard_check(g, &r, why, sizeof why);
}

Test(reqguard, hosts_loopback_ip_literals_and_listed_names_only)
{
    char err[128];
    ReqGuard *g = reqguard_new("dts.example.com, .corp.example", NULL, err, sizeof err);
    cr_assert_not_null(g);
    static const char *ok[] = {"localhost",     "localhost:8321",  "127.0.0.1:8321",
                               "127.9.9.9",     "[::1]:8321",      "[0:0:0:0:0:0:0:1]:8321",
                               "10.1.2.3:8321", "dts.example.com", "DTS.example.com:443",
                               "a.corp.example"};
    static const char *bad[] = {"evil.example",
                                "evil.example:8321",
                                "localhost.evil.example",
                                "127.0.0.1.nip.io",
                                "corp.example",
                                "[::1",
                                "",
                                ":8321",
                                "xdts.example.com",
                                "[evil]:80"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        cr_expect(reqguard_host_ok(g, ok[i]), "%s should be allowed", ok[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_not(reqguard_host_ok(g, bad[i]), "%s should be refused", bad[i]);
    cr_expect_not(reqguard_host_ok(g, NULL));
    cr_expect_not(reqguard_host_ok(NULL, "dts.example.com"));
    reqguard_free(g);
}

Test(reqguard, bad_allowed_host_is_an_error)
{
    char err[128] = "";
    cr_expect_null(reqguard_new("ok.example,bad host/x", NULL, err, sizeof err));
    cr_expect(strstr(err, "host/x") != NULL, "%s", err);
    reqguard_free(NULL);
}

Test(reqguard, curl_from_a_shell_passes_browsers_from_elsewhere_do_not)
{
    const char *form = "application/x-www-form-urlencoded";
    cr_expect_eq(judge(NULL, (GuardRequest){.host = "127.0.0.1:8321", .content_type = form}), 0);
    cr_expect_eq(judge(NULL, (GuardRequest){.host = "127.0.0.1:8321"}), 0);
    cr_expect_eq(judge(NULL, (GuardRequest){.host = "127.0.0.1:8321", .origin = "http://evil.example"}),
                 -1);
    cr_expect_eq(judge(NULL, (GuardRequest){.host = "127.0.0.1:8321", .origin = "null"}), -1);
    cr_expect_eq(judge(NULL, (GuardRequest){.host = "localhost:8321", .origin = "http://localhost:3000"}),
                 -1);
    cr_expect_eq(judge(NULL, (GuardRequest){.host = "127.0.0.1:8321", .fetch_site = "cross-site"}), -1);
    cr_expect_eq(
        judge(NULL, (GuardRequest){.method = "GET", .host = "127.0.0.1:8321", .fetch_site = "cross-site"}),
        -1);
    cr_expect_eq(judge(NULL, (GuardRequest){.host = "evil.example:8321"}), -1);
    cr_expect_eq(judge(NULL, (GuardRequest){.method = "GET"}), 0, "an HTTP/1.0 health check has no Host");
    cr_expect_eq(judge(NULL, (GuardRequest){.origin = "http://127.0.0.1:8321"}), -1);
}

Test(reqguard, same_origin_ui_and_the_cors_origin_pass_with_json_only)
{
    char err[128];
    ReqGuard *g = reqguard_new("", "https://ui.example", err, sizeof err);
    const char *json = "application/json";
    cr_expect_eq(judge(g, (GuardRequest){.host = "127.0.0.1:8322",
                                         .origin = "http://127.0.0.1:8322",
                                         .fetch_site = "same-origin",
                                         .content_type = json}),
                 0);
    cr_expect_eq(judge(g, (GuardRequest){.host = "127.0.0.1:8321",
                                         .origin = "https://ui.example",
                                         .fetch_site = "cross-site",
                                         .content_type = json}),
                 0);
    cr_expect_eq(judge(g, (GuardRequest){.method = "OPTIONS",
                                         .host = "127.0.0.1:8321",
                                         .origin = "https://ui.example",
                                         .fetch_site = "cross-site"}),
                 0);
    static const char *forms[] = {"application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                  "text/plain;charset=UTF-8", "TEXT/PLAIN"};
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        cr_expect_eq(judge(g, (GuardRequest){.host = "127.0.0.1:8322",
                                             .origin = "http://127.0.0.1:8322",
                                             .content_type = forms[i]}),
                     -1, "%s", forms[i]);
        cr_expect_eq(judge(g, (GuardRequest){.host = "127.0.0.1:8322",
                                             .fetch_mode = "no-cors",
                                             .content_type = forms[i]}),
                     -1, "%s", forms[i]);
    }
    cr_expect_eq(judge(g, (GuardRequest){.method = "GET",
                                         .host = "127.0.0.1:8322",
                                         .fetch_site = "same-origin",
                                         .content_type = "text/plain"}),
                 0);
    reqguard_free(g);
}
