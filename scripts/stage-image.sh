#!/bin/sh
# stage-image.sh: proves deploy/Dockerfile without a Docker engine. It repeats
# the image's steps on this Debian machine into a staging root and runs the
# staged binary from there:
#
#   1. build: install the packages of deploy/build-packages.txt that are
#      missing, copy exactly the files the Dockerfile's build stage COPYs into a
#      temporary source tree, build the dts target there and install it
#      stripped into STAGE/usr/local/bin/dts (or take --binary PATH instead);
#   2. runtime root: install the packages of deploy/runtime-packages.txt that
#      are missing, then copy into STAGE the files of those packages and of
#      everything they depend on (the apt closure), as `apt-get install` in
#      debian:bookworm-slim would lay them down;
#   3. check: resolve the binary's libraries with the staged dynamic loader and
#      only the staged library folders (nothing may be missing), and map every
#      library `ldd` shows back to its Debian package with `dpkg -S`: each must
#      belong to that closure, each library dts links directly to a listed
#      'lib:' package (or libc6, from the base image), and each listed 'lib:'
#      package must be needed;
#   4. run: dts --help, dts version, a cron preview reading the staged zoneinfo,
#      then api, scheduler and executor through the staged loader against a
#      private redis-server on a free loopback port: all become ready, a task
#      runs, the HEALTHCHECK command (dts probe) passes, and SIGTERM stops
#      each role cleanly.
#
# usage: scripts/stage-image.sh [--binary PATH | --from-head] [--stage DIR] [--keep] [--no-run]
#   --binary PATH  stage this dts instead of building one (the tests pass theirs)
#   --from-head    build from the files committed at HEAD, not the work tree
#   --stage DIR    staging root (default: a temporary folder, removed at exit)
#   --keep         keep the temporary folders and print where they are
#   --no-run       stop after the checks of step 3
#   --configure-only  stop after configuring the build from the copied files
#                  (a quick proof that the Dockerfile COPYs all the build reads)
# Exits 0 when every check passed; prints one line per step and a summary.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DEPLOY=$ROOT/deploy

BINARY=""; STAGE=""; KEEP=0; RUN=1; HEAD=0; CONFIGURE_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) BINARY=$2; shift 2 ;;
    --stage) STAGE=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --from-head) HEAD=1; shift ;;
    --configure-only) CONFIGURE_ONLY=1; shift ;;
    --no-run) RUN=0; shift ;;
    -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "stage-image: unknown argument $1" >&2; exit 2 ;;
  esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dts-stage.XXXXXX")
[ -n "$STAGE" ] || STAGE=$WORK/root
mkdir -p "$STAGE"
STAGE=$(cd "$STAGE" && pwd)
PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  for p in $PIDS; do wait "$p" 2>/dev/null || true; done
  if [ "$KEEP" = 1 ]; then echo "stage-image: kept $WORK (stage: $STAGE)"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "stage-image: FAIL: $*" >&2; exit 1; }
step() { echo "stage-image: $*"; }

# The package names of a list file: first word of each line, comments dropped.
packages_of() { sed 's/#.*//' "$1" | tr -s ' \t\n' '\n' | sed '/^$/d'; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
apt_install_missing() {
  missing=""
  for p in "$@"; do installed "$p" || missing="$missing $p"; done
  [ -z "$missing" ] && return 0
  step "installing$missing"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# STAGE_RUNTIME_PACKAGES names another list (the tests use it to prove the checks bite).
RUNTIME_LIST=${STAGE_RUNTIME_PACKAGES:-$DEPLOY/runtime-packages.txt}
RUNTIME_PKGS=$(packages_of "$RUNTIME_LIST")
# 'lib:' entries: packages that must provide a library dts links.
LIB_PKGS=$(sed -n 's/^\([^ #]*\)[ \t]*#[ \t]*lib:.*/\1/p' "$RUNTIME_LIST")

# ---- 1. build ---------------------------------------------------------------
BIN=$STAGE/usr/local/bin/dts
if [ -n "$BINARY" ]; then
  [ -x "$BINARY" ] || fail "--binary $BINARY is not an executable"
  install -D -m 0755 -s "$BINARY" "$BIN"
  step "1/4 staged $BINARY (stripped) as /usr/local/bin/dts"
else
  apt_install_missing $(packages_of "$DEPLOY/build-packages.txt")
  SRC=$WORK/src
  mkdir -p "$SRC"
  # The build stage's COPY sources, read from the Dockerfile itself.
  copies=$(awk '/^FROM /{build = ($0 ~ / AS build/)} build && /^COPY / && !/--from/ && $2 !~ /^deploy\// {print $2}' \
           "$DEPLOY/Dockerfile")
  [ -n "$copies" ] || fail "no COPY lines found in the Dockerfile's build stage"
  if [ "$HEAD" = 1 ]; then
    git archive HEAD $copies | tar -x -C "$SRC" || fail "git archive HEAD"
  else
    for c in $copies; do cp -a --parents "$c" "$SRC/"; done
  fi
  step "1/4 building from a copy of:" $copies "$([ "$HEAD" = 1 ] && echo "(at HEAD)")"
  # The Dockerfile's `npm ci` in web/: reuse an installed tree, else install it.
  if [ -f "$SRC/web/package-lock.json" ] && [ ! -d "$SRC/web/node_modules" ]; then
    if [ -d "$ROOT/web/node_modules" ]; then cp -a "$ROOT/web/node_modules" "$SRC/web/"
    else (cd "$SRC/web" && npm ci --omit=dev --no-audit --no-fund --loglevel=error) || fail "npm ci in web/"; fi
  fi
  cmake -S "$SRC" -B "$WORK/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDTS_BUILD_TESTS=OFF >"$WORK/cmake.log" 2>&1 \
    || { cat "$WORK/cmake.log" >&2; fail "cmake configure"; }
  if [ "$CONFIGURE_ONLY" = 1 ]; then step "configured from the Dockerfile's inputs"; echo "stage-image: OK"; exit 0; fi
  cmake --build "$WORK/build" -j"$(nproc)" --target dts >>"$WORK/cmake.log" 2>&1 \
    || { tail -40 "$WORK/cmake.log" >&2; fail "cmake build"; }
  install -D -m 0755 -s "$WORK/build/dts" "$BIN"
fi

# ---- 2. runtime root ----------------------------------------------------------
apt_install_missing $RUNTIME_PKGS
# The closure of the runtime packages over Pre-Depends and Depends, as apt
# resolves it: for "a | b" the first alternative installed here. One dpkg-query
# for the whole database, then a walk in awk.
closure() {
  dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\t${Pre-Depends}, ${Depends}\n' >"$WORK/dpkg.db"
  awk -F'\t' -v roots="$*" '
    $2 ~ /^ii/ { ok[$1] = 1; deps[$1] = $3 }
    END {
      n = split(roots, todo, " ")
      while (n > 0) {
        p = todo[n--]
        if (p in seen || !(p in ok)) continue
        seen[p] = 1; print p
        ng = split(deps[p], groups, ",")
        for (g = 1; g <= ng; g++) {
          gsub(/\([^)]*\)|:any|[ \t]/, "", groups[g])
          na = split(groups[g], alts, "|")
          for (a = 1; a <= na; a++) if (alts[a] in ok) { todo[++n] = alts[a]; break }
        }
      }
    }' "$WORK/dpkg.db" | sort
}
CLOSURE=$(closure libc6 $RUNTIME_PKGS)
in_closure() { echo "$CLOSURE" | grep -qx "$1"; }
# "package path" for every file of the closure: the owners table of step 3.
for p in $CLOSURE; do
  dpkg-query -L "$p" | sed "s|^|$p |"
done >"$WORK/owners"
cut -d' ' -f2- "$WORK/owners" |
  grep -v -E '^/usr/share/(doc|doc-base|man|info|locale|lintian|bug|bash-completion)(/|$)' |
  xargs -d '\n' stat -c '%F|%n' 2>/dev/null |
  # Files and file symlinks; not folders, nor the merged-/usr folder symlinks
  # at the top (/lib -> usr/lib).
  awk -F'|' '$1 == "regular file" || $1 == "regular empty file" || ($1 == "symbolic link" && $2 ~ /^\/[^\/]+\/./) { print $2 }' |
  sort -u >"$WORK/files"
# cp --parents makes every parent a real folder in STAGE (the host's /lib is a
# symlink to usr/lib; the staged tree keeps both, which the loader search below
# covers).
xargs -d '\n' cp -P --parents -t "$STAGE" <"$WORK/files" || fail "copying the packages' files"
n=$(wc -l <"$WORK/files")
step "2/4 runtime root: $(echo "$CLOSURE" | wc -l) packages (listed:" $RUNTIME_PKGS "+ their dependencies), $n files"

# ---- 3. checks ------------------------------------------------------------------
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
LD=$(find "$STAGE/lib/$MULTIARCH" "$STAGE/usr/lib/$MULTIARCH" -maxdepth 1 -name 'ld-linux*.so.*' -type f 2>/dev/null | head -1)
[ -n "$LD" ] || fail "no dynamic loader in the staged libc6"
LP=$STAGE/lib/$MULTIARCH:$STAGE/usr/lib/$MULTIARCH
# Runs a staged program with the staged loader and staged libraries only.
staged() { "$LD" --inhibit-cache --library-path "$LP" "$@"; }

# The package owning library PATH, as `dpkg -S` answers, looked up first in the
# closure's own file lists (fast) and then in dpkg's whole database. Debian
# ships some libraries under /lib, some under /usr/lib, and ldd may print
# either spelling.
owner_of() {
  for p in "$1" "/usr$1" "${1#/usr}"; do
    o=$(awk -v f="$p" '{ pkg = $1; sub(/^[^ ]+ /, "") } $0 == f { print pkg; exit }' "$WORK/owners")
    [ -n "$o" ] && { echo "$o"; return 0; }
  done
  for p in "$1" "/usr$1" "${1#/usr}"; do
    o=$(dpkg-query -S "$p" 2>/dev/null | sed -n "s|^\([^:]*\)\(:[a-z0-9]*\)\{0,1\}: $p\$|\1|p" | head -1)
    [ -n "$o" ] && { echo "$o"; return 0; }
  done
  return 1
}

staged --list "$BIN" >"$WORK/ld.list" 2>&1 || { cat "$WORK/ld.list" >&2; fail "the staged loader cannot load dts"; }
if grep -q 'not found' "$WORK/ld.list"; then cat "$WORK/ld.list" >&2; fail "libraries missing from the runtime packages"; fi
used_pkgs=" "
for lib in $(sed -n 's/.* => \([^ ]*\) (.*/\1/p' "$WORK/ld.list"); do
  case "$(readlink -f "$lib")" in "$STAGE"/*) ;; *) fail "$lib resolves outside the staging root" ;; esac
  host=${lib#"$STAGE"}
  o=$(owner_of "$host") || fail "no Debian package owns $host"
  in_closure "$o" || fail "$host comes from $o, which the runtime packages do not bring"
  used_pkgs="$used_pkgs$o "
  printf '  %-34s %s\n' "$(basename "$lib")" "$o"
done
# The host's ldd, as the issue words it: every library from the same closure.
for lib in $(ldd "$BIN" | sed -n 's/.* => \(\/[^ ]*\) (.*/\1/p'); do
  o=$(owner_of "$lib") || fail "no Debian package owns $lib (host ldd)"
  in_closure "$o" || fail "ldd: $lib comes from $o, outside the runtime packages' closure"
done
# Direct links: each NEEDED library belongs to a listed package (or libc6).
for so in $(objdump -p "$BIN" | awk '$1 == "NEEDED" {print $2}'); do
  path=$(sed -n "s|^[ \t]*$so => \([^ ]*\) (.*|\1|p" "$WORK/ld.list" | head -1)
  o=$(owner_of "${path#"$STAGE"}") || fail "no package owns $so"
  case " libc6 $(echo $RUNTIME_PKGS) " in *" $o "*) ;; *) fail "dts links $so from $o: list $o in deploy/runtime-packages.txt" ;; esac
done
for p in $LIB_PKGS; do
  case "$used_pkgs" in *" $p "*) ;; *) fail "$p is listed as 'lib:' but dts loads nothing from it" ;; esac
done
step "3/4 ldd: every library resolves inside the staging root, from the listed packages' closure"

# ---- 4. run ------------------------------------------------------------------------
if [ "$RUN" = 0 ]; then step "4/4 skipped (--no-run)"; echo "stage-image: OK"; exit 0; fi
staged "$BIN" --help >"$WORK/help.txt" || fail "dts --help"
grep -q '^roles:' "$WORK/help.txt" || fail "dts --help printed no roles"
staged "$BIN" version >/dev/null || fail "dts version"
next=$(DTS_ZONEINFO=$STAGE/usr/share/zoneinfo staged "$BIN" cron next "0 9 * * MON-FRI" \
       --tz Europe/Berlin --from 2026-01-05T00:00:00Z --count 1) || fail "dts cron next with the staged zoneinfo"
case "$next" in *2026-01-05T08:00:00*) ;; *) fail "cron next printed '$next'" ;; esac

REDIS_SERVER=$(command -v redis-server || echo /usr/bin/redis-server)
[ -x "$REDIS_SERVER" ] || fail "redis-server is needed for the run check (apt-get install redis-server)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RPORT=$(free_port)
mkdir -p "$WORK/redis"
"$REDIS_SERVER" --port "$RPORT" --bind 127.0.0.1 --dir "$WORK/redis" --save '' --appendonly no \
  --daemonize no --logfile "$WORK/redis.log" &
PIDS="$PIDS $!"
# A role in a bare environment, as in the image: only DTS_* settings and PATH.
role() {
  name=$1; shift
  env -i PATH=/usr/local/bin:/usr/bin:/bin DTS_REDIS="redis://127.0.0.1:$RPORT" \
      DTS_ZONEINFO="$STAGE/usr/share/zoneinfo" DTS_LOG_LEVEL=warn "$@" \
      "$LD" --inhibit-cache --library-path "$LP" "$BIN" "$name" 2>"$WORK/$name.log" &
  PIDS="$PIDS $!"
  eval "PID_$name=$!"
}
wait_http() { # URL SECONDS
  i=0
  while [ "$i" -lt $(($2 * 20)) ]; do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.05; i=$((i + 1))
  done
  return 1
}
PA=$(free_port); PS=$(free_port); PE=$(free_port)
role api DTS_LISTEN=127.0.0.1:$PA
role scheduler DTS_LISTEN=127.0.0.1:$PS
role executor DTS_LISTEN=127.0.0.1:$PE DTS_CONCURRENCY=2 DTS_GRACE_MS=2000
for r in api:$PA scheduler:$PS executor:$PE; do
  wait_http "http://127.0.0.1:${r#*:}/readyz" 30 || { cat "$WORK/${r%%:*}.log" >&2; fail "${r%%:*} never became ready"; }
done
id=$(curl -fsS -XPOST "http://127.0.0.1:$PA/api/v1/tasks" -H 'Content-Type: application/json' \
     -d '{"name":"stage-image","action":{"type":"noop"}}' | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
[ -n "$id" ] || fail "creating a task"
i=0
until curl -fsS "http://127.0.0.1:$PA/api/v1/tasks/$id/runs" | grep -q '"status":"succeeded"'; do
  i=$((i + 1)); [ "$i" -lt 600 ] || fail "the task never ran"; sleep 0.05
done
curl -fsS "http://127.0.0.1:$PE/metrics" | grep -q '^dts_runs_total{outcome="succeeded"} 1' || fail "executor metrics"
# The HEALTHCHECK, with the staged binary and its staged libraries.
staged "$STAGE/usr/local/bin/dts" probe "http://127.0.0.1:$PA/healthz" || fail "the HEALTHCHECK command (dts probe)"
for r in api scheduler executor; do
  eval "pid=\$PID_$r"
  kill -TERM "$pid"
  rc=0; wait "$pid" || rc=$?
  [ "$rc" = 0 ] || { cat "$WORK/$r.log" >&2; fail "$r exited $rc on SIGTERM"; }
  PIDS=$(echo "$PIDS" | sed "s/ $pid\b//")
done
step "4/4 ran the staged dts: --help, version, cron with the staged zoneinfo; api, scheduler and executor ready, a task ran, HEALTHCHECK passed, SIGTERM stopped each with 0"
echo "stage-image: OK ($(du -sh "$STAGE" | cut -f1) staged, dts $(du -h "$BIN" | cut -f1))"
