#!/usr/bin/env bash
# bench/run.sh: the benchmark suite behind `make bench` (issue 14): dts against
# BullMQ, fairly (bench/README.md says how), every row of issue 14's table.
# Builds build-bench/ (Release), installs the BullMQ peer, runs bench/bench.py,
# which writes bench/RESULTS.md (BENCH_RESULTS=path writes elsewhere) and the
# plots. BENCH_QUICK=1: smaller sizes and one round (~2 minutes), for use while
# developing. The other knobs are listed in bench/README.md. Loopback only;
# everything started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BENCH_BUILD:-build-bench}
need() { command -v "$1" >/dev/null || { echo "bench: $1 is missing (scripts/deps.sh bench installs it)" >&2; exit 1; }; }
for t in redis-server redis-cli wrk gnuplot node npm python3; do need "$t"; done
if [ "${BENCH_NO_BUILD:-0}" = 0 ]; then # 1: measure the binaries already in $BUILD
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target dts dtsbench >/dev/null
fi
if [ "${BENCH_SKIP_BULLMQ:-0}" = 0 ] && [ ! -d bench/peers/node_modules/bullmq ]; then
  (cd bench/peers && npm ci --no-audit --no-fund >/dev/null)
fi
export BENCH_BUILD=$BUILD
exec python3 bench/bench.py
