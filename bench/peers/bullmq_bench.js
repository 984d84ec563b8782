// The BullMQ peer of the dts benchmark suite (bench/bench.py drives it): the
// same burst and sustained runs as dts, on a Redis of the same config, with the
// same process count and concurrency, and workers warm before the first due time.
//
//   node bullmq_bench.js run PORT QUEUE N DUE0_MS RATE OUT
//       Forks WORKERS worker processes and waits until each has connected and
//       is fetching; prints "ready PID,PID"; then adds N delayed jobs, job i due
//       at DUE0_MS + floor(i * 1000 / RATE) (RATE 0: all at DUE0_MS), and
//       prints "seeded ADD_S LATE_MS" (LATE_MS > 0: adding ended past DUE0).
//       Every 50 ms prints "progress T_MS DONE". When N jobs have completed
//       (or after the timeout) prints "done LAST_COMPLETION_MS", waits for a
//       line on stdin (the driver samples the workers' CPU first), stops the
//       workers, writes every job's lateness (ms, one a line) to OUT.lateness
//       and "due_ms lateness_ms" lines to OUT.late, and prints "result JSON".
//   node bullmq_bench.js memory PORT N
//       Adds N delayed jobs due in a day (the memory row); prints "seeded S".
//
// Settings (BullMQ's own recommendations for throughput; every one echoed in
// the result line): jobs added with queue.addBulk in chunks of 1000, 4 in flight; WORKERS
// worker processes (BULL_WORKERS, default 2), each one Worker with concurrency
// CONC (BULL_CONCURRENCY, default 32: bench.py passes dts's per-executor
// concurrency) and a processor that returns at once; removeOnComplete: true
// (dts keeps a run record per occurrence, so this favours BullMQ); ioredis
// defaults but maxRetriesPerRequest: null, as BullMQ requires.
//
// Lateness = Date.now() in the processor - the job's due time: taken after the
// start round trip (moveToActive's reply), as dts's executor takes its
// dts_run_lateness_seconds after its start script's reply. Job data carries the
// same JSON a dts no-op task stores as its spec, so payloads are the same size.
'use strict';
const { Queue, Worker } = require('bullmq');
const { fork } = require('child_process');
const fs = require('fs');

const WORKERS = Number(process.env.BULL_WORKERS || 2);
const CONC = Number(process.env.BULL_CONCURRENCY || 32);
const CHUNK = 1000;
const INFLIGHT = 4;

function conn(port) {
  return { host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: null };
}

// The body dts stores for a no-op one-time task (bench/dtsbench.c spec_body).
function payload(i, due) {
  return { name: `burst-${i}`, schedule: { at: new Date(due).toISOString() }, action: { type: 'noop' }, due };
}

// Adds in chunks of CHUNK, INFLIGHT chunks at a time (pipelined on the
// queue's connection, as dtsbench pipelines its creates).
async function addJobs(queue, n, dueOf, data) {
  const chunk = async (i) => {
    const jobs = [];
    const now = Date.now();
    for (let j = i; j < Math.min(n, i + CHUNK); j++) {
      const due = dueOf(j);
      jobs.push({ name: 'noop', data: data(j, due), opts: { delay: Math.max(0, due - now), removeOnComplete: true } });
    }
    await queue.addBulk(jobs);
  };
  const inflight = new Set();
  for (let i = 0; i < n; i += CHUNK) {
    const p = chunk(i).then(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= INFLIGHT) await Promise.race(inflight);
  }
  await Promise.all(inflight);
}

function pct(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

// A worker process: counts completions and keeps each job's lateness.
async function worker(port, queueName) {
  const lat = [];
  let done = 0;
  let last = 0;
  const w = new Worker(queueName, async (job) => {
    const now = Date.now();
    lat.push(`${job.data.due} ${now - job.data.due}`);
  }, { connection: conn(port), concurrency: CONC });
  w.on('completed', () => { done++; last = Date.now(); });
  await w.waitUntilReady();
  const tick = setInterval(() => process.send({ done, last }), 25);
  process.on('message', async (m) => {
    if (m.stop) {
      clearInterval(tick);
      await w.close(true);
      fs.writeFileSync(m.out, lat.join('\n') + (lat.length ? '\n' : ''));
      process.send({ done, last, closed: true });
      process.exit(0);
    }
  });
  // Give the worker's first blocking fetch time to be issued before "ready".
  setTimeout(() => process.send({ ready: process.pid }), 200);
}

async function run(port, queueName, n, due0, rate, out) {
  const q = new Queue(queueName, { connection: conn(port) });
  await q.waitUntilReady();
  const kids = [];
  const state = [];
  for (let w = 0; w < WORKERS; w++) {
    const k = fork(__filename, ['worker', port, queueName]);
    state.push({ done: 0, last: 0, ready: false });
    k.on('message', (m) => {
      if (m.ready) state[w].ready = true;
      if (m.done !== undefined) { state[w].done = m.done; state[w].last = m.last; }
    });
    kids.push(k);
  }
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const t0 = Date.now();
  while (!state.every((s) => s.ready)) {
    if (Date.now() - t0 > 30000) throw new Error('workers not ready in 30 s');
    await sleep(10);
  }
  console.log(`ready ${kids.map((k) => k.pid).join(',')}`);
  const tAdd = Date.now();
  const dueOf = (i) => (rate > 0 ? due0 + Math.floor((i * 1000) / rate) : due0);
  await addJobs(q, n, dueOf, payload);
  const addS = (Date.now() - tAdd) / 1000;
  console.log(`seeded ${addS.toFixed(3)} ${Date.now() - due0}`);
  const lastDue = dueOf(n - 1);
  const deadline = Math.max(Date.now(), lastDue) + Number(process.env.BULL_TIMEOUT_MS || 300000);
  let total = 0;
  while (Date.now() < deadline) {
    total = state.reduce((a, s) => a + s.done, 0);
    console.log(`progress ${Date.now()} ${total}`);
    if (total >= n) break;
    await sleep(50);
  }
  const lastMs = Math.max(...state.map((s) => s.last));
  console.log(`done ${total >= n ? lastMs : -1}`);
  // The driver samples the workers' CPU before they exit: wait for its word.
  await new Promise((r) => { process.stdin.once('data', r); process.stdin.once('end', r); });
  await Promise.all(kids.map((k, w) => new Promise((r) => {
    k.on('exit', r);
    k.send({ stop: true, out: `${out}.w${w}` });
  })));
  const series = [];
  for (let w = 0; w < WORKERS; w++) {
    const f = `${out}.w${w}`;
    if (fs.existsSync(f)) {
      for (const line of fs.readFileSync(f, 'utf8').split('\n')) if (line) series.push(line);
      fs.unlinkSync(f);
    }
  }
  fs.writeFileSync(`${out}.late`, series.join('\n') + '\n');
  const lat = series.map((l) => Number(l.split(' ')[1])).sort((a, b) => a - b);
  fs.writeFileSync(`${out}.lateness`, lat.join('\n') + '\n');
  const res = {
    n, completed: total, add_s: addS, add_rate: n / addS, last_completion_ms: lastMs,
    lateness_ms: { n: lat.length, min: lat[0], p50: pct(lat, 0.5), p99: pct(lat, 0.99), p999: pct(lat, 0.999),
      max: lat[lat.length - 1], early: lat.filter((x) => x < 0).length },
    settings: { workers: WORKERS, concurrency: CONC, addBulk_chunk: CHUNK, addBulk_inflight: INFLIGHT, removeOnComplete: true },
  };
  console.log(`result ${JSON.stringify(res)}`);
  await q.close();
}

async function memory(port, n) {
  const q = new Queue('memory', { connection: conn(port) });
  const t0 = Date.now();
  const day = Date.now() + 86400000;
  await addJobs(q, n, () => day, payload);
  console.log(`seeded ${(Date.now() - t0) / 1000}`);
  await q.close();
}

async function main() {
  const a = process.argv.slice(2);
  if (a[0] === 'worker') return worker(a[1], a[2]);
  if (a[0] === 'run') return run(a[1], a[2], Number(a[3]), Number(a[4]), Number(a[5]), a[6]);
  if (a[0] === 'memory') return memory(a[1], Number(a[2]));
  throw new Error('usage: see the top of bullmq_bench.js');
}

main().then(() => { if (process.argv[2] !== 'worker') process.exit(0); })
  .catch((e) => { console.error(e); process.exit(1); });
