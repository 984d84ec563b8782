#!/usr/bin/env python3
"""bench/bench.py: the fair dts-vs-BullMQ suite that bench/run.sh runs (issue 14).

Every measure runs each system on its own fresh redis-server with the config
`dts up` ships, with the same payload, process count and concurrency, and with
workers warm before the first due time. The short measures run in ABBA rounds
(dts first in even rounds, BullMQ first in odd ones) and report the median of
the per-round ratios; the long ones run once per system. For each window it
records Redis CPU (INFO cpu) and commandstats deltas, the CPU of the executors
(or workers) from /proc, and the background load. Writes RESULTS.md (or
BENCH_RESULTS), raw figures as JSON, and the plots (bench/plots.sh).

Knobs: see bench/README.md ("Knobs"). Loopback only; every wait is bounded;
everything started here is stopped on exit.
"""
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = os.environ.get("BENCH_QUICK", "0") == "1"


def knob(name, full, quick):
    return int(os.environ.get(name, quick if QUICK else full))


K = {
    "rounds": knob("BENCH_ROUNDS", 3, 1),
    "burst": knob("BENCH_BURST", 20000, 5000),
    "big": knob("BENCH_BIG_BURST", 500000, 20000),
    "low_rate": knob("BENCH_LOW_RATE", 1000, 1000),
    "low_secs": knob("BENCH_LOW_SECS", 15, 10),
    "high_rate": knob("BENCH_HIGH_RATE", 10000, 10000),
    "high_secs": knob("BENCH_HIGH_SECS", 60, 5),
    "mem_n": knob("BENCH_MEM_TASKS", 100000, 10000),
    "wrk_secs": knob("BENCH_WRK_SECS", 10, 5),
    "procs": knob("BENCH_EXECUTORS", 2, 2),
    "conc": knob("BENCH_CONCURRENCY", 32, 32),
    "timeout": knob("BENCH_TIMEOUT_S", 300, 120),
}
SKIP_BULL = os.environ.get("BENCH_SKIP_BULLMQ", "0") == "1"
BUILD = os.path.join(ROOT, os.environ.get("BENCH_BUILD", "build-bench"))
DTS = os.path.join(BUILD, "dts")
DB = os.path.join(BUILD, "bench", "dtsbench")
PEER = os.path.join(ROOT, "bench", "peers", "bullmq_bench.js")
RESULTS = os.environ.get("BENCH_RESULTS", os.path.join(ROOT, "bench", "RESULTS.md"))
HZ = os.sysconf("SC_CLK_TCK")

TMP = OUT = None  # main() makes them: importing this file (tests do) starts nothing
PROCS = []  # every process started here, stopped on exit


def log(*a):
    print(*a, flush=True)


def now_ms():
    return int(time.time() * 1000)


def free_port():
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        if p != 6379:
            return p


def spawn(argv, logname, **kw):
    f = open(os.path.join(TMP, logname), "ab")
    p = subprocess.Popen(argv, stdout=kw.pop("stdout", f), stderr=f, **kw)
    PROCS.append(p)
    return p


def stop(p, grace=5.0):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in PROCS:
        PROCS.remove(p)


def cleanup():
    for p in list(PROCS):
        try:
            stop(p, 2.0)
        except Exception:
            pass
    if TMP:
        shutil.rmtree(TMP, ignore_errors=True)


# ---- Redis ----

class Redis:
    """A fresh redis-server with the config `dts up` ships (src/up.c), minus its
    password (AUTH is once per connection: it costs nothing per command)."""

    CONFIG = ["--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--protected-mode", "yes",
              "--hash-max-listpack-value", "1024", "--stream-node-max-entries", "16"]

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(dir=TMP, prefix="redis.")
        self.proc = spawn(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                           "--daemonize", "no", "--logfile", os.path.join(self.dir, "redis.log")] + self.CONFIG,
                          "redis.out")
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.cli("PING") == "PONG":
                return
            time.sleep(0.05)
        raise SystemExit("bench: redis-server did not start")

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.port)] + list(args), capture_output=True, text=True)
        return r.stdout.strip()

    def info(self, section):
        d = {}
        for line in self.cli("INFO", section).splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.strip().split(":", 1)
                d[k] = v
        return d

    def cpu_s(self):
        i = self.info("cpu")
        return float(i["used_cpu_sys"]) + float(i["used_cpu_user"])

    def cmdstats(self):
        out = {}
        for k, v in self.info("commandstats").items():
            m = re.match(r"calls=(\d+),usec=(\d+)", v)
            if m:
                out[k.replace("cmdstat_", "")] = (int(m.group(1)), int(m.group(2)))
        return out

    def used_memory(self):
        return int(self.info("memory")["used_memory"])

    def close(self):
        self.cli("SHUTDOWN", "NOSAVE")
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if self.proc in PROCS:
            PROCS.remove(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


# ---- CPU of processes and of the machine ----

def proc_cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / HZ
    except OSError:
        return 0.0


def machine_busy_s():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return (sum(v[:8]) - idle) / HZ


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Window:
    """CPU and command deltas between begin() and end() for one measured window."""

    def __init__(self, redis, workers, others):
        self.redis, self.workers, self.others = redis, workers, others

    def sample(self):
        return {"t": time.time(), "redis": self.redis.cpu_s(), "cmd": self.redis.cmdstats(),
                "workers": sum(proc_cpu_s(p) for p in self.workers),
                "others": sum(proc_cpu_s(p) for p in self.others),
                "redis_proc": proc_cpu_s(self.redis.proc.pid), "machine": machine_busy_s(), "load": loadavg()}

    def begin(self):
        self.a = self.sample()

    def end(self, n):
        b = self.sample()
        a = self.a
        dt = max(b["t"] - a["t"], 1e-6)
        ours = (b["redis_proc"] - a["redis_proc"]) + (b["workers"] - a["workers"]) + (b["others"] - a["others"])
        cmds = {}
        for k, (calls, usec) in b["cmd"].items():
            c0, u0 = a["cmd"].get(k, (0, 0))
            if calls - c0 > 0:
                cmds[k] = {"calls_per_occ": (calls - c0) / max(n, 1), "usec_per_occ": (usec - u0) / max(n, 1)}
        return {"secs": dt, "n": n,
                "redis_cpu_us": 1e6 * (b["redis"] - a["redis"]) / max(n, 1),
                "worker_cpu_us": 1e6 * (b["workers"] - a["workers"]) / max(n, 1),
                "other_cpu_us": 1e6 * (b["others"] - a["others"]) / max(n, 1),
                "background_cores": max(0.0, (b["machine"] - a["machine"]) - ours) / dt,
                "load_begin": a["load"], "load_end": b["load"], "commands": cmds}


# ---- metrics of the dts roles ----

def scrape(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            return r.read().decode()
    except OSError:
        return ""


def metric_sum(text, name):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def histogram(texts, name):
    """Cumulative buckets [(le_seconds, count)] summed over every text."""
    b = {}
    for text in texts:
        for line in text.splitlines():
            m = re.match(name + r'_bucket\{.*le="([^"]+)"\} (\S+)', line)
            if m:
                le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
                b[le] = b.get(le, 0) + float(m.group(2))
    return sorted(b.items())


def hist_quantile(buckets, q):
    """The Q quantile in ms, linear within the bucket (as Prometheus does)."""
    if not buckets or buckets[-1][1] == 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    prev_le, prev_c = 0.0, 0.0
    for le, c in buckets:
        if c >= rank:
            if le == float("inf"):
                return None  # past the top bucket: unknown (the report falls back to the per-run figure)
            return 1000 * (prev_le + (le - prev_le) * (rank - prev_c) / max(c - prev_c, 1e-9))
        prev_le, prev_c = le, c
    return None


def hist_share_le(buckets, le_s):
    for le, c in buckets:
        if abs(le - le_s) < 1e-9:
            return c / buckets[-1][1] if buckets[-1][1] else None
    return None


def wait_http(port, path="/readyz", secs=20):
    deadline = time.time() + secs
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def pctl(sorted_v, p):
    if not sorted_v:
        return None
    return sorted_v[min(len(sorted_v) - 1, int(p * len(sorted_v)))]


def dist(values):
    v = sorted(values)
    return {"n": len(v), "p50": pctl(v, .5), "p99": pctl(v, .99), "p999": pctl(v, .999),
            "max": v[-1] if v else None, "early": sum(1 for x in v if x < 0)}


# The slowest adding rate (tasks/s) seen so far, by system and by kind of
# window (a burst's tasks share one due time; a steady run's do not, and
# BullMQ adds those slower: each new earliest delay wakes its warm workers).
SEED_RATE = {}
SEED_GUESS = {"dts": 4000.0, "bullmq": 3000.0}


def seed_margin_ms(system, n, steady):
    """How long before the first due time the adding of N tasks starts: its
    time at the slowest rate seen, with 50% to spare, + 1.5 s (the machine's
    load changes; a window whose adding still ran late is flagged)."""
    est = SEED_RATE.get((system, steady)) or SEED_RATE.get((system, not steady), SEED_GUESS[system]) / 2
    return int(1500 + 1.5 * n * 1000 / est)


def seed_seen(system, n, secs, steady):
    if secs > 0 and n >= 1000:
        key = (system, steady)
        SEED_RATE[key] = min(SEED_RATE.get(key, n / secs), n / secs)


# ---- one dts window ----

def run_dts(tag, n, rate, follow=False):
    """N no-op one-time tasks, due at one instant (RATE 0) or at RATE/s, on a
    fresh Redis; scheduler and executors started and ready before seeding."""
    r = Redis()
    url = f"redis://127.0.0.1:{r.port}"
    common = ["--redis", url, "--log-level", "warn"]
    sport = free_port()
    sched = spawn([DTS, "scheduler", "--listen", f"127.0.0.1:{sport}"] + common, f"{tag}.scheduler.log")
    execs, eports = [], []
    for i in range(K["procs"]):
        p = free_port()
        eports.append(p)
        execs.append(spawn([DTS, "executor", "--listen", f"127.0.0.1:{p}", "--concurrency", str(K["conc"])] + common,
                           f"{tag}.executor{i}.log"))
    for p in [sport] + eports:
        if not wait_http(p):
            raise SystemExit(f"bench: a dts role did not become ready (see {TMP}/{tag}.*.log)")
    due0 = now_ms() + seed_margin_ms("dts", n, rate > 0)
    t_seed = time.time()
    seed = subprocess.run([DB, "seed", "127.0.0.1", str(r.port), str(n), str(due0), str(rate), "at-noop"],
                          capture_output=True, text=True)
    seed_late = now_ms() - due0
    seed_seen("dts", n, time.time() - t_seed, rate > 0)
    follower = None
    if follow:
        last_due = due0 + (n * 1000 // rate if rate else 0)
        follower = spawn([DB, "lateness", "127.0.0.1", str(r.port), "dts", "16", str(n),
                          str((last_due - now_ms()) // 1000 + K["timeout"]), os.path.join(OUT, f"{tag}.late")],
                         f"{tag}.follower.log", stdout=open(os.path.join(OUT, f"{tag}.late.sum"), "w"))
    win = Window(r, [p.pid for p in execs], [sched.pid])
    while now_ms() < due0 - 5:
        time.sleep(0.002)
    win.begin()
    t_disp = t_done = None
    series = []
    deadline = time.time() + (n / rate if rate else 0) + K["timeout"]
    while time.time() < deadline:
        st = scrape(sport)
        ex = [scrape(p) for p in eports]
        disp = metric_sum(st, "dts_occurrences_dispatched_total")
        done = sum(metric_sum(t, "dts_runs_total") for t in ex)
        t = now_ms()
        series.append((t - due0, disp, done))
        if t_disp is None and disp >= n:
            t_disp = t
        if done >= n:
            t_done = t
            break
        time.sleep(0.05)
    w = win.end(n)
    # The exact instant of the last completion: the newest run.finished entry.
    last = 0
    for s in range(16):
        out = r.cli("XREVRANGE", f"dts:{{{s}}}:events", "+", "-", "COUNT", "1")
        m = re.match(r"(\d+)-\d+", out)
        if m:
            last = max(last, int(m.group(1)))
    if t_done is not None and last:
        t_done = min(t_done, max(last, due0))
    hist = histogram(ex, "dts_run_lateness_seconds")
    res = {"system": "dts", "n": n, "rate": rate, "seed_late_ms": seed_late, "seed": seed.stderr.strip(),
           "dispatch_s": (t_disp - due0) / 1000 if t_disp else None,
           "drain_s": (t_done - due0) / 1000 if t_done else None, "window": w,
           "late_hist": {"p50": hist_quantile(hist, .5), "p99": hist_quantile(hist, .99),
                         "share_le_250ms": hist_share_le(hist, .25), "buckets": hist},
           "series": series}
    if follower is not None:
        try:
            follower.wait(30)
        except subprocess.TimeoutExpired:
            stop(follower)
        vals = []
        path = os.path.join(OUT, f"{tag}.late")
        if os.path.exists(path):
            with open(path) as f:
                vals = [int(x.split()[1]) for x in f if x.strip()]
        res["late_script"] = dist(vals)
        res["late_file"] = path
    for p in execs + [sched]:
        stop(p)
    r.close()
    with open(os.path.join(OUT, f"{tag}.series"), "w") as f:
        for t, d, c in series:
            f.write(f"{t / 1000:.3f} {d:.0f} {c:.0f}\n")
    return res


# ---- one BullMQ window ----

def run_bull(tag, n, rate):
    r = Redis()
    due0 = now_ms() + seed_margin_ms("bullmq", n, rate > 0) + 1000  # + the workers' start-up, before the adding
    env = dict(os.environ, BULL_WORKERS=str(K["procs"]), BULL_CONCURRENCY=str(K["conc"]),
               BULL_TIMEOUT_MS=str(K["timeout"] * 1000))
    outp = os.path.join(OUT, tag)
    p = spawn(["node", PEER, "run", str(r.port), "q", str(n), str(due0), str(rate), outp], f"{tag}.node.log",
              stdout=subprocess.PIPE, stdin=subprocess.PIPE, env=env, cwd=os.path.dirname(PEER), text=True)
    lines = {"progress": []}
    ev = {k: threading.Event() for k in ("ready", "seeded", "done", "result")}

    def reader():
        for line in p.stdout:
            word, _, rest = line.strip().partition(" ")
            if word == "progress":
                t, d = rest.split()
                lines["progress"].append((int(t) - due0, 0, int(d)))
            elif word in ev:
                lines[word] = rest
                ev[word].set()
    th = threading.Thread(target=reader, daemon=True)
    th.start()
    if not ev["ready"].wait(60):
        raise SystemExit(f"bench: BullMQ workers did not start (see {TMP}/{tag}.node.log)")
    pids = [int(x) for x in lines["ready"].split(",")]
    win = Window(r, pids, [p.pid])
    if not ev["seeded"].wait(K["timeout"]):
        raise SystemExit("bench: BullMQ adding timed out")
    seed_s, seed_late = lines["seeded"].split()
    seed_seen("bullmq", n, float(seed_s), rate > 0)
    while now_ms() < due0 - 5:
        time.sleep(0.002)
    win.begin()
    ev["done"].wait((n / rate if rate else 0) + K["timeout"] + 30)
    w = win.end(n)
    p.stdin.write("stop\n")
    p.stdin.close()
    ev["result"].wait(120)
    p.wait(60)
    if p in PROCS:
        PROCS.remove(p)
    res_j = json.loads(lines.get("result", "{}") or "{}")
    last = int(lines.get("done", "-1") or -1)
    r.close()
    with open(os.path.join(OUT, f"{tag}.series"), "w") as f:
        for t, _, c in lines["progress"]:
            f.write(f"{t / 1000:.3f} 0 {c}\n")
    return {"system": "bullmq", "n": n, "rate": rate, "seed_late_ms": int(seed_late), "add_s": float(seed_s),
            "drain_s": (last - due0) / 1000 if last > 0 and res_j.get("completed", 0) >= n else None,
            "window": w, "late": res_j.get("lateness_ms", {}), "late_file": outp + ".late",
            "completed": res_j.get("completed")}


# ---- memory, api ----

def memory_rows():
    out = {}
    for kind in ("at-shell", "at-noop"):
        r = Redis()
        m0 = r.used_memory()
        subprocess.run([DB, "seed", "127.0.0.1", str(r.port), str(K["mem_n"]), str(now_ms() + 86400000), "0", kind],
                       capture_output=True, check=True)
        out[kind] = (r.used_memory() - m0) / K["mem_n"]
        r.close()
    if not SKIP_BULL:
        r = Redis()
        m0 = r.used_memory()
        subprocess.run(["node", PEER, "memory", str(r.port), str(K["mem_n"])], cwd=os.path.dirname(PEER),
                       capture_output=True, check=True)
        out["bullmq"] = (r.used_memory() - m0) / K["mem_n"]
        r.close()
    return out


def wrk(port, script, args, name):
    path = os.path.join(OUT, f"wrk_{name}.txt")
    with open(path, "w") as f:
        subprocess.run(["wrk", "-t2", "-c32", f"-d{K['wrk_secs']}s", "--latency", "-s", script,
                        f"http://127.0.0.1:{port}", "--"] + args, stdout=f, stderr=subprocess.STDOUT)
    text = read(path)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    non2xx = re.search(r"^non2xx (\d+)", text, re.M)
    partial = re.search(r"^partial (\d+)", text, re.M)
    return {"rps": float(rps.group(1)) if rps else None, "p99": p99.group(1) if p99 else None,
            "non2xx": int(non2xx.group(1)) if non2xx else None, "partial_207": int(partial.group(1)) if partial else None}


def post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body.encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return 0, str(e)


def api_rows():
    r = Redis()
    port = free_port()
    api = spawn([DTS, "api", "--redis", f"redis://127.0.0.1:{r.port}", "--log-level", "warn",
                 "--listen", f"127.0.0.1:{port}", "--max-tasks", "0"], "api.log")
    if not wait_http(port):
        raise SystemExit(f"bench: the api did not become ready (see {TMP}/api.log)")
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2 * 86400))
    res = {"post": wrk(port, os.path.join(ROOT, "bench/wrk/post.lua"), [at], "post")}
    # The batch endpoint (issue 14, being built): probe with one spec.
    spec = ('{"name":"probe","schedule":{"at":"%s"},"action":{"type":"noop"}}' % at)
    code, text = post(port, "/api/v1/tasks:batch", '{"tasks":[%s]}' % spec)
    res["batch_probe"] = f"{code} {text[:200]}"
    if 200 <= code < 300:
        res["batch"] = wrk(port, os.path.join(ROOT, "bench/wrk/post.lua"), [at, "1000"], "batch")
        if res["batch"]["rps"] is not None:
            res["batch"]["tasks_per_s"] = res["batch"]["rps"] * 1000
    else:
        res["batch"] = None
    stop(api)
    r.close()
    return res


# ---- the commit label ----

def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def scripts_in_tree():
    """SHA1 of each src/scripts/*.lua as cmake/embed.cmake embeds it."""
    out = {}
    d = os.path.join(ROOT, "src", "scripts")
    for path in sorted(glob.glob(os.path.join(d, "*.lua"))):
        text = read(path)
        for inc in re.findall(r"-- include: [a-z0-9_]+\.lua", text):
            text = text.replace(inc + "\n", read(os.path.join(d, "lib", inc.replace("-- include: ", ""))))
        out[os.path.basename(path)[:-4]] = hashlib.sha1(text.encode()).hexdigest()
    return out


def embedded_scripts(build):
    """The text of each script BUILD embedded, from its generated C file."""
    out = {}
    for path in glob.glob(os.path.join(build, "**", "*.c"), recursive=True):
        with open(path, errors="replace") as f:
            head = f.read(200)
        if "Generated from the Lua files" not in head:
            continue
        for m in re.finditer(r"const char script_(\w+)\[\] = \{([^}]*)\};", read(path)):
            out[m.group(1)] = bytes(int(x, 16) for x in m.group(2).split(",") if x.strip()).rstrip(b"\0")
    return out


def scripts_in_binary(build=None):
    """SHA1 of each script the measured build embedded."""
    return {k: hashlib.sha1(v).hexdigest() for k, v in embedded_scripts(build or BUILD).items()}


def commit_label():
    def git(*a):
        return subprocess.run(["git", "-C", ROOT] + list(a), capture_output=True, text=True).stdout.strip()
    sha = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=normal") != ""
    ver = subprocess.run([DTS, "version"], capture_output=True, text=True).stdout.strip()
    tree, binary = scripts_in_tree(), scripts_in_binary()
    return {"label": sha + ("-dirty" if dirty else ""), "subject": git("log", "-1", "--format=%s")[:80],
            "binary": ver, "scripts": binary or tree, "scripts_from": "binary" if binary else "tree",
            "scripts_differ": sorted(k for k in set(tree) | set(binary) if binary and tree.get(k) != binary.get(k))}


# ---- the suite ----

def main():
    global TMP, OUT
    TMP = tempfile.mkdtemp(prefix="dts-bench.")
    OUT = os.path.join(TMP, "out")
    os.makedirs(OUT)
    t_suite = time.time()
    F = {"knobs": K, "quick": QUICK, "rounds": [], "label": commit_label()}  # the tree as the run starts
    log(f"== dts vs BullMQ, {K['rounds']} ABBA round(s): burst {K['burst']}, {K['low_rate']}/s for {K['low_secs']} s")
    for i in range(K["rounds"]):
        order = ["dts", "bullmq"] if i % 2 == 0 or SKIP_BULL else ["bullmq", "dts"]
        rd = {"order": order}
        for sysname in order:
            if sysname == "bullmq" and SKIP_BULL:
                continue
            fn = run_dts if sysname == "dts" else run_bull
            kw = {"follow": True} if sysname == "dts" else {}
            rd[sysname + "_burst"] = fn(f"r{i}_{sysname}_burst", K["burst"], 0)
            rd[sysname + "_low"] = fn(f"r{i}_{sysname}_low", K["low_rate"] * K["low_secs"], K["low_rate"], **kw)
            b = rd[sysname + "_burst"]
            log(f"  round {i + 1} {sysname}: burst drained in {b['drain_s']} s; redis {b['window']['redis_cpu_us']:.1f}"
                f" us/occ; workers {b['window']['worker_cpu_us']:.1f} us/occ; load {b['window']['load_begin']}")
        F["rounds"].append(rd)
    log(f"== burst of {K['big']}, then {K['high_rate']}/s for {K['high_secs']} s (one round each)")
    big = {}
    for sysname in (["dts"] if SKIP_BULL else ["dts", "bullmq"]):
        fn = run_dts if sysname == "dts" else run_bull
        big[sysname + "_big"] = fn(f"{sysname}_big", K["big"], 0)
        log(f"  {sysname}: {K['big']} drained in {big[sysname + '_big']['drain_s']} s")
        kw = {"follow": True} if sysname == "dts" else {}
        big[sysname + "_high"] = fn(f"{sysname}_high", K["high_rate"] * K["high_secs"], K["high_rate"], **kw)
        h = big[sysname + "_high"]
        log(f"  {sysname}: {K['high_rate']}/s drained {h['drain_s']} s after the first due")
    F["single"] = big
    log("== memory per pending one-time task")
    F["memory"] = memory_rows()
    log(f"  {F['memory']}")
    log("== api: POST /api/v1/tasks (wrk), batch create")
    F["api"] = api_rows()
    log(f"  {F['api']}")
    F["suite_s"] = time.time() - t_suite
    with open(os.path.join(OUT, "figures.json"), "w") as f:
        json.dump(F, f, indent=1, default=str)
    subprocess.run([os.path.join(ROOT, "bench", "plots.sh"), OUT, os.path.dirname(RESULTS)], check=False)
    import results
    text = results.render(F)
    with open(RESULTS, "w") as f:
        f.write(text)
    raw = os.environ.get("BENCH_RAW")
    if raw:
        shutil.copy(os.path.join(OUT, "figures.json"), raw)
    log(text[text.find("## The issue's table"):text.find("## Rounds")])
    log(f"(written {RESULTS}; the suite took {F['suite_s']:.0f} s)")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        main()
    finally:
        cleanup()
