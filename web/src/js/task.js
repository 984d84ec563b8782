// A task's page: its spec and state, pause/resume/trigger/edit/delete, a cron
// task's backfill form (backfill.js), and its run history, refreshed every
// few seconds and whenever the feed reports one of its runs.

import { api, ApiError } from "./api.js";
import { onEvent } from "./feed.js";
import { absolute, confirmDialog, durationMs, el, pill, when } from "./util.js";
import { execRows, lateFlag, sourceLink } from "./exec_fields.js";
import { backfillForm } from "./backfill.js";

const REFRESH_MS = 3000;

function scheduleText(s) {
  if (s && s.cron) {
    const d = window.cronstrue && !s.cron.startsWith("@every") ? (() => { try { return window.cronstrue.toString(s.cron, { use24HourTimeFormat: true }); } catch { return ""; } })() : "";
    return el("span", {}, el("code", {}, s.cron), ` in ${s.timezone}`, d ? el("span", { class: "muted" }, ` — ${d}`) : null);
  }
  if (s && s.at) return el("span", {}, "once, ", absolute(s.at));
  return "once, as soon as created";
}

/** A number of seconds as the api stores it, without float noise (0.1, not 0.1000000001). */
export function secs(n) {
  return `${Number(Number(n).toPrecision(12))} s`;
}

function actionText(a) {
  if (a.type === "shell") {
    return el("span", {}, el("code", {}, a.command.map((c) => (/[\s"']/.test(c) || c === "" ? JSON.stringify(c) : c)).join(" ")),
      a.cwd ? el("span", { class: "muted" }, ` in ${a.cwd}`) : null,
      a.env && Object.keys(a.env).length ? el("div", { class: "muted" }, "env: ", Object.entries(a.env).map(([k, v]) => `${k}=${v}`).join(", ")) : null);
  }
  if (a.type === "http") {
    const headers = Object.entries(a.headers || {});
    return el("span", {}, el("code", {}, `${a.method || "POST"} ${a.url}`),
      headers.length ? el("div", { class: "muted" }, "headers: ", headers.map(([k, v]) => el("code", {}, `${k}: ${v} `))) : null,
      a.signed ? el("div", { class: "muted", id: "signed" }, "signed (Standard Webhooks; the secret is write-only)") : null,
      a.body ? el("details", {}, el("summary", {}, `body (${a.body.length} characters)`), el("pre", {}, a.body)) : null);
  }
  if (a.type === "noop") return el("span", {}, "no-op ", el("span", { class: "muted" }, "(does nothing; measures the scheduler)"));
  return el("code", {}, JSON.stringify(a));
}

function retryText(r) {
  if (!r) return "none: a failed run is not tried again";
  const backoff = r.backoff === "fixed" ? `every ${secs(r.initial_s)}` : `backoff from ${secs(r.initial_s)} doubling up to ${secs(r.max_s)}`;
  return `up to ${r.max_attempts} attempts, ${backoff}${r.jitter ? ", with jitter" : ""}`;
}

const OVERLAP = { allow: "allow (runs may overlap)", forbid: "forbid (skip while one runs)", replace: "replace (stop the running one)" };
const MISFIRE = { run_once: "run once, coalesce the rest", skip: "skip late occurrences", run_all: "run each (up to 100)" };

function windowText(t) {
  const parts = [];
  if (t.start_at) parts.push(el("span", {}, "from ", absolute(t.start_at)));
  if (t.end_at) parts.push(el("span", {}, parts.length ? " until " : "until ", absolute(t.end_at)));
  if (t.max_runs) parts.push(`${parts.length ? ", " : ""}at most ${t.max_runs} runs`);
  return parts.length ? el("span", {}, parts) : null;
}

function countsText(r) {
  const extra = [["dispatched", r.dispatched], ["misfires skipped", r.misfires_skipped],
    ["misfires coalesced", r.misfires_coalesced], ["skipped by overlap", r.overlap_skipped], ["excluded", r.excluded]];
  return el("span", { "data-counts": "" }, `${r.succeeded} succeeded, ${r.failed} failed`,
    el("span", { class: "muted" }, extra.map(([k, v]) => ` · ${v ?? 0} ${k}`).join("")));
}

function spec(t) {
  const rows = [
    ["State", pill(t.state)], ["Schedule", scheduleText(t.schedule)], ["Action", actionText(t.action)],
    ["Next run", when(t.next_run_at)], ["Last run", t.last_run ? el("span", {}, pill(t.last_run.status), " ", when(t.last_run.finished_at)) : "—"],
    ["Runs", countsText(t.runs)], ["Timeout", `${t.timeout_s} s`], ["Retries", retryText(t.retry)],
    ["Overlap", OVERLAP[t.overlap] || t.overlap || "allow"],
    ["Misfire", `${MISFIRE[t.misfire] || t.misfire || MISFIRE.run_once}${t.misfire_threshold_s !== undefined ? `, later than ${secs(t.misfire_threshold_s)}` : ""}`],
    t.schedule?.cron ? ["Window", windowText(t) || "—"] : null,
    t.jitter_s ? ["Jitter", el("span", { id: "jitter" }, `up to ${t.jitter_s} s after each cron time, at this task's fixed offset (the times shown are shifted)`)] : null,
    t.exclude || t.exclude_cron ? ["Exclusions", el("span", { id: "exclusions" },
      [...(t.exclude || []).map((r) => `${r.from} – ${r.to}`), ...(t.exclude_cron ? [`cron ${t.exclude_cron}`] : [])].join(", "),
      " (skipped and counted)")] : null,
    ...execRows(t),
    ["Labels", Object.keys(t.labels).length ? Object.entries(t.labels).map(([k, v]) => el("code", {}, `${k}=${v} `)) : "—"],
    ["Created", absolute(t.created_at)], ["Id", el("code", {}, t.id)], ["Version", String(t.version)],
  ].filter(Boolean);
  return el("dl", { class: "spec" }, rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

const KINDS = { now: "", schedule: "", manual: "run now", retry: "retry", redrive: "retried by hand", chained: "chained" };

function runRow(r) {
  const dur = r.finished_at ? Date.parse(r.finished_at) - Date.parse(r.started_at) : null;
  const kind = KINDS[r.kind] ?? r.kind;
  const result = r.http_status !== undefined ? `HTTP ${r.http_status}` : r.exit_code ?? "—";
  const output = r.output && r.output !== r.error ? r.output : "";
  return el("tr", { dataset: { run: r.id, status: r.status, kind: r.kind, attempt: r.attempt, ...(r.late ? { late: "" } : {}) } },
    cell("Status", pill(r.status),
      r.dead ? el("span", {}, " ", el("a", { href: "#/dead", class: "pill s-dead", title: "The attempts are used up: see Dead letters" }, "dead")) : null),
    cell("Scheduled", absolute(r.scheduled_at)),
    cell("Attempt", String(r.attempt), kind ? el("span", { class: "muted" }, ` (${kind})`) : null, sourceLink(r)),
    cell("Lateness", durationMs(r.lateness_ms), r.late ? " " : null, lateFlag(r)),
    cell("Duration", durationMs(dur)),
    cell("Result", String(result)),
    cell("Output",
      r.error ? el("p", { class: "run-error" }, r.error) : null,
      r.next_attempt_in_ms !== undefined && !r.dead ? el("p", { class: "muted run-next" }, `next attempt ${durationMs(r.next_attempt_in_ms)} after this one`) : null,
      output ? el("details", {}, el("summary", {}, "output"), el("pre", {}, output)) : null,
      !r.error && !output ? el("span", { class: "muted" }, "—") : null));
}

/** A table cell; its content in one box, so the phone layout (label | value) holds. */
function cell(label, ...children) {
  return el("td", { "data-label": label }, el("div", {}, ...children));
}

export async function taskView(main, id) {
  const head = el("h1", {}, "Task");
  const info = el("section", { class: "card", "aria-label": "Task" });
  const buttons = el("div", { class: "actions" });
  const msg = el("p", { class: "form-error", role: "alert" });
  const runs = el("tbody");
  const runsNote = el("p", { class: "muted", role: "status" });
  const backfill = backfillForm(id, () => refresh());
  main.append(head, msg, buttons, info, backfill.node,
    el("section", { class: "card", "aria-labelledby": "runs-title" }, el("h2", { id: "runs-title" }, "Run history"),
      el("table", { class: "cards", id: "runs" }, el("thead", {}, el("tr", {}, ["Status", "Scheduled", "Attempt", "Lateness", "Duration", "Result", "Output"].map((h) => el("th", { scope: "col" }, h)))), runs),
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
    buttons.replaceChildren(...[
      el("a", { class: "button", href: `#/tasks/${id}/edit` }, "Edit"),
      task.state !== "completed" ? el("button", { type: "button", "data-act": paused ? "resume" : "pause", onclick: () => act(paused ? "resume" : "pause", paused ? "pause" : "resume") }, paused ? "Resume" : "Pause") : null,
      el("button", { type: "button", "data-act": "trigger", onclick: () => act("trigger", "trigger") }, "Run now"),
      el("button", { type: "button", class: "danger", "data-act": "delete", onclick: remove }, "Delete")].filter(Boolean));
  }
  async function refresh() {
    if (gone) return;
    try {
      const [t, r] = await Promise.all([api("GET", `/api/v1/tasks/${id}`), api("GET", `/api/v1/tasks/${id}/runs?limit=50`)]);
      const stateChanged = !task || task.state !== t.body.state;
      task = t.body;
      head.textContent = task.name;
      info.replaceChildren(spec(task));
      backfill.show(task);
      if (stateChanged) drawButtons();
      runs.replaceChildren(...r.body.items.map(runRow));
      runsNote.textContent = r.body.items.length ? `${r.body.items.length} most recent runs; refreshes by itself.` : "No runs yet; this refreshes by itself.";
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        gone = true;
        buttons.replaceChildren();
        backfill.show(null);
        msg.textContent = "This task does not exist (it may have been deleted).";
      } else msg.textContent = e.message;
    }
  }
  await refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  const off = onEvent((ev) => { if (ev.task === id) refresh(); });
  return () => { clearInterval(timer); off(); };
}
