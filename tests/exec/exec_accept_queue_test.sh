#!/bin/sh
# `tcpscope exec` on connects slowed by a full accept queue (kernel tier,
# and in the kernel matrix on Debian's 6.1 and 6.12). The SYN a full accept
# queue refuses never reaches the kernel's drop tracepoint; exec watches
# the listeners of its namespace (their own drop counters) and each slow
# connect's Why must say so: "took 1.02 s: its SYN was retransmitted once;
# the listener 127.0.0.1:PORT dropped SYNs, its accept queue full
# (backlog 1)".
#
# The program (accept_queue_clients.c) runs under strace -T inside exec, in
# a network namespace of the test's own. Ground truth: strace's own time
# for each connect (a connect of 0.9 s or more waited for a SYN
# retransmit, the initial RTO being 1 s), and the namespace's counters
# (nstat): ListenOverflows (the queue overflowed), TCPSynRetrans.
#
# Usage: exec_accept_queue_test.sh TCPSCOPE_BINARY ACCEPT_QUEUE_CLIENTS
set -u
bin=$1
clients=$2
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root to load BPF programs and create network namespaces"
  exit 77
fi
if ! command -v strace > /dev/null || ! command -v nstat > /dev/null; then
  echo "SKIP: needs strace and nstat (the ground truth)"
  exit 77
fi
dir=$(mktemp -d)
ns=tsaq$$
cleanup() {
  ip netns del "$ns" 2> /dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
. "$(dirname "$0")/exec_checks.sh"

ip netns add "$ns" && ip -n "$ns" link set lo up || { echo "FAIL: cannot make a namespace"; exit 1; }
ip netns exec "$ns" "$bin" exec -- strace -f -T -e trace=connect -o "$dir/strace.txt" \
  "$clients" 8080 > "$dir/out.txt" 2> "$dir/err.txt"
status=$?
ip netns exec "$ns" nstat -asz > "$dir/nstat.txt"
check "the program and its four connects succeeded (exit $status)" [ "$status" -eq 0 ]
overflows=$(counter "$dir/nstat.txt" TcpExtListenOverflows)
check "the accept queue overflowed (ListenOverflows $overflows)" [ "$overflows" -gt 0 ]

# strace: connect(...) = 0 <1.021504>: those of 0.9 s or more waited.
# A connect strace saw blocking is split: "<unfinished ...>", then
# "<... connect resumed>) = 0 <1.032827>".
connects() {
  grep -E 'connect\(|connect resumed' "$dir/strace.txt" | grep ' = 0 <' |
    awk -F'<' '{ t = $NF; sub(/>.*/, "", t); print t + 0 }'
}
slow=$(connects | awk '$1 >= 0.9 { n++ } END { print n + 0 }')
fast=$(connects | awk '$1 < 0.9 { n++ } END { print n + 0 }')
check "strace saw four connects, $slow of them slow" [ $((slow + fast)) -eq 4 ] && [ "$slow" -ge 1 ]

why_of "$dir/out.txt" > "$dir/why.txt"
queue_why=$(grep -c 'connect(.*127\.0\.0\.1:8080) = 0: took [0-9.]* s: its SYN was retransmitted .*; the listener 127\.0\.0\.1:8080 dropped SYNs, its accept queue full (backlog 1)$' "$dir/why.txt")
check "each slow connect's Why names the full accept queue ($queue_why of $slow)" [ "$queue_why" -eq "$slow" ]
others=$(grep -vc 'accept queue full' "$dir/why.txt")
check "no other Why ($others): the quick connects need none" [ "$others" -eq 0 ]
# The retransmits the Why lines count are the clients' SYN retransmits,
# among the namespace's TCPSynRetrans (which counts SYN-ACK ones too).
said=$(sed -n 's/.*retransmitted \(once\|[0-9]* times\);.*/\1/p' "$dir/why.txt" |
  awk '{ n += ($1 == "once") ? 1 : $1 } END { print n + 0 }')
synretrans=$(counter "$dir/nstat.txt" TcpExtTCPSynRetrans)
check "the Why lines' SYN retransmits ($said) are among TCPSynRetrans ($synretrans)" \
  [ "$said" -ge "$slow" ] && [ "$said" -le "$synretrans" ]
check "the accept queues were watched (no warning)" eval '! grep -q "accept queues not watched" "$dir/err.txt"'
if [ "$fail" -ne 0 ]; then
  echo "--- exec's output"; cat "$dir/out.txt"; echo "--- stderr"; cat "$dir/err.txt"
  echo "--- strace"; cat "$dir/strace.txt"; echo "--- nstat"; grep -E 'Listen|SynRetrans' "$dir/nstat.txt"
fi
exit "$fail"
