"""The harness's ports: tests run four at a time, so two of them must never
be handed one port (a test whose server could not bind would find the other
test's server there and talk to it, as a CI run once did: its api answered
401 because it was another test's api, with tokens). Each port a test
process reserves stays its own until it exits, and none is in the range
outgoing connections take theirs from."""
import os
import socket
import subprocess
import sys
import unittest

from dtstest import PORT_RANGE, free_port

PICK = """
import sys
sys.path.insert(0, {lib!r})
from dtstest import free_port
ports = [free_port() for _ in range(400)]
print(" ".join(map(str, ports)), flush=True)
sys.stdin.read()  # holds its ports until told to go
"""


class PortsTest(unittest.TestCase):
    def test_processes_side_by_side_get_disjoint_ports_outside_the_ephemeral_range(self):
        lib = os.path.dirname(sys.modules["dtstest"].__file__)
        procs = [subprocess.Popen([sys.executable, "-c", PICK.format(lib=lib)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True) for _ in range(3)]
        try:
            sets = [set(map(int, p.stdout.readline().split())) for p in procs]
            mine = {free_port() for _ in range(400)}  # while they hold theirs
        finally:
            for p in procs:
                p.communicate("")
        for s in sets:
            self.assertEqual(len(s), 400)
        everyone = [mine] + sets
        for i, a in enumerate(everyone):
            for b in everyone[i + 1:]:
                self.assertEqual(a & b, set(), "two test processes were handed one port")
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            ephemeral_lo = int(f.read().split()[0])
        for s in everyone:
            self.assertTrue(all(PORT_RANGE[0] <= p < min(PORT_RANGE[1], ephemeral_lo) for p in s))
            self.assertNotIn(6379, s)

    def test_a_run_of_ports_is_free_together(self):
        base = free_port(offsets=(0, 1, 2, 10000))
        for p in (base, base + 1, base + 2, base + 10000):
            with socket.socket() as s:
                s.bind(("127.0.0.1", p))  # raises if it was not free


if __name__ == "__main__":
    unittest.main(verbosity=2)
