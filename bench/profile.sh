#!/usr/bin/env bash
# bench/profile.sh: profiles the burst's two hot paths (dispatch, execution)
# on a private Redis. perf has no hardware counters on this machine (`perf stat
# -e instructions true` says <not supported>), so: Redis's own accounting
# (INFO commandstats, and SLOWLOG at 0 us to time every script call by SHA),
# CPU seconds per process from /proc, and callgrind on one executor.
# Usage: bench/profile.sh [N] (default 100000); writes to $OUT (default /tmp/dts-profile).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
BUILD=${BENCH_BUILD:-build-bench}
DTS=$PWD/$BUILD/dts
DB=$PWD/$BUILD/bench/dtsbench
OUT=${OUT:-/tmp/dts-profile}
mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/dts-prof.XXXXXX)
PORT=$((40000 + RANDOM % 10000))
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
RC() { redis-cli -p "$PORT" "$@"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$TMP" --save '' --appendonly no --logfile "$TMP/r.log" &
RP=$!
PIDS+=("$RP")
for _ in $(seq 50); do RC ping >/dev/null 2>&1 && break; sleep 0.1; done
declare -A NAME
for s in dispatch start complete touch create; do NAME[$(RC script load "$(cat src/scripts/$s.lua)")]=$s; done

$DB seed 127.0.0.1 "$PORT" "$N" "$(date +%s%3N)" 0 at-noop >/dev/null
echo "== dispatch of $N (scheduler alone)"
RC config resetstat >/dev/null
RC config set slowlog-log-slower-than 0 >/dev/null
RC config set slowlog-max-len 200000 >/dev/null
RC slowlog reset >/dev/null
T0=$(date +%s%3N)
r0=$(ticks $RP)
"$DTS" scheduler --redis "redis://127.0.0.1:$PORT" --log-level warn 2>/dev/null &
SP=$!
PIDS+=("$SP")
$DB watch 127.0.0.1 "$PORT" dts 16 "-$N" "$T0" 300 "$OUT/dispatch.txt"
echo "cpu_s redis $(( ($(ticks $RP) - r0) )) / 100, scheduler $(ticks $SP) / 100"
RC info commandstats | grep -E 'evalsha|hmget|zrange' | tee "$OUT/dispatch.cmdstats"
slowlog_by_script() {
  RC slowlog get 200000 | awk 'prev_is_dur && $0 == "EVALSHA" {getline sha; n[sha]++; us[sha] += dur}
    {prev_is_dur = ($0 ~ /^[0-9]+$/); if (prev_is_dur) dur = $0}
    END {for (s in n) print s, n[s], us[s] / n[s]}' | while read -r sha n us; do
      echo "script ${NAME[$sha]:-$sha} calls=$n us_per_call=$us"
    done
}
slowlog_by_script | tee "$OUT/dispatch.scripts"
RC slowlog reset >/dev/null

echo "== execution of $N (2 executors x 32, scheduler idle)"
RC config resetstat >/dev/null
T0=$(date +%s%3N)
r0=$(ticks $RP)
"$DTS" executor --redis "redis://127.0.0.1:$PORT" --log-level warn --concurrency 32 2>/dev/null &
E1=$!
"$DTS" executor --redis "redis://127.0.0.1:$PORT" --log-level warn --concurrency 32 2>/dev/null &
E2=$!
PIDS+=("$E1" "$E2")
$DB watch 127.0.0.1 "$PORT" dts 16 "$N" "$T0" 600 "$OUT/execute.txt"
echo "cpu_s redis $(( ($(ticks $RP) - r0) )) / 100, executors $(ticks $E1) + $(ticks $E2) / 100"
RC info commandstats | grep -v 'calls=[0-9]\{1,2\},usec' | tee "$OUT/execute.cmdstats"
slowlog_by_script | tee "$OUT/execute.scripts"
RC config set slowlog-log-slower-than 10000 >/dev/null
kill "$E1" "$E2" "$SP"
wait "$E1" "$E2" "$SP" 2>/dev/null || true

if command -v valgrind >/dev/null && [ "${PROFILE_CALLGRIND:-1}" = 1 ]; then
  echo "== callgrind: one executor over 3000 runs"
  RC flushall >/dev/null
  $DB seed 127.0.0.1 "$PORT" 3000 "$(date +%s%3N)" 0 at-noop >/dev/null
  "$DTS" scheduler --redis "redis://127.0.0.1:$PORT" --log-level warn 2>/dev/null &
  SP=$!
  PIDS+=("$SP")
  $DB watch 127.0.0.1 "$PORT" dts 16 -3000 "$(date +%s%3N)" 60 "$TMP/d.txt" >/dev/null
  valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" "$DTS" executor \
    --redis "redis://127.0.0.1:$PORT" --log-level warn --concurrency 32 2>/dev/null &
  VP=$!
  PIDS+=("$VP")
  $DB watch 127.0.0.1 "$PORT" dts 16 3000 "$(date +%s%3N)" 300 "$TMP/e.txt"
  kill "$VP" "$SP"
  wait "$VP" 2>/dev/null || true
  callgrind_annotate --inclusive=yes "$OUT/callgrind.out" 2>/dev/null | head -60 >"$OUT/callgrind.txt" || true
  callgrind_annotate "$OUT/callgrind.out" 2>/dev/null | head -45 >"$OUT/callgrind_self.txt" || true
  echo "callgrind summaries in $OUT/callgrind.txt and callgrind_self.txt"
fi
