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
# The modules run side by side (TSAN_JOBS at once, longest first): each waits
# on schedules most of the time. Each one's output is shown if it failed. The
# browser test runs alone after them: it times what a user sees, and beside
# three other ThreadSanitizer runs its api answered a form's POST in over 10 s.
export TSAN_OPTIONS="log_path=$logs/dts second_deadlock_stack=1" DTS_BIN="$build/dts" DTS_CHAOS_NO_RSS_CHECK=1 \
    PYTHONPATH="$root/tests/lib" DTS_HOSTILE_TASKS=4000 out="$logs/out"
mkdir -p "$out"
one='if /usr/bin/python3 -m unittest {} >"$out/{}" 2>&1; then echo "tsan: {} ok"; else
     echo "tsan: {} FAILED"; cat "$out/{}"; exit 1; fi'
printf '%s\n' test_executor_policies test_chaos_short test_hostile test_api test_events_stream test_auth \
    test_redis_restart | xargs -P"${TSAN_JOBS:-4}" -I{} sh -c "$one" || status=$?
echo test_web | xargs -I{} sh -c "$one" || status=$?
if ls "$logs"/dts.* >/dev/null 2>&1; then
    echo "ThreadSanitizer reports (full stacks in $logs):"
    grep -h SUMMARY "$logs"/dts.* | sort | uniq -c
    exit 1
fi
rm -rf "$logs"
echo "ThreadSanitizer: no reports"
exit $status
