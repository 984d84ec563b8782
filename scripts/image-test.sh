#!/bin/sh
# image-test.sh: `make image-test`. Builds the real image with a real Docker
# engine and runs the system from it (tests/image/test_compose.py):
#
#   1. installs docker.io, docker-compose and debootstrap if missing;
#   2. starts a private dockerd (scripts/docker-engine.sh) unless one answers,
#      and stops the one it started at the end, on failure too;
#   3. makes the debian:bookworm(-slim) bases (deploy/base-image.sh) if missing;
#   4. builds dts:dev and dts-redis:dev (deploy/build-image.sh, BuildKit);
#   5. runs the compose test, which prints its figures as `figure:` lines.
#
# Images, build cache and the bases' root filesystems stay in DTS_CACHE
# (default /var/cache/dts) for the next run on this machine. One run at a
# time: a second waits for the first (flock).
set -eu
cd "$(dirname "$0")/.."
CACHE=${DTS_CACHE:-/var/cache/dts}
mkdir -p "$CACHE"
if [ "${DTS_IMAGE_TEST_LOCKED:-}" != 1 ]; then
  exec env DTS_IMAGE_TEST_LOCKED=1 flock "$CACHE/image-test.lock" "$0" "$@"
fi
export DOCKER=/usr/bin/docker
t0=$(date +%s)
stamp() { echo "image-test: $1 ($(($(date +%s) - t0)) s)"; }

scripts/docker-engine.sh install
stamp "docker.io, docker-compose and debootstrap present"
eval "export $(scripts/docker-engine.sh start)"
trap 'scripts/docker-engine.sh stop' EXIT INT TERM
stamp "engine answers on $DOCKER_HOST"
deploy/base-image.sh
stamp "base images present"
deploy/build-image.sh
# Keep the cache from growing run after run: older builds' images and layers go.
$DOCKER image prune -f >/dev/null
$DOCKER builder prune -f --keep-storage 3GB >/dev/null
stamp "images built"
rc=0
(cd tests/image && /usr/bin/python3 -m unittest -v test_compose) 2>&1 | tee "$CACHE/image-test.log" || rc=$?
[ "$rc" = 0 ] && rc=$(grep -q '^OK' "$CACHE/image-test.log" && echo 0 || echo 1)
# unittest's summary as the plain closing line: "Ran N tests", "FAILED (failures=F, errors=E)".
ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in .*/\1/p' "$CACHE/image-test.log")
failed=$(sed -n 's/^FAILED (\(.*\))$/\1/p' "$CACHE/image-test.log" | tr ',' '\n' |
         sed -n 's/.*\(failures\|errors\)=\([0-9]*\).*/\2/p' | awk '{ n += $1 } END { print n + 0 }')
passed=$((${ran:-0} - failed))
[ "$rc" = 0 ] || [ "$failed" -gt 0 ] || failed=1
stamp "compose test done"
echo "image: $passed passed, $failed failed"
exit "$rc"
