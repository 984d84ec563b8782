#!/bin/sh
# build-image.sh: builds dts:dev (deploy/Dockerfile) and dts-redis:dev
# (deploy/redis.Dockerfile) with BuildKit, from the repository root, with host
# networking for the build's apt-get and npm, and prints how long it took and
# how big the image is against its debian:bookworm-slim base.
#
# Behind a TLS-intercepting proxy the build needs the proxy's CA. This script
# passes the CAs this machine added to its own trust as the build secret
# `extra_ca`: the files under /usr/local/share/ca-certificates (Debian's
# place for local CAs, which update-ca-certificates adds to the system
# bundle), and the bundles NODE_EXTRA_CA_CERTS and npm's `cafile` name.
# DTS_EXTRA_CA=FILE passes FILE instead; DTS_EXTRA_CA=none passes nothing.
#
# usage: deploy/build-image.sh [--tag dts:dev] [--no-redis] [docker build options...]
# Environment: DOCKER (the client; DOCKER_HOST is honoured). By default
# `docker` when it has BuildKit (the buildx component), else Debian's
# /usr/bin/docker (docker.io 20.10, whose client speaks BuildKit itself: a
# newer client without buildx refuses DOCKER_BUILDKIT=1).
set -eu
cd "$(dirname "$0")/.."
if [ -z "${DOCKER:-}" ]; then
  DOCKER=docker
  docker buildx version >/dev/null 2>&1 || { [ -x /usr/bin/docker ] && DOCKER=/usr/bin/docker; }
fi
TAG=dts:dev
REDIS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG=$2; shift ;;
    --no-redis) REDIS=0 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
  shift
done
say() { echo "build-image: $*"; }

CA_TMP=$(mktemp)
trap 'rm -f "$CA_TMP"' EXIT
if [ -n "${DTS_EXTRA_CA:-}" ]; then
  [ "$DTS_EXTRA_CA" = none ] || cat "$DTS_EXTRA_CA" >"$CA_TMP"
else
  npm_ca=$(command -v npm >/dev/null && npm config get cafile 2>/dev/null || true)
  for f in $(find /usr/local/share/ca-certificates -name '*.crt' -type f 2>/dev/null | sort) \
           ${NODE_EXTRA_CA_CERTS:-} $npm_ca; do
    [ -f "$f" ] && cat "$f" >>"$CA_TMP" && echo >>"$CA_TMP"
  done
fi
SECRET=""
if grep -q 'BEGIN CERTIFICATE' "$CA_TMP"; then
  SECRET="--secret id=extra_ca,src=$CA_TMP"
  say "extra CA bundle for the build: $(grep -c 'BEGIN CERTIFICATE' "$CA_TMP") certificates"
fi

build() { # DOCKERFILE TAG [options]
  f=$1; t=$2; shift 2
  DOCKER_BUILDKIT=1 $DOCKER build --network host --progress plain -f "$f" -t "$t" $SECRET "$@" . \
    >"$LOG" 2>&1 || { tail -40 "$LOG" >&2; say "building $t failed"; exit 1; }
}
LOG=$(mktemp)
trap 'rm -f "$CA_TMP" "$LOG"' EXIT
start=$(date +%s)
# The image's dts_build_info names the commit (the build context has no .git).
COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || true)
[ -n "$COMMIT" ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && COMMIT="$COMMIT-dirty"
build deploy/Dockerfile "$TAG" --build-arg "DTS_COMMIT=${COMMIT:-unknown}" "$@"
mid=$(date +%s)
say "built $TAG in $((mid - start)) s"
if [ "$REDIS" = 1 ]; then
  build deploy/redis.Dockerfile dts-redis:dev
  say "built dts-redis:dev in $(($(date +%s) - mid)) s"
fi
size() { $DOCKER image inspect -f '{{.Size}}' "$1"; }
img=$(size "$TAG"); base=$(size debian:bookworm-slim)
say "$TAG: $(awk -v s="$img" -v b="$base" 'BEGIN { printf "%.1f MB, debian:bookworm-slim %.1f MB, +%.1f MB", s / 1e6, b / 1e6, (s - b) / 1e6 }')"
