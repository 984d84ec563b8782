# Redis for deploy/compose.yaml: Debian's redis-server on debian:bookworm-slim,
# so that the compose setup needs no image registry either (built by
# deploy/build-image.sh as dts-redis:dev, with the same optional `extra_ca`
# build secret as deploy/Dockerfile).
#
# The password is the environment variable REDISCLI_AUTH: the entrypoint hands
# it to redis-server on standard input (so it is in no command line), and
# redis-cli reads it from there too (the compose health check). AOF is on,
# fsynced every second; data lives in /data.
ARG DEBIAN_RELEASE=bookworm
FROM debian:${DEBIAN_RELEASE}-slim
RUN --mount=type=bind,source=deploy,target=/deploy --mount=type=secret,id=extra_ca \
    /deploy/apt-install.sh redis-server \
 && install -d -o redis -g redis -m 0750 /data
USER redis
WORKDIR /data
EXPOSE 6379
STOPSIGNAL SIGTERM
ENTRYPOINT ["/bin/sh", "-c", "[ -n \"$REDISCLI_AUTH\" ] || { echo 'set REDISCLI_AUTH (the password)' >&2; exit 2; }; printf 'requirepass %s\\n' \"$REDISCLI_AUTH\" | exec redis-server - --dir /data --appendonly yes --appendfsync everysec --save '' --hash-max-listpack-value 1024 --stream-node-max-entries 16 \"$@\"", "redis"]
CMD ["--port", "6379"]
