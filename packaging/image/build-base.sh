#!/bin/sh
# Builds the root file system the container image starts from, as a tar
# file: Debian 12 (bookworm) made here by debootstrap --variant=minbase from
# this machine's own apt sources. Nothing is pulled from a container
# registry (docs/packaging.md, "The container image").
#
#   packaging/image/build-base.sh BASE_TAR
#
# The tree is trimmed for an image: no documentation but the copyright
# files, no man pages or translations, no apt lists or package caches; and
# dpkg and apt are configured so that what is installed later in the image
# (tcpscope and its Depends) stays trimmed the same way. apt's sources are
# the machine's (/etc/apt/sources.list.d/debian.sources: bookworm, its
# updates and security), so the image's packages come from the same
# archive as the machine's.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 BASE_TAR" >&2; exit 2; }
base_tar=$1
here=$(cd "$(dirname "$0")" && pwd)
sources=${TCPSCOPE_APT_SOURCES:-/etc/apt/sources.list.d/debian.sources}
suite=bookworm

[ "$(id -u)" -eq 0 ] || { echo "build-base: debootstrap needs root" >&2; exit 1; }
command -v debootstrap >/dev/null || {
  echo "build-base: debootstrap not found: apt-get install debootstrap (tools/install-deps.sh)" >&2
  exit 1
}
[ -f "$sources" ] || { echo "build-base: $sources missing: no apt source to bootstrap from" >&2; exit 1; }

# The first URI and Signed-By of the deb822 stanza whose Suites name the
# suite itself (not only bookworm-updates or bookworm-security).
stanza_field() {
  awk -v suite="$suite" -v want="$1" '
    function flush() { if (hit && value != "") { print value; found = 1; exit } hit = 0; value = "" }
    /^[ \t]*$/ { flush(); next }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) hit = 1 }
    $1 == want ":" { value = $2 }
    END { if (!found) flush() }' "$sources"
}
mirror=$(stanza_field URIs)
keyring=$(stanza_field Signed-By)
[ -n "$mirror" ] || { echo "build-base: no URIs for $suite in $sources" >&2; exit 1; }

mkdir -p "$(dirname "$base_tar")"
rootfs=$(mktemp -d "$(dirname "$base_tar")/base-rootfs.XXXXXX")
cleanup() {
  # debootstrap mounts /proc and /sys in the tree while it installs; a
  # failure can leave them mounted: unmount before removing anything.
  awk -v root="$rootfs/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m" || true; done
  rm -rf "$rootfs" "$base_tar.part"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

echo "build-base: debootstrap --variant=minbase $suite from $mirror"
set -- --variant=minbase
[ -n "$keyring" ] && set -- "$@" --keyring="$keyring"
debootstrap "$@" "$suite" "$rootfs" "$mirror" > "$rootfs.log" 2>&1 || {
  tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1
}
rm -f "$rootfs.log"

# What later installs leave out, and apt without caches or recommends.
cp "$here/dpkg-nodoc.cfg" "$rootfs/etc/dpkg/dpkg.cfg.d/90tcpscope-image-nodoc"
cp "$here/apt-image.conf" "$rootfs/etc/apt/apt.conf.d/90tcpscope-image"
# The machine's sources (with updates and security) replace debootstrap's
# one-line sources.list.
rm -f "$rootfs/etc/apt/sources.list"
cp "$sources" "$rootfs/etc/apt/sources.list.d/debian.sources"

# Trim what debootstrap installed the same way the dpkg configuration trims
# later installs.
find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs/usr/share/man" "$rootfs/usr/share/info" "$rootfs/usr/share/lintian" \
  "$rootfs/usr/share/linda"
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
# Files only: apt's partial/ directories stay, owned by _apt, which downloads.
find "$rootfs/var/lib/apt/lists" "$rootfs/var/cache/apt" -type f -delete
rm -f "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old
find "$rootfs/var/log" -type f -delete
# A container gets its own /dev, hostname, hosts and resolv.conf from the
# runtime; the machine-id is left empty, as systemd expects of an image.
rm -rf "${rootfs:?}"/dev/*
: > "$rootfs/etc/machine-id"
rm -f "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf"

tar --numeric-owner --xattrs -C "$rootfs" -cf "$base_tar.part" .
mv "$base_tar.part" "$base_tar"
echo "build-base: $base_tar, $(du -m "$base_tar" | cut -f1) MB"
