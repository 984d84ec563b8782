#!/bin/sh
# base-image.sh: makes the two base images deploy/Dockerfile starts FROM,
# debian:bookworm and debian:bookworm-slim, with debootstrap from Debian's own
# mirror, for Docker engines that reach no image registry. Does nothing for an
# image the engine already has.
#
# Both are laid down the way Debian's official images are: a minbase
# debootstrap, brought up to date from bookworm-updates and bookworm-security,
# with the same small apt and dpkg settings for containers (no translations,
# no caches left behind, services never started by dpkg). The slim one adds
# dpkg path exclusions for documentation, manual pages, info pages and
# locales (copyright files and locale.alias stay), and deletes the files they
# exclude, so packages installed later leave them out too.
#
# The root filesystem tarballs are cached (DTS_CACHE, default /var/cache/dts),
# so a second engine on the same machine imports them without the mirror.
#
# usage: deploy/base-image.sh [--release bookworm] [--mirror URL] [--force]
#   --force   rebuild the tarballs and re-import even if the images exist
# Environment: DOCKER (the client, default docker; DOCKER_HOST is honoured),
# DTS_CACHE, DTS_MIRROR.
set -eu
RELEASE=bookworm
MIRROR=${DTS_MIRROR:-http://deb.debian.org/debian}
CACHE=${DTS_CACHE:-/var/cache/dts}
DOCKER=${DOCKER:-docker}
FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --release) RELEASE=$2; shift ;;
    --mirror) MIRROR=$2; shift ;;
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "base-image: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
say() { echo "base-image: $*"; }
fail() { echo "base-image: $*" >&2; exit 1; }
have_image() { $DOCKER image inspect "$1" >/dev/null 2>&1; }

if [ "$FORCE" = 0 ] && have_image "debian:$RELEASE" && have_image "debian:$RELEASE-slim"; then
  say "debian:$RELEASE and debian:$RELEASE-slim are present"
  exit 0
fi
ARCH=$(dpkg --print-architecture)
# The recipe's own version is part of the cache key: change this script and
# the cached tarballs are made anew.
KEY=$RELEASE-$ARCH-$(sha256sum "$0" | cut -c1-12)
FULL_TAR=$CACHE/debian-$KEY.tar
SLIM_TAR=$CACHE/debian-$KEY-slim.tar
mkdir -p "$CACHE"

# Writes the settings Debian's container images carry into the root ROOT.
container_config() {
  root=$1
  cat >"$root/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh
# Containers start no services when packages are installed.
exit 101
EOF
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
# Keep no downloaded packages or package caches in the image's layers.
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf 'Acquire::Languages "none";\n' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  printf 'Acquire::GzipIndexes "true";\n' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
  printf 'Apt::AutoRemove::SuggestsImportant "false";\n' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
  printf 'force-unsafe-io\n' >"$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: $RELEASE $RELEASE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $RELEASE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

# Runs apt-get inside ROOT with /proc mounted, unmounting it whatever happens.
in_root() {
  root=$1; shift
  mount -t proc proc "$root/proc"
  rc=0
  DEBIAN_FRONTEND=noninteractive chroot "$root" "$@" || rc=$?
  umount "$root/proc"
  return "$rc"
}

# What a container image must not carry: caches, logs, this machine's identity.
clean_root() {
  root=$1
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
         "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old "$root"/tmp/* "$root"/var/tmp/*
  find "$root/var/log" -type f -exec truncate -s 0 {} +
  : >"$root/etc/machine-id"
  rm -f "$root/etc/hostname" "$root/etc/resolv.conf" "$root/var/lib/dbus/machine-id"
}

# The slim variant: dpkg leaves these paths out from now on, and they go now.
slimify() {
  root=$1
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# As Debian's slim images: no documentation, manual or info pages, no locales.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/groff/* "$root"/usr/share/info/* \
         "$root"/usr/share/lintian/* "$root"/usr/share/linda/*
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
}

if [ "$FORCE" = 1 ] || [ ! -s "$FULL_TAR" ] || [ ! -s "$SLIM_TAR" ]; then
  command -v debootstrap >/dev/null || fail "debootstrap is needed (apt-get install debootstrap)"
  [ "$(id -u)" = 0 ] || fail "debootstrap needs root"
  WORK=$(mktemp -d "$CACHE/root.XXXXXX")
  trap 'mountpoint -q "$WORK/root/proc" 2>/dev/null && umount "$WORK/root/proc"; rm -rf "$WORK"' EXIT
  ROOT=$WORK/root
  say "debootstrap --variant=minbase $RELEASE from $MIRROR"
  # Downloaded packages are kept too: a changed recipe needs no second download.
  mkdir -p "$CACHE/debs"
  debootstrap --variant=minbase --arch="$ARCH" --cache-dir="$CACHE/debs" "$RELEASE" "$ROOT" "$MIRROR" \
    >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; fail "debootstrap failed (log above)"; }
  container_config "$ROOT"
  # The security and point-release updates, as Debian's images have them.
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  in_root "$ROOT" sh -c 'apt-get update -qq && apt-get -y -qq dist-upgrade && apt-get clean' \
    >"$WORK/upgrade.log" 2>&1 || { tail -20 "$WORK/upgrade.log" >&2; fail "apt-get dist-upgrade in the new root failed"; }
  clean_root "$ROOT"
  tar --numeric-owner --xattrs -C "$ROOT" -cf "$FULL_TAR.tmp" . && mv "$FULL_TAR.tmp" "$FULL_TAR"
  slimify "$ROOT"
  tar --numeric-owner --xattrs -C "$ROOT" -cf "$SLIM_TAR.tmp" . && mv "$SLIM_TAR.tmp" "$SLIM_TAR"
  # Tarballs of an older recipe are of no more use.
  find "$CACHE" -maxdepth 1 -name "debian-$RELEASE-$ARCH-*.tar" -not -name "debian-$KEY.tar" \
    -not -name "debian-$KEY-slim.tar" -delete
  say "root filesystems cached in $CACHE"
fi

# docker import keeps no CMD: give them the one Debian's images have.
for pair in "debian:$RELEASE $FULL_TAR" "debian:$RELEASE-slim $SLIM_TAR"; do
  tag=${pair% *}; tar=${pair#* }
  if [ "$FORCE" = 1 ] || ! have_image "$tag"; then
    $DOCKER import --change 'CMD ["bash"]' "$tar" "$tag" >/dev/null || fail "docker import $tag"
    say "imported $tag ($($DOCKER image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.1f MB", $1 / 1e6}'))"
  fi
done
