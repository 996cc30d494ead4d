#!/bin/sh
# Installs, from Debian's packages, whatever the build (`build`) or the build
# and the tests (`all`, the default) need and this machine lacks.
# Idempotent: a second run installs nothing.
set -eu
# What building tcpscope and running a scenario need (`make demo`): the
# compilers, the libraries it links, the headers its configure checks, and
# the tools a scenario runs (iproute2, procps).
BUILD_PACKAGES="build-essential cmake pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
libcli11-dev nlohmann-json3-dev libgtest-dev iproute2 procps \
prometheus-cpp-dev libcpp-httplib-dev libssl-dev libyaml-cpp-dev libcrypt-dev libncurses-dev"
# What only the tests use (`make test`): peers and ground truth (tcpdump,
# libbpf-tools, strace, nftables, perf), the kernels' and the Debian guest's
# machinery (qemu, busybox, debootstrap), Prometheus and Alertmanager, a
# browser, a terminal, the package's tooling, the Kubernetes manifests'
# schema checks, the container image's tools (buildah builds it, podman
# runs it with runc: crun cannot start a container on these machines,
# docs/packaging.md), and the fuzzers' runtime.
TEST_PACKAGES="libclang-rt-14-dev tcpdump libbpf-tools \
qemu-system-x86 busybox-static debootstrap e2fsprogs \
prometheus prometheus-alertmanager python3-yaml systemd apache2-utils curl openssl \
python3 chromium python3-pil strace groff-base man-db \
tmux nftables \
dpkg-dev debhelper lintian linux-perf python3-kubernetes python3-jsonschema \
buildah podman runc"
case "${1:-all}" in
  build) PACKAGES=$BUILD_PACKAGES ;;
  all) PACKAGES="$BUILD_PACKAGES $TEST_PACKAGES" ;;
  *) echo "usage: $0 [build|all]" >&2; exit 2 ;;
esac
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
