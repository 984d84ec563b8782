"""k8s_render: renders the kustomize overlays under deploy/k8s with
`kubectl kustomize` and answers questions about the objects, for
tests/integration/test_deploy.py. Needs python3-yaml.

kubectl comes from PATH (or $KUBECTL). When it is missing it is installed with
apt-get: Debian 12's package is kubernetes-client (kubectl 1.20, whose built-in
kustomize is v2.0.3; the manifests keep to what that version reads)."""
import os
import shutil
import subprocess

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
K8S = os.path.join(ROOT, "deploy", "k8s")
OVERLAYS = ("dev", "aws", "redis-cluster", "redis-sentinel")
APT_PACKAGE = "kubernetes-client"


def kubectl():
    """The kubectl to use, installing Debian's when there is none."""
    found = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends", APT_PACKAGE],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    found = shutil.which("kubectl")
    if not found:
        raise RuntimeError(f"apt-get installed {APT_PACKAGE} but no kubectl is on PATH")
    return found


def render(overlay, kubectl_bin=None):
    """The objects of OVERLAY (a folder name under deploy/k8s/overlays, or a
    path), as a list of dicts."""
    path = overlay if os.path.isabs(overlay) else os.path.join(K8S, "overlays", overlay)
    out = subprocess.run([kubectl_bin or kubectl(), "kustomize", path], check=True,
                         capture_output=True, text=True, timeout=60)
    return [d for d in yaml.safe_load_all(out.stdout) if d]


class Objects:
    """Index of rendered objects by kind and name."""

    def __init__(self, docs):
        self.docs = docs

    def of(self, kind):
        return [d for d in self.docs if d["kind"] == kind]

    def get(self, kind, name):
        for d in self.of(kind):
            if d["metadata"]["name"] == name:
                return d
        return None

    def workloads(self):
        return self.of("Deployment") + self.of("StatefulSet")

    def pods_matching(self, selector, namespace=None):
        """Workloads whose pod template labels match a LabelSelector."""
        return [w for w in self.workloads()
                if selector_matches(selector, w["spec"]["template"]["metadata"].get("labels", {}))
                and (namespace is None or w["metadata"].get("namespace") == namespace)]

    def config(self):
        cm = self.get("ConfigMap", "dts-config")
        return cm["data"] if cm else {}


def selector_matches(selector, labels):
    """Does a Kubernetes LabelSelector (matchLabels, matchExpressions) select LABELS?"""
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        k, op, vals = e["key"], e["operator"], e.get("values", [])
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and labels.get(k) in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def env_of(container):
    """A container's literal env values (valueFrom entries map to None)."""
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def ingress_allows(objs, target_labels, source_labels, port, same_namespace=True):
    """Would the NetworkPolicies let a pod with SOURCE_LABELS (same namespace)
    open PORT on a pod with TARGET_LABELS? Isolated only if some policy with
    Ingress selects the target; then some rule must admit source and port."""
    policies = [p for p in objs.of("NetworkPolicy")
                if "Ingress" in p["spec"].get("policyTypes", ["Ingress"])
                and selector_matches(p["spec"]["podSelector"], target_labels)]
    if not policies:
        return True
    for p in policies:
        for rule in p["spec"].get("ingress") or []:
            if not _ports_admit(rule.get("ports"), port):
                continue
            peers = rule.get("from")
            if not peers:
                return True
            for peer in peers:
                if "ipBlock" in peer:
                    return True
                if "namespaceSelector" in peer and "podSelector" not in peer:
                    continue  # other namespaces only (the ones named), not ours
                if "podSelector" in peer and selector_matches(peer["podSelector"], source_labels) \
                        and same_namespace:
                    return True
    return False


def egress_allows(objs, source_labels, port, dest_labels=None):
    """Would the NetworkPolicies let a pod with SOURCE_LABELS open PORT to a
    destination (a pod with DEST_LABELS, or any address outside the cluster
    when DEST_LABELS is None)?"""
    policies = [p for p in objs.of("NetworkPolicy")
                if "Egress" in p["spec"].get("policyTypes", [])
                and selector_matches(p["spec"]["podSelector"], source_labels)]
    if not policies:
        return True
    for p in policies:
        for rule in p["spec"].get("egress") or []:
            if not _ports_admit(rule.get("ports"), port):
                continue
            peers = rule.get("to")
            if not peers:
                return True
            for peer in peers:
                if "ipBlock" in peer:
                    return True
                if dest_labels is not None and "podSelector" in peer \
                        and selector_matches(peer["podSelector"], dest_labels):
                    return True
    return False


def _ports_admit(ports, port):
    if not ports:
        return True
    return any(p.get("port") in (port, None) for p in ports)
