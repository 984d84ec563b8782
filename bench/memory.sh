#!/usr/bin/env bash
set -e
# Memory per task with the default and a raised hash-max-listpack-value (bench/ANALYSIS.md §3).
cd "$(dirname "$0")/.."
DB=./build-bench/bench/dtsbench
P=45123; T=$(mktemp -d)
redis-server --port $P --bind 127.0.0.1 --dir $T --save '' --appendonly no --daemonize yes --pidfile $T/r.pid --logfile $T/r.log
sleep 0.5
mem() { redis-cli -p $P info memory | awk -F: '/^used_memory:/{printf "%d", $2}'; }
for kind in at-shell cron-shell; do
  for lp in 64 1024; do
    n=1000000; [ $lp = 1024 ] && n=200000
    redis-cli -p $P flushall >/dev/null; redis-cli -p $P config set hash-max-listpack-value $lp >/dev/null
    m0=$(mem); $DB seed 127.0.0.1 $P $n $(( $(date +%s%3N) + 86400000 )) 0 $kind >/dev/null 2>&1; m1=$(mem)
    k=$(redis-cli -p $P --scan --pattern 'dts:*:task:*' | head -1)
    echo "$kind listpack_value=$lp n=$n bytes_per_task=$(( (m1-m0)/n )) hash_encoding=$(redis-cli -p $P object encoding $k) hash_memory_usage=$(redis-cli -p $P memory usage $k)"
  done
done
redis-cli -p $P shutdown nosave >/dev/null 2>&1 || true
rm -rf $T
