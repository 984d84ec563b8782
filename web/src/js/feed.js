// The live activity feed, polled from GET /api/v1/events.
//
// EventSource cannot send an Authorization header, and a token must never go
// in a URL, so the feed polls the same endpoint with fetch (through api.js,
// which adds the token and asks for one on a 401), asking for the JSON form
// of the batch with Accept: application/json. The position travels in the
// Last-Event-ID header, as EventSource would send it: each answer holds the
// events after it (at most 100), so a full batch is followed at once and a
// short one after POLL_MS. Errors back off up to 15 s; signing in wakes it.

import { api } from "./api.js";
import { el, relative } from "./util.js";

const MAX_ITEMS = 50;
const BATCH = 100;   // the api's batch size: a full one means more are waiting
const POLL_MS = 1000; // the api's own retry hint when caught up
const seen = new Set();
const names = new Map(); // task id -> the last name the api sent, kept after the task is deleted
const listeners = new Set();
let lastId = "";
let backoff = 1000;
let timer = null;

const LABELS = {
  "task.created": "created", "task.updated": "updated", "task.deleted": "deleted",
  "task.paused": "paused", "task.resumed": "resumed", "task.triggered": "triggered",
  "run.started": "run started", "run.finished": "run finished", "dead.retried": "dead letter retried",
};

/** Calls FN(event) for every new event; returns a function that unsubscribes. */
export function onEvent(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function status(text, kind = text) {
  const s = document.getElementById("feed-status");
  s.textContent = text;
  s.className = `pill s-${kind}`;
}

function render(ev) {
  const list = document.getElementById("feed-list");
  const what = LABELS[ev.type] || ev.type;
  if (ev.task_name) names.set(ev.task, ev.task_name);
  const item = el("li", { dataset: { type: ev.type, task: ev.task || "" } },
    el("a", { href: `#/tasks/${encodeURIComponent(ev.task)}`, title: ev.task, class: "feed-task" },
      names.get(ev.task) || shortId(ev.task)), " ", what,
    ev.status ? el("span", {}, " · ", el("span", { class: `pill s-${ev.status}` }, ev.status.replace("_", " "))) : null,
    el("time", { datetime: ev.at, title: ev.at }, relative(ev.at)));
  list.prepend(item);
  while (list.children.length > MAX_ITEMS) list.lastElementChild.remove();
}

function shortId(id) {
  return id ? `…${id.slice(-8)}` : "?";
}

function receive(ev) {
  if (!ev || !ev.id) return;
  lastId = ev.id;
  if (seen.has(ev.id)) return; // the same millisecond on two shards can come twice
  seen.add(ev.id);
  if (seen.size > 1000) seen.delete(seen.values().next().value);
  render(ev);
  for (const fn of listeners) fn(ev);
}

function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(poll, ms);
}

async function poll() {
  timer = null;
  try {
    const r = await api("GET", "/api/v1/events", undefined, lastId ? { "Last-Event-ID": lastId } : {});
    const items = r.body?.items || [];
    items.forEach(receive);
    backoff = 1000;
    status("live");
    schedule(items.length >= BATCH ? 0 : POLL_MS);
  } catch (e) {
    if (e.status === 401) status("signed out", "offline");
    else if (e.status === 403) status("no access", "offline");
    else status("offline");
    schedule(backoff);
    backoff = Math.min(backoff * 2, 15000);
  }
}

/** Keeps the relative times fresh. */
function tick() {
  for (const t of document.querySelectorAll("#feed-list time")) t.textContent = relative(t.getAttribute("datetime"));
}

export function startFeed() {
  poll();
  setInterval(tick, 10000);
  // Signed in or out: poll now rather than at the end of a backoff.
  window.addEventListener("dts:reload", () => {
    if (timer !== null) { backoff = 1000; schedule(0); }
  });
}
