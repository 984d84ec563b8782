#!/usr/bin/env bash
# bench/sched.sh: the scheduler side's quick figures on a private loopback
# redis-server (configured as `dts up` configures it), from a built tree:
#   bench/sched.sh TREE memory KIND N   bytes per pending one-time task
#                                       (KIND at-shell | at-noop), N tasks
#   bench/sched.sh TREE burst N         N noop tasks due at once, one scheduler
#                                       and no executor: dispatch rate and
#                                       Redis CPU per dispatched occurrence
#   bench/sched.sh TREE late RATE SECS  RATE tasks/s due for SECS s, one
#                                       scheduler, two executors: lateness
# TREE is a source tree with build/dts and build/bench/dtsbench. Everything
# started is stopped on exit. bench/run.sh is the full side-by-side suite.
set -euo pipefail
WT=$1; MODE=$2; shift 2
DTS=$WT/build/dts; DB=$WT/build/bench/dtsbench
T=$(mktemp -d /tmp/dts-sched.XXXXXX)
while :; do # a free loopback port, never 6379
  P=$((30000 + RANDOM % 20000))
  (exec 3<>/dev/tcp/127.0.0.1/$P) 2>/dev/null || break
done
redis-server --port $P --bind 127.0.0.1 --dir $T --save '' --appendonly no --daemonize yes \
  --pidfile $T/r.pid --logfile $T/r.log --hash-max-listpack-value 1024
for _ in $(seq 50); do redis-cli -p $P ping >/dev/null 2>&1 && break; sleep 0.1; done
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill $p 2>/dev/null || true; done; sleep 0.3; redis-cli -p $P shutdown nosave >/dev/null 2>&1 || true; rm -rf $T; }
trap cleanup EXIT
now_ms() { date +%s%3N; }
mem() { redis-cli -p $P info memory | awk -F: '/^used_memory:/{printf "%d", $2}'; }
role() { "$DTS" "$@" --redis redis://127.0.0.1:$P --log-level warn 2>>$T/$1.log & PIDS+=($!); }
case $MODE in
memory)
  kind=$1; n=$2
  m0=$(mem); $DB seed 127.0.0.1 $P $n $(( $(now_ms) + 86400000 )) 0 $kind >/dev/null 2>&1; m1=$(mem)
  k=$(redis-cli -p $P --scan --pattern 'dts:*:task:*' | head -1 || true)
  echo "$kind n=$n bytes_per_task=$(( (m1-m0)/n )) task_hash_memory_usage=$(redis-cli -p $P memory usage $k) enc=$(redis-cli -p $P object encoding $k)"
  for z in tasks due; do echo "$z zset bytes/member: $(( $(redis-cli -p $P memory usage "dts:{0}:$z" samples 0) / $(redis-cli -p $P zcard "dts:{0}:$z") ))"; done
  echo "fields: $(redis-cli -p $P hgetall $k | paste -sd' ' | cut -c1-600 || true)";;
burst)
  n=$1
  $DB seed 127.0.0.1 $P $n $(now_ms) 0 at-noop >/dev/null 2>&1
  redis-cli -p $P config resetstat >/dev/null
  cpu() { redis-cli -p $P info cpu | awk -F: '/^used_cpu_(sys|user):/{s+=$2} END{printf "%.3f", s}'; }
  c0=$(cpu)
  t0=$(now_ms); role scheduler
  $DB watch 127.0.0.1 $P dts 16 -$n $t0 300 $T/w.txt | tee $T/w.sum
  awk -v n=$n '/dispatched_s/{printf "dispatch rate %d/s\n", n/$2}' $T/w.sum
  c1=$(cpu); echo "redis cpu per dispatched occurrence: $(echo "($c1 - $c0) * 1000000 / $n" | bc -l | cut -c1-6) us"
  echo "scheduler cpu: $(awk '{print ($14+$15)/100 " s"}' /proc/${PIDS[0]}/stat)"
  redis-cli -p $P info commandstats | grep -E 'evalsha|zrange|hmget|xadd|hset|zrem' || true;;
late)
  rate=$1; secs=$2; n=$((rate*secs))
  role scheduler; role executor --concurrency 32; role executor --concurrency 32
  sleep 1
  due0=$(( $(now_ms) + 3000 + n / 20 ))
  $DB seed 127.0.0.1 $P $n $due0 $rate at-noop >/dev/null 2>&1
  echo "seed margin $(( due0 - $(now_ms) )) ms"
  $DB lateness 127.0.0.1 $P dts 16 $n $((secs + 60)) $T/l.txt || true;;
esac
