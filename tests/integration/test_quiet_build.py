"""make run's build step (scripts/build-quiet.sh): it builds only the dts
target, prints progress lines and no recursive-make chatter, and shows the
whole log when the build fails."""
import os
import subprocess
import unittest

from dtstest import DTS

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
SCRIPT = os.path.join(ROOT, "scripts/build-quiet.sh")


class QuietBuildTest(unittest.TestCase):
    build = os.path.dirname(os.path.abspath(DTS))

    def run_script(self, target):
        return subprocess.run([SCRIPT, self.build, target, "2"], capture_output=True, text=True, timeout=600)

    @unittest.skipUnless(os.path.exists(os.path.join(os.path.dirname(os.path.abspath(DTS)), "CMakeCache.txt")),
                         "DTS_BIN is not in a CMake build folder")
    def test_builds_dts_quietly(self):
        p = self.run_script("dts")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("Entering directory", p.stdout + p.stderr)
        self.assertNotIn("gmake", p.stdout + p.stderr)
        for line in p.stdout.splitlines():
            self.assertRegex(line, r"^  \d+% \S.*$")  # "  42% src/cli.c", "  1% Lua scripts"
        self.assertTrue(os.access(DTS, os.X_OK))

    @unittest.skipUnless(os.path.exists(os.path.join(os.path.dirname(os.path.abspath(DTS)), "CMakeCache.txt")),
                         "DTS_BIN is not in a CMake build folder")
    def test_a_failed_build_shows_its_log(self):
        p = self.run_script("no_such_target")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("build failed; the log", p.stderr)
        self.assertIn("no_such_target", p.stderr)


if __name__ == "__main__":
    unittest.main()
