#!/bin/sh
# Regenerates vmlinux.h from the running kernel's BTF. The checked-in header only has to
# declare the types the BPF programs name; CO-RE relocations adapt field offsets at load time.
set -eu
cd "$(dirname "$0")"
bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h
