// A task's page: its spec and state, pause/resume/trigger/edit/delete, and its
// run history, refreshed every few seconds and whenever the feed reports one
// of its runs.

import { api, ApiError } from "./api.js";
import { onEvent } from "./feed.js";
import { absolute, confirmDialog, durationMs, el, pill, when } from "./util.js";

const REFRESH_MS = 3000;

function scheduleText(s) {
  if (s && s.cron) {
    const d = window.cronstrue && !s.cron.startsWith("@every") ? (() => { try { return window.cronstrue.toString(s.cron, { use24HourTimeFormat: true }); } catch { return ""; } })() : "";
    return el("span", {}, el("code", {}, s.cron), ` in ${s.timezone}`, d ? el("span", { class: "muted" }, ` — ${d}`) : null);
  }
  if (s && s.at) return el("span", {}, "once, ", absolute(s.at));
  return "once, as soon as created";
}

function actionText(a) {
  if (a.type === "shell") {
    return el("span", {}, el("code", {}, a.command.map((c) => (/[\s"']/.test(c) || c === "" ? JSON.stringify(c) : c)).join(" ")),
      a.cwd ? el("span", { class: "muted" }, ` in ${a.cwd}`) : null,
      a.env && Object.keys(a.env).length ? el("div", { class: "muted" }, "env: ", Object.entries(a.env).map(([k, v]) => `${k}=${v}`).join(", ")) : null);
  }
  return el("code", {}, JSON.stringify(a));
}

function spec(t) {
  const rows = [
    ["State", pill(t.state)], ["Schedule", scheduleText(t.schedule)], ["Action", actionText(t.action)],
    ["Next run", when(t.next_run_at)], ["Last run", t.last_run ? el("span", {}, pill(t.last_run.status), " ", when(t.last_run.finished_at)) : "—"],
    ["Runs", `${t.runs.succeeded} succeeded, ${t.runs.failed} failed`], ["Timeout", `${t.timeout_s} s`],
    ["Labels", Object.keys(t.labels).length ? Object.entries(t.labels).map(([k, v]) => el("code", {}, `${k}=${v} `)) : "—"],
    ["Created", absolute(t.created_at)], ["Id", el("code", {}, t.id)], ["Version", String(t.version)],
  ];
  return el("dl", { class: "spec" }, rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function runRow(r) {
  const dur = r.finished_at ? Date.parse(r.finished_at) - Date.parse(r.started_at) : null;
  return el("tr", { dataset: { run: r.id, status: r.status } },
    el("td", { "data-label": "Status" }, pill(r.status)),
    el("td", { "data-label": "Scheduled" }, absolute(r.scheduled_at), r.kind !== "schedule" ? el("span", { class: "muted" }, ` (${r.kind})`) : null),
    el("td", { "data-label": "Attempt" }, String(r.attempt)),
    el("td", { "data-label": "Lateness" }, durationMs(r.lateness_ms)),
    el("td", { "data-label": "Duration" }, durationMs(dur)),
    el("td", { "data-label": "Exit" }, r.exit_code ?? "—"),
    el("td", { "data-label": "Output" }, r.output || r.error
      ? el("details", {}, el("summary", {}, r.error ? "error" : "output"), el("pre", {}, [r.error, r.output].filter(Boolean).join("\n")))
      : el("span", { class: "muted" }, "—")));
}

export async function taskView(main, id) {
  const head = el("h1", {}, "Task");
  const info = el("section", { class: "card", "aria-label": "Task" });
  const buttons = el("div", { class: "actions" });
  const msg = el("p", { class: "form-error", role: "alert" });
  const runs = el("tbody");
  const runsNote = el("p", { class: "muted", role: "status" });
  main.append(head, msg, buttons, info,
    el("section", { class: "card", "aria-labelledby": "runs-title" }, el("h2", { id: "runs-title" }, "Run history"),
      el("table", { class: "cards", id: "runs" }, el("thead", {}, el("tr", {}, ["Status", "Scheduled", "Attempt", "Lateness", "Duration", "Exit", "Output"].map((h) => el("th", { scope: "col" }, h)))), runs),
      runsNote));
  let task = null;
  let gone = false;

  async function act(path, label) {
    msg.textContent = "";
    try {
      await api("POST", `/api/v1/tasks/${id}/${path}`);
      await refresh();
      buttons.querySelector(`[data-act="${label}"]`)?.focus();
    } catch (e) {
      msg.textContent = e.message;
    }
  }
  async function remove() {
    if (!(await confirmDialog(`Delete “${task.name}” and its run history? This cannot be undone.`))) return;
    try {
      await api("DELETE", `/api/v1/tasks/${id}`);
      location.hash = "#/tasks";
    } catch (e) {
      msg.textContent = e.message;
    }
  }
  function drawButtons() {
    const paused = task.state === "paused";
    buttons.replaceChildren(
      el("a", { class: "button", href: `#/tasks/${id}/edit` }, "Edit"),
      task.state !== "completed" ? el("button", { type: "button", "data-act": paused ? "resume" : "pause", onclick: () => act(paused ? "resume" : "pause", paused ? "pause" : "resume") }, paused ? "Resume" : "Pause") : null,
      el("button", { type: "button", "data-act": "trigger", onclick: () => act("trigger", "trigger") }, "Run now"),
      el("button", { type: "button", class: "danger", "data-act": "delete", onclick: remove }, "Delete"));
  }
  async function refresh() {
    if (gone) return;
    try {
      const [t, r] = await Promise.all([api("GET", `/api/v1/tasks/${id}`), api("GET", `/api/v1/tasks/${id}/runs?limit=50`)]);
      const stateChanged = !task || task.state !== t.body.state;
      task = t.body;
      head.textContent = task.name;
      info.replaceChildren(spec(task));
      if (stateChanged) drawButtons();
      runs.replaceChildren(...r.body.items.map(runRow));
      runsNote.textContent = r.body.items.length ? `${r.body.items.length} most recent runs; refreshes by itself.` : "No runs yet; this refreshes by itself.";
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        gone = true;
        buttons.replaceChildren();
        msg.textContent = "This task does not exist (it may have been deleted).";
      } else msg.textContent = e.message;
    }
  }
  await refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  const off = onEvent((ev) => { if (ev.task === id) refresh(); });
  return () => { clearInterval(timer); off(); };
}
