#!/bin/sh
# Installs, from Debian's packages, whatever the build and the tests need
# and this machine lacks. Idempotent: a second run installs nothing.
set -eu
PACKAGES="build-essential cmake pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
libcli11-dev nlohmann-json3-dev libgtest-dev libclang-rt-14-dev iproute2 procps tcpdump libbpf-tools \
qemu-system-x86 busybox-static \
prometheus-cpp-dev libcpp-httplib-dev prometheus prometheus-alertmanager python3-yaml systemd libssl-dev libyaml-cpp-dev libcrypt-dev apache2-utils curl openssl \
python3 chromium python3-pil strace groff-base man-db \
libncurses-dev tmux nftables \
dpkg-dev debhelper lintian linux-perf \
debootstrap buildah podman runc"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing (run as root, or apt-get install them)" >&2
    exit 1
  fi
  echo "install-deps: installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq $missing >/dev/null
fi
