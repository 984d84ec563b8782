#!/bin/sh
# Builds one CMake target and prints only its progress ("[ 42%] Building C object
# src/cli.c.o" shortened to "  42% src/cli.c"); the whole log is kept in the
# build folder and shown if the build fails. Usage: build-quiet.sh BUILD TARGET JOBS
set -eu
build=$1 target=$2 jobs=$3
log="$build/build-$target.log"
status=0
cmake --build "$build" --target "$target" -j"$jobs" -- --no-print-directory >"$log" 2>&1 &
pid=$!
# Follow the log while the build runs, keeping the progress lines only.
tail -n +1 -f --pid="$pid" "$log" 2>/dev/null |
  sed -n -u 's/^\[ *\([0-9]*%\)\] \(Building C object\|Linking C executable\|Linking C static library\|Embedding\) \(.*\)$/  \1 \3/p' |
  sed -u -e 's#CMakeFiles/[^/]*\.dir/##' -e 's/\.o$//'
wait "$pid" || status=$?
if [ "$status" -ne 0 ]; then
  echo "build failed; the log ($log):" >&2
  cat "$log" >&2
fi
exit "$status"
