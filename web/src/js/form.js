// The create and edit form. Validates as you type (locally, and with the
// api's cron preview when it offers one), describes cron expressions with
// cronstrue, and shows the api's errors next to the field they name.
//
// Extending it (issue 4): a new action type is one entry in ACTIONS (render,
// read, check); retry, overlap and misfire options go in the "Options"
// fieldset beside timeout_s, read in readOptions. Fields the form does not
// know are kept from the task on edit, so nothing is lost meanwhile.

import { api, ApiError } from "./api.js";
import { debounce, el } from "./util.js";

const READ_ONLY = ["id", "state", "version", "created_at", "updated_at", "next_run_at", "last_run", "runs"];
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
async function preview(s) {
  const box = byId("cron-preview-box"), list = byId("cron-preview");
  if (!box || previewAvailable === false || !s?.cron) { if (box) box.hidden = true; return null; }
  try {
    const r = await api("POST", "/api/v1/cron/preview", { cron: s.cron, timezone: s.timezone, count: 5 });
    previewAvailable = true;
    const times = r.body.items || [];
    const fmt = new Intl.DateTimeFormat(undefined, { timeZone: s.timezone, dateStyle: "full", timeStyle: "long" });
    list.replaceChildren(...times.map((t) => el("li", {}, el("time", { datetime: t.utc, title: `${t.local} · ${t.utc}` }, fmt.format(new Date(t.utc))))));
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
  const input = byId(slot.id.replace(/^err-/, "f-"));
  if (input) input.setAttribute("aria-invalid", "true");
  return input || slot;
}

/* ---- the form ---- */

function readOptions(form) {
  const t = form.querySelector("#f-timeout_s").value.trim();
  return t ? { timeout_s: Number(t) } : {};
}

function readSpec(form, base) {
  const [labels] = pairs(byId("f-labels").value);
  const type = byId("f-action.type").value;
  const spec = { ...base, name: byId("f-name").value.trim(), labels, action: ACTIONS[type].read(form), ...readOptions(form) };
  const s = readSchedule();
  if (s) spec.schedule = s; else delete spec.schedule;
  if (!form.querySelector("#f-timeout_s").value.trim()) delete spec.timeout_s;
  return spec;
}

function checkLocal(form, spec) {
  const errs = { ...checkSchedule(spec.schedule), ...ACTIONS[spec.action.type].check(form) };
  if (!spec.name) errs.name = "Give the task a name.";
  if (pairs(byId("f-labels").value)[1] >= 0) errs.labels = "Write one name=value a line.";
  return errs;
}

export async function formView(main, id) {
  let task = null;
  if (id) task = (await api("GET", `/api/v1/tasks/${id}`)).body;
  const base = {};
  if (task) for (const [k, v] of Object.entries(task)) if (!READ_ONLY.includes(k)) base[k] = v;
  const action = task?.action || { type: "shell", command: [""] };
  const actionBox = el("div", { id: "action-editor" }, ACTIONS[action.type]?.render(action) ?? ACTIONS.shell.render({ command: [""] }));
  const typeSel = el("select", { id: "f-action.type" }, Object.entries(ACTIONS).map(([k, a]) => el("option", { value: k, selected: k === action.type }, a.label)));
  const submit = el("button", { type: "submit", class: "primary" }, task ? "Save changes" : "Create task");
  const form = el("form", { class: "card", novalidate: true, id: "task-form" },
    el("div", { id: "form-error", class: "form-error", role: "alert" }),
    field("f-name", "Name", el("input", { id: "f-name", type: "text", value: task?.name || "", required: true, autocomplete: "off" })),
    field("f-labels", "Labels", el("textarea", { id: "f-labels", rows: 2, placeholder: "team=data, one a line" }, unpairs(task?.labels))),
    scheduleSection(task?.schedule),
    el("fieldset", {}, el("legend", {}, "What"), field("f-action.type", "Action", typeSel), actionBox),
    el("fieldset", {}, el("legend", {}, "Options"),
      field("f-timeout_s", "Timeout (seconds)", el("input", { id: "f-timeout_s", type: "number", min: 1, max: 604800, value: task?.timeout_s ?? "", placeholder: "3600" }))),
    el("div", { class: "actions" }, submit, el("a", { class: "button", href: task ? `#/tasks/${task.id}` : "#/tasks" }, "Cancel")));
  main.append(el("h1", {}, task ? `Edit ${task.name}` : "New task"), form);

  const touched = new Set();
  const live = debounce(async () => {
    if (!form.isConnected) return; // the route changed meanwhile
    clearErrors(form);
    const spec = readSpec(form, base);
    const errs = checkLocal(form, spec);
    for (const [f, m] of Object.entries(errs)) if (touched.has(f.split(".")[0]) || touched.has(f)) showError(f, m);
    byId("cron-desc").textContent = spec.schedule?.cron && !errs["schedule.cron"] ? describe(spec.schedule.cron) : "";
    if (spec.schedule?.cron && !errs["schedule.cron"] && !errs["schedule.timezone"]) {
      const bad = await preview(spec.schedule);
      // The preview names its own fields (cron, timezone): they are the schedule's.
      if (bad && form.isConnected) showError(bad.field === "timezone" ? "schedule.timezone" : "schedule.cron", bad.message);
    }
  }, 200);
  form.addEventListener("input", (e) => {
    const f = (e.target.id || "").replace(/^f-/, "").replace(/-\d+$/, "");
    touched.add(f);
    touched.add(f.split(".")[0]);
    live();
  });
  form.addEventListener("change", (e) => {
    if (e.target.name === "kind") {
      byId("sched-at").hidden = e.target.value !== "at";
      byId("sched-cron").hidden = e.target.value !== "cron";
      live();
    }
    if (e.target === typeSel) {
      const t = typeSel.value;
      actionBox.replaceChildren(ACTIONS[t].render(t === action.type ? action : {}));
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
        : await api("POST", "/api/v1/tasks", spec);
      location.hash = `#/tasks/${r.body.id}`;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const msg = err.status === 412 ? "Someone changed this task meanwhile: reload it and edit again." : err.message;
      showError(err.status === 412 ? "" : err.field, msg).focus();
      submit.disabled = false;
    }
  });
  if (action.type && !ACTIONS[action.type]) showError("", `This task's action type (${action.type}) cannot be edited here yet.`);
  live();
}
