"""The image recipe's quick checks, for make test (no Docker engine needed; the
real image is built and run by `make image-test`, tests/image/test_compose.py):
scripts/stage-image.sh stages the dts under test with the runtime packages of
deploy/runtime-packages.txt, checks that `ldd` needs nothing else and runs the
roles from the staging root. Also holds deploy/Dockerfile to its rules:
exec-form commands, a non-root user, the shared package lists, no image pulled
for the frontend, the extra CA only as a build secret, and no DTS_LISTEN shared
by every role."""
import os
import re
import subprocess
import tempfile
import unittest

from dtstest import DtsCase

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


class TestProbe(DtsCase):
    """The image's HEALTHCHECK, `dts probe` without a URL: the role's DTS_LISTEN."""

    def probe(self, env):
        return subprocess.run([DTS, "probe"], capture_output=True, text=True, timeout=10,
                              env={"PATH": "/usr/bin:/bin", **env})

    def test_probes_the_roles_own_listen_address(self):
        self.start_api()
        port = self.api.base.rsplit(":", 1)[1]
        self.assertEqual(self.probe({"DTS_LISTEN": f"127.0.0.1:{port}"}).returncode, 0)
        self.assertEqual(self.probe({"DTS_LISTEN": f"0.0.0.0:{port}"}).returncode, 0)
        r = self.probe({"DTS_LISTEN": "127.0.0.1:1"})
        self.assertEqual(r.returncode, 1)
        self.assertIn("http://127.0.0.1:1/healthz", r.stderr)
        r = self.probe({})
        self.assertEqual(r.returncode, 2)
        self.assertIn("DTS_LISTEN", r.stderr)


class TestDockerfile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        text = read(DOCKERFILE).replace("\\\n", " ")
        cls.lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        cls.text = read(DOCKERFILE)
        stages = [i for i, ln in enumerate(cls.lines) if ln.startswith("FROM ")] + [len(cls.lines)]
        named = {cls.lines[a].split()[-1]: cls.lines[a:b] for a, b in zip(stages, stages[1:])}
        cls.build = named["build"]
        cls.runtime = cls.lines[stages[-2]:]

    def instr(self, stage, name):
        return [ln[len(name) + 1:].strip() for ln in stage if ln.split()[0] == name]

    def test_bookworm_build_and_slim_runtime(self):
        self.assertRegex(self.build[0], r"^FROM debian:(bookworm|\$\{DEBIAN_RELEASE\}) AS build$")
        self.assertRegex(self.runtime[0], r"^FROM debian:(bookworm|\$\{DEBIAN_RELEASE\})-slim$")
        self.assertIn("ARG DEBIAN_RELEASE=bookworm", self.lines)

    def test_runtime_packages_come_from_the_shared_list(self):
        runs = " ".join(self.instr(self.runtime, "RUN"))
        self.assertIn("/deploy/apt-install.sh /deploy/runtime-packages.txt", runs)
        self.assertIn("--mount=type=bind,source=deploy,target=/deploy", runs)
        helper = read(os.path.join(ROOT, "deploy", "apt-install.sh"))
        self.assertIn("--no-install-recommends", helper)
        self.assertIn("rm -rf /var/lib/apt/lists/*", helper)

    def test_no_frontend_image_and_the_ca_only_as_a_secret(self):
        # A `# syntax=` line would make BuildKit pull a frontend image.
        self.assertNotRegex(self.text, r"(?m)^#\s*syntax=")
        for ln in self.lines:
            if ln.split()[0] == "RUN" and ("apt-install.sh" in ln or "npm ci" in ln):
                self.assertIn("--mount=type=secret,id=extra_ca", ln)
        self.assertNotIn("extra_ca", " ".join(ln for ln in self.runtime if ln.split()[0] != "RUN"))
        self.assertNotRegex(self.text, r"(?m)^(ARG|ENV) .*CA")

    def test_no_listen_address_shared_by_every_role(self):
        self.assertEqual([ln for ln in self.runtime if ln.startswith("ENV") and "DTS_LISTEN" in ln], [])
        (hc,) = self.instr(self.runtime, "HEALTHCHECK")
        self.assertTrue(hc.endswith('CMD ["/usr/local/bin/dts", "probe"]'), hc)

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
