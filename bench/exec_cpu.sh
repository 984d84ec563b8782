#!/bin/sh
# exec_cpu.sh: Redis CPU and executor CPU per no-op occurrence, dispatch to
# completion, on a private redis-server (the config `dts up` ships) on a free
# loopback port. N one-time no-op tasks are seeded due at one instant a few
# seconds ahead (creation is not counted), two executors and one scheduler
# run them, and the CPU deltas between the first due instant and the last
# completion are divided by N. Redis's from INFO cpu (used_cpu_user + sys);
# the executors' and scheduler's from /proc/PID/stat (utime + stime).
#   usage: bench/exec_cpu.sh DTS_BIN DTSBENCH_BIN [N] [CONCURRENCY]
set -eu
DTS=$1 DB=$2 N=${3:-20000} CONC=${4:-32}
DIR=$(mktemp -d) PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PIDS=
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$DIR" --appendonly yes --appendfsync everysec --save '' \
  --daemonize no --hash-max-listpack-value 1024 >"$DIR/redis.log" 2>&1 &
PIDS="$PIDS $!"
R="redis-cli -p $PORT"
until $R ping >/dev/null 2>&1; do sleep 0.1; done
URL=redis://127.0.0.1:$PORT
now_ms() { $R time | { read -r s; read -r us; echo $((s * 1000 + us / 1000)); }; }
T0=$(( $(now_ms) + 15000 + N / 5 ))
"$DB" seed 127.0.0.1 "$PORT" "$N" "$T0" 0 at-noop >/dev/null
$R config resetstat >/dev/null
"$DTS" scheduler --redis "$URL" --log-level warn 2>>"$DIR/sched.log" & SCH=$!; PIDS="$PIDS $SCH"
"$DTS" executor --redis "$URL" --concurrency "$CONC" --log-level warn 2>>"$DIR/ex1.log" & E1=$!; PIDS="$PIDS $E1"
"$DTS" executor --redis "$URL" --concurrency "$CONC" --log-level warn 2>>"$DIR/ex2.log" & E2=$!; PIDS="$PIDS $E2"
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rcpu() { $R info cpu | awk -F: '/^used_cpu_(user|sys):/ {s += $2} END {printf "%.6f", s}'; }
while [ "$(now_ms)" -lt $((T0 - 300)) ]; do sleep 0.1; done
r0=$(rcpu) e0=$(( $(ticks $E1) + $(ticks $E2) )) s0=$(ticks $SCH) t0=$(now_ms)
"$DB" watch 127.0.0.1 "$PORT" dts 16 "$N" "$T0" 600 "$DIR/watch.txt" >"$DIR/watch.sum"
r1=$(rcpu) e1=$(( $(ticks $E1) + $(ticks $E2) )) s1=$(ticks $SCH) t1=$(now_ms)
HZ=$(getconf CLK_TCK)
awk -v n="$N" -v r0="$r0" -v r1="$r1" -v e="$((e1 - e0))" -v s="$((s1 - s0))" -v hz="$HZ" -v ms="$((t1 - T0))" 'BEGIN {
  printf "occurrences %d, drained in %.2f s after the due instant (%.0f/s)\n", n, ms / 1000, n * 1000 / ms
  printf "redis CPU per occurrence      %6.1f us\n", (r1 - r0) * 1e6 / n
  printf "executors CPU per occurrence  %6.1f us\n", e * 1e6 / hz / n
  printf "scheduler CPU per occurrence  %6.1f us\n", s * 1e6 / hz / n }'
# The commands by Redis time spent (scripts' usec include the commands they call).
$R info commandstats | tr -d '\r' | awk -F'[:,=]' '/^cmdstat_/ {printf "%10d us %8d calls %s\n", $5, $3, $1}' |
  sort -rn | head -14 >&2
