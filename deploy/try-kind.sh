#!/bin/sh
# try-kind.sh: runs dts on a throw-away local Kubernetes cluster (kind, or k3d
# with --k3d) from the dev overlay, on a machine that has Docker. Not run by the
# tests or CI (kind needs a bridge network and node images from a registry);
# make image-test builds and runs the image itself, and
# tests/integration/test_deploy.py checks the manifests.
#
#   deploy/try-kind.sh            create cluster "dts", build and load dts:dev, apply, smoke-test
#   deploy/try-kind.sh --k3d      the same with k3d
#   deploy/try-kind.sh --delete   delete the cluster
#
# Needs docker, kubectl and kind (or k3d); helm too if you want KEDA and the
# Prometheus Operator installed (--addons). Without those CRDs the script
# leaves out the objects that need them (ScaledObject, TriggerAuthentication,
# PodMonitor, PrometheusRule) and says so; the executors then keep 2 replicas.
#
# The api asks for a token: the dev one is in deploy/k8s/overlays/dev/secrets.yaml.
set -eu
cd "$(dirname "$0")/.."
CLUSTER=${CLUSTER:-dts}
TOOL=kind; ADDONS=0; DELETE=0
for a in "$@"; do
  case "$a" in
    --k3d) TOOL=k3d ;;
    --addons) ADDONS=1 ;;
    --delete) DELETE=1 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "try-kind: unknown argument $a" >&2; exit 2 ;;
  esac
done
for t in docker kubectl "$TOOL"; do
  command -v "$t" >/dev/null 2>&1 || { echo "try-kind: $t is needed" >&2; exit 1; }
done
say() { echo "try-kind: $*"; }

if [ "$DELETE" = 1 ]; then
  if [ "$TOOL" = kind ]; then kind delete cluster --name "$CLUSTER"; else k3d cluster delete "$CLUSTER"; fi
  exit 0
fi

# 1. The cluster and the image.
if [ "$TOOL" = kind ]; then
  kind get clusters 2>/dev/null | grep -qx "$CLUSTER" || kind create cluster --name "$CLUSTER" --wait 120s
  kubectl config use-context "kind-$CLUSTER" >/dev/null
else
  k3d cluster list "$CLUSTER" >/dev/null 2>&1 || k3d cluster create "$CLUSTER" --wait
  kubectl config use-context "k3d-$CLUSTER" >/dev/null
fi
say "building dts:dev"
docker build -f deploy/Dockerfile -t dts:dev .
if [ "$TOOL" = kind ]; then kind load docker-image dts:dev --name "$CLUSTER"; else k3d image import dts:dev -c "$CLUSTER"; fi

# 2. Optional add-ons: KEDA (executor autoscaling) and the Prometheus Operator.
if [ "$ADDONS" = 1 ]; then
  command -v helm >/dev/null 2>&1 || { echo "try-kind: --addons needs helm" >&2; exit 1; }
  helm repo add kedacore https://kedacore.github.io/charts >/dev/null
  helm repo add prometheus-community https://prometheus-community.github.io/helm-charts >/dev/null
  helm repo update >/dev/null
  helm upgrade --install keda kedacore/keda -n keda --create-namespace --wait
  helm upgrade --install kps prometheus-community/kube-prometheus-stack -n monitoring --create-namespace \
    --set grafana.enabled=true --wait
fi

# 3. Render the dev overlay; leave out kinds whose CRDs the cluster lacks.
render=$(mktemp); trap 'rm -f "$render"' EXIT
kubectl kustomize deploy/k8s/overlays/dev >"$render"
skip=""
has() { kubectl api-resources --api-group="$1" -o name 2>/dev/null | grep -q "^$2\."; }
has keda.sh scaledobjects || skip="$skip ScaledObject TriggerAuthentication"
has monitoring.coreos.com podmonitors || skip="$skip PodMonitor PrometheusRule"
if [ -n "$skip" ]; then
  say "the cluster lacks the CRDs for:$skip (run with --addons to install them); applying the rest"
  python3 - "$render" $skip <<'EOF'
import sys, yaml
path, skip = sys.argv[1], set(sys.argv[2:])
docs = [d for d in yaml.safe_load_all(open(path)) if d and d["kind"] not in skip]
open(path, "w").write(yaml.safe_dump_all(docs, sort_keys=False))
EOF
fi
kubectl apply -f "$render"

# 4. Wait, report, smoke-test through the web role's /api proxy.
for r in statefulset/dts-redis deployment/dts-api deployment/dts-scheduler deployment/dts-executor deployment/dts-web; do
  kubectl -n dts rollout status "$r" --timeout=180s || say "$r did not become ready"
done
kubectl -n dts get pods -o wide
say "web UI: kubectl -n dts port-forward svc/dts-web 8320:8320, then http://127.0.0.1:8320/"
say "metrics: kubectl -n dts port-forward deploy/dts-scheduler 8322:8322; curl 127.0.0.1:8322/metrics"
say "tear down: $0 --delete$([ "$TOOL" = k3d ] && echo ' --k3d')"
