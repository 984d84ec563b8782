"""The image recipe without a Docker engine: scripts/stage-image.sh stages the
dts under test with the runtime packages of deploy/runtime-packages.txt, checks
that `ldd` needs nothing else and runs the roles from the staging root. Also
holds deploy/Dockerfile to the rules the script cannot run: exec-form
commands, a non-root user, and the one shared package list."""
import os
import re
import subprocess
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "stage-image.sh")
DOCKERFILE = os.path.join(ROOT, "deploy", "Dockerfile")
RUNTIME = os.path.join(ROOT, "deploy", "runtime-packages.txt")
DTS = os.environ.get("DTS_BIN", os.path.join(ROOT, "build", "dts"))


def read(path):
    with open(path) as f:
        return f.read()


def stage(*args, env=None, timeout=120):
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


class TestStageImage(unittest.TestCase):
    def test_staged_binary_runs_every_role_with_only_the_runtime_packages(self):
        r = stage("--binary", DTS)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("3/4 ldd: every library resolves inside the staging root", r.stdout)
        self.assertIn("4/4 ran the staged dts", r.stdout)
        for pkg in ("libhiredis0.14", "libmicrohttpd12", "libjansson4", "libc6"):
            self.assertRegex(r.stdout, rf"(?m)^\s+\S+\s+{re.escape(pkg)}$")

    def test_the_dockerfile_copies_everything_the_build_reads(self):
        r = stage("--configure-only")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def with_list(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
        self.addCleanup(os.unlink, f.name)
        f.write(text)
        f.close()
        return stage("--binary", DTS, "--no-run", env={"STAGE_RUNTIME_PACKAGES": f.name})

    def test_a_missing_runtime_package_fails(self):
        lines = [ln for ln in read(RUNTIME).splitlines(True) if not ln.startswith("libjansson4")]
        r = self.with_list("".join(lines))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("libjansson.so.4", r.stdout + r.stderr)

    def test_an_unneeded_library_package_fails(self):
        # An installed library package dts does not load (python3 brings it).
        pkg = "libsqlite3-0"
        if subprocess.run(["dpkg-query", "-W", pkg], capture_output=True).returncode != 0:
            self.skipTest(f"{pkg} is not installed")
        r = self.with_list(read(RUNTIME) + f"{pkg}  # lib: not linked by dts\n")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(f"{pkg} is listed as 'lib:' but dts loads nothing from it", r.stderr)


class TestDockerfile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        text = read(DOCKERFILE).replace("\\\n", " ")
        cls.lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        stages = [i for i, ln in enumerate(cls.lines) if ln.startswith("FROM ")]
        cls.build = cls.lines[stages[0]:stages[1]]
        cls.runtime = cls.lines[stages[1]:]

    def instr(self, stage, name):
        return [ln[len(name) + 1:].strip() for ln in stage if ln.split()[0] == name]

    def test_bookworm_build_and_slim_runtime(self):
        self.assertRegex(self.build[0], r"^FROM debian:(bookworm|\$\{DEBIAN_RELEASE\}) AS build$")
        self.assertRegex(self.runtime[0], r"^FROM debian:(bookworm|\$\{DEBIAN_RELEASE\})-slim$")
        self.assertIn("ARG DEBIAN_RELEASE=bookworm", self.lines)

    def test_runtime_packages_come_from_the_shared_list(self):
        runs = " ".join(self.instr(self.runtime, "RUN"))
        self.assertIn("/tmp/runtime-packages.txt", runs)
        self.assertIn("COPY deploy/runtime-packages.txt /tmp/runtime-packages.txt", self.runtime)
        self.assertIn("--no-install-recommends", runs)
        self.assertIn("rm -rf /var/lib/apt/lists/*", runs)

    def test_exec_form_and_non_root(self):
        for name in ("ENTRYPOINT", "CMD"):
            (value,) = self.instr(self.runtime, name)
            self.assertTrue(value.startswith("["), f"{name} must be exec form")
        self.assertEqual(self.instr(self.runtime, "ENTRYPOINT"), ['["/usr/local/bin/dts"]'])
        (hc,) = self.instr(self.runtime, "HEALTHCHECK")
        self.assertRegex(hc, r"CMD \[")
        (user,) = self.instr(self.runtime, "USER")
        self.assertNotIn(user.split(":")[0], ("0", "root"))
        self.assertEqual(self.instr(self.runtime, "SHELL"), [])


if __name__ == "__main__":
    unittest.main()
