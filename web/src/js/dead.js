// Dead letters: occurrences that used up their attempts (GET /api/v1/dead),
// each with a Retry button that re-drives it as its next attempt
// (POST /api/v1/dead/ID/retry; an admin token when tokens are on).

import { api, ApiError } from "./api.js";
import { onEvent } from "./feed.js";
import { absolute, el, when } from "./util.js";

const REFRESH_MS = 5000;

/** The occurrence's scheduled time: the milliseconds after the last ":". */
function occurrenceTime(occ) {
  if (!occ) return null; // a malformed entry's dead letter names no occurrence
  const ms = Number(occ.slice(occ.lastIndexOf(":") + 1));
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

// The api names each dead letter's task (task_name); a deleted task has none,
// and a malformed entry's dead letter names no task at all.
function taskCell(d) {
  if (d.task_id === null) return el("span", { class: "muted" }, "no task (a malformed entry)");
  if (!d.task_name) return el("span", { class: "muted", title: d.task_id }, `deleted task …${d.task_id.slice(-8)}`);
  return el("a", { href: `#/tasks/${d.task_id}`, title: d.task_id }, d.task_name);
}

export async function deadView(main) {
  const body = el("tbody");
  const note = el("p", { class: "muted", role: "status" });
  const msg = el("p", { class: "form-error", role: "alert" });
  const done = el("p", { class: "notice", role: "status" });
  main.append(el("h1", {}, "Dead letters"),
    el("p", { class: "muted" }, "Occurrences that used up their retry attempts, or kept crashing their executor. Retry runs one again as its next attempt."),
    msg, done,
    el("div", { class: "card" },
      el("table", { class: "cards", id: "dead" },
        el("thead", {}, el("tr", {}, ["Task", "Scheduled", "Attempts", "Error", "Dead since", ""].map((h) => el("th", { scope: "col" }, h)))), body),
      note));

  async function retry(d, button) {
    msg.textContent = "";
    done.replaceChildren();
    button.disabled = true;
    try {
      await api("POST", `/api/v1/dead/${encodeURIComponent(d.id)}/retry`);
      const name = d.task_name || "the task";
      done.replaceChildren(`Queued attempt ${d.attempts + 1} of `, el("a", { href: `#/tasks/${d.task_id}` }, name), ".");
      button.closest("tr").remove();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      button.disabled = false;
      msg.textContent = e.status === 403 ? `Retrying dead letters needs a token with the admin scope. ${e.message}`
        : e.status === 404 ? "This dead letter was already retried or removed." : e.message;
      if (e.status === 404) refresh();
    }
  }
  function row(d) {
    const b = el("button", { type: "button", "aria-label": `Retry ${d.task_name || d.task_id} (attempt ${d.attempts + 1})` }, "Retry");
    b.addEventListener("click", () => retry(d, b));
    return el("tr", { dataset: { id: d.id, task: d.task_id } },
      el("td", { "data-label": "Task" }, taskCell(d)),
      el("td", { "data-label": "Scheduled" }, absolute(occurrenceTime(d.occurrence_id))),
      el("td", { "data-label": "Attempts" }, String(d.attempts)),
      el("td", { "data-label": "Error" }, el("span", { class: "run-error" }, d.error || "—")),
      el("td", { "data-label": "Dead since" }, when(d.dead_at)),
      el("td", { "data-label": "" }, b));
  }
  async function refresh() {
    try {
      const items = (await api("GET", "/api/v1/dead?limit=100")).body.items;
      if (document.activeElement?.closest?.("#dead")) return; // do not pull a focused button away
      body.replaceChildren(...items.map(row));
      if (msg.textContent.startsWith("Could not load")) msg.textContent = "";
      note.textContent = items.length ? `${items.length} dead letter${items.length === 1 ? "" : "s"}; refreshes by itself.` : "No dead letters.";
    } catch (e) {
      msg.textContent = `Could not load the dead letters: ${e.message}`;
    }
  }
  await refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  const off = onEvent((ev) => { if (ev.type === "run.finished" && ev.status !== "succeeded") refresh(); });
  return () => { clearInterval(timer); off(); };
}
