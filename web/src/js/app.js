// The UI's entry point: a hash router over the views, and the live feed.
// Routes: #/ dashboard, #/tasks list, #/new create, #/tasks/ID page,
// #/tasks/ID/edit edit, #/dead dead letters. Each view renders into <main>
// and may return a function that stops its timers when the route changes.

import { startFeed } from "./feed.js";
import { startAuth } from "./auth.js";
import { el } from "./util.js";
import { dashboardView } from "./dashboard.js";
import { tasksView } from "./tasks.js";
import { formView } from "./form.js";
import { taskView } from "./task.js";
import { deadView } from "./dead.js";

const routes = [
  [/^#?\/?$/, "dashboard", () => dashboardView],
  [/^#\/tasks\/?(\?.*)?$/, "tasks", () => tasksView],
  [/^#\/new$/, "new", () => formView],
  [/^#\/tasks\/([A-Za-z0-9_-]+)\/edit$/, "tasks", () => formView],
  [/^#\/tasks\/([A-Za-z0-9_-]+)$/, "tasks", () => taskView],
  [/^#\/dead$/, "dead", () => deadView],
];

let stop = null;
let generation = 0; // a view still loading when the route changes stops itself

async function route() {
  const mine = ++generation;
  if (stop) { stop(); stop = null; }
  const main = document.getElementById("main");
  const hash = location.hash || "#/";
  for (const [re, nav, view] of routes) {
    const m = hash.match(re);
    if (!m) continue;
    for (const a of document.querySelectorAll("[data-nav]")) {
      if (a.dataset.nav === nav) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    main.replaceChildren();
    try {
      const done = (await view()(main, m[1])) || null;
      if (mine === generation) stop = done;
      else if (done) done();
    } catch (e) {
      if (mine === generation) main.replaceChildren(el("div", { class: "card form-error", role: "alert" }, e.message));
    }
    return;
  }
  main.replaceChildren(el("h1", {}, "Not found"), el("p", {}, el("a", { href: "#/" }, "Back to the dashboard")));
}

/** Signed in or out: show the view again with the new token. */
window.addEventListener("dts:reload", () => route());

/** Moves focus to the new view's heading, for keyboard and screen-reader users. */
window.addEventListener("hashchange", async () => {
  await route();
  const h1 = document.querySelector("main h1");
  if (h1) { h1.tabIndex = -1; h1.focus({ preventScroll: true }); }
});

startAuth();
route();
startFeed();
