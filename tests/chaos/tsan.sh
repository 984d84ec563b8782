#!/bin/sh
# Runs the integration tests that exercise the threaded roles (executor, api,
# web) against a ThreadSanitizer build and fails if any race is reported.
#   tests/chaos/tsan.sh [BUILD_DIR]      (default build-tsan; built if needed)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-tsan}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDTS_BUILD_TESTS=OFF \
    -DCMAKE_C_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
    -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target dts
logs=$(mktemp -d /tmp/dts-tsan.XXXXXX)
cd "$root/tests/integration"
status=0
TSAN_OPTIONS="log_path=$logs/dts second_deadlock_stack=1" DTS_BIN="$build/dts" DTS_CHAOS_NO_RSS_CHECK=1 \
    PYTHONPATH="$root/tests/lib" DTS_HOSTILE_TASKS=4000 /usr/bin/python3 -m unittest \
    test_executor_policies test_api test_web test_events_stream test_auth test_hostile test_chaos_short test_redis_restart \
    || status=$?
if ls "$logs"/dts.* >/dev/null 2>&1; then
    echo "ThreadSanitizer reports (full stacks in $logs):"
    grep -h SUMMARY "$logs"/dts.* | sort | uniq -c
    exit 1
fi
rm -rf "$logs"
echo "ThreadSanitizer: no reports"
exit $status
