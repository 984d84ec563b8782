// The execution features of a task (issue 16): the lateness objective
// (slo_ms), chaining (then) and concurrency keys (concurrency). Their rows on the task page, their fields in
// the form, and what a run shows of them, in one place so the page and the
// form agree.

import { api } from "./api.js";
import { durationMs, el } from "./util.js";

/** The task page's rows: [label, content] pairs (none for a task without them). */
export function execRows(t) {
  const rows = [];
  if (t.slo_ms !== undefined) rows.push(["Lateness SLO", sloText(t)]);
  if (t.then) rows.push(["Then", el("ul", { class: "then", "data-then": "" }, t.then.map((c) => el("li", {}, el("a", { href: `#/tasks/${c.task}` }, el("code", {}, c.task)), ` on ${c.on}`)))]);
  if (t.concurrency) rows.push(["Concurrency", concurrencyText(t.concurrency)]);
  return rows;
}

/** The key and its limit at once; its running and waiting figures as the api reads them. */
function concurrencyText(c) {
  const live = el("span", { class: "muted", "data-concurrency-live": "" });
  api("GET", `/api/v1/concurrency/${encodeURIComponent(c.key)}`).then((r) => {
    live.textContent = ` · ${r.body.running} running, ${r.body.waiting} waiting now`;
  }, () => { live.textContent = ""; });
  return el("span", { "data-concurrency": c.key }, "key ", el("code", {}, c.key), `, at most ${c.limit} at once across executors`, live);
}

/** What a chained run shows beside its attempt: the run that chained it, linked to its task. */
export function sourceLink(r) {
  if (!r.source_run) return null;
  const task = r.source_run.split(":")[0];
  return el("div", { class: "muted", "data-source": r.source_run }, "after ", el("a", { href: `#/tasks/${task}` }, el("code", {}, r.source_run)));
}

function sloText(t) {
  const l = t.lateness;
  if (!l) return `start within ${durationMs(t.slo_ms)}`;
  const pct = l.runs ? ` · p50 ${durationMs(l.p50_ms)} · p99 ${durationMs(l.p99_ms)}` : "";
  return el("span", { "data-slo": "" }, `start within ${durationMs(t.slo_ms)}: `,
    el("strong", { class: l.late ? "late" : "" }, `${l.late} late`), ` of ${l.runs} kept runs`,
    el("span", { class: "muted" }, `${pct} · ${l.late_total} late in all`));
}

/** The flag beside a run's lateness: "late" when it missed its task's objective. */
export function lateFlag(r) {
  return r.late ? el("span", { class: "pill s-late", title: `Started more than ${durationMs(r.slo_ms)} after its time (the task's SLO)` }, "late") : null;
}

/** The fields the form reads with readExec (the form drops them before reading). */
export const EXEC_KEYS = ["slo_ms", "then", "concurrency"];

const ON = ["success", "failure", "always"];

/** The form's "Execution" fieldset, filled from task T (undefined: a new task). */
export function execSection(t, field) {
  return el("fieldset", { id: "exec-options" }, el("legend", {}, "Execution"),
    el("div", { class: "cols" },
      field("f-slo_ms", "Lateness SLO (ms)", el("input", { id: "f-slo_ms", type: "number", inputmode: "numeric", min: 1, max: 86400000, step: 1, value: t?.slo_ms ?? "", placeholder: "none" }),
        "A run starting later than this after its time is flagged late and counted (dts_runs_late_total)."),
      field("f-then", "Then run", el("textarea", { id: "f-then", rows: 2, placeholder: "TASK_ID success" }, (t?.then || []).map((c) => `${c.task} ${c.on}`).join("\n")),
        "One task id a line, then success, failure or always: it runs once after each finished run of this task (its last attempt).")),
    el("div", { class: "cols" },
      field("f-concurrency.key", "Concurrency key", el("input", { id: "f-concurrency.key", type: "text", value: t?.concurrency?.key ?? "", placeholder: "none", autocomplete: "off" }),
        "Tasks sharing a key run at most “limit” runs at once, across executors; the others wait their turn."),
      field("f-concurrency.limit", "Limit", el("input", { id: "f-concurrency.limit", type: "number", inputmode: "numeric", min: 1, max: 10000, step: 1, value: t?.concurrency?.limit ?? "" }))));
}

/** Reads the Execution fields into spec fields. */
export function readExec(byId) {
  const o = {};
  const slo = byId("f-slo_ms").value.trim();
  if (slo !== "") o.slo_ms = Number(slo);
  const then = byId("f-then").value.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
    const [task, on = "success", ...rest] = l.split(/\s+/);
    return rest.length ? { task: l } : { task, on };
  });
  if (then.length) o.then = then;
  const key = byId("f-concurrency.key").value.trim(), limit = byId("f-concurrency.limit").value.trim();
  if (key || limit) o.concurrency = { key, limit: limit === "" ? undefined : Number(limit) };
  return o;
}

/** Local checks, as the api will make them: {field: message}. */
export function checkExec(o) {
  const errs = {};
  if (o.slo_ms !== undefined && (!Number.isInteger(o.slo_ms) || o.slo_ms < 1 || o.slo_ms > 86400000)) errs.slo_ms = "A whole number of milliseconds, from 1 to 86400000.";
  if (o.concurrency) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(o.concurrency.key)) errs["concurrency.key"] = "1 to 64 letters, digits, _ or -.";
    const l = o.concurrency.limit;
    if (l === undefined || !Number.isInteger(l) || l < 1 || l > 10000) errs["concurrency.limit"] = "A whole number from 1 to 10000.";
  }
  (o.then || []).forEach((c, i) => {
    if (!errs.then && !/^[A-Za-z0-9_-]{1,64}$/.test(c.task)) errs.then = `Line ${i + 1}: a task id, then success, failure or always.`;
    else if (!errs.then && !ON.includes(c.on)) errs.then = `Line ${i + 1}: “${c.on}” is not success, failure or always.`;
  });
  return errs;
}
