"""The shell-action sandbox (issue 12, items 3, 4 and 12): actions get fds
0-2 only, cannot read the executor's environment (the Redis password) even as
its own uid, cannot hook a shell or interpreter through action.env, run under
resource limits by default, and an executor can restrict env names further."""
import os
import pwd
import subprocess
import unittest

from dtstest import DTS, DtsCase, Proc, wait_for

NOBODY = pwd.getpwnam("nobody")


class SandboxCase(DtsCase):
    def setUp(self):
        super().setUp()
        self.start_api()
        self.start("scheduler")

    def finished_run(self, task, timeout=30):
        def done():
            runs = self.runs(task["id"])
            return runs[0] if runs and runs[0]["status"] != "running" else None
        return wait_for(done, timeout=timeout, what="the run to finish")

    def run_shell(self, command, **action):
        t = self.create({"name": "sandbox", "action": dict({"type": "shell", "command": command}, **action)})
        return self.finished_run(t)


class FdTest(SandboxCase):
    def test_actions_see_only_fds_0_1_2(self):
        self.start("executor", "--concurrency", "4")
        # While the action lists its fds, the executor holds Redis sockets,
        # webhook sockets and pipes of other runs.
        run = self.run_shell(["sh", "-c", "ls /proc/$$/fd"])
        self.assertEqual(run["status"], "succeeded", run)
        self.assertEqual(run["output"].split(), ["0", "1", "2"])


class SameUidTest(SandboxCase):
    def test_an_action_as_the_executors_own_uid_cannot_read_its_environment(self):
        """Kubernetes runs the executor non-root, so actions share its uid."""
        env = {"DTS_REDIS": self.redis.url, "DTS_SECRET_MARKER": "s3cr3t-marker"}
        args = ["setpriv", f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}", "--clear-groups", DTS,
                "executor", "--shards", str(self.shards)]
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, **env))
        self.addCleanup(lambda: (p.kill(), p.wait()))
        run = self.run_shell(["sh", "-c", "id -u; cat /proc/$PPID/environ; echo; ls /proc/$PPID/fd; exit 0"])
        self.assertEqual(run["output"].split()[0], str(NOBODY.pw_uid), run)
        self.assertNotIn("s3cr3t-marker", run["output"])
        self.assertNotIn(f"{self.redis.port}", run["output"])
        self.assertIn("Permission denied", run["output"])

    def test_a_non_root_executor_with_setuid_runs_actions_as_another_user(self):
        """The separation docs/security.md offers Kubernetes: CAP_SETUID and
        CAP_SETGID on a non-root executor, and --run-as a distinct user."""
        daemon = pwd.getpwnam("daemon")
        args = ["setpriv", f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}", "--clear-groups",
                "--inh-caps=+setuid,+setgid", "--ambient-caps=+setuid,+setgid", DTS, "executor", "--redis",
                self.redis.url, "--shards", str(self.shards), "--run-as", "daemon"]
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (p.kill(), p.wait()))
        run = self.run_shell(["sh", "-c", "id -u; cat /proc/$PPID/environ >/dev/null && echo read; exit 0"])
        self.assertEqual(run["output"].split()[0], str(daemon.pw_uid), run)
        self.assertNotIn("read", run["output"].split())

    def test_run_as_needs_the_right_to_switch_users(self):
        r = subprocess.run(["setpriv", f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}", "--clear-groups",
                            DTS, "executor", "--redis", self.redis.url, "--run-as", "daemon"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("CAP_SETUID", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


class EnvTest(SandboxCase):
    def test_dangerous_env_names_are_400_naming_the_field(self):
        for name in ("BASH_ENV", "ENV", "SHELLOPTS", "PS4", "LD_PRELOAD", "LD_AUDIT", "PERL5OPT", "PERL5LIB",
                     "NODE_OPTIONS", "PYTHONSTARTUP", "PYTHONPATH", "PATH", "IFS", "GCONV_PATH", "9X", "A-B"):
            status, body, _ = self.api.post("/api/v1/tasks", {"name": "e", "action": {
                "type": "shell", "command": ["true"], "env": {name: "x"}}})
            self.assertEqual(status, 400, (name, body))
            self.assertEqual(body["field"], f"action.env.{name}")
        self.assertEqual(self.api.get("/api/v1/tasks")[1]["items"], [])

    def test_env_allow_restricts_names_and_the_run_says_why(self):
        self.start("executor", "--env-allow", "APP_*,LOG_LEVEL")
        ok = self.run_shell(["sh", "-c", "echo $APP_MODE"], env={"APP_MODE": "fast", "LOG_LEVEL": "1"})
        self.assertEqual(ok["status"], "succeeded", ok)
        self.assertEqual(ok["output"].strip(), "fast")
        bad = self.run_shell(["sh", "-c", "echo ran"], env={"APP_MODE": "x", "OTHER": "y"})
        self.assertEqual(bad["status"], "failed", bad)
        self.assertIn("--env-allow", bad["error"])
        self.assertIn("action.env.OTHER", bad["error"])
        self.assertNotIn("ran", bad["output"])


class EscapeTest(SandboxCase):
    def test_a_grandchild_that_calls_setsid_dies_with_its_run(self):
        """Issue 12, item 12: setsid leaves the run's process group, which the
        timeout kills; it must not outlive the run either way."""
        self.start("executor")
        t = self.create({"name": "escape", "timeout_s": 2, "action": {"type": "shell", "command": [
            "sh", "-c", "setsid sleep 300 & echo $!; sleep 600"]}})
        timed_out = self.finished_run(t)
        t2 = self.create({"name": "escape-exit", "action": {"type": "shell", "command": [
            "sh", "-c", "setsid sh -c 'sleep 301' & echo $!; sleep 0.3"]}})
        exited = self.finished_run(t2)
        self.assertEqual(timed_out["status"], "timed_out", timed_out)
        self.assertEqual(exited["status"], "succeeded", exited)
        for run in (timed_out, exited):
            pid = int(run["output"].split()[0])
            wait_for(lambda: not os.path.exists(f"/proc/{pid}") or
                     open(f"/proc/{pid}/stat").read().split(") ")[1].startswith("Z"),
                     timeout=10, what=f"the setsid grandchild {pid} to die")


class LimitsTest(SandboxCase):
    def test_resource_limits_are_on_by_default(self):
        self.start("executor")
        run = self.run_shell(["sh", "-c", "ulimit -t; ulimit -v; ulimit -n; ulimit -p; ulimit -c"])
        self.assertEqual(run["status"], "succeeded", run)
        self.assertEqual(run["output"].split(), ["3600", str(8192 * 1024), "1024", "4096", "0"])


if __name__ == "__main__":
    unittest.main()
