"""The real image, run by a real Docker engine through deploy/compose.yaml plus
tests/image/compose.test.yaml (host networking, loopback ports): `make
image-test` builds the images and runs this file (DOCKER_HOST names the
engine). The tests run in order and share one compose project:

  1. the image: non-root, no compiler, no extra CA left behind, its size;
  2. the stack: every container healthy, read-only, on the host network only;
  3. tasks of every kind run (shell, http to a loopback receiver, noop);
  4. docker kill of a scheduler and an executor loses nothing (a ledger the
     actions write, against the schedule);
  5. a crashed role comes back by its restart policy;
  6. docker stop of the executors drains: running actions finish and are
     recorded as succeeded, and the container exits 0 before its SIGKILL.

Each figure it measures is printed as a `figure:` line."""
import glob
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from dtstest import Http, free_port, wait_for  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCKER = os.environ.get("DOCKER", "docker")
IMAGE = os.environ.get("DTS_IMAGE", "dts:dev")
PROJECT = "dtsimagetest"
FILES = ["-f", os.path.join(ROOT, "deploy", "compose.yaml"),
         "-f", os.path.join(os.path.dirname(__file__), "compose.test.yaml")]
ROLES = ["api-1", "api-2", "scheduler-1", "scheduler-2", "executor-1", "executor-2", "web-1", "web-2"]
EXTRA_CAS = sorted(glob.glob("/usr/local/share/ca-certificates/**/*.crt", recursive=True))


def figure(text):
    print(f"figure: {text}", flush=True)


def run(*args, check=True, timeout=180, env=None):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, env=env)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r


def read(path):
    with open(path) as f:
        return f.read()


def docker(*args, **kw):
    return run(DOCKER, *args, **kw)


def inspect(container, fmt):
    return docker("inspect", "-f", fmt, container).stdout.strip()


class Receiver(http.server.ThreadingHTTPServer):
    """The webhook target: records each call's Idempotency-Key."""

    def __init__(self):
        self.keys = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.keys.append(self.headers.get("Idempotency-Key"))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        super().__init__(("127.0.0.1", 0), Handler)


class Api(Http):
    def __init__(self, base, token):
        super().__init__(base)
        self.auth = {"Authorization": f"Bearer {token}"}

    def request(self, method, path, body=None, headers=None, raw=None):
        return super().request(method, path, body, dict(self.auth, **(headers or {})), raw)


class TestImageCompose(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dts-image-test-")
        cls.ledger = os.path.join(cls.tmp, "ledger")
        os.makedirs(cls.ledger)
        os.chmod(cls.ledger, 0o777)  # the containers run as uid 10001
        cls.ports = {"T_REDIS": free_port()}
        for r in ROLES:
            cls.ports["T_" + r.replace("-", "_").upper()] = free_port()
        # The password and the admin token, made as make compose-up makes them.
        secrets = os.path.join(cls.tmp, "compose")
        r = run(os.path.join(ROOT, "deploy", "compose.sh"), "secrets",
                env=dict(os.environ, DTS_COMPOSE_DIR=secrets, DOCKER=DOCKER))
        cls.token = read(os.path.join(secrets, "admin-token")).strip()
        assert cls.token in r.stdout and cls.token not in read(os.path.join(secrets, "tokens"))
        tokens = os.path.join(secrets, "tokens")
        cls.env = dict(os.environ, DTS_REDIS_PASSWORD=read(os.path.join(secrets, "redis-password")),
                       DTS_COMPOSE_TOKENS=tokens, T_LEDGER=cls.ledger, DTS_IMAGE=IMAGE,
                       **{k: str(v) for k, v in cls.ports.items()})
        cls.receiver = Receiver()
        threading.Thread(target=cls.receiver.serve_forever, daemon=True).start()
        cls.compose("down", "-v", "--remove-orphans", check=False)
        cls.addClassCleanup(cls.cleanup)  # runs even if setUpClass fails from here on
        cls.compose("up", "-d", "--no-build", timeout=300)
        cls.api = Api(f"http://127.0.0.1:{cls.ports['T_API_1']}", cls.token)

    @classmethod
    def cleanup(cls):
        cls.receiver.shutdown()
        if os.environ.get("DTS_IMAGE_TEST_KEEP") != "1":
            logs = cls.compose("logs", "--no-color", check=False).stdout
            with open(os.path.join(ROOT, "build", "image-test-compose.log") if os.path.isdir(
                    os.path.join(ROOT, "build")) else os.devnull, "w") as f:
                f.write(logs)
            cls.compose("down", "-v", "--remove-orphans", check=False)
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def compose(cls, *args, check=True, timeout=180):
        return run("docker-compose", "-p", PROJECT, *FILES, *args, check=check, timeout=timeout, env=cls.env)

    def container(self, service):
        return f"{PROJECT}_{service}_1"

    def create(self, spec):
        status, body, _ = self.api.post("/api/v1/tasks", spec)
        self.assertEqual(status, 201, body)
        return body["id"]

    def runs(self, task_id):
        status, body, _ = self.api.get(f"/api/v1/tasks/{task_id}/runs?limit=1000")
        self.assertEqual(status, 200, body)
        return body["items"]

    def metric(self, port, name):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ports[port]}/metrics", timeout=5) as r:
            for ln in r.read().decode().splitlines():
                if ln.startswith(name + " "):
                    return float(ln.split()[1])
        return 0.0

    def ledger_lines(self, name):
        try:
            with open(os.path.join(self.ledger, name)) as f:
                return [ln.strip() for ln in f if ln.strip()]
        except FileNotFoundError:
            return []

    # 0. The users' compose file, as docker-compose 1.29 reads it.
    def test_0_the_users_compose_file(self):
        import yaml
        text = run("docker-compose", "-p", "dts", "-f", os.path.join(ROOT, "deploy", "compose.yaml"),
                   "-f", os.path.join(ROOT, "deploy", "compose.ports.yaml"), "config",
                   env=dict(self.env, DTS_COMPOSE_TOKENS="/dev/null")).stdout
        cfg = yaml.safe_load(text)
        services = cfg["services"]
        self.assertEqual(sorted(services), sorted(["redis"] + ROLES))
        self.assertEqual(cfg["networks"]["default"]["name"], "dts")
        listen = {}
        for name, svc in services.items():
            self.assertNotIn("network_mode", svc, name)
            self.assertEqual(svc["restart"], "unless-stopped", name)
            self.assertIn("healthcheck", svc, name)
            self.assertTrue(svc.get("mem_limit") and svc.get("cpus") and svc.get("pids_limit"), name)
            self.assertTrue(svc["read_only"], name)
            for p in svc.get("ports", []):
                self.assertTrue(str(p).startswith("127.0.0.1:"), f"{name} publishes {p} beyond loopback")
            if name != "redis":
                self.assertEqual(svc["healthcheck"]["test"], ["CMD", "/usr/local/bin/dts", "probe"], name)
                listen.setdefault(svc["command"][0], set()).add(svc["environment"]["DTS_LISTEN"])
        published = {n: [str(p).rsplit("/", 1)[0] for p in svc.get("ports", [])] for n, svc in services.items()}
        self.assertEqual(published["web-1"], ["127.0.0.1:8320:8320"])
        self.assertEqual(published["web-2"], ["127.0.0.1:8330:8320"])
        self.assertEqual(published["api-1"], ["127.0.0.1:8321:8321"])
        # Each role its own port; the replicas of a role share one (own network namespaces).
        ports = {role: {a.rsplit(":", 1)[1] for a in addrs} for role, addrs in listen.items()}
        self.assertTrue(all(len(p) == 1 for p in ports.values()), ports)
        self.assertEqual(len({p for v in ports.values() for p in v}), 4, ports)
        self.assertEqual(services["redis"]["environment"]["REDISCLI_AUTH"], self.env["DTS_REDIS_PASSWORD"])
        self.assertIn("--appendonly yes", " ".join(inspect("dts-redis:dev", "{{json .Config.Entrypoint}}")
                                                  .split()))
        for name in ROLES:
            if not name.startswith("web"):
                self.assertIn(f":{self.env['DTS_REDIS_PASSWORD']}@redis:6379",
                              services[name]["environment"]["DTS_REDIS"])
        figure("deploy/compose.yaml: 9 services on network dts, limits, health checks, restart policies; "
               "published ports on loopback only")

    # 1. The image itself.
    def test_1_image_is_non_root_has_no_compiler_and_no_extra_ca(self):
        self.assertEqual(inspect(IMAGE, "{{.Config.User}}"), "10001:10001")
        self.assertEqual(docker("run", "--rm", "--network", "none", "--entrypoint", "/usr/bin/id", IMAGE,
                                "-u").stdout.strip(), "10001")
        found = docker("run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", IMAGE, "-c",
                       "for c in cc gcc c++ g++ cpp clang tcc ld as make cmake; do command -v $c; done; "
                       "ls -d /usr/include/hiredis /usr/lib/gcc 2>/dev/null; true").stdout.split()
        self.assertEqual(found, [], "compilers or headers in the final image")
        # The extra CA bundle the build trusted is in no file of the image.
        cid = docker("create", IMAGE).stdout.strip()
        try:
            export = os.path.join(self.tmp, "image.tar")
            docker("export", "-o", export, cid)
        finally:
            docker("rm", cid)
        bodies = []
        for path in EXTRA_CAS:
            with open(path) as f:
                lines = [ln.strip() for ln in f if ln.strip() and "-----" not in ln]
            bodies.append(lines[len(lines) // 2].encode())  # one line from inside the DER
        with tarfile.open(export) as tar:
            for m in tar:
                if m.isfile() and m.size < 64 << 20:
                    data = tar.extractfile(m).read()
                    for b in bodies:
                        self.assertNotIn(b, data, f"an extra CA is in {m.name}")
        os.unlink(export)
        size, base = (int(inspect(i, "{{.Size}}")) for i in (IMAGE, "debian:bookworm-slim"))
        figure(f"image {IMAGE} {size / 1e6:.1f} MB, debian:bookworm-slim {base / 1e6:.1f} MB "
               f"(+{(size - base) / 1e6:.1f} MB); {len(EXTRA_CAS)} extra CA(s) checked absent")

    # 2. The stack as compose started it.
    def test_2_every_container_is_healthy_read_only_on_the_host_network(self):
        for service in ["redis"] + ROLES:
            c = self.container(service)
            wait_for(lambda: inspect(c, "{{.State.Health.Status}}") == "healthy", timeout=90,
                     interval=0.5, what=f"{service} healthy")
            self.assertEqual(inspect(c, "{{.HostConfig.NetworkMode}}"), "host", service)
            self.assertEqual(inspect(c, "{{.HostConfig.ReadonlyRootfs}}"), "true", service)
            self.assertEqual(inspect(c, "{{.HostConfig.RestartPolicy.Name}}"), "unless-stopped", service)
            self.assertGreater(int(inspect(c, "{{.HostConfig.Memory}}")), 0, service)
            if service != "redis":
                self.assertEqual(inspect(c, "{{json .HostConfig.CapDrop}}"), '["ALL"]', service)
                self.assertEqual(inspect(c, "{{json .HostConfig.SecurityOpt}}"), '["no-new-privileges=true"]', service)
        r = docker("exec", self.container("executor-1"), "/bin/sh", "-c", "touch /usr/local/x", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Read-only file system", r.stderr)
        self.assertEqual(docker("exec", self.container("executor-1"), "/usr/bin/id", "-u").stdout.strip(), "10001")
        # No network but host and none: the engine made no bridge, and the
        # host has no bridge or veth interface of Docker's.
        self.assertEqual(sorted(docker("network", "ls", "--format", "{{.Name}}").stdout.split()), ["host", "none"])
        links = re.findall(r"^\d+: ([^:@]+)", run("ip", "-o", "link").stdout, re.M)
        self.assertEqual([n for n in links if n == "docker0" or n.startswith(("br-", "veth"))], [], links)
        for web in ("T_WEB_1", "T_WEB_2"):
            with urllib.request.urlopen(f"http://127.0.0.1:{self.ports[web]}/", timeout=10) as r:
                self.assertEqual(r.status, 200)
                self.assertIn(b"<html", r.read().lower())
        figure(f"{1 + len(ROLES)} containers healthy (redis, 2 api, 2 scheduler, 2 executor, 2 web)")

    # 3. Every kind of action.
    def test_3_tasks_of_every_kind_run(self):
        shell = self.create({"name": "shell", "action": {"type": "shell", "command": [
            "sh", "-c", 'echo "$DTS_RUN_ID" >> /ledger/kinds']}})
        hook = self.create({"name": "hook", "action": {
            "type": "http", "method": "POST", "url": f"http://127.0.0.1:{self.receiver.server_port}/hook",
            "body": "{}"}})
        noop = self.create({"name": "noop", "action": {"type": "noop"}})
        for t in (shell, hook, noop):
            runs = wait_for(lambda: [r for r in self.runs(t) if r["status"] != "running"], timeout=30,
                            interval=0.2, what=f"a finished run of {t}")
            self.assertEqual(runs[0]["status"], "succeeded", runs[0])
        self.assertEqual([ln.split(":")[0] for ln in self.ledger_lines("kinds")], [shell])
        self.assertEqual(len(self.receiver.keys), 1)
        self.assertTrue(self.receiver.keys[0].startswith(hook + ":"))
        figure("shell, http (to a loopback receiver) and noop tasks each ran once and succeeded")

    # 4. docker kill of a scheduler and an executor.
    def test_4_killing_a_scheduler_and_an_executor_loses_nothing(self):
        # Every second, an action that takes four: several are in flight on
        # each executor at any instant. The ledger is written when one finishes.
        every = self.create({"name": "ledger", "schedule": {"cron": "* * * * * *"}, "action": {
            "type": "shell", "command": ["sh", "-c", 'sleep 4; echo "$DTS_RUN_ID" >> /ledger/ledger']}})
        wait_for(lambda: len(self.ledger_lines("ledger")) >= 4, timeout=30, interval=0.2, what="ledger lines")
        # Kill executor-1 mid-run: while it has two actions running.
        wait_for(lambda: self.metric("T_EXECUTOR_1", "dts_runs_in_flight") >= 2, timeout=60, interval=0.05,
                 what="two runs in flight on executor-1")
        # The executor first, at once (the scheduler's failover pauses dispatch).
        docker("kill", self.container("executor-1"))
        docker("kill", self.container("scheduler-1"))
        killed = time.time()
        try:
            self.check_kill(every, killed)
        finally:  # both come back for what follows
            docker("start", self.container("scheduler-1"), self.container("executor-1"))

    def check_kill(self, every, killed):
        # The survivors take over (lease TTL 2 s, recovery timeout 3 s).
        wait_for(lambda: any(int(ln.rsplit(":", 2)[1]) / 1000 > killed + 8 for ln in self.ledger_lines("ledger")),
                 timeout=60, interval=0.2, what="runs scheduled after the takeover")
        status, _, _ = self.api.post(f"/api/v1/tasks/{every}/pause")
        self.assertEqual(status, 200)
        paused = time.time()
        wait_for(lambda: not [r for r in self.runs(every) if r["status"] == "running"], timeout=60,
                 interval=0.5, what="no run in flight")
        lines = self.ledger_lines("ledger")
        occ = {}
        for ln in lines:
            _, ms, attempt = ln.rsplit(":", 2)
            occ.setdefault(int(ms), []).append(int(attempt))
        first = min(occ)
        last = max(ms for ms in occ if ms / 1000 < paused - 2)
        expected = range(first, last + 1, 1000)
        lost = [ms for ms in expected if ms not in occ]
        doubled = [ms for ms, a in occ.items() if len(a) != len(set(a))]
        reruns = sum(1 for a in occ.values() if max(a) > 1)
        recovered = self.metric("T_EXECUTOR_2", "dts_entries_recovered_total")
        runs = self.runs(every)
        failed = sorted(f'{r["status"]} (attempt {r["attempt"]})' for r in runs
                        if r["status"] not in ("succeeded", "running"))
        figure(f"docker kill scheduler-1 + executor-1: {len(expected)} occurrences scheduled, "
               f"{len(lines)} ledger lines, lost {len(lost)}, doubled {len(doubled)}, "
               f"re-run after the kill (next attempt) {reruns}, entries executor-2 recovered {recovered:.0f}, "
               f"runs not succeeded {failed}")
        self.assertEqual(lost, [])
        self.assertEqual(doubled, [])
        self.assertGreaterEqual(reruns, 1, "the runs killed with executor-1 never ran again")
        self.assertGreaterEqual(recovered, 1)

    # 5. The restart policy.
    def test_5_a_crashed_role_is_restarted(self):
        c = self.container("scheduler-2")
        wait_for(lambda: inspect(c, "{{.State.Running}}") == "true", timeout=30, interval=0.5, what="running")
        before = int(inspect(c, "{{.RestartCount}}"))
        init = inspect(c, "{{.State.Pid}}")
        with open(f"/proc/{init}/task/{init}/children") as f:
            (child,) = f.read().split()  # dts, under the container's init
        os.kill(int(child), 9)
        wait_for(lambda: int(inspect(c, "{{.RestartCount}}")) > before and
                 inspect(c, "{{.State.Health.Status}}") == "healthy", timeout=90, interval=0.5,
                 what="scheduler-2 restarted and healthy")
        figure("a scheduler killed by SIGKILL inside its container was restarted by its policy")

    # 6. docker stop of the executors drains them.
    def test_6_docker_stop_drains_the_executors(self):
        for e in ("executor-1", "executor-2"):
            wait_for(lambda: inspect(self.container(e), "{{.State.Health.Status}}") == "healthy",
                     timeout=90, interval=0.5, what=f"{e} healthy")
        ids = [self.create({"name": f"drain-{i}", "action": {"type": "shell", "command": [
            "sh", "-c", 'sleep 4; echo "$DTS_RUN_ID" >> /ledger/drain']}}) for i in range(6)]
        wait_for(lambda: all(any(r["status"] == "running" for r in self.runs(t)) for t in ids),
                 timeout=30, interval=0.1, what="every drain task running")
        results = {}

        def stop(e):
            t0 = time.monotonic()
            docker("stop", self.container(e), timeout=120)
            results[e] = time.monotonic() - t0

        threads = [threading.Thread(target=stop, args=(e,)) for e in ("executor-1", "executor-2")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = {e: int(inspect(self.container(e), "{{.State.ExitCode}}")) for e in results}
        final = {t: [r for r in self.runs(t)] for t in ids}
        figure("docker stop executor-1 + executor-2 with 6 four-second actions running: stopped in "
               + ", ".join(f"{e} {s:.1f} s (exit {codes[e]})" for e, s in sorted(results.items()))
               + f"; runs {sorted(r['status'] for v in final.values() for r in v)}; "
               f"ledger {len(self.ledger_lines('drain'))} of 6")
        self.assertEqual(codes, {"executor-1": 0, "executor-2": 0}, "not drained before the SIGKILL")
        for t, runs in final.items():
            self.assertEqual([(r["status"], r["attempt"]) for r in runs], [("succeeded", 1)], t)
        self.assertEqual(len(self.ledger_lines("drain")), 6)
        self.assertTrue(all(s < 30 for s in results.values()), results)


if __name__ == "__main__":
    unittest.main()
