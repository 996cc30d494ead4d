#!/bin/sh
# `tcpscope exec` keeps only its command's events, however busy the host:
# the command runs in a cgroup of its own and the kernel side filters by it.
# Another network namespace (tcpscope_churn's private one) churns loopback
# connections as fast as one thread can (about 30,000 a second here) for
# the whole run; the command sleeps 8 s, then reads tcpscope's peak RSS
# (VmHWM, /proc/$PPID/status: tcpscope is its parent).
#
# Bound: 100 MiB. tcpscope exec's own footprint is the binary, libbpf and
# the mapped ring buffers (the pages the kernel wrote into). Before the
# cgroup filter every event of the host was kept until the command ended:
# the same run peaked at hundreds of MiB (1,561 MiB for a 12 s command in
# the issue). Also: nothing lost, and the output holds no event of the
# churn's namespace.
# Usage: exec_scope_test.sh TCPSCOPE_BINARY TCPSCOPE_CHURN
set -u
bin=$1
churn=$2
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root to load BPF programs and create network namespaces"
  exit 77
fi
bound_kb=$((100 * 1024))
dir=$(mktemp -d)
fail=0
check() {  # check DESCRIPTION COMMAND...
  _what=$1
  shift
  if "$@"; then echo "ok: $_what"; else echo "FAIL: $_what"; fail=1; fi
}
"$churn" --single-thread --connections 1000000000 > "$dir/churn.json" 2>&1 &
churn_pid=$!
trap 'kill "$churn_pid" 2>/dev/null; wait "$churn_pid" 2>/dev/null; rm -rf "$dir"' EXIT
sleep 1
check "the churn is running" kill -0 "$churn_pid"

"$bin" exec --json --output "$dir/out.jsonl" -- \
  sh -c "sleep 8; grep VmHWM /proc/\$PPID/status > '$dir/hwm'" 2> "$dir/err"
rc=$?
check "exec ran the command (rc=$rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$dir/err"
check "the churn ran all along" kill -0 "$churn_pid"
hwm_kb=$(awk '{ print $2 }' "$dir/hwm" 2>/dev/null)
echo "tcpscope exec's peak RSS beside the churn: ${hwm_kb:-?} kB (bound $bound_kb kB)"
check "peak RSS within the bound (${hwm_kb:-?} kB <= $bound_kb kB)" [ "${hwm_kb:-999999999}" -le "$bound_kb" ]
check "nothing lost" sh -c "tail -n 1 '$dir/out.jsonl' | grep -q '\"lost\":0,'"
events=$(grep -c '"type":"\(state\|packet\|reset_sent\|reset_received\)"' "$dir/out.jsonl")
check "no event of the churn in the output ($events)" [ "$events" -eq 0 ]
exit $fail
