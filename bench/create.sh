#!/usr/bin/env bash
# bench/create.sh: the create path on its own (issue 14's rows "POST /tasks"
# and "batch create"): a private redis-server (the config bench/run.sh uses)
# and one api; POST /api/v1/tasks under wrk exactly as bench/run.sh drives it
# (2 threads, 32 connections, bench/wrk/post.lua), then POST
# /api/v1/tasks:batch (2 threads, BENCH_BATCH_CONNS connections, 1,000 specs a
# request). Absolute rates: nothing else runs. Prints, per mode, requests/s,
# tasks/s, p99, non-2xx, and the CPU time of the api and of Redis per task.
#
# Usage: bench/create.sh [DTS_BINARY]   (default build-bench/dts, built Release)
# Knobs: BENCH_SECS (10), BENCH_BATCH (1000), BENCH_BATCH_CONNS (4),
# BENCH_API_THREADS (the api's default).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECS=${BENCH_SECS:-10}
BATCH=${BENCH_BATCH:-1000}
BCONNS=${BENCH_BATCH_CONNS:-4}
DTS=${1:-}
if [ -z "$DTS" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build-bench -j2 --target dts >/dev/null
  DTS=$ROOT/build-bench/dts
fi
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }

TMP=$(mktemp -d /tmp/dts-create-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
free_port() { # the kernel picks a free loopback port (never 6379: it is not ephemeral)
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$TMP" --save '' --appendonly no \
  --daemonize no --logfile "$TMP/redis.log" &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
API_PORT=$(free_port)
# --max-tasks 0: the run stores far more than the default quota of 100,000.
"$DTS" api --redis "redis://127.0.0.1:$PORT" --listen "127.0.0.1:$API_PORT" --log-level warn \
  --max-tasks 0 ${BENCH_API_THREADS:+--threads $BENCH_API_THREADS} 2>"$TMP/api.log" &
API_PID=$!
PIDS+=("$API_PID")
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$API_PORT/readyz" >/dev/null && break; sleep 0.1; done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
AT=$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)
run() { # NAME TASKS_PER_REQUEST CONNS SCRIPT ARGS...
  local name=$1 per=$2 conns=$3 script=$4
  shift 4
  redis-cli -p "$PORT" flushall >/dev/null
  local a0 r0 a1 r1
  a0=$(cpu_ticks "$API_PID") r0=$(cpu_ticks "$REDIS_PID")
  wrk -t2 -c"$conns" -d"${SECS}s" --latency -s "$script" "http://127.0.0.1:$API_PORT" -- "$@" >"$TMP/$name.txt" 2>&1
  a1=$(cpu_ticks "$API_PID") r1=$(cpu_ticks "$REDIS_PID")
  local rps p99 bad
  rps=$(awk '/^Requests\/sec/{print $2}' "$TMP/$name.txt")
  p99=$(awk '$1=="99%"{print $2}' "$TMP/$name.txt")
  bad=$(awk '/^non2xx/{print $2}' "$TMP/$name.txt")
  awk -v n="$name" -v rps="$rps" -v per="$per" -v p99="$p99" -v bad="$bad" -v s="$SECS" \
    -v a=$((a1 - a0)) -v r=$((r1 - r0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
      tasks = rps * per * s
      printf "%-6s requests/s %8.0f  tasks/s %8.0f  p99 %-9s non2xx %s  cpu per task: api %.1f us, redis %.1f us\n",
        n, rps, rps * per, p99, bad, a * 1e6 / hz / tasks, r * 1e6 / hz / tasks }'
}
echo "create bench: $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg), $SECS s a mode"
run post 1 32 bench/wrk/post.lua "$AT"
run batch "$BATCH" "$BCONNS" bench/wrk/batch.lua "$AT" "$BATCH"
