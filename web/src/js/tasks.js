// The task list: search by name (prefix), filter by state and by label
// (key=value, comma-separated for several) and sort (by creation, name or
// next run), all on the server so they hold across pages; only a bare label
// key filters the loaded page. Pages follow the api's cursors.

import { get } from "./api.js";
import { debounce, el, pill, when } from "./util.js";

const PAGE = 20;
// Every order is the api's (GET /api/v1/tasks?sort=...), so it holds across pages.
const SERVER_SORTS = { newest: "-created", oldest: "created", name: "name", next: "next_run" };

/** The key=value label filters the server applies. */
function serverLabels(filter) {
  return filter.split(",").map((s) => s.trim()).filter((s) => /^[^=]+=/.test(s));
}

function labelMatch(task, filter) {
  if (!filter || filter.includes("=")) return true; // key=value: the server filtered
  const [k, v] = filter.split("=", 2).map((s) => s.trim());
  return Object.entries(task.labels || {}).some(([lk, lv]) => lk === k && (v === undefined || lv === v));
}

function scheduleText(t) {
  const s = t.schedule;
  if (s && s.cron) return `cron ${s.cron} (${s.timezone})`;
  if (s && s.at) return "once";
  return "once, now";
}

function row(t) {
  const labels = Object.entries(t.labels || {}).map(([k, v]) => el("code", {}, `${k}=${v} `));
  return el("tr", { dataset: { id: t.id } },
    el("td", { "data-label": "Name" }, el("a", { href: `#/tasks/${t.id}` }, t.name)),
    el("td", { "data-label": "State" }, pill(t.state)),
    el("td", { "data-label": "Schedule" }, scheduleText(t)),
    el("td", { "data-label": "Next run" }, when(t.next_run_at)),
    el("td", { "data-label": "Last run" }, t.last_run ? pill(t.last_run.status) : el("span", { class: "muted" }, "—")),
    el("td", { "data-label": "Labels" }, labels.length ? labels : el("span", { class: "muted" }, "—")));
}

function field(id, text, input) {
  return el("div", { class: "field" }, el("label", { for: id }, text), input);
}

export async function tasksView(main) {
  const state = { q: "", st: "", label: "", sort: "newest", cursors: [null], page: 0 };
  const q = el("input", { id: "f-search", type: "search", placeholder: "name starts with…", autocomplete: "off" });
  const st = el("select", { id: "f-state" }, ["", "active", "paused", "completed"].map((s) => el("option", { value: s }, s || "any")));
  const label = el("input", { id: "f-label", type: "text", placeholder: "team=data" });
  const sortName = { next: "next run" };
  const sort = el("select", { id: "f-sort" }, Object.keys(SERVER_SORTS).map((s) => el("option", { value: s }, sortName[s] || s)));
  const body = el("tbody");
  const status = el("p", { class: "muted", role: "status" });
  const prev = el("button", { type: "button", onclick: () => go(-1) }, "Previous");
  const next = el("button", { type: "button", onclick: () => go(1) }, "Next");
  main.append(el("h1", {}, "Tasks"),
    el("form", { class: "toolbar", role: "search", onsubmit: (e) => e.preventDefault() },
      field("f-search", "Search", q), field("f-state", "State", st), field("f-label", "Label", label), field("f-sort", "Sort", sort)),
    el("div", { class: "card" },
      el("table", { class: "cards" }, el("thead", {}, el("tr", {}, ["Name", "State", "Schedule", "Next run", "Last run", "Labels"].map((h) => el("th", { scope: "col" }, h)))), body),
      status, el("nav", { class: "pager", "aria-label": "Pages" }, prev, next)));

  let items = [];
  let nextCursor = null;
  function draw() {
    const shown = items.filter((t) => labelMatch(t, state.label));
    body.replaceChildren(...shown.map(row));
    status.textContent = shown.length ? `${shown.length} task${shown.length === 1 ? "" : "s"} on page ${state.page + 1}`
      : "No tasks match. Create one with “New task”.";
    prev.disabled = state.page === 0;
    next.disabled = !nextCursor;
  }
  async function load() {
    const p = new URLSearchParams({ limit: PAGE });
    if (state.q) p.set("name_prefix", state.q);
    if (state.st) p.set("state", state.st);
    for (const l of serverLabels(state.label)) p.append("label", l);
    if (SERVER_SORTS[state.sort]) p.set("sort", SERVER_SORTS[state.sort]);
    if (state.cursors[state.page]) p.set("cursor", state.cursors[state.page]);
    try {
      const r = await get(`/api/v1/tasks?${p}`);
      items = r.items;
      nextCursor = r.next_cursor;
      state.cursors[state.page + 1] = nextCursor;
      draw();
    } catch (e) {
      status.textContent = `Could not load the tasks: ${e.message}`;
    }
  }
  function go(d) {
    state.page = Math.max(0, state.page + d);
    load();
  }
  function reset() {
    state.cursors = [null];
    state.page = 0;
    load();
  }
  q.addEventListener("input", debounce(() => { state.q = q.value.trim(); reset(); }, 250));
  st.addEventListener("change", () => { state.st = st.value; reset(); });
  label.addEventListener("input", debounce(() => { state.label = label.value.trim(); reset(); }, 250));
  sort.addEventListener("change", () => { state.sort = sort.value; reset(); });
  await load();
  const timer = setInterval(load, 5000);
  return () => clearInterval(timer);
}
