#!/bin/sh
# Builds tcpscope's container image with Debian's buildah, from a base made
# here (build-base.sh: debootstrap, nothing pulled from a registry) and the
# project's Debian package, installed with apt so that its Depends come
# from Debian (docs/packaging.md, "The container image").
#
#   packaging/image/build-image.sh BUILD_DIR [OUT_DIR]     (OUT_DIR: BUILD_DIR)
#
# Reads the version from BUILD_DIR/packaging/version and the package
# OUT_DIR/tcpscope_<version>_<arch>.deb (`make deb`, packaging/build-deb.sh).
# Writes
#   OUT_DIR/tcpscope-image_<version>.oci.tar   the image as an OCI archive
#   localhost/tcpscope:<version>               the image in local storage
#                                              (buildah's, which podman shares)
#   OUT_DIR/image/base.tar                     the base, kept: built only when missing
# TCPSCOPE_IMAGE_NAME names the image otherwise (default localhost/tcpscope),
# TCPSCOPE_IMAGE_BASE puts the base elsewhere (the test shares make image's).
set -eu
usage() { echo "usage: $0 BUILD_DIR [OUT_DIR]" >&2; exit 2; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
build_dir=$(cd "$1" && pwd)
out_dir=$(cd "${2:-$1}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
name=${TCPSCOPE_IMAGE_NAME:-localhost/tcpscope}

[ "$(id -u)" -eq 0 ] || { echo "build-image: needs root (debootstrap, buildah's storage)" >&2; exit 1; }
command -v buildah >/dev/null || {
  echo "build-image: buildah not found: apt-get install buildah (tools/install-deps.sh)" >&2
  exit 1
}
[ -f "$build_dir/packaging/version" ] || {
  echo "build-image: $build_dir/packaging/version missing: configure first (make configure)" >&2
  exit 1
}
version=$(cat "$build_dir/packaging/version")
arch=$(dpkg --print-architecture)
deb="$out_dir/tcpscope_${version}_${arch}.deb"
[ -f "$deb" ] || { echo "build-image: $deb missing: make deb first" >&2; exit 1; }
image="$name:$version"
archive="$out_dir/tcpscope-image_${version}.oci.tar"
base=${TCPSCOPE_IMAGE_BASE:-$out_dir/image/base.tar}

[ -f "$base" ] || "$here/build-base.sh" "$base"

# The working container starts empty and gets the base's tree as it is
# (buildah add unpacks a local tar), so the image is one layer.
ctr=$(buildah from --name "tcpscope-image-build-$$" scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
trap 'exit 1' INT TERM
buildah add --quiet "$ctr" "$base" / >/dev/null
buildah copy --quiet "$ctr" "$deb" /tmp/tcpscope.deb >/dev/null

# apt installs the package and its Depends, after bringing the base up to
# date (its cache may be older than the archive's security updates), then
# every list and cache goes. Chroot isolation: this step needs no OCI
# runtime and no cgroup, only the machine's network to the apt mirror.
# apt's and dpkg's output goes to OUT_DIR/image-apt.log, kept and shown on
# failure only.
apt_log="$out_dir/image-apt.log"
buildah run --isolation chroot --env DEBIAN_FRONTEND=noninteractive "$ctr" -- sh -euc '
  apt-get update
  apt-get upgrade -y
  apt-get install -y /tmp/tcpscope.deb
  apt-get clean
  rm -f /tmp/tcpscope.deb /var/cache/debconf/*-old /var/lib/dpkg/*-old
  find /var/lib/apt/lists /var/cache/apt /var/log -type f -delete
' > "$apt_log" 2>&1 || { tail -30 "$apt_log" >&2; echo "build-image: apt failed (log: $apt_log)" >&2; exit 1; }
rm -f "$apt_log"
buildah run --isolation chroot "$ctr" -- /usr/bin/tcpscope --version

# The labels: OCI's annotation keys, from the project's own files.
homepage=$(sed -n 's/^Homepage: //p' "$source_dir/packaging/debian/control")
licences=$(sed -n 's/^License: \(.* or .*\)$/\1/p' "$source_dir/packaging/debian/copyright" |
  head -1 | sed 's/ or / OR /')
set --
if revision=$(git -C "$source_dir" rev-parse HEAD 2>/dev/null); then
  # The image's creation time is the commit's, as the package's file times
  # are: the same commit gives the same configuration.
  created=$(git -C "$source_dir" log -1 --format=%cI)
  set -- --label "org.opencontainers.image.revision=$revision" \
    --label "org.opencontainers.image.created=$created"
  timestamp=$(git -C "$source_dir" log -1 --format=%ct)
else
  timestamp=""
fi
buildah config \
  --entrypoint '["/usr/bin/tcpscope"]' \
  --cmd 'metrics --listen 0.0.0.0:19979' \
  --port 19979/tcp \
  --stop-signal SIGTERM \
  --workingdir / \
  --label "org.opencontainers.image.title=tcpscope" \
  --label "org.opencontainers.image.description=tcpscope shows what the Linux kernel's TCP stack does, through eBPF; by default it serves Prometheus metrics on port 19979. Run it with the host's PID and network namespaces and CAP_BPF, CAP_PERFMON (docs/packaging.md)." \
  --label "org.opencontainers.image.version=$version" \
  --label "org.opencontainers.image.source=$homepage" \
  --label "org.opencontainers.image.url=$homepage" \
  --label "org.opencontainers.image.licenses=$licences" \
  --label "com.github.tcpscope.image.base=debian bookworm, debootstrap --variant=minbase, built locally" \
  "$@" "$ctr"

set -- --format oci --rm
[ -n "$timestamp" ] && set -- "$@" --timestamp "$timestamp"
previous=$(buildah images --quiet --no-trunc "$image" 2>/dev/null || true)
id=$(buildah commit --quiet "$@" "$ctr" "$image")
trap - EXIT
# The image this one replaces lost its name: remove it rather than leave it
# in storage unnamed (not if a container still uses it or it has another name).
if [ -n "$previous" ] && [ "$previous" != "$id" ] && [ "$previous" != "sha256:$id" ]; then
  buildah rmi "$previous" >/dev/null 2>&1 || true
fi

rm -f "$archive"
buildah push --quiet "$image" "oci-archive:$archive:$image" >/dev/null
echo "build-image: $image, $archive ($(du -k "$archive" | cut -f1) KiB)"
