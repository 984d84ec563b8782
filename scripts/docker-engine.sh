#!/bin/sh
# docker-engine.sh: a private Docker engine for the image tests, one that
# never collides with a system engine and never puts a packet on a network.
#
#   scripts/docker-engine.sh install   apt-get install docker.io, docker-compose, debootstrap if missing
#   scripts/docker-engine.sh start     start dockerd unless ours already answers; prints DOCKER_HOST=...
#   scripts/docker-engine.sh stop      stop the dockerd that `start` started (and its containerd)
#
# The engine listens only on a unix socket of its own (DTS_DOCKER_SOCK,
# default /run/dts-docker.sock), keeps its images and build cache under
# DTS_CACHE/docker (default /var/cache/dts/docker: a warm second run reuses
# them) and its run state under /run/dts-docker. It creates no bridge
# (--bridge=none) and touches no firewall (--iptables=false
# --ip6tables=false), so containers can only use host networking; its own
# HTTP(S) proxy is set to a closed loopback port, so an accidental pull from
# an image registry fails at once instead of leaving the machine. The storage
# driver is the first of overlay2 and vfs that the engine starts with and can
# run a container on (DTS_STORAGE_DRIVER forces one).
set -eu
CACHE=${DTS_CACHE:-/var/cache/dts}
SOCK=${DTS_DOCKER_SOCK:-/run/dts-docker.sock}
RUNDIR=/run/dts-docker
STARTED=$RUNDIR/started-by-dts
LOG=$CACHE/dockerd.log
DOCKER=${DOCKER:-/usr/bin/docker}
export DOCKER_HOST=unix://$SOCK
say() { echo "docker-engine: $*" >&2; }
fail() { say "$*"; exit 1; }
answers() { timeout 10 "$DOCKER" version >/dev/null 2>&1; }

install_missing() {
  missing=""
  for p in docker.io docker-compose debootstrap; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  say "installing$missing"
  apt-get update -qq
  # policy-rc.d keeps the package from starting a system engine where an init
  # system would; ours is started by hand below.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# Starts dockerd with storage driver $1; 0 once it answers and runs a container.
try_driver() {
  mkdir -p "$RUNDIR" "$CACHE/docker"
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY= \
  setsid dockerd --host "unix://$SOCK" --data-root "$CACHE/docker" --exec-root "$RUNDIR" \
    --pidfile "$RUNDIR/dockerd.pid" --storage-driver "$1" --bridge=none --iptables=false \
    --ip6tables=false --ip-forward=false --ip-masq=false --userland-proxy=false \
    --log-level=warn >>"$LOG" 2>&1 </dev/null &
  echo $! >"$STARTED"
  i=0
  until answers; do
    i=$((i + 1))
    if [ "$i" -ge 60 ] || ! kill -0 "$(cat "$STARTED")" 2>/dev/null; then stop_ours; return 1; fi
    sleep 0.5
  done
  # An engine that starts may still be unable to mount a container's root.
  img=$("$DOCKER" images -q | head -1)
  [ -z "$img" ] || "$DOCKER" run --rm --network none --entrypoint /bin/true "$img" >/dev/null 2>&1 \
    || { say "storage driver $1: dockerd starts but cannot run a container"; stop_ours; return 1; }
  echo "$1" >"$RUNDIR/storage-driver"
}

# A dockerd that dies (or fails to start) can leave its data root and network
# namespace mounted; the next start, or removing the folder, then trips on them.
unmount_leftovers() {
  for m in "$RUNDIR/netns/default" "$CACHE/docker"; do
    if mountpoint -q "$m" 2>/dev/null; then umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; fi
  done
}

stop_ours() {
  [ -f "$STARTED" ] || { unmount_leftovers; return 0; }
  pid=$(cat "$RUNDIR/dockerd.pid" 2>/dev/null || cat "$STARTED")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$STARTED"
  unmount_leftovers
}

case "${1:-}" in
  install) install_missing ;;
  start)
    if answers; then
      say "an engine already answers on $SOCK"
    else
      command -v dockerd >/dev/null || fail "dockerd is missing: run $0 install"
      rm -f "$SOCK"
      ok=0
      for d in ${DTS_STORAGE_DRIVER:-overlay2 vfs}; do
        if try_driver "$d"; then ok=1; say "dockerd started (storage driver $d, data in $CACHE/docker)"; break; fi
        say "storage driver $d does not work here (see $LOG)"
      done
      [ "$ok" = 1 ] || fail "dockerd would not start with any storage driver (see $LOG)"
    fi
    echo "DOCKER_HOST=$DOCKER_HOST" ;;
  stop) stop_ours ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
