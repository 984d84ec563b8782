"""dts property test over ordinary operations (issue 11).

A fleet of one private redis-server (AOF everysec), 1 api, 2 schedulers and 2
executors, each scheduler and executor with its own host clock skew in
[-5000, +5000] ms (DTS_CLOCK_SKEW_MS), runs per-second cron tasks (one with
overlap forbid and a 1.5 s action), one-time `at` tasks and run-now tasks,
while a seeded random sequence of operations runs: pause, resume, label-only
edit (PUT with If-Match), trigger, delete, run-now, create `at`, create cron,
and kill -9 or SIGTERM of a scheduler or an executor (restarted after a while
with a new skew). Every action appends a start and an end line to a ledger;
the test keeps its own ledger of operations (sent, answered, status). Then it
checks, against both: every occurrence that should have run ran; none ran
while paused, after its delete or before its time; no run id started twice;
retries only after an executor was killed or stopped; forbid never overlapped;
lateness under 10 s where no pause or outage we caused was near.

`python3 tests/chaos/property.py --seconds 600 [--seed N]` is the long form
(`make property`); tests/integration/test_property.py runs a short one in
`make test`. Standard library plus tests/lib/dtstest.py only."""
import argparse
import json
import os
import random
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from dtstest import (DtsCase, Http, Role, api_up, fmt_time, free_port, ledger_action,  # noqa: E402
                     parse_time, percentile, read_ledger, wait_for)

RECOVERY_MS = 2000
LEASE_TTL_MS = 3000
GRACE_MS = 1000
LATENESS_LIMIT_MS = 10000
# An occurrence due this long before a pause or a delete may be held or
# cancelled by it (it had not started yet): it is not required to run.
HOLD_MS = 2000
# Ops stop this long before the end of the expected range.
SETTLE_MS = 3000
# The action writes its start line a few ms after the executor's start script
# decided to run it (fork, exec sh, exec date): a start line this close after
# a pause or delete was answered may have been decided before it.
FORK_SLACK_MS = 300
FORBID_SLEEP_S = 1.5
SKEW_MS = 5000


def now_ms():
    return int(time.time() * 1000)


class Property:
    """The fleet, the operations and the checks. CASE is a DtsCase (appendfsync
    everysec) whose setUp has run."""

    def __init__(self, case, seconds, seed=None, cron_tasks=4, op_every=(0.4, 1.2), kill_every=(8.0, 16.0),
                 log=print):
        self.case, self.seconds, self.log = case, seconds, log
        self.seed = seed if seed is not None else random.randrange(1 << 31)
        self.rng = random.Random(self.seed)
        self.n_cron, self.op_every, self.kill_every = cron_tasks, op_every, kill_every
        self.ledger = os.path.join(case.tmp, "ledger")
        open(self.ledger, "a").close()
        os.chmod(self.ledger, 0o666)
        self.ops_path = os.path.join(case.tmp, "ops.jsonl")
        self.ops = []  # every operation: op, task, sent, answered, status, and more
        self.tasks = {}  # id -> model: kind, first, at, pauses, deleted, triggers
        self.events = []  # role kills: kind, role, name, t, restart
        self.violations = {}
        self.n = 0

    # ---- the fleet ----

    def skew_env(self):
        return {"DTS_CLOCK_SKEW_MS": str(self.rng.randint(-SKEW_MS, SKEW_MS))}

    def start_fleet(self):
        c = self.case
        common = c.common() + ["--runs-kept", "10000"]
        port = free_port()
        self.api = Role(c, "api", "api", ["--listen", f"127.0.0.1:{port}"], common=common)
        self.http = Http(f"http://127.0.0.1:{port}")
        self.scheds = [Role(c, "scheduler", f"sched{i}", ["--lease-ttl-ms", str(LEASE_TTL_MS)], self.skew_env,
                            common) for i in range(2)]
        exec_args = ["--concurrency", "4", "--recovery-timeout-ms", str(RECOVERY_MS), "--run-as", "root",
                     "--grace-ms", str(GRACE_MS), "--kill-grace-ms", "500"]
        self.execs = [Role(c, "executor", f"exec{i}", exec_args, self.skew_env, common) for i in range(2)]
        wait_for(lambda: api_up(self.http), timeout=30, what="api /readyz")
        for r in self.scheds + self.execs:
            self.skewed(r)

    def skewed(self, r):
        """Logs, and records in the operations ledger, a role's clock skew."""
        self.ops.append({"op": "start", "task": None, "sent": now_ms(), "answered": now_ms(), "status": None,
                         "role": r.name, "pid": r.pid, "skew_ms": int(r.env["DTS_CLOCK_SKEW_MS"])})
        self.log(f"[property] {r.name} (pid {r.pid}) skew {r.env['DTS_CLOCK_SKEW_MS']} ms")

    # ---- operations ----

    def request(self, op, method, path, body=None, task=None, headers=None, **extra):
        """Sends one request and records it in the operations ledger."""
        sent = now_ms()
        try:
            status, reply, hdrs = self.http.request(method, path, body, headers=headers)
        except OSError as e:
            status, reply, hdrs = None, {"error": str(e)}, {}
        rec = dict(op=op, task=task, sent=sent, answered=now_ms(), status=status, **extra)
        self.ops.append(rec)
        return rec, reply, hdrs

    def create(self, kind, schedule=None, **spec):
        self.n += 1
        body = {"name": f"{kind}-{self.n}", "timeout_s": 60,
                "action": ledger_action(self.ledger, FORBID_SLEEP_S if kind == "forbid" else 0.2), **spec}
        if schedule:
            body["schedule"] = schedule
        op = {"cron": "create_cron", "forbid": "create_cron", "at": "create_at", "now": "run_now"}[kind]
        rec, reply, _ = self.request(op, "POST", "/api/v1/tasks", body)
        if rec["status"] != 201:
            self.violate("create refused", f"{kind}: {rec['status']} {reply}")
            return None
        tid = reply["id"]
        rec["task"] = tid
        m = {"kind": kind, "created": rec["answered"], "pauses": [], "deleted": None, "triggers": [],
             "paused": False}
        if kind in ("cron", "forbid"):
            nxt = reply.get("next_run_at")
            m["first"] = parse_time(nxt) if nxt else -(-rec["sent"] // 1000) * 1000
        elif kind == "at":
            m["at"] = parse_time(schedule["at"])
        else:
            m["now"] = rec["sent"]
        self.tasks[tid] = m
        return tid

    def live(self, kinds, paused=None):
        return [t for t, m in self.tasks.items() if m["kind"] in kinds and not m["deleted"]
                and (paused is None or m["paused"] == paused)]

    def op_pause(self):
        # A one-time task past its time has most likely completed (pause: 409).
        pool = [t for t in self.live(("cron", "forbid", "at"), paused=False)
                if self.tasks[t]["kind"] != "at" or self.tasks[t]["at"] > now_ms()]
        if not pool:
            return
        tid = self.rng.choice(pool)
        rec, reply, _ = self.request("pause", "POST", f"/api/v1/tasks/{tid}/pause", task=tid)
        if rec["status"] == 200 or rec["status"] is None:
            m = self.tasks[tid]
            m["paused"] = True
            m["pauses"].append([rec["sent"], rec["answered"], None, None])

    def op_resume(self):
        pool = self.live(("cron", "forbid", "at"), paused=True)
        if not pool:
            return
        tid = self.rng.choice(pool)
        rec, reply, _ = self.request("resume", "POST", f"/api/v1/tasks/{tid}/resume", task=tid)
        if rec["status"] != 200:
            self.violate("resume refused", f"{tid}: {rec['status']} {reply}")
            return
        m = self.tasks[tid]
        m["paused"] = False
        m["pauses"][-1][2:] = [rec["sent"], rec["answered"]]

    def op_edit(self):
        pool = self.live(("cron", "forbid", "at"))
        if not pool:
            return
        tid = self.rng.choice(pool)
        st, task, hdrs = self.http.get(f"/api/v1/tasks/{tid}")
        if st != 200:
            self.violate("edit: GET failed", f"{tid}: {st} {task}")
            return
        etag = hdrs.get("ETag") or hdrs.get("Etag")
        task["labels"] = {"edit": str(self.n)}
        self.n += 1
        before = (task.get("state"), task.get("next_run_at"))
        for _ in range(5):  # 503: the edit lost its race with a dispatch; a client retries
            rec, reply, _ = self.request("edit", "PUT", f"/api/v1/tasks/{tid}", task, task=tid,
                                         headers={"If-Match": etag}, state_before=before[0],
                                         next_before=before[1])
            if rec["status"] != 503:
                break
        if rec["status"] != 200:
            self.violate("edit refused", f"{tid}: {rec['status']} {reply}")
            return
        rec["state_after"] = reply.get("state")
        if reply.get("state") != before[0]:
            self.violate("edit changed the state", f"{tid}: {before[0]} -> {reply.get('state')} ({rec})")

    def op_trigger(self):
        pool = self.live(("cron", "forbid", "at"))
        if not pool:
            return
        tid = self.rng.choice(pool)
        m = self.tasks[tid]
        rec, reply, _ = self.request("trigger", "POST", f"/api/v1/tasks/{tid}/trigger", task=tid,
                                     paused=m["paused"])
        if rec["status"] == 202:
            occ = reply["occurrence_id"]
            rec["occurrence_id"] = occ
            m["triggers"].append((occ, parse_time(reply["scheduled_at"]), rec["answered"]))
        elif not (rec["status"] == 409 and m["paused"]):
            self.violate("trigger refused", f"{tid}: {rec['status']} {reply}")

    def op_delete(self):
        pool = self.live(("cron", "at"))
        if len(self.live(("cron",))) <= 2:
            pool = self.live(("at",))
        if not pool:
            return
        tid = self.rng.choice(pool)
        rec, reply, _ = self.request("delete", "DELETE", f"/api/v1/tasks/{tid}", task=tid)
        if rec["status"] in (200, 204):
            self.tasks[tid]["deleted"] = (rec["sent"], rec["answered"])
        else:
            self.violate("delete refused", f"{tid}: {rec['status']} {reply}")

    def op_run_now(self):
        self.create("now")

    def op_create_at(self):
        self.create("at", {"at": fmt_time(now_ms() + self.rng.randint(1500, 6000))})

    def op_create_cron(self):
        if len(self.live(("cron",))) < self.n_cron + 2:
            self.create("cron", {"cron": "* * * * * *"})

    def op_kill(self):
        """kill -9 or SIGTERM of one scheduler or executor while its twin runs."""
        group = self.rng.choice([self.scheds, self.execs])
        if not all(r.alive() for r in group):
            return
        r = self.rng.choice(group)
        sig = self.rng.choice([signal.SIGKILL, signal.SIGTERM])
        kind = "kill9" if sig == signal.SIGKILL else "term"
        ev = {"op": kind, "role": r.role, "name": r.name, "t": now_ms(), "restart": None,
              "restart_due": time.monotonic() + self.rng.uniform(1.0, 4.0), "member": r}
        r.signal(sig)
        self.events.append(ev)
        self.ops.append({"op": kind, "task": None, "sent": ev["t"], "answered": ev["t"], "status": None,
                         "role": r.name})
        self.log(f"[property] {kind} {r.name} (pid {r.pid})")

    def restarts(self, force=False):
        for ev in self.events:
            if ev["restart"] is None and (force or time.monotonic() >= ev["restart_due"]):
                r = ev["member"]
                r.wait(30)
                r.start()
                ev["restart"] = now_ms()
                self.skewed(r)

    OPS = (("pause", 3), ("resume", 4), ("edit", 3), ("trigger", 3), ("delete", 1), ("run_now", 2),
           ("create_at", 3), ("create_cron", 1))

    def run_ops(self):
        names = [n for n, w in self.OPS for _ in range(w)]
        end = time.monotonic() + self.seconds
        next_kill = time.monotonic() + self.rng.uniform(*self.kill_every) / 2
        while time.monotonic() < end:
            self.restarts()
            if time.monotonic() >= next_kill:
                self.op_kill()
                next_kill = time.monotonic() + self.rng.uniform(*self.kill_every)
            else:
                getattr(self, "op_" + self.rng.choice(names))()
            time.sleep(self.rng.uniform(*self.op_every))
        self.restarts(force=True)

    # ---- the checks ----

    def violate(self, kind, detail):
        self.violations.setdefault(kind, []).append(detail)

    def held_from(self, sent):
        """The earliest due time a pause or delete sent at SENT may hold: HOLD_MS
        before it, or, when it came while a stopped scheduler's shards waited
        for its lease (occurrences due since the stop were not dispatched yet),
        from that stop on."""
        held = sent - HOLD_MS
        for ev in self.events:
            if ev["role"] == "scheduler" and ev["t"] <= sent <= ev["t"] + LEASE_TTL_MS + 2000 + HOLD_MS:
                held = min(held, ev["t"] - 1000)
        return held

    def pause_windows(self, m, end):
        """(held_from, pause_answered, resume_sent, resume_answered) per pause;
        an open pause ends at END."""
        out = []
        for ps, pa, rs, ra in m["pauses"]:
            out.append((self.held_from(ps), pa, rs if rs is not None else end, ra if ra is not None else end,
                        ra is not None))
        return out

    def planned(self, tid, m, cutoff):
        """Every occurrence of task TID due in the test's range, before its
        delete: {occurrence id: scheduled ms}."""
        last = cutoff
        if m["deleted"]:
            last = min(last, self.held_from(m["deleted"][0]))
        occs = {}
        if m["kind"] in ("cron", "forbid"):
            for s in range(m["first"], last + 1, 1000):
                occs[f"{tid}:{s}"] = s
        elif m["kind"] == "at" and m["at"] <= last:
            occs[f"{tid}:{m['at']}"] = m["at"]
        for occ, s, _ in m["triggers"]:
            if s <= last:
                occs[occ] = s
        return occs

    def check(self, cutoff, end, final):
        starts, ends = read_ledger(self.ledger)
        by_task, by_occ, seen_runs = {}, {}, {}
        for s in starts:
            by_task.setdefault(s["task"], []).append(s)
            by_occ.setdefault(s["occ"], []).append(s)
            seen_runs[s["run"]] = seen_runs.get(s["run"], 0) + 1
        end_of = {e["run"]: e["t"] for e in ends}
        exec_stops = [ev for ev in self.events if ev["role"] == "executor"]
        stats = {"expected": 0, "ran": 0, "coalesced": 0, "window_unrun": 0, "overlap_skipped": 0}
        for run, n in seen_runs.items():
            if n > 1:
                self.violate("run id started twice", f"{run} x{n}")
        for s in starts:
            if s["t"] < s["sched"]:
                self.violate("started early", f"{s['run']} started {s['sched'] - s['t']} ms early")
        for tid, m in self.tasks.items():
            mine = by_task.get(tid, [])
            windows = self.pause_windows(m, end)
            for s in mine:
                for held, pa, rs, ra, _ in windows:
                    if pa + FORK_SLACK_MS < s["t"] < rs:
                        self.violate("ran while paused", f"{s['run']} at {s['t']} in pause {pa}..{rs}")
                if m["deleted"] and s["t"] > m["deleted"][1] + FORK_SLACK_MS:
                    self.violate("ran after delete", f"{s['run']} at {s['t']}, delete answered {m['deleted'][1]}")
            t = final.get(tid) or {}
            counters = t.get("runs", {}) if isinstance(t, dict) else {}
            slack = counters.get("misfires_coalesced", 0) + counters.get("misfires_skipped", 0)
            stats["coalesced"] += slack
            skipped = {r["occurrence_id"] for r in t.get("_runs", []) if r.get("status") == "skipped"}
            stats["overlap_skipped"] += len(skipped)
            if m["kind"] == "now":
                stats["expected"] += 1
                if mine:
                    stats["ran"] += 1
                else:
                    self.violate("lost", f"run-now task {tid} never ran")
                self.phantoms(tid, m, mine, {f"{tid}:{s['sched']}" for s in mine[:1]})
                continue
            occs = self.planned(tid, m, cutoff)
            allowed = set(occs) | {o for o, _, _ in m["triggers"]}
            if m["kind"] == "at":
                allowed.add(f"{tid}:{m['at']}")
            self.phantoms(tid, m, mine, allowed)
            unrun_in_window = []
            for occ, sched in occs.items():
                in_win = [w for w in windows if w[0] <= sched <= w[3]]
                ran = occ in by_occ or occ in skipped
                if not in_win:
                    stats["expected"] += 1
                    stats["ran"] += ran
                    if not ran:
                        self.violate("lost", f"{occ} ({fmt_time(sched)}) never ran; task counters {counters}")
                elif not ran and all(w[4] for w in in_win):
                    unrun_in_window.append(occ)
            stats["window_unrun"] += len(unrun_in_window)
            if unrun_in_window and not m["deleted"] and len(unrun_in_window) > slack:
                self.violate("paused occurrences silently dropped",
                             f"{tid}: {len(unrun_in_window)} not run nor counted (coalesced+skipped {slack}): "
                             f"{unrun_in_window[:4]}")
        self.retries(by_occ, exec_stops)
        self.forbid(by_task, end_of, final)
        self.lateness(by_occ, cutoff)
        return stats, starts

    def phantoms(self, tid, m, mine, allowed):
        """A start of an occurrence nobody asked for: a cron second before the
        first due time or off the grid, a second run of a one-time task."""
        for s in mine:
            occ = s["occ"]
            if occ in allowed:
                continue
            if m["kind"] in ("cron", "forbid") and s["sched"] % 1000 == 0 and s["sched"] >= m["first"]:
                continue
            self.violate("phantom occurrence", f"{s['run']} ({m['kind']} task, scheduled {fmt_time(s['sched'])})")

    def retries(self, by_occ, exec_stops):
        for occ, ss in by_occ.items():
            for s in ss:
                if s["attempt"] == 1:
                    continue
                since = min([s["sched"]] + [x["t"] for x in ss]) - 1000
                if not any(since <= ev["t"] <= s["t"] for ev in exec_stops):
                    self.violate("retry without an executor stop",
                                 f"{s['run']} started {s['t']}, attempts seen {[x['attempt'] for x in ss]}")

    def forbid(self, by_task, end_of, final):
        kills = [ev["t"] for ev in self.events if ev["role"] == "executor" and ev["op"] == "kill9"]
        stops = [ev["t"] for ev in self.events if ev["role"] == "executor"]
        for tid, m in self.tasks.items():
            if m["kind"] != "forbid":
                continue
            runs = sorted(by_task.get(tid, []), key=lambda s: s["t"])
            spans = []
            for s in runs:
                e = end_of.get(s["run"])
                if e is None:  # killed mid-action (a stop) or never ended: its nominal length
                    e = s["t"] + int(FORBID_SLEEP_S * 1000) + 200
                    # A stop up to its grace before the start (the entry was being
                    # started) or during it explains the missing line: its end is unknown.
                    if any(s["t"] - GRACE_MS - 1000 <= k <= e for k in stops):
                        continue
                spans.append((s["t"], e, s["run"]))
            who = {r["id"]: r.get("executor") for r in (final.get(tid) or {}).get("_runs", [])}
            for (a0, a1, ar), (b0, b1, br) in zip(spans, spans[1:]):
                if b0 < a1 and not any(a0 <= k <= b0 for k in kills):
                    self.violate("forbid overlapped", f"{ar} [{a0},{a1}] on {who.get(ar)} and "
                                                      f"{br} [{b0},{b1}] on {who.get(br)}")

    def affected(self, sched):
        """Whether a pause, a delete or a role stop we caused was near SCHED."""
        for ev in self.events:
            # A dead scheduler's shards wait for its lease to expire; a dead
            # executor's entries for the recovery timeout (after the grace).
            grace = LEASE_TTL_MS if ev["role"] == "scheduler" else RECOVERY_MS + GRACE_MS
            if ev["t"] - 1000 <= sched <= ev["t"] + grace + 2000:
                return True
        return False

    def lateness(self, by_occ, cutoff):
        self.late_all, self.late_checked = [], []
        for occ, ss in by_occ.items():
            tid = ss[0]["task"]
            m = self.tasks.get(tid)
            first = min(ss, key=lambda s: s["t"])
            late = first["t"] - first["sched"]
            self.late_all.append(late)
            if m is None or self.affected(first["sched"]):
                continue
            if any(w[0] <= first["sched"] <= w[3] + 6000 for w in self.pause_windows(m, cutoff + 10 ** 9)):
                continue
            self.late_checked.append(late)
            if late >= LATENESS_LIMIT_MS:
                self.violate("late", f"{first['run']} started {late} ms after its time")

    # ---- the whole thing ----

    def final_state(self):
        out = {}
        for tid, m in self.tasks.items():
            if m["deleted"]:
                continue
            st, t, _ = self.http.get(f"/api/v1/tasks/{tid}")
            if st != 200:
                self.violate("task gone", f"{tid}: {st} {t}")
                continue
            if m["kind"] == "forbid":
                st, rb, _ = self.http.get(f"/api/v1/tasks/{tid}/runs?limit=1000")
                t["_runs"] = rb.get("items", []) if st == 200 else []
            out[tid] = t
        return out

    def wait_settled(self, cutoff, end):
        """Polls the ledger until every required occurrence ran (or 30 s)."""
        def done():
            starts, _ = read_ledger(self.ledger)
            occs = {s["occ"] for s in starts}
            tasks = {s["task"] for s in starts}
            for tid, m in self.tasks.items():
                if m["kind"] == "now":
                    if tid not in tasks:
                        return False
                    continue
                wins = self.pause_windows(m, end)
                for occ, sched in self.planned(tid, m, cutoff).items():
                    if occ not in occs and not any(w[0] <= sched <= w[3] for w in wins) and m["kind"] != "forbid":
                        return False
            return True
        try:
            wait_for(done, timeout=30, interval=0.5, what="every required occurrence to run")
        except AssertionError:
            pass  # the check names what is missing

    def run(self):
        t0 = time.time()
        self.log(f"[property] seed {self.seed} (replay with --seed {self.seed})")
        self.start_fleet()
        for _ in range(self.n_cron):
            self.create("cron", {"cron": "* * * * * *"})
        self.create("forbid", {"cron": "* * * * * *"}, overlap="forbid")
        self.run_ops()
        end = now_ms()
        cutoff = end - SETTLE_MS
        self.wait_settled(cutoff, end)
        time.sleep(3)  # anything that would start late, after a delete or while paused, has
        final = self.final_state()
        stats, starts = self.check(cutoff, end, final)
        self.summary(stats, starts, time.time() - t0)
        return self

    def save(self):
        """Writes the operations ledger and the task models next to the ledger."""
        with open(self.ops_path, "w") as f:
            for rec in self.ops:
                f.write(json.dumps(rec) + "\n")
        with open(os.path.join(self.case.tmp, "tasks.json"), "w") as f:
            json.dump(self.tasks, f, indent=1)

    def summary(self, stats, starts, elapsed):
        self.save()
        by_op = {}
        answers = {}
        for o in self.ops:
            by_op[o["op"]] = by_op.get(o["op"], 0) + 1
            if o["status"] is not None:
                k = f"{o['op']}:{o['status']}"
                answers[k] = answers.get(k, 0) + 1
        la, lc = self.late_all, self.late_checked
        rows = [("seed", str(self.seed)), ("wall time", f"{elapsed:.0f} s"),
                ("operations", " ".join(f"{k}={v}" for k, v in sorted(by_op.items()))),
                ("answers", " ".join(f"{k}={v}" for k, v in sorted(answers.items()))),
                ("tasks", str(len(self.tasks))),
                ("occurrences expected / ran", f"{stats['expected']} / {stats['ran']}"),
                ("start lines (attempts > 1)", f"{len(starts)} ({sum(1 for s in starts if s['attempt'] > 1)})"),
                ("coalesced+skipped (counters) / unrun in closed pauses",
                 f"{stats['coalesced']} / {stats['window_unrun']}"),
                ("forbid overlap-skipped", str(stats["overlap_skipped"])),
                ("lateness p50 / p99 / max (checked, n)",
                 f"{percentile(lc, 50)} / {percentile(lc, 99)} / {max(lc) if lc else None} ms ({len(lc)})"),
                ("lateness p50 / p99 / max (all first starts)",
                 f"{percentile(la, 50)} / {percentile(la, 99)} / {max(la) if la else None} ms ({len(la)})")]
        kinds = ["lost", "paused occurrences silently dropped", "ran while paused", "ran after delete",
                 "started early", "run id started twice", "retry without an executor stop", "forbid overlapped",
                 "late", "phantom occurrence"]
        for k in kinds + sorted(set(self.violations) - set(kinds)):
            rows.append((f"violations: {k}", str(len(self.violations.get(k, [])))))
        total = sum(len(v) for v in self.violations.values())
        rows.append(("RESULT", "PASS" if not total else f"FAIL ({total} violations)"))
        w = max(len(a) for a, _ in rows)
        out = ["", "property summary", "-" * (w + 40)] + [f"{a.ljust(w)}  {b}" for a, b in rows] + ["-" * (w + 40)]
        for k, v in self.violations.items():
            for d in v[:5]:
                out.append(f"  {k}: {d}")
        self.table = "\n".join(out)
        self.log(self.table)


class PropertyCase(DtsCase):
    appendfsync = "everysec"
    seconds = 55
    ok = False

    def _outcome_ok(self):
        return self.ok  # keep the ledgers and logs of a failed run

    def run_property(self, seed=None, **kw):
        p = Property(self, self.seconds, seed=seed, **kw).run()
        self.assertEqual(p.violations, {}, p.table)
        self.ok = True
        return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()

    class Long(PropertyCase):
        seconds = a.seconds

        def test_property(self):
            self.run_property(seed=a.seed, cron_tasks=6)

    r = unittest.TextTestRunner(verbosity=2).run(unittest.TestSuite([Long("test_property")]))
    sys.exit(0 if r.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
