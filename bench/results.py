"""bench/results.py: renders RESULTS.md from the figures bench/bench.py measured.

`python3 bench/results.py FIGURES.json [OUT.md]` re-renders a saved run
(BENCH_RAW=path keeps one) without measuring again.
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import time


def f(v, fmt="{:.1f}", none="n/a"):
    return none if v is None else fmt.format(v)


def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def met(ok):
    return "n/a" if ok is None else ("**yes**" if ok else "no")


def rate(n, secs):
    return n / secs if secs else None


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")][0]
    except (OSError, IndexError):
        pass
    with open("/proc/meminfo") as fh:
        mem = int(fh.readline().split()[1]) // 1024
    redis = version(["redis-server", "--version"]).split()
    redis = next((x[2:] for x in redis if x.startswith("v=")), "?")
    return cpu, mem, redis, version(["node", "--version"])


def version(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def bullmq_version():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers", "node_modules")
    def ver(pkg):
        try:
            with open(os.path.join(here, pkg, "package.json")) as f:
                return json.load(f)["version"]
        except OSError:
            return "?"
    return ver("bullmq"), ver("ioredis")


def hist_p(r, q):
    """A dts window's start lateness quantile Q in ms, after the start round
    trip (its executors' histogram), and "" ; or, past the top bucket, the
    per-run figure from the start script, marked with " †"."""
    import bench
    b = [(float(le), c) for le, c in (r.get("late_hist") or {}).get("buckets") or []]
    v = bench.hist_quantile(b, q) if b else None
    if v is not None:
        return v, ""
    s = (r.get("late_script") or {}).get({0.5: "p50", 0.99: "p99"}[q])
    return s, (" †" if s is not None else "")


def side(rd, key):
    return rd.get(key) or {}


def win(r, k):
    return (r.get("window") or {}).get(k)


def render(F):
    K, rounds, single = F["knobs"], F["rounds"], F["single"]
    L = []
    w = L.append
    lab = F["label"]
    cpu, mem, redis_v, node_v = machine()
    bull_v, ioredis_v = bullmq_version()
    w("# dts benchmark results")
    w("")
    w(f"Written by `bench/run.sh` on {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}"
      f"{' in quick mode (BENCH_QUICK=1: smaller sizes, one round; not for the record)' if F['quick'] else ''};"
      f" the suite took {F['suite_s']:.0f} s. How to run it, what each row means and the fairness rules:"
      " bench/README.md.")
    w("")
    w("## What was measured")
    w("")
    w(f"- commit **{lab['label']}** ({lab['subject']}); binary: `{lab['binary']}`; Release build")
    sh = ", ".join(f"{k} `{v[:12]}`" for k, v in sorted(lab["scripts"].items()))
    w(f"- embedded scripts (SHA1 as EVALSHA names them, read from the {lab['scripts_from']}): {sh}")
    if lab["scripts_differ"]:
        w(f"- **the binary's scripts differ from the tree's** for: {', '.join(lab['scripts_differ'])}"
          " (the binary was built from another tree)")
    if F.get("note"):
        w(f"- **note:** {F['note']}")
    w(f"- machine: {os.cpu_count()} cores ({cpu}), {mem} MiB, kernel {platform.release()}; shared with other"
      " engineers' builds and tests: the background load of every window is in the tables; the ABBA ratios are"
      " the figures to trust, the absolute ones are noisy")
    w(f"- Redis {redis_v}, a fresh redis-server for each system in each round, loopback, with the config `dts up`"
      " ships (appendonly yes, appendfsync everysec, save '', hash-max-listpack-value 1024,"
      " stream-node-max-entries 16; no password)")
    w(f"- node {node_v}, BullMQ {bull_v}, ioredis {ioredis_v}")
    w(f"- both systems: {K['procs']} worker processes × concurrency {K['conc']} (dts: {K['procs']} executors and"
      " one scheduler; BullMQ's workers promote delayed jobs themselves), no-op actions, the same payload"
      " (BullMQ's job data is the JSON a dts no-op task stores), workers connected and fetching before the"
      " tasks are added, the first due time after the adding ends")
    w(f"- sizes: burst {K['burst']} in {K['rounds']} ABBA round(s), with {K['low_rate']}/s for {K['low_secs']} s;"
      f" then once each: a burst of {K['big']} and {K['high_rate']}/s for {K['high_secs']} s;"
      f" memory over {K['mem_n']} tasks; wrk {K['wrk_secs']} s")
    w("")

    # Per-round values. A round in which either system's burst adding ran past
    # the first due time measured the adding too: it is left out of the medians
    # (unless every round was), and the rounds table marks it.
    def late(rd):
        return any((side(rd, k).get("seed_late_ms") or 0) > 0 for k in ("dts_burst", "bullmq_burst"))
    clean = [rd for rd in rounds if not late(rd)] or rounds

    def rv(key, fn):
        return [fn(side(rd, key)) for rd in clean]
    d_drain = rv("dts_burst", lambda r: r.get("drain_s"))
    b_drain = rv("bullmq_burst", lambda r: r.get("drain_s"))
    drain_ratio = med([ratio(a, b) for a, b in zip(d_drain, b_drain)])
    d_rcpu = med(rv("dts_burst", lambda r: win(r, "redis_cpu_us")))
    b_rcpu = med(rv("bullmq_burst", lambda r: win(r, "redis_cpu_us")))
    d_wcpu = med(rv("dts_burst", lambda r: win(r, "worker_cpu_us")))
    b_wcpu = med(rv("bullmq_burst", lambda r: win(r, "worker_cpu_us")))
    d_scpu = med(rv("dts_burst", lambda r: win(r, "other_cpu_us")))
    d_low99 = med(rv("dts_low", lambda r: hist_p(r, .99)[0]))
    d_low99s = med(rv("dts_low", lambda r: (r.get("late_script") or {}).get("p99")))
    b_low99 = med(rv("bullmq_low", lambda r: (r.get("late") or {}).get("p99")))
    db, bb = single.get("dts_big", {}), single.get("bullmq_big", {})
    dh, bh = single.get("dts_high", {}), single.get("bullmq_high", {})
    big_e2e = rate(db.get("n"), db.get("drain_s"))
    big_disp = rate(db.get("n"), db.get("dispatch_s"))
    h99, h99_mark = hist_p(dh, .99)
    hmax = (dh.get("late_script") or {}).get("max")
    mem_m = F["memory"]
    api = F["api"]
    post = (api.get("post") or {}).get("rps")
    batch = api.get("batch")
    batch_rate = batch.get("tasks_per_s") if batch else None

    w("## The issue's table (issue 14)")
    w("")
    w("Each row: the figure the issue measured on main (today), the goal, this run's figure, and whether it is"
      " met. Times: lower is better; rates: higher is better.")
    w("")
    w("| measure | today | required | measured | met? |")
    w("| --- | --- | --- | --- | --- |")
    w(f"| {K['burst'] // 1000}k burst, drain time, dts/BullMQ (time ratio, lower is better; median of"
      f" {len(clean)} of {len(rounds)} rounds) | 1.6× slower | ≤ 1/3 of BullMQ's (≤ 0.33) | {f(drain_ratio, '{:.2f}')}"
      f" (dts {f(med(d_drain), '{:.2f}')} s, BullMQ {f(med(b_drain), '{:.2f}')} s) |"
      f" {met(None if drain_ratio is None else drain_ratio <= 1 / 3)} |")
    w(f"| {K['big'] // 1000}k burst, end to end (rate) | 4.8k/s | ≥ 30k/s | {f(big_e2e, '{:.0f}')}/s"
      f" (BullMQ {f(rate(bb.get('n'), bb.get('drain_s')), '{:.0f}')}/s) | {met(None if big_e2e is None else big_e2e >= 30000)} |")
    w(f"| {K['big'] // 1000}k burst, all dispatched (rate) | 9.7k/s | ≥ 100k/s | {f(big_disp, '{:.0f}')}/s |"
      f" {met(None if big_disp is None else big_disp >= 100000)} |")
    ok = None if h99 is None or hmax is None else (h99 <= 250 and hmax < 2000)
    w(f"| {K['high_rate'] // 1000}k/s due for {K['high_secs']} s, lateness p99 / max | 58 s / 86 s | ≤ 250 ms / < 2 s |"
      f" {f(h99, '{:.0f}')}{h99_mark} ms / {f(hmax, '{:.0f}')} ms (share ≤ 250 ms:"
      f" {f((dh.get('late_hist') or {}).get('share_le_250ms'), '{:.2%}')}; BullMQ"
      f" {f((bh.get('late') or {}).get('p99'), '{:.0f}')} / {f((bh.get('late') or {}).get('max'), '{:.0f}')} ms) | {met(ok)} |")
    w(f"| {K['low_rate'] // 1000}k/s due, lateness p99 (median of rounds) | 69 ms | ≤ 20 ms | {f(d_low99, '{:.1f}')} ms"
      f" (start script: {f(d_low99s, '{:.0f}')} ms; BullMQ {f(b_low99, '{:.0f}')} ms) |"
      f" {met(None if d_low99 is None else d_low99 <= 20)} |")
    w(f"| Redis CPU per no-op occurrence, dispatch to completion (burst rounds, median) | ≈140 µs | ≤ 25 µs |"
      f" {f(d_rcpu)} µs (BullMQ {f(b_rcpu)} µs; {K['big'] // 1000}k burst: {f(win(db, 'redis_cpu_us'))} µs) |"
      f" {met(None if d_rcpu is None else d_rcpu <= 25)} |")
    w(f"| executor CPU per no-op occurrence (burst rounds, median) | ≈100 µs | ≤ 15 µs | {f(d_wcpu)} µs"
      f" (+ scheduler {f(d_scpu)} µs; BullMQ workers {f(b_wcpu)} µs) | {met(None if d_wcpu is None else d_wcpu <= 15)} |")
    sh_m, no_m = mem_m.get("at-shell"), mem_m.get("at-noop")
    ok = None if sh_m is None or no_m is None else (sh_m <= 400 and no_m <= 300)
    w(f"| Redis memory per pending one-time task, shell spec / noop | 1050 B | ≤ 400 B / ≤ 300 B |"
      f" {f(sh_m, '{:.0f}')} B / {f(no_m, '{:.0f}')} B (BullMQ delayed job {f(mem_m.get('bullmq'), '{:.0f}')} B) | {met(ok)} |")
    w(f"| POST /api/v1/tasks (wrk, 2 threads × 32 connections) | 8.4k/s | ≥ 12k/s | {f(post, '{:.0f}')}/s"
      f" (p99 {(api.get('post') or {}).get('p99')}, non-2xx {(api.get('post') or {}).get('non2xx')}) |"
      f" {met(None if post is None else post >= 12000)} |")
    if batch is None:
        w(f"| batch create (`POST /api/v1/tasks:batch`) | — | ≥ 50k tasks/s | not available (the probe got"
          f" `{api.get('batch_probe', '')[:60].strip()}`) | n/a |")
    else:
        w(f"| batch create (`POST /api/v1/tasks:batch`, 1,000 specs a request) | — | ≥ 50k tasks/s |"
          f" {f(batch_rate, '{:.0f}')} tasks/s (non-2xx {batch.get('non2xx')}, partly stored (207) {batch.get('partial_207')}) |"
          f" {met(None if batch_rate is None else batch_rate >= 50000)} |")
    w(f"| stretch: burst five times BullMQ's (drain-time ratio, lower is better) | | ≤ 0.20 | {f(drain_ratio, '{:.2f}')} |"
      f" {met(None if drain_ratio is None else drain_ratio <= 0.2)} |")
    w("")
    w("Lateness of dts is taken where BullMQ's is: after the start round trip (the executor's"
      " `dts_run_lateness_seconds`, summed over the executors; its p99 is interpolated within the histogram's"
      " buckets, 10/25/50/100/250 ms…, as Prometheus does, and the share ≤ 250 ms is exact). The max, and the"
      " \"start script\" figures, are exact per run from the start script's own time (the run.started"
      " events), which is before that reply. † past the histogram's top bucket (60 s): the start script's per-run"
      " figure instead.")
    w("")

    w("## Rounds (ABBA: dts first in rounds 1 and 3, BullMQ first in round 2)")
    w("")
    w("| round | order | burst drain s, dts / BullMQ | drain-time ratio (lower is better) | drain rate /s, dts / BullMQ"
      " | rate ratio (higher is better) | Redis CPU µs/occ, dts / BullMQ | worker CPU µs/occ, dts / BullMQ |"
      f" {K['low_rate'] // 1000}k/s p99 ms, dts / BullMQ | loadavg at start, dts / BullMQ | background cores, dts / BullMQ |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for i, rd in enumerate(rounds):
        d, b = side(rd, "dts_burst"), side(rd, "bullmq_burst")
        dl, bl = side(rd, "dts_low"), side(rd, "bullmq_low")
        dr, br = rate(d.get("n"), d.get("drain_s")), rate(b.get("n"), b.get("drain_s"))
        w(f"| {i + 1}{' (adding ran late: not in the medians)' if rd not in clean else ''} | {' then '.join(rd['order'])} | {f(d.get('drain_s'), '{:.2f}')} / {f(b.get('drain_s'), '{:.2f}')}"
          f" | {f(ratio(d.get('drain_s'), b.get('drain_s')), '{:.2f}')} | {f(dr, '{:.0f}')} / {f(br, '{:.0f}')}"
          f" | {f(ratio(dr, br), '{:.2f}')} | {f(win(d, 'redis_cpu_us'))} / {f(win(b, 'redis_cpu_us'))}"
          f" | {f(win(d, 'worker_cpu_us'))} / {f(win(b, 'worker_cpu_us'))}"
          f" | {f(hist_p(dl, .99)[0])}{hist_p(dl, .99)[1]} / {f((bl.get('late') or {}).get('p99'), '{:.0f}')}"
          f" | {win(d, 'load_begin')} / {win(b, 'load_begin')}"
          f" | {f(win(d, 'background_cores'), '{:.2f}')} / {f(win(b, 'background_cores'), '{:.2f}')} |")
    w("")
    drate = [ratio(rate(side(rd, "dts_burst").get("n"), side(rd, "dts_burst").get("drain_s")),
                   rate(side(rd, "bullmq_burst").get("n"), side(rd, "bullmq_burst").get("drain_s"))) for rd in clean]
    rcpu = [ratio(win(side(rd, "dts_burst"), "redis_cpu_us"), win(side(rd, "bullmq_burst"), "redis_cpu_us"))
            for rd in clean]
    w(f"Median of the per-round ratios ({len(clean)} rounds): drain time {f(drain_ratio, '{:.2f}')} (lower is better);"
      f" drain rate {f(med(drate), '{:.2f}')} (higher is better); Redis CPU per occurrence {f(med(rcpu), '{:.2f}')}"
      " (lower is better).")
    w("")

    w("## Single runs (one per system)")
    w("")
    w("| measure | dts | BullMQ | ratio dts/BullMQ |")
    w("| --- | --- | --- | --- |")
    w(f"| {K['big'] // 1000}k burst: drain time, s (lower is better) | {f(db.get('drain_s'), '{:.2f}')} |"
      f" {f(bb.get('drain_s'), '{:.2f}')} | {f(ratio(db.get('drain_s'), bb.get('drain_s')), '{:.2f}')} |")
    w(f"| {K['big'] // 1000}k burst: end-to-end rate, /s (higher is better) | {f(big_e2e, '{:.0f}')} |"
      f" {f(rate(bb.get('n'), bb.get('drain_s')), '{:.0f}')} | {f(ratio(big_e2e, rate(bb.get('n'), bb.get('drain_s'))), '{:.2f}')} |")
    w(f"| {K['big'] // 1000}k burst: all dispatched, s (lower is better) | {f(db.get('dispatch_s'), '{:.2f}')} | | |")
    w(f"| {K['big'] // 1000}k burst: Redis CPU µs/occ (lower is better) | {f(win(db, 'redis_cpu_us'))} |"
      f" {f(win(bb, 'redis_cpu_us'))} | {f(ratio(win(db, 'redis_cpu_us'), win(bb, 'redis_cpu_us')), '{:.2f}')} |")
    w(f"| {K['big'] // 1000}k burst: worker CPU µs/occ (lower is better) | {f(win(db, 'worker_cpu_us'))}"
      f" (+ scheduler {f(win(db, 'other_cpu_us'))}) | {f(win(bb, 'worker_cpu_us'))} |"
      f" {f(ratio(win(db, 'worker_cpu_us'), win(bb, 'worker_cpu_us')), '{:.2f}')} |")
    bl = bh.get("late") or {}
    ls = dh.get("late_script") or {}
    (p50, m50), (p99, m99) = hist_p(dh, .5), hist_p(dh, .99)
    w(f"| {K['high_rate'] // 1000}k/s for {K['high_secs']} s: lateness p50 / p99 / max, ms (lower is better) |"
      f" {f(p50, '{:.0f}')}{m50} / {f(p99, '{:.0f}')}{m99} / {f(ls.get('max'), '{:.0f}')} |"
      f" {f(bl.get('p50'), '{:.0f}')} / {f(bl.get('p99'), '{:.0f}')} / {f(bl.get('max'), '{:.0f}')} |"
      f" p99: {f(ratio(p99, bl.get('p99')), '{:.2f}')} |")
    w(f"| {K['high_rate'] // 1000}k/s: start script lateness p50 / p99 / max, ms; started early | {f(ls.get('p50'), '{:.0f}')}"
      f" / {f(ls.get('p99'), '{:.0f}')} / {f(ls.get('max'), '{:.0f}')}; {ls.get('early', 'n/a')} early |"
      f" {bl.get('early', 'n/a')} early | |")
    w(f"| {K['high_rate'] // 1000}k/s: last completion after the last due time, s (lower is better) |"
      f" {f(None if dh.get('drain_s') is None else dh['drain_s'] - K['high_secs'], '{:.2f}')} |"
      f" {f(None if bh.get('drain_s') is None else bh['drain_s'] - K['high_secs'], '{:.2f}')} | |")
    for name, r in (("burst", db), ("10k/s", dh)):
        w(f"| {name}: loadavg at start / end; background cores | {win(r, 'load_begin')} / {win(r, 'load_end')};"
          f" {f(win(r, 'background_cores'), '{:.2f}')} | {win(single.get('bullmq_big' if name == 'burst' else 'bullmq_high', {}), 'load_begin')}"
          f" / {win(single.get('bullmq_big' if name == 'burst' else 'bullmq_high', {}), 'load_end')};"
          f" {f(win(single.get('bullmq_big' if name == 'burst' else 'bullmq_high', {}), 'background_cores'), '{:.2f}')} | |")
    late = [r.get("seed_late_ms") for r in [db, bb, dh, bh] + [side(rd, k) for rd in rounds for k in rd if k != "order"]]
    late = [x for x in late if x is not None and x > 0]
    if late:
        w("")
        w(f"**Warning:** in {len(late)} window(s) the adding ended after the first due time (by up to {max(late)} ms):"
          " those occurrences were late before either system could run them.")
    w("")

    w("## Redis commands per occurrence (first round's burst; INFO commandstats deltas)")
    w("")
    w("Commands called inside scripts are counted as well as the script calls themselves.")
    w("")
    w("| system | command | calls per occurrence | µs per occurrence |")
    w("| --- | --- | --- | --- |")
    for sysname in ("dts", "bullmq"):
        r = side(rounds[0], sysname + "_burst") if rounds else {}
        cmds = sorted(((win(r, "commands") or {}).items()), key=lambda kv: -kv[1]["usec_per_occ"])[:12]
        for k, v in cmds:
            w(f"| {sysname} | {k} | {v['calls_per_occ']:.2f} | {v['usec_per_occ']:.2f} |")
    w("")
    w("## Plots")
    w("")
    w("![burst](burst.png)")
    w("")
    w("![lateness CDF](lateness_cdf.png)")
    w("")
    w("![lateness over time](lateness_10k.png)")
    w("")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    with open(sys.argv[1]) as fh:
        F = json.load(fh)
    text = render(F)
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
