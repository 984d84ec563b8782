// The dashboard: tasks by state, the last hour's runs, queue depth, live
// processes, lateness; throughput and lateness charts drawn by uPlot.
// Figures come from GET /api/v1/stats, refreshed every few seconds.

import uPlot from "/vendor/uPlot.esm.js";
import { get } from "./api.js";
import { el } from "./util.js";

const REFRESH_MS = 5000;

function card(title, body) {
  return el("section", { class: "card" }, el("h2", {}, title), body);
}

function list(pairs) {
  return el("ul", { class: "stat-list" }, pairs.map(([k, v]) => el("li", {}, el("span", {}, k), el("strong", {}, v))));
}

function figures(s) {
  const runs = s.runs_last_hour || {};
  const total = Object.values(runs).reduce((a, b) => a + b, 0);
  const late = s.lateness_ms;
  return el("div", { class: "grid" },
    card("Tasks", el("div", {}, el("div", { class: "stat", "data-stat": "tasks" }, s.tasks.total),
      list([["active", s.tasks.active], ["paused", s.tasks.paused], ["completed", s.tasks.completed]]))),
    card("Runs, last hour", el("div", {}, el("div", { class: "stat", "data-stat": "runs" }, total),
      list([["succeeded", runs.succeeded || 0], ["failed", runs.failed || 0], ["timed out", runs.timed_out || 0],
        ["interrupted", runs.interrupted || 0]]))),
    card("Queue", el("div", {}, el("div", { class: "stat" }, s.queue.ready),
      list([["ready or running", s.queue.ready], ["scheduled", s.queue.due]]))),
    card("Processes", list([["schedulers", s.processes.schedulers], ["executors", s.processes.executors]])),
    card("Lateness", list([["p50", late.p50 === null ? "—" : `${late.p50} ms`],
      ["p99", late.p99 === null ? "—" : `${late.p99} ms`], ["runs", late.count]])));
}

function size(node) {
  return { width: Math.max(240, node.clientWidth - 2), height: 200 };
}

function throughputData(s) {
  const t = s.throughput, start = Date.parse(t.start) / 1000, step = t.bucket_ms / 1000;
  return [t.succeeded.map((_, i) => start + (i + 1) * step), t.succeeded, t.failed];
}

function latenessData(s) {
  const h = s.lateness_ms.histogram;
  return [h.map((_, i) => i), h.map((b) => b.count)];
}

function makeCharts(box, s) {
  const tp = el("div", { class: "card chart", id: "chart-throughput" }, el("h2", {}, "Runs per minute"));
  const lh = el("div", { class: "card chart", id: "chart-lateness" }, el("h2", {}, "Lateness (ms)"));
  box.replaceChildren(tp, lh);
  const ms = (v) => (v >= 1000 ? `${v / 1000}s` : `${v}`);
  const labels = s.lateness_ms.histogram.map((b, i, h) => (b.le === null ? `>${ms(h[i - 1].le)}` : ms(b.le)));
  const throughput = new uPlot({
    ...size(tp), series: [{}, { label: "succeeded", stroke: "#1a7f37", fill: "#1a7f3733" },
      { label: "failed", stroke: "#c62828", fill: "#c6282833" }],
    axes: [{}, { label: "runs" }], scales: { x: { time: true } },
  }, throughputData(s), tp);
  const lateness = new uPlot({
    ...size(lh), series: [{ label: "bucket", value: (u, i) => (i == null ? "—" : labels[i]) },
      { label: "runs", stroke: "#2f6fde", fill: "#2f6fde55", paths: uPlot.paths.bars({ size: [0.8] }), points: { show: false } }],
    scales: { x: { time: false, range: [-0.5, labels.length - 0.5] } },
    axes: [{ splits: () => labels.map((_, i) => i), values: (u, v) => v.map((i) => (i % 2 === 0 ? labels[i] ?? "" : "")) }, { label: "runs" }],
  }, latenessData(s), lh);
  return { throughput, lateness, tp, lh };
}

export async function dashboardView(main) {
  const box = el("div", { class: "charts" });
  const top = el("div", {}, el("p", { class: "muted" }, "Loading…"));
  main.append(el("h1", {}, "Dashboard"), top, box);
  let charts = null;
  const resize = () => {
    if (!charts) return;
    charts.throughput.setSize(size(charts.tp));
    charts.lateness.setSize(size(charts.lh));
  };
  async function refresh() {
    try {
      const s = await get("/api/v1/stats");
      top.replaceChildren(figures(s));
      if (!charts) charts = makeCharts(box, s);
      else {
        charts.throughput.setData(throughputData(s));
        charts.lateness.setData(latenessData(s));
      }
    } catch (e) {
      top.replaceChildren(el("p", { class: "form-error", role: "alert" }, `Could not load the figures: ${e.message}`));
    }
  }
  await refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  window.addEventListener("resize", resize);
  return () => {
    clearInterval(timer);
    window.removeEventListener("resize", resize);
    if (charts) { charts.throughput.destroy(); charts.lateness.destroy(); }
  };
}
