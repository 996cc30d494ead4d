#!/bin/sh
# One catalogue scenario as a test: `tcpscope run NAME` must exit 0 (every
# fact holds), and the run must leave nothing behind: no network namespace,
# no veth, no BPF link, no process of the scenario.
# Usage: run_scenario_test.sh TCPSCOPE_BINARY NAME
set -u
. "$(dirname "$0")/bpf_links.sh"
bin=$1
name=$2
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root to load BPF programs and create network namespaces"
  exit 77
fi

netns_before=$(ip netns list 2>/dev/null | awk '{print $1}' | sort)
links_before=$(bpf_link_ids)

# A run the tool itself calls NOT JUDGED lost kernel events, or found
# events the kernel counted that its tracepoints never reported: under
# qemu's slow emulation an interrupt that comes while one of our programs
# runs can make the kernel skip that program for the softirq's event
# (recursion_misses), which tcpscope counts and reports; and on our VMs a
# timer's retransmit now and then fires no tracepoint at all (perf's
# neither) while the namespace's counters count it (receiver-overrun, about
# once in 25 runs). Only then is the scenario run again, twice at most; a
# FAIL is never retried, and a fault that repeats is not judged three times.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
attempt=1
while :; do
  "$bin" run "$name" > "$out" 2>&1
  status=$?
  cat "$out"
  if [ "$status" -ne 0 ] && grep -q '^NOT JUDGED (' "$out" && [ "$attempt" -lt 3 ]; then
    echo "note: attempt $attempt was not judged (events lost, counted): running it again"
    attempt=$((attempt + 1))
    continue
  fi
  break
done

fail=0
if [ "$status" -ne 0 ]; then
  echo "FAIL: tcpscope run $name exited with $status"
  fail=1
fi
netns_after=$(ip netns list 2>/dev/null | awk '{print $1}' | sort)
new_netns=$(printf '%s\n' "$netns_after" | grep '^tsc-' | grep -vxF "$netns_before")
if [ -n "$new_netns" ]; then
  echo "FAIL: network namespaces left behind: $new_netns"
  fail=1
fi
if ip -o link 2>/dev/null | grep -q 'tsc-'; then
  echo "FAIL: veth left behind: $(ip -o link | grep 'tsc-')"
  fail=1
fi
left_links=$(orphan_bpf_links "$links_before")
if [ -n "$left_links" ]; then
  echo "FAIL: BPF links left attached: ids$left_links, held by no process"
  fail=1
fi
if pgrep -f "scenarios/$name\$" >/dev/null 2>&1; then
  echo "FAIL: scenario processes left running: $(pgrep -a -f "scenarios/$name\$")"
  fail=1
fi
exit $fail
