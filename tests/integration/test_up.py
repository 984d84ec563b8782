"""`dts up`: the whole system from one command, with its own redis-server and
data folder; Ctrl-C stops every process it started."""
import os
import signal
import socket
import subprocess
import tempfile
import shutil
import unittest

from dtstest import DTS, Http, api_up, free_port, redis_cmd, wait_for


def free_run(n):
    """The first of N consecutive free loopback ports."""
    return free_port(offsets=tuple(range(n)))


def scrape(port):
    """The text of /metrics on PORT, or None while nothing listens there."""
    import urllib.request
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            return r.read().decode()
    except OSError:
        return None


def pids_of(pattern):
    out = subprocess.run(["pgrep", "-f", "--", pattern], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class UpTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dts-up-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_up_runs_a_cron_task_and_ctrl_c_stops_everything(self):
        api_port, redis_port, web_port, metrics = free_port(), free_port(), free_port(), free_run(3)
        data = os.path.join(self.tmp, "var")
        out = open(os.path.join(self.tmp, "up.out"), "w+")
        self.addCleanup(out.close)
        up = subprocess.Popen([DTS, "up", "--data", data, "--api-port", str(api_port), "--web-port", str(web_port),
                               "--redis-port", str(redis_port), "--metrics-port", str(metrics)],
                              stdout=out, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: up.poll() is None and up.kill())
        printed = lambda: open(out.name).read()  # noqa: E731
        wait_for(lambda: "dts is up" in printed(), timeout=20, what="dts up to print its URL")
        self.assertIn(f"http://127.0.0.1:{api_port}/api/v1/tasks", printed())
        self.assertIn(f"Open:  http://127.0.0.1:{web_port}/", printed())
        # The scheduler's and executors' metrics are reachable where it says.
        self.assertIn(f"http://127.0.0.1:{metrics}/metrics (scheduler), ports {metrics + 1}-{metrics + 2} (executors)",
                      printed())
        for port in (metrics, metrics + 1, metrics + 2):
            text = wait_for(lambda: scrape(port), timeout=10, what=f"metrics on {port}")
            self.assertIn("process_open_fds ", text)
            self.assertIn("dts_build_info{", text)
        web = Http(f"http://127.0.0.1:{web_port}")
        self.assertEqual(web.get("/api/v1/tasks")[0], 200)  # the UI's origin proxies the api
        api = Http(f"http://127.0.0.1:{api_port}")
        status, task, _ = api.post("/api/v1/tasks", {"name": "hello", "schedule": {"cron": "* * * * * *"},
                                                     "action": {"type": "shell", "command": ["echo", "hi"]}})
        self.assertEqual(status, 201, task)
        runs = wait_for(lambda: (lambda r: r if len(r) >= 2 else None)(
            api.get(f"/api/v1/tasks/{task['id']}/runs")[1]["items"]), timeout=10, what="two runs")
        self.assertTrue(all(r["output"] == "hi\n" for r in runs if r["status"] == "succeeded"))
        # Its own processes: one redis-server, api, scheduler, two executors and web.
        children = pids_of(f"--redis redis://127.0.0.1:{redis_port}")
        self.assertEqual(len(children), 4, children)
        self.assertEqual(len(pids_of(f"dts web --listen 127.0.0.1:{web_port}")), 1)
        self.assertEqual(len(pids_of(f"redis-server.*:{redis_port}")) + len(pids_of(f"--port {redis_port}")), 1)
        self.assertTrue(os.path.exists(os.path.join(data, "redis", "appendonlydir")), os.listdir(os.path.join(data, "redis")))
        self.assert_private(data, redis_port, up.pid)
        up.send_signal(signal.SIGINT)
        self.assertEqual(up.wait(30), 0)
        self.assertIn("dts stopped", printed())
        self.assertEqual(pids_of(f"--redis redis://127.0.0.1:{redis_port}"), [])
        self.assertEqual(pids_of(f"--port {redis_port}"), [])
        self.assertEqual(pids_of(f"dts web --listen 127.0.0.1:{web_port}"), [])

    def assert_private(self, data, redis_port, up_pid):
        """Issue 12, item 10: the data folder is 0700 and its files 0600; the
        embedded Redis wants a password, kept in var/redis.pass and never on a
        command line."""
        self.assertEqual(os.stat(data).st_mode & 0o777, 0o700)
        for root, dirs, files in os.walk(data):
            for d in dirs:
                self.assertEqual(os.stat(os.path.join(root, d)).st_mode & 0o077, 0, os.path.join(root, d))
            for f in files:
                self.assertEqual(os.stat(os.path.join(root, f)).st_mode & 0o077, 0, os.path.join(root, f))
        with open(os.path.join(data, "redis.pass")) as f:
            password = f.read().strip()
        self.assertGreaterEqual(len(password), 32)
        with socket.create_connection(("127.0.0.1", redis_port), timeout=5) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            self.assertTrue(s.recv(200).startswith(b"-NOAUTH"), "the embedded Redis answers without a password")
        # The settings docs/operations.md gives, shipped: compact task hashes, short stream nodes.
        for name, want in (("hash-max-listpack-value", "1024"), ("stream-node-max-entries", "16")):
            self.assertEqual(redis_cmd(redis_port, "CONFIG", "GET", name, password=password), [name, want])
        kids = subprocess.run(["pgrep", "-P", str(up_pid)], capture_output=True, text=True).stdout.split()
        self.assertGreaterEqual(len(kids), 6)
        for pid in kids:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                self.assertNotIn(password.encode(), f.read(), f"the password is on the command line of {pid}")

    def test_up_survives_a_killed_child_and_keeps_data_across_restarts(self):
        api_port, redis_port = free_port(), free_port()
        data = os.path.join(self.tmp, "var")
        args = [DTS, "up", "--data", data, "--api-port", str(api_port), "--redis-port", str(redis_port),
                "--web-port", str(free_port()), "--metrics-port", str(free_run(3))]
        up = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: up.poll() is None and up.kill())
        api = Http(f"http://127.0.0.1:{api_port}")
        wait_for(lambda: api_up(api), timeout=20, what="api")
        task = api.post("/api/v1/tasks", {"name": "keep", "schedule": {"cron": "0 0 1 1 *"},
                                          "action": {"type": "noop"}})[1]
        [sched] = pids_of(f"dts scheduler --redis redis://127.0.0.1:{redis_port}")
        os.kill(sched, signal.SIGKILL)
        wait_for(lambda: [p for p in pids_of(f"dts scheduler --redis redis://127.0.0.1:{redis_port}") if p != sched],
                 timeout=10, what="the scheduler to be restarted")
        up.send_signal(signal.SIGINT)
        self.assertEqual(up.wait(30), 0)
        up = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: up.poll() is None and up.kill())
        wait_for(lambda: api_up(api), timeout=20, what="api after restart")
        self.assertEqual(api.get(f"/api/v1/tasks/{task['id']}")[1]["name"], "keep")
        up.send_signal(signal.SIGINT)
        self.assertEqual(up.wait(30), 0)

    def test_bad_option_is_one_line_and_non_zero(self):
        r = subprocess.run([DTS, "up", "--api-port", "99999"], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        r = subprocess.run([DTS, "nonsense"], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        r = subprocess.run([DTS, "up", "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("DTS_API_PORT", r.stdout)


if __name__ == "__main__":
    unittest.main()
