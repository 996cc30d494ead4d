#!/bin/sh
# The systemd unit passes systemd-analyze verify (with ExecStart pointed at
# the built binary, since /usr/local/bin/tcpscope need not exist here), and
# keeps its hardening.
set -eu
unit=$1
binary=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|/usr/local/bin/tcpscope|$binary|" "$unit" > "$dir/tcpscope-metrics.service"
out=$(systemd-analyze verify "$dir/tcpscope-metrics.service" 2>&1) || { echo "$out"; exit 1; }
# systemd-analyze exits 0 on some warnings: fail on any line about our unit.
if echo "$out" | grep -q "tcpscope-metrics.service"; then echo "$out"; exit 1; fi
for setting in NoNewPrivileges=yes ProtectSystem=strict Restart=on-failure CapabilityBoundingSet=; do
  grep -q "^$setting" "$unit" || { echo "missing: $setting"; exit 1; }
done
grep "^CapabilityBoundingSet=" "$unit" | grep -q CAP_SYS_ADMIN && { echo "CAP_SYS_ADMIN is not needed"; exit 1; }
echo "ok"
