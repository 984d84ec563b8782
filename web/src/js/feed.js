// The live activity feed: Server-Sent Events from GET /api/v1/events.
//
// The api answers each poll with the events after our Last-Event-ID and a
// retry delay, and EventSource reconnects by itself. When it gives up for
// good (the web role or the api was down and answered with an error), we
// open a new one after a backoff, resuming from the last id we saw.

import { el, relative } from "./util.js";

const MAX_ITEMS = 50;
const seen = new Set();
const listeners = new Set();
let source = null;
let lastId = "";
let backoff = 1000;

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

function status(text) {
  const s = document.getElementById("feed-status");
  s.textContent = text;
  s.className = `pill s-${text}`;
}

function render(ev) {
  const list = document.getElementById("feed-list");
  const what = LABELS[ev.type] || ev.type;
  const item = el("li", { dataset: { type: ev.type, task: ev.task || "" } },
    el("a", { href: `#/tasks/${encodeURIComponent(ev.task)}` }, shortId(ev.task)), " ", what,
    ev.status ? el("span", {}, " · ", el("span", { class: `pill s-${ev.status}` }, ev.status.replace("_", " "))) : null,
    el("time", { datetime: ev.at, title: ev.at }, relative(ev.at)));
  list.prepend(item);
  while (list.children.length > MAX_ITEMS) list.lastElementChild.remove();
}

function shortId(id) {
  return id ? `…${id.slice(-8)}` : "?";
}

function receive(msg) {
  let ev;
  try { ev = JSON.parse(msg.data); } catch { return; }
  lastId = ev.id || msg.lastEventId || lastId;
  if (seen.has(ev.id)) return; // the same millisecond on two shards can come twice
  seen.add(ev.id);
  if (seen.size > 1000) seen.delete(seen.values().next().value);
  render(ev);
  for (const fn of listeners) fn(ev);
}

function connect() {
  const url = "/api/v1/events" + (lastId ? `?last_event_id=${encodeURIComponent(lastId)}` : "");
  source = new EventSource(url);
  source.onopen = () => { backoff = 1000; status("live"); };
  source.onmessage = receive;
  source.onerror = () => {
    if (source.readyState !== EventSource.CLOSED) return; // a normal end of a poll: it reconnects
    status("offline");
    source.close();
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 15000);
  };
}

/** Keeps the relative times fresh. */
function tick() {
  for (const t of document.querySelectorAll("#feed-list time")) t.textContent = relative(t.getAttribute("datetime"));
}

export function startFeed() {
  connect();
  setInterval(tick, 10000);
}
