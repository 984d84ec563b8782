#!/bin/sh
# Runs dts under valgrind's memcheck for the api and executor roles (the
# others run as they are). Point the integration harness at it:
#   DTS_REAL_BIN=build/dts DTS_BIN=tests/chaos/memcheck.sh python3 tests/chaos/memcheck.py
# Reports go to $DTS_MEMCHECK_DIR/ROLE.PID.log (default /tmp/dts-memcheck).
bin=${DTS_REAL_BIN:-$(dirname "$0")/../../build/dts}
dir=${DTS_MEMCHECK_DIR:-/tmp/dts-memcheck}
mkdir -p "$dir"
case "$1" in
api|executor)
    # dts links jemalloc (CMakeLists.txt): memcheck must replace its malloc too.
    exec valgrind --tool=memcheck --soname-synonyms=somalloc=libjemalloc.so.2 \
        --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite --track-origins=yes --trace-children=no --child-silent-after-fork=yes \
        --num-callers=30 --log-file="$dir/$1.%p.log" "$bin" "$@" ;;
*)
    exec "$bin" "$@" ;;
esac
