// The create and edit form. Validates as you type (locally, and with the
// api's cron preview when it offers one), describes cron expressions with
// cronstrue, and shows the api's errors next to the field they name.
//
// Every field has the id "f-" + its api name ("f-retry.max_attempts") and an
// error slot "err-" + that name, so a problem's `field` finds its place: an
// unknown sub-field falls back to its parent ("action.headers.Host" shows at
// "action.headers", on the row of that header), anything else at the top.
// An action type is one entry in ACTIONS (render, read, check); the options
// (timeout, retry, overlap, misfire, the cron window) are read in readOptions.
// Fields the form does not know are kept from the task on edit.

import { api, ApiError } from "./api.js";
import { debounce, el } from "./util.js";
import { checkExec, EXEC_KEYS, execSection, readExec } from "./exec_fields.js";

const READ_ONLY = ["id", "state", "version", "created_at", "updated_at", "next_run_at", "last_run", "runs", "lateness"];
let previewAvailable = null; // unknown until the api is asked once

function field(id, labelText, input, hint) {
  const errId = `err-${id.replace(/^f-/, "")}`;
  input.setAttribute("aria-describedby", `${errId}${hint ? ` hint-${id}` : ""}`);
  return el("div", { class: "field" }, el("label", { for: id }, labelText), input,
    hint ? el("p", { class: "hint", id: `hint-${id}` }, hint) : null,
    el("p", { class: "error", id: errId, role: "alert" }));
}

function lines(text) {
  return text.split("\n").map((l) => l.trim()).filter(Boolean);
}

/** "k=v" lines into an object; returns [object, index of the first bad line or -1]. */
function pairs(text) {
  const out = {};
  const ls = lines(text);
  for (let i = 0; i < ls.length; i++) {
    const eq = ls[i].indexOf("=");
    if (eq < 1) return [out, i];
    out[ls[i].slice(0, eq).trim()] = ls[i].slice(eq + 1).trim();
  }
  return [out, -1];
}

function unpairs(obj) {
  return Object.entries(obj || {}).map(([k, v]) => `${k}=${v}`).join("\n");
}

/* ---- action editors: one entry per action type ---- */

/** The write-only signing secret: never shown; on edit, empty keeps it. */
function signingField(a) {
  const input = el("input", { id: "f-action.signing_secret", type: "password", value: "", autocomplete: "off", spellcheck: "false",
    placeholder: a.signed ? "set (hidden): leave empty to keep it" : "whsec_…" });
  return el("div", {},
    field("f-action.signing_secret", "Signing secret", input,
      "Signs each call per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature). Write-only: never shown again."),
    a.signed ? el("label", { class: "check" }, el("input", { type: "checkbox", id: "f-unsign" }), " Remove the signing secret") : null);
}

function commandRow(value, rows) {
  const input = el("input", { type: "text", value, "aria-label": "argument", class: "cmd-arg", autocomplete: "off", spellcheck: "false" });
  const remove = el("button", { type: "button", "aria-label": "Remove this argument", onclick: () => { row.remove(); renumber(rows); } }, "✕");
  const row = el("div", { class: "row" }, input, remove);
  return row;
}

function renumber(rows) {
  [...rows.querySelectorAll(".cmd-arg")].forEach((inp, i) => {
    inp.id = i === 0 ? "f-action.command" : `f-action.command-${i}`;
    inp.setAttribute("aria-label", i === 0 ? "program" : `argument ${i}`);
    inp.setAttribute("aria-describedby", "err-action.command hint-f-action.command");
  });
}

const METHODS = ["POST", "GET", "PUT", "PATCH", "DELETE", "HEAD"];

function headerRow(name, value, rows) {
  const n = el("input", { type: "text", value: name, class: "hdr-name", "aria-label": "header name", placeholder: "Name", autocomplete: "off", spellcheck: "false" });
  const v = el("input", { type: "text", value, class: "hdr-value", "aria-label": "header value", placeholder: "Value", autocomplete: "off", spellcheck: "false" });
  const remove = el("button", { type: "button", "aria-label": "Remove this header", onclick: () => { row.remove(); renameHeaders(rows); } }, "✕");
  const row = el("div", { class: "row hdr-row" }, n, v, remove);
  return row;
}

function renameHeaders(rows) {
  [...rows.querySelectorAll(".hdr-row")].forEach((row, i) => {
    const [n, v] = row.querySelectorAll("input");
    n.id = i === 0 ? "f-action.headers" : `f-action.headers-${i}`;
    v.id = `f-action.headers-value-${i}`;
    n.setAttribute("aria-label", `header ${i + 1} name`);
    v.setAttribute("aria-label", `header ${i + 1} value`);
    for (const inp of [n, v]) inp.setAttribute("aria-describedby", "err-action.headers hint-f-action.headers");
  });
}

function headerPairs(form) {
  return [...form.querySelectorAll(".hdr-row")].map((r) => [r.querySelector(".hdr-name").value.trim(), r.querySelector(".hdr-value").value]);
}

const ACTIONS = {
  shell: {
    label: "Shell command",
    render(a) {
      const rows = el("div", { class: "rows", id: "cmd-rows" });
      for (const arg of a.command?.length ? a.command : [""]) rows.append(commandRow(arg, rows));
      renumber(rows);
      const add = el("button", { type: "button", onclick: () => { rows.append(commandRow("", rows)); renumber(rows); rows.lastElementChild.querySelector("input").focus(); } }, "Add argument");
      return el("div", {},
        el("div", { class: "field" }, el("label", { for: "f-action.command" }, "Command (one argument per box)"), rows, add,
          el("p", { class: "hint", id: "hint-f-action.command" }, "An argv, not a shell line: for a pipeline use sh, -c, “…”."),
          el("p", { class: "error", id: "err-action.command", role: "alert" })),
        field("f-action.env", "Environment", el("textarea", { id: "f-action.env", rows: 2, placeholder: "NAME=value, one a line" }, unpairs(a.env))),
        field("f-action.cwd", "Working directory", el("input", { id: "f-action.cwd", type: "text", value: a.cwd || "", placeholder: "/srv/app" })));
    },
    read(form) {
      const a = { type: "shell", command: [...form.querySelectorAll(".cmd-arg")].map((i) => i.value) };
      while (a.command.length > 1 && a.command[a.command.length - 1] === "") a.command.pop();
      const [env] = pairs(form.querySelector("#f-action\\.env").value);
      if (Object.keys(env).length) a.env = env;
      const cwd = form.querySelector("#f-action\\.cwd").value.trim();
      if (cwd) a.cwd = cwd;
      return a;
    },
    check(form) {
      const errs = {};
      if (!form.querySelector(".cmd-arg")?.value.trim()) errs["action.command"] = "Give the program to run.";
      if (pairs(form.querySelector("#f-action\\.env").value)[1] >= 0) errs["action.env"] = "Write one NAME=value a line.";
      const cwd = form.querySelector("#f-action\\.cwd").value.trim();
      if (cwd && !cwd.startsWith("/")) errs["action.cwd"] = "Use an absolute path.";
      return errs;
    },
  },
  http: {
    label: "Webhook (HTTP)",
    render(a) {
      const rows = el("div", { class: "rows", id: "hdr-rows" });
      for (const [k, v] of Object.entries(a.headers || {})) rows.append(headerRow(k, v, rows));
      renameHeaders(rows);
      const add = el("button", { type: "button", onclick: () => { rows.append(headerRow("", "", rows)); renameHeaders(rows); rows.lastElementChild.querySelector("input").focus(); } }, "Add header");
      const method = el("select", { id: "f-action.method" }, METHODS.map((m) => el("option", { value: m, selected: m === (a.method || "POST") }, m)));
      return el("div", {},
        el("div", { class: "cols cols-url" },
          field("f-action.method", "Method", method),
          field("f-action.url", "URL", el("input", { id: "f-action.url", type: "url", value: a.url || "", placeholder: "https://example.com/hook", autocomplete: "off", spellcheck: "false" }),
            "2xx is success; redirects are not followed. Internal addresses need the executor's --http-allow.")),
        el("div", { class: "field" }, el("span", { class: "label", id: "hdr-label" }, "Headers"), rows, add,
          el("p", { class: "hint", id: "hint-f-action.headers" }, "Host, Content-Length and Idempotency-Key (the run id) are set by dts."),
          el("p", { class: "error", id: "err-action.headers", role: "alert" })),
        field("f-action.body", "Body", el("textarea", { id: "f-action.body", rows: 3, placeholder: "{\"full\": false}", spellcheck: "false" }, a.body || ""),
          "Sent as is; give its Content-Type in the headers."),
        signingField(a));
    },
    read(form) {
      const a = { type: "http", method: form.querySelector("#f-action\\.method").value, url: form.querySelector("#f-action\\.url").value.trim() };
      const headers = {};
      for (const [k, v] of headerPairs(form)) if (k || v) headers[k] = v;
      if (Object.keys(headers).length) a.headers = headers;
      const body = form.querySelector("#f-action\\.body").value;
      if (body) a.body = body;
      const secret = form.querySelector("#f-action\\.signing_secret").value.trim();
      if (secret) a.signing_secret = secret; // empty: an edit keeps the stored one
      else if (form.querySelector("#f-unsign")?.checked) a.signing_secret = null;
      return a;
    },
    check(form) {
      const errs = {};
      const url = form.querySelector("#f-action\\.url").value.trim();
      if (!url) errs["action.url"] = "Give the URL to call.";
      else if (!/^https?:\/\/[^ ]+$/.test(url)) errs["action.url"] = "Use an http:// or https:// URL without spaces.";
      const names = new Set();
      for (const [k, v] of headerPairs(form)) {
        if (!k && !v) continue;
        const at = `action.headers.${k}`;
        if (!k) errs["action.headers"] = "Give each header a name.";
        else if (/[\s:]/.test(k)) errs[at] = `“${k}” is not a header name: no spaces or colons.`;
        else if (names.has(k.toLowerCase())) errs[at] = `${k} is given twice.`;
        names.add(k.toLowerCase());
      }
      if (form.querySelector("#f-action\\.body").value.length > 65536) errs["action.body"] = "At most 65536 characters.";
      const secret = form.querySelector("#f-action\\.signing_secret").value.trim();
      if (secret && !/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret)) errs["action.signing_secret"] = "Use whsec_ followed by base64 (24 to 64 bytes of key).";
      return errs;
    },
    /** The input an api error about one header belongs to. */
    input(fieldName) {
      return [...document.querySelectorAll(".hdr-name")].find((i) => `action.headers.${i.value.trim()}` === fieldName);
    },
  },
  noop: {
    label: "No-op (diagnostic)",
    render() { return el("p", { class: "hint" }, "Does nothing and succeeds: measures the scheduler."); },
    read() { return { type: "noop" }; },
    check() { return {}; },
  },
};

/* ---- schedule ---- */

const byId = (id) => document.getElementById(id);

function zones() {
  try { return Intl.supportedValuesOf("timeZone"); } catch { return ["UTC"]; }
}

function validZone(tz) {
  try { new Intl.DateTimeFormat("en", { timeZone: tz }); return true; } catch { return false; }
}

/** A datetime-local value (the browser's zone) for an ISO instant, and back. */
function toLocalInput(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function scheduleSection(s) {
  const kind = s?.cron ? "cron" : s?.at ? "at" : "now";
  const radio = (value, text) => el("label", {}, el("input", { type: "radio", name: "kind", value, checked: kind === value }), text);
  const tz = el("input", { id: "f-schedule.timezone", type: "text", list: "zones", value: s?.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC", autocomplete: "off" });
  return el("fieldset", {},
    el("legend", {}, "When"),
    el("div", { class: "choices", role: "radiogroup", "aria-label": "Schedule" }, radio("now", "Once, now"), radio("at", "Once, at a time"), radio("cron", "Recurring (cron)")),
    el("p", { class: "error", id: "err-schedule", role: "alert" }),
    el("div", { id: "sched-at", hidden: kind !== "at" },
      field("f-schedule.at", "Date and time (your browser's time zone)",
        el("input", { id: "f-schedule.at", type: "datetime-local", step: 1, value: s?.at ? toLocalInput(s.at) : "" }))),
    el("div", { id: "sched-cron", hidden: kind !== "cron" },
      field("f-schedule.cron", "Cron expression", el("input", { id: "f-schedule.cron", type: "text", value: s?.cron || "", placeholder: "*/5 * * * *", autocomplete: "off", spellcheck: "false" }),
        "5 fields (minute hour day month weekday), or 6 with leading seconds; @daily, @every 10s…"),
      el("p", { id: "cron-desc", class: "hint", "aria-live": "polite" }),
      field("f-schedule.timezone", "Time zone", tz),
      el("datalist", { id: "zones" }, zones().map((z) => el("option", { value: z }))),
      el("div", { id: "cron-preview-box", hidden: true }, el("p", { class: "hint" }, "Next runs:"), el("ol", { id: "cron-preview", class: "preview" }))));
}

function readSchedule() {
  const kind = document.querySelector("input[name=kind]:checked").value;
  if (kind === "at") {
    const v = byId("f-schedule.at").value;
    return { at: v ? new Date(v).toISOString() : "" };
  }
  if (kind === "cron") return { cron: byId("f-schedule.cron").value.trim(), timezone: byId("f-schedule.timezone").value.trim() };
  return null;
}

function checkSchedule(s) {
  const errs = {};
  if (s && "at" in s && !s.at) errs["schedule.at"] = "Pick a date and time.";
  if (s && "cron" in s) {
    const n = s.cron.split(/\s+/).filter(Boolean).length;
    if (!s.cron) errs["schedule.cron"] = "Write a cron expression.";
    else if (!s.cron.startsWith("@") && n !== 5 && n !== 6) errs["schedule.cron"] = `A cron expression has 5 or 6 fields; this one has ${n}.`;
    if (!validZone(s.timezone)) errs["schedule.timezone"] = "Not a time zone this browser knows (like Europe/Paris).";
  }
  return errs;
}

/** The cronstrue description, if the library is loaded and understands it. */
function describe(cron) {
  if (!window.cronstrue || !cron || cron.startsWith("@every")) return "";
  try { return window.cronstrue.toString(cron, { use24HourTimeFormat: true, verbose: false }); } catch { return ""; }
}

/** Next fire times from POST /api/v1/cron/preview, when the api has it. */
async function preview(s, shift) {
  const box = byId("cron-preview-box"), list = byId("cron-preview");
  if (!box || previewAvailable === false || !s?.cron) { if (box) box.hidden = true; return null; }
  try {
    const r = await api("POST", "/api/v1/cron/preview", { cron: s.cron, timezone: s.timezone, count: 5, ...shift });
    previewAvailable = true;
    const times = r.body.items || [];
    const fmt = new Intl.DateTimeFormat(undefined, { timeZone: s.timezone, dateStyle: "full", timeStyle: "long" });
    list.replaceChildren(...times.map((t) => el("li", t.excluded ? { class: "excluded", "data-excluded": "" } : {},
      el("time", { datetime: t.utc, title: `${t.local} · ${t.utc}` }, fmt.format(new Date(t.utc))), t.excluded ? " (excluded: skipped)" : "")));
    box.hidden = !times.length;
    return null;
  } catch (e) {
    if (e.status === 404 || e.status === 405) previewAvailable = false;
    box.hidden = true;
    return e.status === 400 || e.status === 422 ? e : null;
  }
}

/* ---- errors ---- */

/** The error slot for an api field: "action.command[2]" falls back to "action.command". */
function slotFor(fieldName) {
  let f = fieldName || "";
  while (f) {
    const slot = byId(`err-${f}`);
    if (slot) return slot;
    f = f.replace(/\[\d+\]$/, "") !== f ? f.replace(/\[\d+\]$/, "") : f.replace(/\.?[^.]*$/, "");
  }
  return byId("form-error");
}

function clearErrors(form) {
  for (const e of form.querySelectorAll(".error, #form-error")) e.textContent = "";
  for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
}

function showError(fieldName, message) {
  const slot = slotFor(fieldName);
  slot.textContent = slot.id === "form-error" && fieldName ? `${fieldName}: ${message}` : message;
  const own = ACTIONS[actionType()]?.input?.(fieldName);
  const input = own || byId(slot.id.replace(/^err-/, "f-"));
  if (input) input.setAttribute("aria-invalid", "true");
  return input || slot;
}

/* ---- options: timeout, retry, overlap, misfire, the cron window ---- */

const RETRY_DEFAULT = { max_attempts: 3, backoff: "exponential", initial_s: 1, max_s: 300, jitter: true };
const OVERLAPS = { allow: "Allow", forbid: "Forbid (skip it)", replace: "Replace the running one" };
const MISFIRES = { run_once: "Run once", skip: "Skip", run_all: "Run all (up to 100)" };

/** A seconds value as the api stores it, without float noise. */
const tidy = (n) => (n === undefined || n === null ? "" : Number(Number(n).toPrecision(12)));

function number(id, label, value, attrs, hint) {
  return field(id, label, el("input", { id, type: "number", inputmode: "decimal", value: tidy(value), ...attrs }), hint);
}

function select(id, label, options, value, hint) {
  return field(id, label, el("select", { id }, Object.entries(options).map(([k, text]) => el("option", { value: k, selected: k === value }, text))), hint);
}

function optionsSection(t, cron) {
  const r = t?.retry || RETRY_DEFAULT;
  return el("fieldset", { id: "options" }, el("legend", {}, "Options"),
    el("div", { class: "cols" },
      number("f-timeout_s", "Timeout (seconds)", t?.timeout_s, { min: 1, max: 604800, step: 1, placeholder: "3600" }),
      select("f-overlap", "Overlap", OVERLAPS, t?.overlap || "allow", "An occurrence due while a run is in flight: run both, skip it (recorded), or stop the running one.")),
    el("div", { class: "field check" },
      el("label", {}, el("input", { id: "f-retry", type: "checkbox", checked: Boolean(t?.retry), "aria-controls": "retry-box", "aria-describedby": "err-retry" }), " Retry failed runs"),
      el("p", { class: "error", id: "err-retry", role: "alert" })),
    el("div", { id: "retry-box", class: "cols sub", hidden: !t?.retry },
      number("f-retry.max_attempts", "Attempts in all", r.max_attempts, { min: 1, max: 100, step: 1 }, "1 to 100, the first run included."),
      select("f-retry.backoff", "Backoff", { exponential: "Exponential", fixed: "Fixed" }, r.backoff),
      number("f-retry.initial_s", "First delay (s)", r.initial_s, { min: 0.1, max: 86400, step: "any" }),
      number("f-retry.max_s", "Longest delay (s)", r.max_s, { min: 0.1, max: 86400, step: "any" }),
      el("div", { class: "field check" }, el("label", {}, el("input", { id: "f-retry.jitter", type: "checkbox", checked: r.jitter !== false }), " Jitter (up to 25% either way)"))),
    el("div", { class: "cols" },
      select("f-misfire", "Misfire (after an outage)", MISFIRES, t?.misfire || "run_once",
        "Occurrences missed by more than the threshold: run one and count the rest as coalesced, skip them, or run each."),
      number("f-misfire_threshold_s", "Late by more than (s)", t?.misfire_threshold_s, { min: 0, max: 31622400, step: "any", placeholder: "5" }, "Default: the scheduler's, 5 s.")),
    el("div", { id: "window-box", class: "cols", hidden: !cron },
      field("f-start_at", "Not before", el("input", { id: "f-start_at", type: "datetime-local", step: 1, value: t?.start_at ? toLocalInput(t.start_at) : "" }), "Your browser's time zone."),
      field("f-end_at", "Not after", el("input", { id: "f-end_at", type: "datetime-local", step: 1, value: t?.end_at ? toLocalInput(t.end_at) : "" }), "Then the task completes."),
      number("f-max_runs", "At most this many runs", t?.max_runs, { min: 1, step: 1 }),
      number("f-jitter_s", "Jitter (s)", t?.jitter_s, { min: 1, max: 86400, step: 1 },
        "Each run fires at a stable offset in [0, N) s after its cron time, from the task id; at most the period."),
      field("f-exclude", "Exclude (one range a line: from to)",
        el("textarea", { id: "f-exclude", rows: 2, spellcheck: "false", placeholder: "2026-12-24 2026-12-26" }, excludeText(t?.exclude)),
        "Dates YYYY-MM-DD are whole days in the task's zone (a “to” date included), or RFC 3339 instants. Excluded runs are skipped and counted."),
      field("f-exclude_cron", "Exclude cron", el("input", { id: "f-exclude_cron", type: "text", spellcheck: "false", value: t?.exclude_cron || "", placeholder: "* * 25 12 *" }),
        "Runs whose minute matches this expression (in the task's zone) are skipped and counted.")));
}

/** "from to" lines of an exclude list, and back. */
const excludeText = (list) => (list || []).map((r) => `${r.from} ${r.to}`).join("\n");
const excludeList = (text) => lines(text).map((l) => { const [from, to] = l.split(/\s+/); return { from, to: to ?? "" }; });

/** An input's number: undefined when empty, NaN when not a number. */
function num(id) {
  const i = byId(id);
  if (i.validity?.badInput) return NaN;
  return i.value.trim() === "" ? undefined : Number(i.value);
}

const OPTION_KEYS = ["timeout_s", "retry", "overlap", "misfire", "misfire_threshold_s", "start_at", "end_at", "max_runs", "jitter_s",
  "exclude", "exclude_cron"];

function readOptions(cron) {
  const o = { overlap: byId("f-overlap").value, misfire: byId("f-misfire").value };
  const set = (k, v) => { if (v !== undefined && v !== "") o[k] = v; };
  set("timeout_s", num("f-timeout_s"));
  set("misfire_threshold_s", num("f-misfire_threshold_s"));
  if (byId("f-retry").checked) {
    o.retry = { backoff: byId("f-retry.backoff").value, jitter: byId("f-retry.jitter").checked };
    for (const k of ["max_attempts", "initial_s", "max_s"]) if (num(`f-retry.${k}`) !== undefined) o.retry[k] = num(`f-retry.${k}`);
  }
  if (cron) {
    for (const k of ["start_at", "end_at"]) if (byId(`f-${k}`).value) o[k] = new Date(byId(`f-${k}`).value).toISOString();
    set("max_runs", num("f-max_runs"));
    set("jitter_s", num("f-jitter_s"));
    const exclude = excludeList(byId("f-exclude").value);
    if (exclude.length) o.exclude = exclude;
    set("exclude_cron", byId("f-exclude_cron").value.trim());
  }
  return o;
}

function checkOptions(o) {
  const errs = {};
  const range = (key, v, lo, hi, whole) => {
    if (v === undefined) return;
    if (Number.isNaN(v)) errs[key] = "Enter a number.";
    else if (whole && !Number.isInteger(v)) errs[key] = "Enter a whole number.";
    else if (v < lo || v > hi) errs[key] = hi === Infinity ? `At least ${lo}.` : `From ${lo} to ${hi}.`;
  };
  range("timeout_s", o.timeout_s, 1, 604800, true);
  range("misfire_threshold_s", o.misfire_threshold_s, 0, 31622400, false);
  range("max_runs", o.max_runs, 1, Infinity, true);
  range("jitter_s", o.jitter_s, 1, 86400, true);
  if (o.retry) {
    if (o.retry.max_attempts === undefined) errs["retry.max_attempts"] = "How many attempts, the first run included?";
    range("retry.max_attempts", o.retry.max_attempts, 1, 100, true);
    range("retry.initial_s", o.retry.initial_s, 0.1, 86400, false);
    range("retry.max_s", o.retry.max_s, 0.1, 86400, false);
    if (!errs["retry.max_s"] && o.retry.max_s < (o.retry.initial_s ?? 1)) errs["retry.max_s"] = "At least the first delay.";
  }
  if (o.start_at && o.end_at && o.end_at <= o.start_at) errs.end_at = "Pick a time after “Not before”.";
  return errs;
}

/* ---- the form ---- */

function actionType() {
  return document.querySelector("input[name=atype]:checked")?.value || "shell";
}

function readSpec(form, base) {
  const [labels] = pairs(byId("f-labels").value);
  const s = readSchedule();
  const spec = { ...base, name: byId("f-name").value.trim(), labels, action: ACTIONS[actionType()].read(form) };
  for (const k of [...OPTION_KEYS, ...EXEC_KEYS]) delete spec[k];
  Object.assign(spec, readOptions(Boolean(s?.cron)), readExec(byId));
  if (s) spec.schedule = s; else delete spec.schedule;
  return spec;
}

function checkLocal(form, spec) {
  const errs = { ...checkSchedule(spec.schedule), ...ACTIONS[spec.action.type].check(form), ...checkOptions(spec), ...checkExec(spec) };
  if (!spec.name) errs.name = "Give the task a name.";
  if (pairs(byId("f-labels").value)[1] >= 0) errs.labels = "Write one name=value a line.";
  return errs;
}

function actionSwitch(type) {
  const radio = (t, i) => el("label", {}, el("input", { type: "radio", name: "atype", value: t, id: i === 0 ? "f-action.type" : `f-action.type-${t}`, checked: t === type, "aria-describedby": "err-action.type" }), ACTIONS[t].label);
  return el("div", { class: "field" },
    el("div", { class: "choices", role: "radiogroup", "aria-label": "Action type" }, Object.keys(ACTIONS).map(radio)),
    el("p", { class: "error", id: "err-action.type", role: "alert" }));
}

/** What the user should read for an api error on submit. */
function submitMessage(err) {
  if (err.status === 412) return "Someone changed this task meanwhile: reload it and edit again.";
  if (err.status === 401) return "Sign in to save: use “Sign in” at the top of the page.";
  return err.message;
}

export async function formView(main, id) {
  let task = null;
  const hash = location.hash;
  if (id) task = (await api("GET", `/api/v1/tasks/${id}`)).body;
  if (location.hash !== hash) return undefined; // the route changed while loading
  const base = {};
  if (task) for (const [k, v] of Object.entries(task)) if (!READ_ONLY.includes(k)) base[k] = v;
  const action = task?.action || { type: "shell", command: [""] };
  const drafts = { [action.type]: action };
  const known = Boolean(ACTIONS[action.type]);
  const actionBox = el("div", { id: "action-editor" }, known ? ACTIONS[action.type].render(action) : ACTIONS.shell.render({ command: [""] }));
  const submit = el("button", { type: "submit", class: "primary" }, task ? "Save changes" : "Create task");
  const form = el("form", { class: "card", novalidate: true, id: "task-form" },
    el("div", { id: "form-error", class: "form-error", role: "alert" }),
    field("f-name", "Name", el("input", { id: "f-name", type: "text", value: task?.name || "", required: true, autocomplete: "off" })),
    field("f-labels", "Labels", el("textarea", { id: "f-labels", rows: 2, placeholder: "team=data, one a line" }, unpairs(task?.labels))),
    scheduleSection(task?.schedule),
    el("fieldset", {}, el("legend", {}, "What"), actionSwitch(known ? action.type : "shell"), actionBox),
    optionsSection(task, Boolean(task?.schedule?.cron)),
    execSection(task, field),
    el("div", { class: "actions" }, submit, el("a", { class: "button", href: task ? `#/tasks/${task.id}` : "#/tasks" }, "Cancel")));
  main.append(el("h1", {}, task ? `Edit ${task.name}` : "New task"), form);
  let shownType = actionType();
  // One key per spec sent: a double click or a resubmit after a lost answer
  // makes one task; a changed spec gets a new key (else the api says 422).
  let idem = { key: "", body: "" };
  const idemKey = (spec) => {
    const body = JSON.stringify(spec);
    if (body !== idem.body) idem = { key: `form-${[...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("")}`, body };
    return idem.key;
  };

  const touched = new Set();
  const live = debounce(async () => {
    if (!form.isConnected) return; // the route changed meanwhile
    clearErrors(form);
    const spec = readSpec(form, base);
    const errs = checkLocal(form, spec);
    for (const [f, m] of Object.entries(errs)) if (touched.has(f.split(".")[0]) || touched.has(f)) showError(f, m);
    byId("cron-desc").textContent = spec.schedule?.cron && !errs["schedule.cron"] ? describe(spec.schedule.cron) : "";
    if (spec.schedule?.cron && !errs["schedule.cron"] && !errs["schedule.timezone"]) {
      // An existing task's jitter offset is known: preview its shifted times.
      const shift = task && spec.jitter_s ? { jitter_s: spec.jitter_s, task_id: task.id } : {};
      if (spec.exclude) shift.exclude = spec.exclude; // the preview marks the excluded runs
      if (spec.exclude_cron) shift.exclude_cron = spec.exclude_cron;
      const bad = await preview(spec.schedule, shift);
      // The preview names its own fields (cron, timezone): they are the schedule's.
      if (bad && form.isConnected) showError(/^exclude/.test(bad.field || "") ? bad.field : bad.field === "timezone" ? "schedule.timezone" : "schedule.cron", bad.message);
    }
  }, 200);
  form.addEventListener("input", (e) => {
    const t = e.target;
    const f = t.classList.contains("hdr-name") || t.classList.contains("hdr-value") ? "action.headers"
      : (t.id || "").replace(/^f-/, "").replace(/-\d+$/, "");
    touched.add(f);
    touched.add(f.split(".")[0]);
    live();
  });
  form.addEventListener("change", (e) => {
    if (e.target.name === "kind") {
      byId("sched-at").hidden = e.target.value !== "at";
      byId("sched-cron").hidden = e.target.value !== "cron";
      byId("window-box").hidden = e.target.value !== "cron";
      live();
    }
    if (e.target.name === "atype") {
      drafts[shownType] = ACTIONS[shownType].read(form); // switching back keeps what was typed
      shownType = actionType();
      actionBox.replaceChildren(ACTIONS[shownType].render(drafts[shownType] || {}));
      live();
    }
    if (e.target.id === "f-retry") {
      byId("retry-box").hidden = !e.target.checked;
      if (e.target.checked) byId("f-retry.max_attempts").focus();
      live();
    }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const spec = readSpec(form, base);
    const errs = checkLocal(form, spec);
    const first = Object.entries(errs).map(([f, m]) => showError(f, m))[0];
    if (first) { first.focus(); return; }
    submit.disabled = true;
    try {
      const r = task
        ? await api("PUT", `/api/v1/tasks/${task.id}`, spec, { "If-Match": `"${task.version}"` })
        : await api("POST", "/api/v1/tasks", spec, { "Idempotency-Key": idemKey(spec) });
      location.hash = `#/tasks/${r.body.id}`;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const at = err.status === 412 || err.status === 401 ? "" : err.field;
      showError(at, submitMessage(err)).focus();
      submit.disabled = false;
    }
  });
  if (!known) showError("", `This task's action type (${action.type}) cannot be edited here yet.`);
  live();
  return undefined;
}
