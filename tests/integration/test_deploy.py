"""Renders every kustomize overlay under deploy/k8s with `kubectl kustomize`
(installed with apt-get when missing) and checks the objects: probes, limits
and a locked-down securityContext on every container, the replica counts, the
HPAs and the KEDA triggers on every shard's ready stream, PDBs, the executor's
drain inside its grace period, the Ingress routes, that only api, scheduler
and executor can reach Redis, and the aws overlay's Karpenter pools."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "deploy"))
import k8s_render as k8s  # noqa: E402

ROLES = ("api", "web", "scheduler", "executor")
PORTS = {"api": 8321, "web": 8320, "scheduler": 8322, "executor": 8322}
REDIS_PORT = 6379
STREAM_TRIGGERS = ("redis-streams", "redis-cluster-streams", "redis-sentinel-streams")


class Overlay:
    """Shared checks, run once per overlay (subclasses name it)."""

    overlay = None
    _cache = {}

    @classmethod
    def setUpClass(cls):
        if cls.overlay not in Overlay._cache:
            Overlay._cache[cls.overlay] = k8s.Objects(k8s.render(cls.overlay))
        cls.o = Overlay._cache[cls.overlay]

    def deployment(self, role):
        d = self.o.get("Deployment", f"dts-{role}")
        self.assertIsNotNone(d, f"no Deployment dts-{role}")
        return d

    def pod_labels(self, role):
        return self.deployment(role)["spec"]["template"]["metadata"]["labels"]

    def test_replicas(self):
        for role in ROLES:
            self.assertEqual(self.deployment(role)["spec"]["replicas"], 2, role)

    def test_every_container_is_probed_limited_and_locked_down(self):
        self.assertTrue(self.o.workloads())
        for w in self.o.workloads():
            spec = w["spec"]["template"]["spec"]
            pod_sc = spec.get("securityContext", {})
            self.assertNotEqual(pod_sc.get("runAsUser"), 0, w["metadata"]["name"])
            self.assertIs(spec.get("automountServiceAccountToken"), False, w["metadata"]["name"])
            # Service links would set DTS_API_PORT, DTS_REDIS_PORT, ...: dts settings.
            self.assertIs(spec.get("enableServiceLinks"), False, w["metadata"]["name"])
            for c in spec.get("initContainers", []) + spec["containers"]:
                where = f'{w["metadata"]["name"]}/{c["name"]}'
                self.assertIn("livenessProbe", c, where)
                self.assertIn("readinessProbe", c, where)
                for kind in ("requests", "limits"):
                    for res in ("cpu", "memory"):
                        self.assertIn(res, c.get("resources", {}).get(kind, {}), f"{where} {kind}.{res}")
                sc = c.get("securityContext", {})
                self.assertTrue(sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")), where)
                self.assertIs(sc.get("readOnlyRootFilesystem"), True, where)
                self.assertIs(sc.get("allowPrivilegeEscalation"), False, where)
                self.assertIn("ALL", sc.get("capabilities", {}).get("drop", []), where)
                self.assertNotIn("add", sc.get("capabilities", {}), where)
                self.assertFalse(sc.get("privileged", False), where)

    def test_dts_probes_hit_healthz_and_readyz_on_the_listen_port(self):
        images = set()
        for role in ROLES:
            c = self.deployment(role)["spec"]["template"]["spec"]["containers"][0]
            images.add(c["image"])
            self.assertEqual(c["args"][0], role)
            ports = {p["name"]: p["containerPort"] for p in c["ports"]}
            self.assertEqual(ports.get("http"), PORTS[role], role)
            self.assertEqual(k8s.env_of(c).get("DTS_LISTEN"), f"0.0.0.0:{PORTS[role]}", role)
            self.assertEqual(c["livenessProbe"]["httpGet"], {"path": "/healthz", "port": "http"}, role)
            self.assertEqual(c["readinessProbe"]["httpGet"], {"path": "/readyz", "port": "http"}, role)
        self.assertEqual(len(images), 1, f"one image for every role, not {images}")

    def test_executor_drains_within_its_grace_period(self):
        spec = self.deployment("executor")["spec"]["template"]["spec"]
        env = k8s.env_of(spec["containers"][0])
        grace_ms = int(env.get("DTS_GRACE_MS") or self.o.config().get("DTS_GRACE_MS", 30000))
        kill_ms = int(env.get("DTS_KILL_GRACE_MS") or self.o.config().get("DTS_KILL_GRACE_MS", 5000))
        # Runs get grace_ms, then stragglers SIGTERM and kill_ms more before SIGKILL.
        self.assertGreater(spec["terminationGracePeriodSeconds"] * 1000, grace_ms + kill_ms)
        mounts = {m["mountPath"] for m in spec["containers"][0].get("volumeMounts", [])}
        self.assertIn("/tmp", mounts, "actions need a writable /tmp on a read-only root")

    def test_hpa_on_cpu_and_memory_for_api_and_web(self):
        hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in self.o.of("HorizontalPodAutoscaler")}
        for role in ("api", "web"):
            h = hpas.get(f"dts-{role}")
            self.assertIsNotNone(h, role)
            self.assertGreaterEqual(h["spec"]["minReplicas"], 2)
            self.assertGreater(h["spec"]["maxReplicas"], h["spec"]["minReplicas"])
            names = {m["resource"]["name"] for m in h["spec"]["metrics"] if m["type"] == "Resource"}
            self.assertEqual(names, {"cpu", "memory"}, role)
        # KEDA owns the executor's HPA; a second one would fight it.
        self.assertNotIn("dts-executor", hpas)
        self.assertNotIn("dts-scheduler", hpas)

    def test_keda_scales_executors_on_every_ready_stream(self):
        sos = [s for s in self.o.of("ScaledObject")
               if s["spec"]["scaleTargetRef"]["name"] == "dts-executor"]
        self.assertEqual(len(sos), 1)
        so = sos[0]["spec"]
        self.assertGreaterEqual(so["minReplicaCount"], 2)
        self.assertGreater(so["maxReplicaCount"], so["minReplicaCount"])
        types = [t["type"] for t in so["triggers"]]
        self.assertIn("cpu", types)
        self.assertIn("memory", types)
        cfg = self.o.config()
        shards, prefix = int(cfg["DTS_SHARDS"]), cfg["DTS_PREFIX"]
        expected = {f"{prefix}:{{{n}}}:ready" for n in range(shards)}
        lag, pending = set(), set()
        for t in so["triggers"]:
            if t["type"] not in STREAM_TRIGGERS:
                continue
            m = t["metadata"]
            self.assertEqual(m["consumerGroup"], "exec")
            self.assertIn(m["stream"], expected)
            (lag if "lagCount" in m else pending).add(m["stream"])
            if "pendingEntriesCount" in m:
                self.assertNotIn("lagCount", m, "KEDA would use lag and ignore the pending count")
            auth = self.o.get("TriggerAuthentication", t["authenticationRef"]["name"])
            self.assertIsNotNone(auth)
            for ref in auth["spec"]["secretTargetRef"]:
                secret = self.o.get("Secret", ref["name"])
                self.assertIn(ref["key"], secret.get("stringData", secret.get("data", {})))
        self.assertEqual(lag, expected, "a lagCount trigger per shard")
        self.assertEqual(pending, expected, "a pendingEntriesCount trigger per shard")

    def test_pdb_for_every_role(self):
        pdbs = self.o.of("PodDisruptionBudget")
        for role in ROLES:
            matching = [p for p in pdbs if k8s.selector_matches(p["spec"]["selector"], self.pod_labels(role))]
            self.assertEqual(len(matching), 1, role)
            spec = matching[0]["spec"]
            self.assertTrue(spec.get("minAvailable") == 1 or spec.get("maxUnavailable") == 1, role)

    def test_services_select_their_pods(self):
        for role in ROLES:
            svc = self.o.get("Service", f"dts-{role}")
            self.assertIsNotNone(svc, role)
            pods = self.o.pods_matching({"matchLabels": svc["spec"]["selector"]})
            self.assertEqual([p["metadata"]["name"] for p in pods], [f"dts-{role}"])
            self.assertEqual(svc["spec"]["ports"][0]["targetPort"], "http")

    def test_ingress_routes_root_to_web_and_api_to_api(self):
        (ing,) = self.o.of("Ingress")
        routes = {p["path"]: p["backend"]["service"]["name"]
                  for r in ing["spec"]["rules"] for p in r["http"]["paths"]}
        self.assertEqual(routes, {"/": "dts-web", "/api": "dts-api"})

    def test_only_api_scheduler_and_executor_reach_redis(self):
        redis_pods = [w for w in self.o.workloads()
                      if w["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component") == "redis"]
        for role in ROLES:
            src = self.pod_labels(role)
            if redis_pods:  # in the cluster: its ingress policy decides
                dest = redis_pods[0]["spec"]["template"]["metadata"]["labels"]
                reach = k8s.ingress_allows(self.o, dest, src, REDIS_PORT) and \
                    k8s.egress_allows(self.o, src, REDIS_PORT, dest)
            else:  # outside: the pod's egress policy decides
                reach = k8s.egress_allows(self.o, src, REDIS_PORT)
            self.assertEqual(reach, role != "web", role)
        # web still reaches the api, and the api takes requests.
        self.assertTrue(k8s.egress_allows(self.o, self.pod_labels("web"), 8321, self.pod_labels("api")))
        self.assertTrue(k8s.ingress_allows(self.o, self.pod_labels("api"), {}, 8321))

    def test_settings_come_from_the_configmap_and_secrets(self):
        for role in ROLES:
            c = self.deployment(role)["spec"]["template"]["spec"]["containers"][0]
            self.assertIn({"configMapRef": {"name": "dts-config"}}, c.get("envFrom", []))
            redis = [e for e in c.get("env", []) if e["name"] == "DTS_REDIS"]
            if role == "web":
                self.assertEqual(redis, [])
            else:
                ref = redis[0]["valueFrom"]["secretKeyRef"]
                self.assertIsNotNone(self.o.get("Secret", ref["name"]))

    def test_public_roles_have_tokens_and_answer_their_service_names(self):
        """Issue 12, item 9 and 1: beyond loopback api and web need a tokens file
        (else they refuse to start), and the Host names the web role and the
        Ingress use must be allowed (else every request is 403)."""
        hosts = self.o.config().get("DTS_ALLOWED_HOSTS", "").split(",")
        for role in ("api", "web"):
            d = self.deployment(role)
            c = d["spec"]["template"]["spec"]["containers"][0]
            path = k8s.env_of(c).get("DTS_TOKENS_FILE")
            self.assertTrue(path, f"{role} listens on 0.0.0.0 without DTS_TOKENS_FILE")
            mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
            vols = {v["name"]: v for v in d["spec"]["template"]["spec"].get("volumes", [])}
            mounted = [n for n, at in mounts.items() if path.startswith(at + "/")]
            self.assertTrue(mounted, f"{role}: {path} is not on a mounted volume")
            secret = vols[mounted[0]]["secret"]["secretName"]
            self.assertIsNotNone(self.o.get("Secret", secret), secret)
        upstream = k8s.env_of(self.deployment("web")["spec"]["template"]["spec"]["containers"][0])["DTS_API"]
        self.assertIn(upstream.split("//")[1].split(":")[0], hosts)

    def test_everything_is_in_the_dts_namespace(self):
        cluster_scoped = {"Namespace", "NodePool", "EC2NodeClass"}
        for d in self.o.docs:
            if d["kind"] not in cluster_scoped:
                self.assertEqual(d["metadata"].get("namespace"), "dts", f'{d["kind"]}/{d["metadata"]["name"]}')

    def test_alerts_use_exported_metrics(self):
        (rules,) = self.o.of("PrometheusRule")
        alerts = [r for g in rules["spec"]["groups"] for r in g["rules"]]
        self.assertGreaterEqual(len(alerts), 10)
        for r in alerts:
            used = set(re.findall(r"\bdts_[a-z_]+", r["expr"]))
            self.assertLessEqual(used, EXPORTED, r["alert"])


EXPORTED = {"dts_occurrences_dispatched_total", "dts_dispatch_lateness_seconds_bucket",
            "dts_leases_held", "dts_schedulers_alive", "dts_runs_total",
            "dts_run_lateness_seconds_bucket", "dts_runs_in_flight",
            "dts_entries_recovered_total", "dts_http_requests_total",
            "dts_http_request_seconds_bucket", "dts_redis_reconnects_total", "dts_build_info",
            "dts_runs_late_total"}


class TestDashboard(unittest.TestCase):
    def test_dashboard_shows_every_metric_and_only_exported_ones(self):
        import json
        with open(os.path.join(k8s.ROOT, "deploy", "grafana", "dts-dashboard.json")) as f:
            dash = json.load(f)
        exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
        used = set(re.findall(r"\bdts_[a-z_]+", " ".join(exprs)))
        self.assertEqual(used, EXPORTED)
        self.assertEqual(len({p["id"] for p in dash["panels"]}), len(dash["panels"]))


class TestDev(Overlay, unittest.TestCase):
    overlay = "dev"

    def test_redis_statefulset_is_durable(self):
        ss = self.o.get("StatefulSet", "dts-redis")
        self.assertIsNotNone(ss)
        self.assertTrue(ss["spec"]["volumeClaimTemplates"])
        conf = self.o.get("ConfigMap", "dts-redis")["data"]["redis.conf"]
        self.assertRegex(conf, r"(?m)^appendonly yes$")
        self.assertRegex(conf, r"(?m)^appendfsync (everysec|always)$")
        self.assertRegex(conf, r"(?m)^maxmemory-policy noeviction$")
        mounts = {m["mountPath"] for m in ss["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}
        self.assertIn("/data", mounts)

    def test_redis_secret_points_at_the_statefulset(self):
        s = self.o.get("Secret", "dts-redis")["stringData"]
        self.assertIn("@dts-redis:6379", s["url"])
        self.assertTrue(s["address"].startswith("dts-redis."))


class TestAws(Overlay, unittest.TestCase):
    overlay = "aws"

    def pool_for(self, role):
        spec = self.deployment(role)["spec"]["template"]["spec"]
        name = spec.get("nodeSelector", {}).get("karpenter.sh/nodepool")
        pool = self.o.get("NodePool", name)
        self.assertIsNotNone(pool, f"{role} selects NodePool {name}")
        return spec, pool

    @staticmethod
    def capacity(pool):
        for r in pool["spec"]["template"]["spec"]["requirements"]:
            if r["key"] == "karpenter.sh/capacity-type":
                return set(r["values"])
        return set()

    def test_schedulers_on_demand_executors_on_spot(self):
        _, pool = self.pool_for("scheduler")
        self.assertEqual(self.capacity(pool), {"on-demand"})
        spec, pool = self.pool_for("executor")
        self.assertIn("spot", self.capacity(pool))
        for taint in pool["spec"]["template"]["spec"].get("taints", []):
            self.assertTrue(any(t["key"] == taint["key"] for t in spec.get("tolerations", [])),
                            f"executors tolerate {taint['key']}")
        for role in ("api", "web"):
            _, pool = self.pool_for(role)
            self.assertNotIn("spot", self.capacity(pool))

    def test_nodepools_reference_the_nodeclass(self):
        pools = self.o.of("NodePool")
        self.assertEqual(len(pools), 2)
        for p in pools:
            ref = p["spec"]["template"]["spec"]["nodeClassRef"]
            self.assertIsNotNone(self.o.get(ref["kind"], ref["name"]))
            self.assertIn("limits", p["spec"])

    def test_redis_is_external(self):
        self.assertEqual(self.o.of("StatefulSet"), [])
        url = self.o.get("Secret", "dts-redis")["stringData"]["url"]
        self.assertNotIn("CHANGE-ME", url)
        self.assertNotIn("dts-redis:", url)


class TestRedisCluster(Overlay, unittest.TestCase):
    overlay = "redis-cluster"

    def test_six_cluster_nodes_made_one_cluster_by_a_job(self):
        ss = self.o.get("StatefulSet", "dts-redis")
        self.assertEqual(ss["spec"]["replicas"], 6)
        self.assertTrue(ss["spec"]["volumeClaimTemplates"])
        conf = self.o.get("ConfigMap", "dts-redis")["data"]["redis.conf"]
        self.assertRegex(conf, r"(?m)^cluster-enabled yes$")
        self.assertRegex(conf, r"(?m)^cluster-config-file /data/")
        self.assertRegex(conf, r"(?m)^appendonly yes$")
        self.assertRegex(conf, r"(?m)^maxmemory-policy noeviction$")
        self.assertEqual(self.o.get("Service", "dts-redis")["spec"]["clusterIP"], "None")
        (job,) = self.o.of("Job")
        script = " ".join(job["spec"]["template"]["spec"]["containers"][0]["args"])
        self.assertIn("--cluster create", script)
        self.assertIn("--cluster-replicas 1", script)
        self.assertIn("for i in 0 1 2 3 4 5;", script)  # every pod of the StatefulSet
        # The Job reaches the nodes, and the nodes reach each other's bus port.
        node = ss["spec"]["template"]["metadata"]["labels"]
        self.assertTrue(k8s.ingress_allows(self.o, node, job["spec"]["template"]["metadata"]["labels"], 6379))
        self.assertTrue(k8s.ingress_allows(self.o, node, node, 16379))

    def test_dts_uses_the_cluster_and_waits_for_a_replica(self):
        s = self.o.get("Secret", "dts-redis")["stringData"]
        self.assertTrue(s["url"].startswith("redis-cluster://"))
        self.assertIn("@dts-redis-0.dts-redis:6379,", s["url"])
        self.assertEqual(self.o.config()["DTS_REDIS_WAIT"], "1")
        types = {t["type"] for t in self.o.get("ScaledObject", "dts-executor")["spec"]["triggers"]}
        self.assertEqual(types, {"cpu", "memory", "redis-cluster-streams"})


class TestRedisSentinel(Overlay, unittest.TestCase):
    overlay = "redis-sentinel"

    def test_three_data_pods_and_three_sentinels(self):
        data, sentinels = self.o.get("StatefulSet", "dts-redis"), self.o.get("StatefulSet", "dts-redis-sentinel")
        self.assertEqual((data["spec"]["replicas"], sentinels["spec"]["replicas"]), (3, 3))
        cm = self.o.get("ConfigMap", "dts-redis")["data"]
        self.assertRegex(cm["redis.conf"], r"(?m)^appendonly yes$")
        self.assertRegex(cm["sentinel.sh"], r"(?m)^sentinel monitor dts dts-redis-0.dts-redis 6379 2$")
        self.assertIn("get-master-addr-by-name dts", cm["start.sh"])
        # Sentinels reach the data pods; clients reach both.
        node = data["spec"]["template"]["metadata"]["labels"]
        sentinel = sentinels["spec"]["template"]["metadata"]["labels"]
        self.assertTrue(k8s.ingress_allows(self.o, node, sentinel, 6379))
        for role in ("api", "scheduler", "executor"):
            self.assertTrue(k8s.ingress_allows(self.o, sentinel, self.pod_labels(role), 26379), role)
        self.assertFalse(k8s.ingress_allows(self.o, sentinel, self.pod_labels("web"), 26379))

    def test_dts_asks_the_sentinels(self):
        s = self.o.get("Secret", "dts-redis")["stringData"]
        self.assertRegex(s["url"], r"^redis-sentinel://:[^@]+@dts-redis-sentinel-0\.dts-redis-sentinel:26379,.*/dts$")
        self.assertEqual(self.o.config()["DTS_REDIS_WAIT"], "1")
        types = {t["type"] for t in self.o.get("ScaledObject", "dts-executor")["spec"]["triggers"]}
        self.assertEqual(types, {"cpu", "memory", "redis-sentinel-streams"})


class TestCheckerBites(unittest.TestCase):
    """The checks above fail on broken manifests (they are not vacuous)."""

    def test_missing_probe_and_open_redis_are_caught(self):
        docs = k8s.render("dev")
        for d in docs:
            if d["kind"] == "Deployment" and d["metadata"]["name"] == "dts-web":
                del d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
                d["spec"]["template"]["metadata"]["labels"]["dts.io/redis-client"] = "true"
        docs = [d for d in docs if not (d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "dts-web")]
        case = TestDev("test_every_container_is_probed_limited_and_locked_down")
        case.o = k8s.Objects(docs)
        with self.assertRaises(AssertionError):
            case.test_every_container_is_probed_limited_and_locked_down()
        case = TestDev("test_only_api_scheduler_and_executor_reach_redis")
        case.o = k8s.Objects(docs)
        with self.assertRaises(AssertionError):
            case.test_only_api_scheduler_and_executor_reach_redis()


if __name__ == "__main__":
    unittest.main()
