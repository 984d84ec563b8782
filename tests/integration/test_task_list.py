"""GET /api/v1/tasks with label filters (repeatable, all must hold) and sort,
on the server: pages follow cursors through the filtered, ordered list."""
import unittest

from dtstest import DtsCase


class TaskListTest(DtsCase):
    def setUp(self):
        super().setUp()
        self.start_api()
        self.ids = []
        for i in range(25):
            labels = {"team": "data" if i % 2 == 0 else "web", "tier": str(i % 3)}
            self.ids.append(self.create({"name": f"t{i:02d}", "labels": labels, "schedule": {"cron": "@daily"},
                                         "action": {"type": "noop"}})["id"])

    def order(self, keep=lambda i: True, oldest_first=False):
        """The names of the tasks numbered i with KEEP(i), in creation order: ids grow with
        the creation millisecond (ties within one are broken by the id's random part)."""
        ids = sorted((self.ids[i], f"t{i:02d}") for i in range(25) if keep(i))
        return [n for _, n in (ids if oldest_first else ids[::-1])]

    def pages(self, query, limit=4):
        """Every page of the list, following next_cursor; returns the names in order."""
        names, cursor = [], None
        for _ in range(100):
            path = f"/api/v1/tasks?limit={limit}&{query}" + (f"&cursor={cursor}" if cursor else "")
            status, body, _ = self.api.get(path)
            self.assertEqual(status, 200, body)
            self.assertLessEqual(len(body["items"]), limit)
            names += [t["name"] for t in body["items"]]
            cursor = body.get("next_cursor")
            if not cursor:
                return names
        self.fail("the cursors never ended")

    def test_label_filter_holds_across_pages(self):
        data = self.pages("label=team=data")
        self.assertEqual(data, self.order(lambda i: i % 2 == 0))  # newest first
        both = self.pages("label=team=data&label=tier=0")
        self.assertEqual(both, self.order(lambda i: i % 2 == 0 and i % 3 == 0))
        self.assertEqual(self.pages("label=team=nobody"), [])
        self.assertEqual(self.pages("label=team%3Ddata&label=tier%3D1&state=active", limit=2),
                         self.order(lambda i: i % 2 == 0 and i % 3 == 1))

    def test_sort_created_both_ways_with_cursors(self):
        self.assertEqual(self.pages("sort=created"), self.order(oldest_first=True))
        self.assertEqual(self.pages("sort=-created"), self.order())
        self.assertEqual(self.pages("sort=created&label=team=web", limit=3),
                         self.order(lambda i: i % 2 == 1, oldest_first=True))

    def test_sort_by_name_and_next_run_with_cursors(self):
        # Names in an order of their own: t24 first, then the rest by name.
        self.api.request("PUT", f"/api/v1/tasks/{self.ids[24]}",
                         {"name": "a-first", "labels": {"team": "data", "tier": "0"}, "schedule": {"cron": "@daily"},
                          "action": {"type": "noop"}})
        names = self.pages("sort=name", limit=4)
        self.assertEqual(names, ["a-first"] + [f"t{i:02d}" for i in range(24)])
        self.assertEqual(self.pages("sort=name&label=team=web", limit=5), [f"t{i:02d}" for i in range(1, 24, 2)])
        # Next run: spread the due times by giving some tasks a yearly schedule, one a pause (never due: last).
        for i in (3, 7):
            self.api.request("PUT", f"/api/v1/tasks/{self.ids[i]}",
                             {"name": f"t{i:02d}", "schedule": {"cron": "@yearly"}, "action": {"type": "noop"}})
        self.api.post(f"/api/v1/tasks/{self.ids[5]}/pause")
        order = self.pages("sort=next_run", limit=3)
        self.assertEqual(len(order), 25)
        self.assertEqual(order[-3:], ["t03", "t07", "t05"])  # yearly after daily; the paused one last
        # A page starts after its cursor even when tasks come and go in between.
        status, first, _ = self.api.get("/api/v1/tasks?sort=name&limit=3")
        self.assertEqual([t["name"] for t in first["items"]], ["a-first", "t00", "t01"])
        self.create({"name": "a-zero", "schedule": {"cron": "@daily"}, "action": {"type": "noop"}})
        self.api.request("DELETE", f"/api/v1/tasks/{self.ids[2]}")
        _, second, _ = self.api.get(f"/api/v1/tasks?sort=name&limit=3&cursor={first['next_cursor']}")
        self.assertEqual([t["name"] for t in second["items"]], ["t03", "t04", "t05"])

    def test_bad_filters_are_400_naming_the_field(self):
        for query, field in [("label=team", "label"), ("label==x", "label"), ("sort=size", "sort"),
                             ("&".join(["label=a=b"] * 9), "label")]:
            status, body, _ = self.api.get(f"/api/v1/tasks?{query}")
            self.assertEqual((status, body["field"]), (400, field), query)


if __name__ == "__main__":
    unittest.main()
