#!/bin/sh
# Installs what dts needs to build, run and test: Debian's packages, then the
# npm packages pinned by each package-lock.json in the tree (OpenAPI lint, web
# UI, browser tests). Quick when everything is present: it asks dpkg first and
# runs apt-get only for what is missing, and npm only where node_modules is not
# already installed from the current lock file.
set -eu
cd "$(dirname "$0")/.."
PKGS="build-essential cmake pkg-config redis-server libhiredis-dev libmicrohttpd-dev
libjansson-dev libcurl4-openssl-dev libssl-dev libyaml-dev libjemalloc-dev libcriterion-dev python3 python3-croniter
python3-tz python3-jsonschema python3-yaml curl clang libclang-rt-14-dev chromium prometheus"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
# `deps.sh bench`: what make bench needs on top (plots, HTTP load, redis-benchmark).
[ "${1:-}" = bench ] && PKGS="$PKGS gnuplot-nox wrk redis-tools"
# `deps.sh lint`: what make lint needs on top.
[ "${1:-}" = lint ] && PKGS="$PKGS clang-format clang-tidy"
# The manifest tests render with kubectl; some images ship their own (which
# Debian's kubernetes-client would conflict with).
command -v kubectl >/dev/null 2>&1 || PKGS="$PKGS kubernetes-client"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "deps: installing$missing"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Only promtool (which lints the rendered /metrics) is wanted from Debian's
# prometheus package: where systemd runs, do not leave its server running.
case "$missing" in *" prometheus"*)
  command -v systemctl >/dev/null 2>&1 && ${SUDO:-} systemctl disable --now prometheus >/dev/null 2>&1 || true ;;
esac
# Debian's redis-server package may start a system Redis on 6379 where systemd
# runs; dts never uses it: `dts up` and the tests run their own on other ports.

for lock in tests/*/package-lock.json web/package-lock.json $([ "${1:-}" = bench ] && echo bench/peers/package-lock.json); do
  [ -f "$lock" ] || continue
  dir=$(dirname "$lock")
  stamp="$dir/node_modules/.dts-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$lock" "$stamp"; then
    echo "deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) && cp "$lock" "$stamp"
  fi
done
