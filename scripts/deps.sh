#!/bin/sh
# Installs what dts needs to build, run and test, from Debian's packages only.
# Quick when everything is present: it asks dpkg first and runs apt-get only for
# what is missing.
set -eu
PKGS="build-essential cmake pkg-config redis-server libhiredis-dev libmicrohttpd-dev
libjansson-dev libcurl4-openssl-dev libcriterion-dev python3 python3-croniter
python3-tz curl clang libclang-rt-14-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian's package starts a system redis-server on 6379 where systemd runs; dts
# never uses it, and tests run their own on free ports.
