#!/bin/sh
# compose.sh: make compose-up / make compose-down, deploy/compose.yaml with
# its published ports (deploy/compose.ports.yaml) as compose project "dts".
#
#   deploy/compose.sh up      makes the Redis password and an admin API token
#                             under var/compose/ the first time, then starts it all
#   deploy/compose.sh down [-v]   stops and removes it (-v: the Redis data too)
#   deploy/compose.sh secrets     only makes the password and the token
#
# DTS_COMPOSE_DIR names another folder than var/compose.
#
# The admin token is printed once and kept in var/compose/admin-token (mode
# 0600); the tokens file the api and web read holds only its hash.
set -eu
cd "$(dirname "$0")/.."
DIR=${DTS_COMPOSE_DIR:-var/compose}
DOCKER=${DOCKER:-docker}
compose() {
  DTS_REDIS_PASSWORD=$(cat "$DIR/redis-password") DTS_COMPOSE_TOKENS=$(realpath "$DIR/tokens") \
    docker-compose -p dts -f deploy/compose.yaml -f deploy/compose.ports.yaml "$@"
}
secrets() {
  mkdir -p "$DIR"
  if [ ! -s "$DIR/redis-password" ]; then
    (umask 077; od -An -tx1 -N18 /dev/urandom | tr -d ' \n' >"$DIR/redis-password")
  fi
  if [ ! -s "$DIR/tokens" ]; then
    out=$($DOCKER run --rm --network none dts:dev token create admin --scopes admin)
    (umask 077; echo "$out" | sed -n 's/^token: //p' >"$DIR/admin-token")
    echo "$out" | grep '^admin admin ' >"$DIR/tokens"
    chmod 0644 "$DIR/tokens"  # read by the containers' uid 10001
    echo "compose: admin API token (also in $DIR/admin-token): $(cat "$DIR/admin-token")"
  fi
}
case "${1:-}" in
  secrets) secrets ;;
  up)
    secrets
    compose up -d
    echo "compose: up. Open http://127.0.0.1:8320/ (API: http://127.0.0.1:8321/api/v1, Bearer token in $DIR/admin-token)" ;;
  down) shift; [ -s "$DIR/redis-password" ] || exit 0; compose down "$@" ;;
  *) echo "usage: $0 up|down [-v]|secrets" >&2; exit 2 ;;
esac
