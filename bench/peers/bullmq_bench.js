// The BullMQ peer of the dts benchmark suite (bench/run.sh): the same burst,
// the same sustained-lateness run, the same no-op end to end, and memory per
// delayed job, on the same Redis. Every setting is written here and echoed in
// the JSON line each mode prints.
//
//   node bullmq_bench.js seed    PORT N            1 day out: memory per delayed job
//   node bullmq_bench.js burst   PORT N            N delayed jobs due at one instant
//   node bullmq_bench.js steady  PORT RATE SECS    jobs due at RATE/s for SECS s
//
// Settings (BullMQ's documented recommendations for throughput):
//   - jobs added with queue.addBulk in chunks of 1000;
//   - WORKERS worker processes (default 2: one per core), each one Worker with
//     concurrency CONC (default 64) and a processor that returns at once (no-op);
//   - removeOnComplete: true (dts records a run per occurrence, so this favours BullMQ);
//   - default ioredis options but maxRetriesPerRequest: null, as BullMQ requires.
// Lateness = processing start (Date.now() in the processor) - the due time
// carried in job.data.due (ms), exactly dts's start - scheduled.
'use strict';
const { Queue, Worker } = require('bullmq');
const { fork } = require('child_process');
const fs = require('fs');

const WORKERS = Number(process.env.BULL_WORKERS || 2);
const CONC = Number(process.env.BULL_CONCURRENCY || 64);
const CHUNK = 1000;

function conn(port) {
  return { host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: null };
}

async function addJobs(queue, n, dueOf) {
  for (let i = 0; i < n; i += CHUNK) {
    const jobs = [];
    const now = Date.now();
    for (let j = i; j < Math.min(n, i + CHUNK); j++) {
      const due = dueOf(j);
      jobs.push({ name: 'noop', data: { due }, opts: { delay: Math.max(0, due - now), removeOnComplete: true } });
    }
    await queue.addBulk(jobs);
  }
}

function pct(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function startWorkers(port, queueName, expect, out) {
  const kids = [];
  for (let w = 0; w < WORKERS; w++)
    kids.push(fork(__filename, ['worker', port, queueName, String(expect), `${out}.${w}`]));
  return kids;
}

function readLateness(out) {
  let all = [];
  for (let w = 0; w < WORKERS; w++) {
    const f = `${out}.${w}`;
    if (fs.existsSync(f)) {
      const v = fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map(Number);
      all = all.concat(v);
      fs.unlinkSync(f);
    }
  }
  return all;
}

async function waitDone(queue, n, pending, t0, timeoutMs, series) {
  let tReady = -1;
  let tDone = -1;
  for (;;) {
    const c = await queue.getJobCounts('delayed', 'wait', 'active', 'completed', 'prioritized');
    const t = (Date.now() - t0) / 1000;
    const delayed = c.delayed - pending;
    const left = delayed + c.wait + c.active + c.prioritized;
    const ready = n - delayed;
    series.push(`${t.toFixed(3)} ${ready} ${n - left} ${delayed}`);
    if (tReady < 0 && delayed === 0) tReady = t;
    if (left === 0) { tDone = t; break; }
    if (Date.now() - t0 > timeoutMs) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { tReady, tDone };
}

async function worker(port, queueName, expect, out) {
  const lat = [];
  const w = new Worker(queueName, async (job) => {
    lat.push(Date.now() - job.data.due);
  }, { connection: conn(port), concurrency: CONC });
  const flush = async () => {
    await w.close(true);
    fs.writeFileSync(out, lat.join('\n') + '\n');
    process.exit(0);
  };
  process.on('message', (m) => { if (m === 'stop') flush(); });
}

async function main() {
  const [mode, port] = process.argv.slice(2);
  if (mode === 'worker') return worker(port, process.argv[4], Number(process.argv[5]), process.argv[6]);
  const settings = { workers: WORKERS, concurrency: CONC, addBulk_chunk: CHUNK, removeOnComplete: true };
  if (mode === 'seed') {
    const n = Number(process.argv[4]);
    // Into the queue the steady runs use, as dts's pending tasks share its due sets.
    const q = new Queue('steady', { connection: conn(port) });
    const t0 = Date.now();
    const day = Date.now() + 86400000;
    await addJobs(q, n, () => day);
    console.log(JSON.stringify({ mode, n, add_s: (Date.now() - t0) / 1000, settings }));
    await q.close();
    return;
  }
  let n, dueOf, timeoutMs, queueName, out = process.argv[6] || '/tmp/bullmq';
  if (mode === 'burst') {
    n = Number(process.argv[4]);
    out = process.argv[5] || out;
    queueName = 'burst';
    dueOf = null; // all due at the instant the adding finishes
    timeoutMs = 600000;
  } else if (mode === 'steady') {
    const rate = Number(process.argv[4]);
    const secs = Number(process.argv[5]);
    n = Math.round(rate * secs);
    queueName = 'steady';
    timeoutMs = (secs + 120) * 1000;
    dueOf = (i, base) => base + Math.floor((i * 1000) / rate);
  } else {
    throw new Error('usage: see the top of bullmq_bench.js');
  }
  const q = new Queue(queueName, { connection: conn(port) });
  if (mode === 'burst') await q.obliterate({ force: true }).catch(() => {});
  const pending = await q.getDelayedCount(); // the seeded 1M, due in a day
  const t0add = Date.now();
  let base;
  if (mode === 'burst') {
    // Jobs due 1 s after the estimated end of adding; workers start at that instant.
    base = Date.now() + 1000 + Math.ceil(n / 20);
    await addJobs(q, n, () => base);
  } else {
    // Seed everything first, the first job due 5 s after seeding ends (as for dts).
    base = Date.now() + 5000 + Math.ceil(n / 20);
    await addJobs(q, n, (i) => dueOf(i, base));
  }
  const addS = (Date.now() - t0add) / 1000;
  if (mode === 'burst') {
    // Start counting when the workers start, at or after the due instant, as for dts.
    while (Date.now() < base) await new Promise((r) => setTimeout(r, 5));
  }
  const kids = startWorkers(port, queueName, n, out);
  const t0 = mode === 'burst' ? Date.now() : base;
  const series = [];
  const { tReady, tDone } = await waitDone(q, n, pending, t0, timeoutMs, series);
  fs.writeFileSync(`${out}.series`, series.join('\n') + '\n');
  await Promise.all(kids.map((k) => new Promise((r) => { k.on('exit', r); k.send('stop'); })));
  const lat = readLateness(out).sort((a, b) => a - b);
  fs.writeFileSync(`${out}.lateness`, lat.join('\n') + '\n');
  const res = {
    mode, n, add_s: addS, add_rate: n / addS, ready_s: tReady, done_s: tDone,
    e2e_rate: mode === 'burst' && tDone > 0 ? n / tDone : null,
    lateness_ms: { n: lat.length, min: lat[0], p50: pct(lat, 0.5), p99: pct(lat, 0.99), p999: pct(lat, 0.999),
      max: lat[lat.length - 1], early: lat.filter((x) => x < 0).length },
    settings,
  };
  console.log(JSON.stringify(res));
  if (mode === 'burst') await q.obliterate({ force: true }).catch(() => {});
  await q.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
