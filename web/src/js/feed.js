// The live activity feed: Server-Sent Events from GET /api/v1/events/stream.
//
// EventSource cannot send an Authorization header, and a token must never go
// in a URL, so the stream is read with fetch (the token, when there is one,
// in the header), parsed as SSE here, and resumed after a drop with the
// Last-Event-ID header as EventSource would: an event shows as it happens.
// When the stream cannot be had (a 401 that needs the sign-in dialog, an api
// without the route, too many streams), one poll of GET /api/v1/events
// through api.js (which asks for a token on a 401) stands in, then the
// stream is tried again. Errors back off up to 15 s; signing in wakes it.

import { api, getToken } from "./api.js";
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
let aborter = null;
let retryMs = POLL_MS;

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

/** Reads one SSE block ("id:", "data:", "retry:" lines; ":" comments). */
function block(text) {
  const data = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    else if (line.startsWith("retry:")) retryMs = Number(line.slice(6)) || 0;
  }
  if (data.length) {
    try { receive(JSON.parse(data.join("\n"))); } catch { /* not an event: skip it */ }
  }
}

/** One stream connection, until it ends; throws when it cannot be opened. */
async function stream() {
  const headers = { Accept: "text/event-stream" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (lastId) headers["Last-Event-ID"] = lastId;
  aborter = new AbortController();
  const res = await fetch("/api/v1/events/stream", { headers, cache: "no-store", signal: aborter.signal });
  if (!res.ok || !res.body) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status });
  status("live");
  backoff = 1000;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value.replace(/\r\n?/g, "\n");
    for (let i; (i = buf.indexOf("\n\n")) >= 0; buf = buf.slice(i + 2)) block(buf.slice(0, i));
  }
}

async function connect() {
  timer = null;
  try {
    await stream();
    schedule(retryMs); // the server ended it (or asked us back at once): resume from lastId
  } catch (e) {
    if (e.name === "AbortError") return;
    await poll(); // asks for a token on a 401, and shows why in the status
  }
}

function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(connect, ms);
}

async function poll() {
  try {
    const r = await api("GET", "/api/v1/events", undefined, lastId ? { "Last-Event-ID": lastId } : {});
    const items = r.body?.items || [];
    items.forEach(receive);
    status("live");
    schedule(items.length >= BATCH ? 0 : backoff); // then the stream again
    backoff = Math.min(backoff * 2, 15000);
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
  connect();
  setInterval(tick, 10000);
  // Signed in or out: reconnect now with the new token rather than at the end of a backoff.
  window.addEventListener("dts:reload", () => {
    backoff = 1000;
    if (aborter) aborter.abort();
    schedule(0);
  });
}
