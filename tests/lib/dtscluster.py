"""dtscluster: Redis Cluster and Sentinel beside dtstest's single Redis. Real
redis-server processes on free loopback ports in the test's folder; the
cluster is made with redis-cli --cluster create. Standard library only."""
import os
import shutil
import subprocess
import time

from dtstest import REDIS_SERVER, DtsCase, Redis, free_port, wait_for

REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


def cluster_port():
    """A free loopback port P whose cluster bus port P + 10000 is free too."""
    return free_port(offsets=(0, 10000))


class Node(Redis):
    """One redis-server with extra arguments (cluster or replica settings)."""

    def __init__(self, tmp, name, extra, appendonly=False, password=None):
        self.port = cluster_port()
        self.name = name
        self.password = password
        if password:
            extra = extra + ["--requirepass", password, "--masterauth", password]
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                     "--save", "", "--daemonize", "no", "--appendonly", "yes" if appendonly else "no",
                     "--logfile", os.path.join(tmp, f"{name}.log")] + extra
        self.start()

    def cmd(self, *args):
        from dtstest import redis_cmd
        return redis_cmd(self.port, *args, password=self.password)

    def kill9(self):
        self.proc.kill()
        self.proc.wait(10)

    def alive(self):
        return self.proc.poll() is None


class Cluster:
    """PRIMARIES primaries with REPLICAS replicas each, made into one cluster."""

    def __init__(self, tmp, primaries=3, replicas=0, node_timeout=2000, password=None):
        self.nodes = []
        for i in range(primaries * (1 + replicas)):
            conf = os.path.join(tmp, f"node{i}", "nodes.conf")
            self.nodes.append(Node(tmp, f"node{i}", [
                "--cluster-enabled", "yes", "--cluster-config-file", conf,
                "--cluster-node-timeout", str(node_timeout), "--cluster-announce-ip", "127.0.0.1",
                "--cluster-replica-validity-factor", "0", "--appendfsync", "everysec"], password=password))
        subprocess.run([REDIS_CLI, "--cluster", "create"] + [f"127.0.0.1:{n.port}" for n in self.nodes]
                       + ["--cluster-replicas", str(replicas), "--cluster-yes"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60,
                       env=dict(os.environ, **({"REDISCLI_AUTH": password} if password else {})))
        wait_for(self.ok, timeout=30, interval=0.1, what="cluster_state:ok on every node")
        wait_for(lambda: all(self.synced(n) for n in self.primaries()) if replicas else True, timeout=30,
                 interval=0.1, what="every primary's replica in sync")

    def synced(self, primary):
        info = primary.cmd("INFO", "replication")
        return "connected_slaves:0" not in info and "state=online" in info

    @property
    def url(self):
        return "redis-cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes[:3])

    def live(self):
        return [n for n in self.nodes if n.alive()]

    def ok(self):
        try:
            return all("cluster_state:ok" in n.cmd("CLUSTER", "INFO") for n in self.live())
        except (OSError, RuntimeError):
            return False

    def role(self, node):
        return node.cmd("ROLE")[0]

    def primaries(self):
        return [n for n in self.live() if self.role(n) == "master"]

    def node_of(self, key):
        """The live node that serves KEY now."""
        slot = self.live()[0].cmd("CLUSTER", "KEYSLOT", key)
        for n in self.primaries():
            for lo, hi, *_ in n.cmd("CLUSTER", "SLOTS"):
                if lo <= slot <= hi:
                    port = _[0][1]
                    return next(x for x in self.live() if x.port == port)
        raise AssertionError(f"no node serves {key}")

    def cmd(self, *args):
        """ARGS on whichever node serves ARGS[1], following MOVED."""
        node = self.live()[0]
        for _ in range(5):
            try:
                return node.cmd(*args)
            except RuntimeError as e:
                if not str(e).startswith(("MOVED", "ASK")):
                    raise
                port = int(str(e).rsplit(":", 1)[1])
                node = next(x for x in self.live() if x.port == port)
                if str(e).startswith("ASK"):
                    raise
        raise AssertionError("too many redirects")

    def stop(self):
        for n in self.nodes:
            n.stop()


class Sentinels:
    """A primary, a replica and three sentinels watching master "dts"."""

    def __init__(self, tmp, down_after_ms=1000):
        self.primary = Node(tmp, "primary", ["--appendfsync", "everysec"])
        self.replica = Node(tmp, "replica", ["--replicaof", "127.0.0.1", str(self.primary.port)])
        wait_for(lambda: "master_link_status:up" in self.replica.cmd("INFO", "replication"),
                 timeout=20, what="replica in sync")
        self.sentinels = []
        for i in range(3):
            port = free_port()
            d = os.path.join(tmp, f"sentinel{i}")
            os.makedirs(d, exist_ok=True)
            conf = os.path.join(d, "sentinel.conf")
            with open(conf, "w") as f:
                f.write(f"port {port}\nbind 127.0.0.1\ndir {d}\n"
                        f"sentinel monitor dts 127.0.0.1 {self.primary.port} 2\n"
                        f"sentinel down-after-milliseconds dts {down_after_ms}\n"
                        "sentinel failover-timeout dts 5000\nsentinel parallel-syncs dts 1\n")
            s = Node.__new__(Node)
            s.port, s.name, s.dir, s.password = port, f"sentinel{i}", d, None
            s.args = [REDIS_SERVER, conf, "--sentinel", "--logfile", os.path.join(tmp, f"sentinel{i}.log")]
            s.proc = subprocess.Popen(s.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for(s._ping, what="sentinel to answer")
            self.sentinels.append(s)
        wait_for(lambda: all(self.known_replicas(s) for s in self.sentinels), timeout=30, interval=0.1,
                 what="sentinels to see the replica")

    def known_replicas(self, s):
        try:
            return int(dict(zip(*[iter(s.cmd("SENTINEL", "MASTER", "dts"))] * 2))["num-slaves"]) > 0
        except (OSError, RuntimeError, KeyError):
            return False

    @property
    def url(self):
        return "redis-sentinel://" + ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels) + "/dts"

    def master_port(self):
        return int(self.sentinels[0].cmd("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "dts")[1])

    def cmd(self, *args):
        """ARGS on the primary the sentinels name now."""
        port = self.master_port()
        return next(n for n in (self.primary, self.replica) if n.port == port).cmd(*args)

    def stop(self):
        for n in self.sentinels + [self.replica, self.primary]:
            n.stop()


class ClusterCase(DtsCase):
    """DtsCase over a Redis Cluster instead of one Redis."""

    primaries, replicas = 3, 0
    redis_wait = 0
    password = None

    def setUp(self):
        super().setUp()
        self.redis.stop()  # the single Redis is not used
        self.cluster = Cluster(self.tmp, self.primaries, self.replicas, password=self.password)
        self.redis = self.cluster  # DtsCase's helpers read keys through it, routed by slot

    def common(self):
        return ["--redis", self.cluster.url, "--shards", str(self.shards), "--log-level", "info",
                "--redis-wait", str(self.redis_wait)]


class SentinelCase(DtsCase):
    """DtsCase over a Sentinel-watched primary and replica."""

    redis_wait = 0

    def setUp(self):
        super().setUp()
        self.redis.stop()
        self.sentinel = Sentinels(self.tmp)
        self.redis = self.sentinel

    def common(self):
        return ["--redis", self.sentinel.url, "--shards", str(self.shards), "--log-level", "info",
                "--redis-wait", str(self.redis_wait)]


def now_ms():
    return int(time.time() * 1000)
