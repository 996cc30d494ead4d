#!/bin/sh
# The firewall scenarios and nftables: without `nft` the run stops with a
# clear "install nftables" and a non-zero status (never a verdict judged on
# a stage that was not built), and with it the rules stay in the scenario's
# own namespace: the host's ruleset is the same before and after a run.
# Usage: firewall_nft_test.sh TCPSCOPE_BINARY
set -u
bin=$1
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root to load BPF programs and create network namespaces"
  exit 77
fi
if ! command -v nft >/dev/null 2>&1; then
  echo "SKIP: nft is not installed (tools/install-deps.sh installs nftables)"
  exit 77
fi
fail=0
out=$(mktemp)
nodir=$(mktemp -d)
trap 'rm -rf "$out" "$nodir"' EXIT

# A PATH without nft: the directories that do not hold it, and ip.
ln -s "$(command -v ip)" "$nodir/ip"
path="$nodir"
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  [ -d "$d" ] && [ ! -e "$d/nft" ] && path="$path:$d"
done
if PATH="$path" command -v nft >/dev/null 2>&1; then
  echo "FAIL: could not make a PATH without nft"
  exit 1
fi
PATH="$path" "$bin" run firewall-reject > "$out" 2>&1
status=$?
cat "$out"
if [ "$status" -eq 0 ]; then
  echo "FAIL: without nft the run exited 0"
  fail=1
fi
if ! grep -q 'install nftables' "$out"; then
  echo "FAIL: without nft the run does not say to install nftables"
  fail=1
fi

# Stateless (-s): the rules without their counters, which the host's own
# traffic moves meanwhile (podman's NETAVARK chains count every local packet).
before=$(nft -s list ruleset 2>&1)
"$bin" run firewall-reject > "$out" 2>&1
status=$?
if [ "$status" -ne 0 ]; then
  cat "$out"
  echo "FAIL: tcpscope run firewall-reject exited with $status"
  fail=1
fi
after=$(nft -s list ruleset 2>&1)
if [ "$before" != "$after" ]; then
  echo "FAIL: the host's nftables ruleset changed:"
  printf '%s\n' "$after"
  fail=1
fi
[ "$fail" -eq 0 ] && echo "PASS"
exit "$fail"
