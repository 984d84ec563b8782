// The task page's backfill form: runs a cron task's past occurrences in a
// range [from, to), once each (POST /api/v1/tasks/ID/backfill). The times are
// typed in UTC, said so on the page. As in the edit form, local errors show
// next to their field as you type, and the api's 400 problem next to the
// field its `field` names; anything else (a 409: paused, or not a cron task)
// above the fields.

import { api, ApiError } from "./api.js";
import { el } from "./util.js";

/** A datetime-local value read as UTC: milliseconds, or NaN when empty or incomplete. */
function utcMs(value) {
  return value ? Date.parse(`${value}Z`) : NaN;
}

/** Milliseconds as the api reads them: RFC 3339 in UTC, whole seconds without ".000". */
function rfc3339(ms) {
  return new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

function field(name, label, hint) {
  const input = el("input", { id: `bf-${name}`, name, type: "datetime-local", step: 1, required: true,
    "aria-describedby": `err-bf-${name} hint-bf-${name}` });
  return el("div", { class: "field" }, el("label", { for: input.id }, label), input,
    el("p", { class: "hint", id: `hint-bf-${name}` }, hint),
    el("p", { class: "error", id: `err-bf-${name}`, role: "alert" }));
}

function check(from, to) {
  const errs = {};
  if (Number.isNaN(from)) errs.from = "Pick a date and time.";
  if (Number.isNaN(to)) errs.to = "Pick a date and time.";
  else if (!Number.isNaN(from) && to <= from) errs.to = "Pick a time after “From”: the range [from, to) is empty or reversed.";
  return errs;
}

/** The form, hidden until show(task) finds a cron task; ONQUEUED runs after a 202. */
export function backfillForm(id, onQueued) {
  const error = el("p", { class: "form-error", id: "bf-error", role: "alert" });
  const result = el("p", { class: "notice", id: "bf-result", role: "status" });
  const submit = el("button", { type: "submit" }, "Backfill");
  const zone = el("span", { id: "bf-zone" });
  const form = el("form", { id: "backfill", novalidate: true },
    el("p", { class: "hint" }, "Runs each of the schedule's past occurrences in [from, to) once, as a ",
      el("code", {}, "backfill"), " run: at most 10,000 a request; one already run or backfilled is not run again. ",
      "Times are in ", el("strong", {}, "UTC"), zone, "."),
    error,
    el("div", { class: "cols" },
      field("from", "From (UTC)", "The first occurrence time included."),
      field("to", "To (UTC)", "Not included; not in the future.")),
    el("div", { class: "actions" }, submit), result);
  const section = el("section", { class: "card", id: "backfill-card", "aria-labelledby": "backfill-title", hidden: true },
    el("h2", { id: "backfill-title" }, "Backfill"), form);
  const input = (name) => form.querySelector(`#bf-${name}`);
  const touched = new Set();

  function clear() {
    error.textContent = "";
    for (const name of ["from", "to"]) {
      form.querySelector(`#err-bf-${name}`).textContent = "";
      input(name).removeAttribute("aria-invalid");
    }
  }
  /** Shows MESSAGE at the field NAME ("from", "to"), or above the fields; returns what to focus. */
  function show(name, message) {
    const slot = name === "from" || name === "to" ? form.querySelector(`#err-bf-${name}`) : null;
    if (!slot) {
      error.textContent = message;
      return submit;
    }
    slot.textContent = message;
    input(name).setAttribute("aria-invalid", "true");
    return input(name);
  }
  const read = () => [utcMs(input("from").value), utcMs(input("to").value)];

  form.addEventListener("input", (e) => {
    touched.add(e.target.name);
    clear();
    for (const [name, message] of Object.entries(check(...read()))) if (touched.has(name)) show(name, message);
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear();
    result.textContent = "";
    const [from, to] = read();
    const first = Object.entries(check(from, to)).map(([name, message]) => show(name, message))[0];
    if (first) { first.focus(); return; }
    submit.disabled = true;
    try {
      const r = await api("POST", `/api/v1/tasks/${id}/backfill`, { from: rfc3339(from), to: rfc3339(to) });
      result.textContent = `${r.body.queued} queued, ${r.body.already} already backfilled or run.`;
      await onQueued();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      show(err.status === 400 ? err.field : "", err.message).focus();
    } finally {
      submit.disabled = false;
    }
  });
  return {
    node: section,
    /** Shows the form for a cron task only, naming its schedule's zone beside UTC. */
    show(task) {
      section.hidden = !task?.schedule?.cron;
      const tz = task?.schedule?.timezone;
      zone.textContent = tz && tz !== "UTC" ? ` (the schedule itself is in ${tz})` : "";
    },
  };
}
