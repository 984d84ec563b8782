#!/usr/bin/env bash
# bench/cluster.sh: the burst on one Redis and on a Redis Cluster of three
# primaries (bench/run.sh's cluster row; runs alone too). N one-time noop tasks
# due at one instant, one scheduler and E executors with --concurrency C, each
# topology fresh; prints "name value" lines: seconds from the instant until all
# ran, and each Redis node's CPU seconds (INFO CPU, user + sys) over the burst.
#
#   bench/cluster.sh [DTS DTSBENCH N EXECUTORS CONCURRENCY]
# Loopback only; everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
DTS=${1:-$PWD/build/dts}
DB=${2:-$PWD/build/bench/dtsbench}
N=${3:-${BENCH_CLUSTER_BURST:-100000}}
EXECUTORS=${4:-2}
CONC=${5:-32}
TMP=$(mktemp -d /tmp/dts-bench-cluster.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { # a free port P (below 55536) whose cluster bus port P+10000 is free too
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && continue
    (exec 3<>/dev/tcp/127.0.0.1/$((p + 10000))) 2>/dev/null && continue
    echo "$p"
    return
  done
}
redis() { # PORT ARGS...: a private redis-server, waited for; 1 if it did not start
  local port=$1
  shift
  mkdir -p "$TMP/$port"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$TMP/$port" --save '' --appendonly no \
    --daemonize no --logfile "$TMP/$port.log" "$@" &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "cluster bench: redis-server on $port did not start: $(tail -1 "$TMP/$port.log")" >&2
  return 1
}
cluster_node() { # a cluster node on a free port (another one if the bus port was taken meanwhile); sets PORT_OUT
  for _ in 1 2 3 4 5; do
    PORT_OUT=$(free_port)
    redis "$PORT_OUT" --cluster-enabled yes --cluster-config-file "$TMP/$PORT_OUT/nodes.conf" \
      --cluster-announce-ip 127.0.0.1 && return 0
  done
  exit 1
}
cpu() { # PORT: CPU seconds used so far
  redis-cli -p "$1" info cpu | tr -d '\r' | awk -F: '/^used_cpu_(sys|user):/{s+=$2} END{printf "%.2f", s}'
}
now_ms() { date +%s%3N; }

burst() { # NAME URL PORTS...
  local name=$1 url=$2
  shift 2
  local t0=$(($(now_ms) + 4000 + N / 10))
  "$DB" seed "$url" 0 "$N" "$t0" 0 at-noop >/dev/null 2>"$TMP/seed_$name.txt"
  local before=() roles=()
  for p in "$@"; do before+=("$(cpu "$p")"); done
  "$DTS" scheduler --redis "$url" --log-level warn 2>>"$TMP/$name.log" &
  roles+=($!)
  for _ in $(seq "$EXECUTORS"); do
    "$DTS" executor --redis "$url" --log-level warn --concurrency "$CONC" 2>>"$TMP/$name.log" &
    roles+=($!)
  done
  PIDS+=("${roles[@]}")
  "$DB" watch "$url" 0 dts 16 "$N" "$t0" 600 "$TMP/watch_$name.txt" >"$TMP/watch_$name.sum" || true
  echo "cluster_${name}_e2e_s $(awk '/executed_s/{print $2}' "$TMP/watch_$name.sum")"
  local i=0 per=""
  for p in "$@"; do
    per="$per${per:+ / }$(awk -v a="$(cpu "$p")" -v b="${before[$i]}" 'BEGIN{printf "%.1f", a - b}')"
    i=$((i + 1))
  done
  echo "cluster_${name}_redis_cpu_s $per"
  kill "${roles[@]}" 2>/dev/null || true
  wait "${roles[@]}" 2>/dev/null || true
}

P=$(free_port)
redis "$P" || exit 1
burst one "redis://127.0.0.1:$P" "$P"
redis-cli -p "$P" shutdown nosave >/dev/null 2>&1 || true

PORTS=()
for _ in 1 2 3; do
  cluster_node
  PORTS+=("$PORT_OUT")
done
redis-cli --cluster create "${PORTS[@]/#/127.0.0.1:}" --cluster-yes >/dev/null
for _ in $(seq 200); do
  redis-cli -p "${PORTS[0]}" cluster info | grep -q '^cluster_state:ok' && break
  sleep 0.1
done
URL="redis-cluster://127.0.0.1:${PORTS[0]},127.0.0.1:${PORTS[1]},127.0.0.1:${PORTS[2]}"
burst three "$URL" "${PORTS[@]}"
