#!/bin/sh
# apt-install.sh: apt-get install for deploy/Dockerfile's stages. Bind-mounted
# into each RUN, never copied, so no image carries it.
#
# usage: apt-install.sh LIST-FILE | PACKAGE...
#   A LIST-FILE (deploy/*-packages.txt) holds one package a line, '#' comments.
#
# Behind a TLS-intercepting proxy, the build secret `extra_ca` (a PEM bundle:
# docker build --secret id=extra_ca,src=FILE) is the only CA apt trusts for
# https:// mirrors; it is mounted at /run/secrets/extra_ca for the RUN alone.
# Nothing is left behind: no package lists, no downloaded packages.
set -eu
if [ $# -eq 1 ] && [ -f "$1" ]; then
  set -- $(sed 's/#.*//' "$1")
fi
CA=/run/secrets/extra_ca
CAOPT=Acquire::https::CaInfo=/etc/ssl/certs/ca-certificates.crt
[ -s "$CA" ] && CAOPT=Acquire::https::CaInfo=$CA
export DEBIAN_FRONTEND=noninteractive
apt-get -o "$CAOPT" update -qq
apt-get -o "$CAOPT" install -y -qq --no-install-recommends "$@" >/dev/null
apt-get clean
rm -rf /var/lib/apt/lists/*
