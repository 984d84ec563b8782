/* Unit tests of the route table matcher. */
#include <criterion/criterion.h>

#include "router.h"

static const Route routes[] = {
    {"GET", "/api/v1/tasks", NULL, 0, "list"},
    {"POST", "/api/v1/tasks", NULL, 0, "create"},
    {"GET", "/api/v1/tasks/{id}", NULL, 0, "get"},
    {"GET", "/api/v1/tasks/{id}/runs", NULL, 0, "runs"},
};
#define N (sizeof routes / sizeof routes[0])

Test(router, matches_method_and_captures)
{
    RouteMatch m;
    cr_assert_eq(router_match(routes, N, "GET", "/api/v1/tasks/abc/runs", &m), ROUTER_OK);
    cr_assert_str_eq(m.route->name, "runs");
    cr_assert_eq(m.nparams, 1);
    cr_assert_str_eq(m.params[0], "abc");
    cr_assert_eq(router_match(routes, N, "POST", "/api/v1/tasks", &m), ROUTER_OK);
    cr_assert_str_eq(m.route->name, "create");
}

Test(router, distinguishes_404_and_405)
{
    RouteMatch m;
    cr_assert_eq(router_match(routes, N, "DELETE", "/api/v1/tasks", &m), ROUTER_METHOD_NOT_ALLOWED);
    cr_assert_str_eq(m.allow, "GET, POST");
    cr_assert_eq(router_match(routes, N, "GET", "/api/v1/task", &m), ROUTER_NOT_FOUND);
    cr_assert_eq(router_match(routes, N, "GET", "/api/v1/tasks/", &m), ROUTER_NOT_FOUND);
    cr_assert_eq(router_match(routes, N, "GET", "/api/v1/tasks/a/b", &m), ROUTER_NOT_FOUND);
    cr_assert_eq(router_match(routes, N, "GET", "/api/v1/tasks/abc/runs/", &m), ROUTER_NOT_FOUND);
}

Test(router, refuses_oversized_segments)
{
    char path[400] = "/api/v1/tasks/";
    memset(path + 14, 'x', 300);
    path[314] = '\0';
    RouteMatch m;
    cr_assert_eq(router_match(routes, N, "GET", path, &m), ROUTER_NOT_FOUND);
}

#include "httpd.h"

Test(router, unsafe_paths_are_recognised)
{
    static const char *safe[] = {"/", "/api/v1/tasks", "/index.html", "/api/v1/tasks/abc/runs",
                                 "/a..b/c.d"};
    static const char *unsafe[] = {
        "",     "api",  "/api/../metrics", "/api/v1/..", "/./x",   "/a//b", "/a/\r\nb",
        "/a?b", "/a#b", "/a\\b",           "/..",        "/a/\x7f"};
    for (size_t i = 0; i < sizeof safe / sizeof *safe; i++)
        cr_expect(http_path_safe(safe[i]), "%s should be safe", safe[i]);
    for (size_t i = 0; i < sizeof unsafe / sizeof *unsafe; i++)
        cr_expect_not(http_path_safe(unsafe[i]), "%s should be refused", unsafe[i]);
}
