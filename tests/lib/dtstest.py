"""dtstest: the integration harness. It starts a private redis-server on a free
loopback port in a temporary folder and the real dts binary, talks HTTP to it,
and waits on conditions (never on bare sleeps). Standard library only."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

DTS = os.environ.get("DTS_BIN", os.path.join(os.path.dirname(__file__), "../../build/dts"))
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _port_range():
    """Test ports come from below Linux's ephemeral range (32768-60999 by
    default), so no outgoing connection takes one between our pick and the
    server's bind; 6379 is never among them."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo = int(f.read().split()[0])
    except (OSError, ValueError):
        lo = 32768
    return (20000, lo if lo > 25000 else 32768)


PORT_RANGE = _port_range()
_held_ports = {}  # port -> the locked file that reserves it for this process


def _reserve(ports):
    """Takes every port in PORTS for this process, or none: a lock on a file
    per port (in the temp folder, held until this process exits) keeps other
    test processes running beside it off the port, and a trial bind shows
    nothing else listens there."""
    import fcntl
    folder = os.path.join(tempfile.gettempdir(), "dts-test-ports")
    os.makedirs(folder, exist_ok=True)
    taken = []
    for p in ports:
        fd = -1
        try:
            if p in _held_ports:
                raise OSError("ours already")
            fd = os.open(os.path.join(folder, str(p)), os.O_CREAT | os.O_RDWR, 0o666)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with socket.socket() as s:
                s.bind(("127.0.0.1", p))
            taken.append((p, fd))
        except OSError:
            if fd >= 0:
                os.close(fd)
            for _, f in taken:
                os.close(f)
            return False
    _held_ports.update(taken)
    return True


def free_port(offsets=(0,)):
    """A free loopback port P, with P + each of OFFSETS free too (a cluster
    node's bus port, a run of ports), reserved against the other tests that
    run at the same time: two tests handed one port would talk to each
    other's servers."""
    import random
    for _ in range(5000):
        p = random.randrange(PORT_RANGE[0], PORT_RANGE[1] - max(offsets))
        if _reserve([p + o for o in offsets]):
            return p
    raise RuntimeError("no free loopback port left")


def wait_for(cond, timeout=10.0, interval=0.02, what="condition"):
    """Polls COND until it returns a truthy value, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Redis:
    """A private redis-server, spoken to with redis-cli-free RESP over a socket."""

    def __init__(self, tmp, appendfsync=None):
        self.port = free_port()
        self.dir = os.path.join(tmp, "redis")
        os.makedirs(self.dir, exist_ok=True)
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                "--save", "", "--daemonize", "no", "--logfile", os.path.join(tmp, "redis.log")]
        if appendfsync:
            args += ["--appendonly", "yes", "--appendfsync", appendfsync]
        else:
            args += ["--appendonly", "no"]
        self.args = args
        self.start()

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._ping, what="redis-server to answer")

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def _ping(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"redis-server on port {self.port} exited ({self.proc.returncode})")
        try:
            return self.cmd("PING") == "PONG"
        except OSError:
            return False
        except RuntimeError as e:  # -LOADING while it reads its AOF back
            if str(e).startswith("LOADING"):
                return False
            raise

    def cmd(self, *args):
        return redis_cmd(self.port, *args)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def redis_cmd(port, *args, password=None):
    """ARGS as one command on a fresh connection to 127.0.0.1:PORT (after AUTH
    PASSWORD, if given); its reply, or RuntimeError for an error reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        f = s.makefile("rb")
        reply = None
        for command in ([("AUTH", password)] if password else []) + [args]:
            out = b"*%d\r\n" % len(command)
            for a in command:
                a = str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
            s.sendall(out)
            reply = _read_reply(f)
        return reply


def _read_reply(f):
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise RuntimeError(f"bad reply {line!r}")


class Proc:
    """One dts process; its log (JSON lines) goes to a file in the test folder."""

    def __init__(self, tmp, name, args, env=None):
        self.name = name
        self.log_path = os.path.join(tmp, f"{name}.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([DTS] + args, stdout=self.log, stderr=self.log,
                                     env=dict(os.environ, **(env or {})))

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        """True while it runs; raises once it has exited (a wait on it would
        only time out, or find another process on its port)."""
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited ({self.proc.returncode}):\n{self.logs()[-2000:]}")
        return True

    def kill9(self):
        self.proc.kill()
        self.proc.wait(10)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


class Http:
    def __init__(self, base):
        self.base = base

    def request(self, method, path, body=None, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        h = {"Content-Type": "application/json"} if data is not None else {}
        h.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                text = r.read().decode()
                return r.status, (json.loads(text) if text else None), dict(r.headers)
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            try:
                payload = json.loads(text) if text else None
            except ValueError:
                payload = text
            return e.code, payload, dict(e.headers)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)


def api_up(http, probe="/readyz"):
    """True once the server behind HTTP answers PROBE with 200 (False while it
    is not listening yet)."""
    try:
        return http.get(probe)[0] == 200
    except OSError:
        return False


class DtsCase(unittest.TestCase):
    """A test case with a private Redis and helpers to start dts roles."""

    shards = 16
    appendfsync = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dts-test-")
        # Executors started as root run shell actions as nobody: let them write here.
        os.chmod(self.tmp, 0o777)
        self.redis = Redis(self.tmp, self.appendfsync)
        self.procs = []
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for p in self.procs:
            p.stop(signal.SIGKILL)
        self.redis.stop()
        if self._outcome_ok():
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print(f"\n(logs kept in {self.tmp})")

    def _outcome_ok(self):
        return getattr(getattr(self, "_outcome", None), "success", True)

    def ledger_file(self, name="ledger"):
        """An empty file in the test folder that actions (run as nobody) may append to."""
        path = os.path.join(self.tmp, name)
        open(path, "a").close()
        os.chmod(path, 0o666)
        return path

    def common(self):
        return ["--redis", self.redis.url, "--shards", str(self.shards), "--log-level", "info"]

    def start(self, role, *args, name=None, env=None):
        name = name or f"{role}{len(self.procs)}"
        p = Proc(self.tmp, name, [role] + self.common() + list(args), env)
        self.procs.append(p)
        return p

    def start_api(self):
        port = free_port()
        p = self.start("api", "--listen", f"127.0.0.1:{port}")
        self.api = Http(f"http://127.0.0.1:{port}")
        wait_for(lambda: p.alive() and api_up(self.api), what="api /readyz")
        return p

    def create(self, spec, expect=201):
        status, body, headers = self.api.post("/api/v1/tasks", spec)
        self.assertEqual(status, expect, body)
        return body

    def runs(self, task_id):
        status, body, _ = self.api.get(f"/api/v1/tasks/{task_id}/runs?limit=1000")
        self.assertEqual(status, 200, body)
        return body["items"]

    def ready_entries(self):
        """Every entry in every shard's ready stream: (task, sched ms, attempt)."""
        out = []
        for s in range(self.shards):
            for _id, fields in self.redis.cmd("XRANGE", f"dts:{{{s}}}:ready", "-", "+") or []:
                f = dict(zip(fields[::2], fields[1::2]))
                out.append((f["task"], int(f["sched"]), int(f["attempt"])))
        return out


def parse_time(s):
    """RFC 3339 UTC with milliseconds ("...Z") to Unix milliseconds."""
    from datetime import datetime, timezone
    return int(datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000)


def fmt_time(ms):
    from datetime import datetime, timezone
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def percentile(values, p):
    v = sorted(values)
    if not v:
        return None
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


class Role:
    """A restartable dts process of CASE's fleet: ROLE with ARGS (after the
    common flags), its environment made fresh by ENV_FN at each start (a new
    clock skew, say)."""

    def __init__(self, case, role, name, args, env_fn=None, common=None):
        self.case, self.role, self.name, self.args = case, role, name, args
        self.env_fn = env_fn or (lambda: {})
        self.common = common or case.common()
        self.proc = None
        self.env = {}
        self.start()

    def start(self):
        self.env = self.env_fn()
        self.proc = Proc(self.case.tmp, self.name, [self.role] + self.common + self.args, self.env)
        self.case.procs.append(self.proc)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        """True while it runs; raises once it has exited (a wait on it would
        only time out, or find another process on its port)."""
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited ({self.proc.returncode}):\n{self.logs()[-2000:]}")
        return True

    def alive(self):
        return self.proc.proc.poll() is None

    def signal(self, sig):
        """Sends SIG without waiting (SIGTERM lets the process finish its grace)."""
        if self.alive():
            self.proc.proc.send_signal(sig)

    def wait(self, timeout=30):
        try:
            self.proc.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.proc.kill()
            self.proc.proc.wait()


def ledger_action(path, sleep_s=0.0):
    """A shell action that appends a start line and an end line to PATH:
    `S task run_id scheduled_at attempt real_ms` and `E task run_id real_ms`
    (real_ms is the host's clock, which is Redis's on this machine)."""
    now = "$(/bin/date +%s%3N)"
    line = f'echo "S $DTS_TASK_ID $DTS_RUN_ID $DTS_SCHEDULED_AT $DTS_ATTEMPT {now}" >> {path}'
    end = f'echo "E $DTS_TASK_ID $DTS_RUN_ID {now}" >> {path}'
    body = f"{line}; /bin/sleep {sleep_s}; {end}" if sleep_s else f"{line}; {end}"
    return {"type": "shell", "command": ["sh", "-c", body]}


def read_ledger(path):
    """The lines of a ledger_action ledger: (starts, ends). A start is a dict
    with task, run, occ (the run id without its attempt), sched (ms), attempt
    and t (ms); an end has task, run and t. Torn lines are skipped."""
    starts, ends = [], []
    with open(path) as f:
        for line in f:
            p = line.split()
            try:
                if p[0] == "S" and len(p) == 6:
                    starts.append({"task": p[1], "run": p[2], "occ": p[2].rsplit(":", 1)[0],
                                   "sched": parse_time(p[3]), "attempt": int(p[4]), "t": int(p[5])})
                elif p[0] == "E" and len(p) == 4:
                    ends.append({"task": p[1], "run": p[2], "t": int(p[3])})
            except (ValueError, IndexError):
                pass
    return starts, ends


def max_overlap(starts, ends, until):
    """The most runs open at once: a start without an end is open until UNTIL."""
    end_of = {e["run"]: e["t"] for e in ends}
    points = []
    for s in starts:
        points += [(s["t"], 1), (end_of.get(s["run"], until), -1)]
    open_, most = 0, 0
    for _, d in sorted(points, key=lambda p: (p[0], p[1])):
        open_ += d
        most = max(most, open_)
    return most
