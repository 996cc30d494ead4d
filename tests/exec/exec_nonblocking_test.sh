#!/bin/sh
# `tcpscope exec` on non-blocking connects that fail (kernel tier, and in the
# kernel matrix on Debian's 6.1 and 6.12: dash, busybox and the matrix's
# tools, strace and nstat among them). Most clients connect this way (curl,
# any client with a timeout): the failure is handed over not by a failed
# call but by the value getsockopt(SO_ERROR) fetches, or by poll's or
# epoll_wait's ERR/HUP on the socket. Each such call must show what it
# fetched and get its cause under "Why:", as a failed call does.
#
# A small client (nonblocking_client.c) connects non-blocking to a port
# nobody listens on, in a network namespace of its own, under strace (the
# program's own view of the same calls, recorded by another tool), then:
#   so_error  getsockopt(SO_ERROR)   the line shows "so_error ECONNREFUSED"
#   poll      poll(POLLOUT)          the line shows OUT|ERR|HUP
#   epoll     epoll_wait(EPOLLOUT)   the line shows OUT|ERR|HUP
# and the Why names the RST received in SYN_SENT (and, where the kernel
# traces the RST a port with no socket sends, 6.10 and later, NO_SOCKET).
# Ground truth besides strace: the namespace's own counters (nstat):
# TcpOutRsts (the RST), TcpAttemptFails (SYN_SENT -> CLOSE).
# Then a timeout through poll (a route that loses the SYN, TCP_SYNCNT 1):
# the Why counts the SYN's retransmissions as TcpRetransSegs does; the same
# refusal as JSON (info.so_error, info.cause); and curl, when installed.
#
# Usage: exec_nonblocking_test.sh TCPSCOPE_BINARY NONBLOCKING_CLIENT
set -u
bin=$1
client=$2
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root to load BPF programs and create network namespaces"
  exit 77
fi
if ! command -v strace > /dev/null || ! command -v nstat > /dev/null; then
  echo "SKIP: needs strace and nstat (the ground truth)"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/exec_checks.sh"
rows_of() {  # rows_of FILE: the ladder's rows alone (a time first), not the Why
  ladder_of "$1" | grep '^ *-\{0,1\}[0-9][0-9]*\.[0-9]'
}
ladder_of() {  # ladder_of FILE: the ladder's rows, a client text too long for
  # its column joined again (it goes on in rows of 14 spaces and the rest)
  awk '/^              [^ ]/ { sub(/^ +/, ""); row = row " " $0; next }
       { if (NR > 1) print row; row = $0 } END { print row }' "$1"
}

# The kernel traces the RST of a port with no socket (tcp_send_reset with
# no socket, and its reason) from 6.10 on.
kernel=$(uname -r)
major=${kernel%%.*}
minor=${kernel#*.}
minor=${minor%%[!0-9]*}
rst_reasons=0
[ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 10 ]; } && rst_reasons=1

# run NAME MODE ADDRESS PORT [SYNCNT [SETUP]]: the client under strace inside
# `tcpscope exec` (text output to $dir/NAME.txt), in a namespace of its own
# whose counters go to $dir/NAME.nstat. Returns exec's exit status.
run() {
  _name=$1 _mode=$2 _addr=$3 _port=$4 _syncnt=${5:-} _setup=${6:-true}
  "$bin" exec --user 0 -- unshare -n sh -c "ip link set lo up && $_setup && \
    strace -qq -o '$dir/$_name.strace' -e trace=connect,getsockopt,poll,epoll_wait \
      '$client' $_mode $_addr $_port $_syncnt > '$dir/$_name.out'; st=\$?; \
    nstat -asz > '$dir/$_name.nstat'; exit \$st" > "$dir/$_name.txt" 2> "$dir/$_name.err"
}

# What the run says it lost ("N calls, M kernel events, L lost"): a run of
# our programs the kernel skipped (an interrupt on the same CPU, seen under
# qemu) cannot be prevented, only counted; then a count of events may fall
# short of the kernel's, never exceed it.
lost_of() {  # lost_of NAME
  sed -n 's/^[0-9]* calls, [0-9]* kernel events, \([0-9]*\) lost$/\1/p' "$dir/$1.txt" | tail -n 1
}
same_count() {  # same_count SEEN TRUTH LOST: equal, or short by no more than what was lost
  [ "$1" -eq "$2" ] || { [ "${3:-0}" -gt 0 ] && [ "$1" -le "$2" ] && [ "$1" -ge $(($2 - $3)) ]; }
}

# The refusal's RST and SYN_SENT -> CLOSE, as the ladder shows them and as
# the namespace counted them.
refusal_counted() {  # refusal_counted NAME
  _rsts=$(counter "$dir/$1.nstat" TcpOutRsts)
  _fails=$(counter "$dir/$1.nstat" TcpAttemptFails)
  _received=$(rows_of "$dir/$1.txt" | grep -c 'RST received in SYN_SENT$')
  _closed=$(rows_of "$dir/$1.txt" | grep -c 'SYN_SENT -> CLOSE')
  _lost=$(lost_of "$1")
  echo "  $1: nstat TcpOutRsts $_rsts TcpAttemptFails $_fails; ladder: $_received RST received in SYN_SENT, $_closed SYN_SENT -> CLOSE, ${_lost:-?} lost"
  [ "$_rsts" -eq 1 -a "$_fails" -eq 1 ] && same_count "$_received" 1 "$_lost" &&
    same_count "$_closed" 1 "$_lost"
}

# The Why line of CALL_PATTERN names the refusal: the RST received in
# SYN_SENT, and where the kernel says so, the port's NO_SOCKET.
why_names_refusal() {  # why_names_refusal NAME CALL_PATTERN
  _line=$(why_of "$dir/$1.txt" | grep -e "$2" | head -n 1)
  echo "  $1: why: $_line"
  printf '%s\n' "$_line" | grep -q 'RST received in SYN_SENT at .* ms' || return 1
  if [ "$rst_reasons" -eq 1 ] || grep -q 'RST sent (NO_SOCKET' "$dir/$1.txt"; then
    printf '%s\n' "$_line" | grep -q "(no socket on the peer's port, NO_SOCKET)" || return 1
  fi
  return 0
}

# poll's/epoll's bits as strace decoded them, in tcpscope's names:
# "POLLOUT|POLLERR|POLLHUP" -> "OUT|ERR|HUP".
strace_bits() {  # strace_bits FILE SYSCALL FIELD
  grep "^$2(" "$1" | tail -n 1 | sed -n "s/.*$3=\([A-Z|]*\).*/\1/p" | sed 's/E\{0,1\}POLL//g'
}
bits_in_order() {  # tcpscope orders bits IN PRI OUT ERR HUP ...: sort strace's alike
  printf '%s\n' "$1" | tr '|' '\n' | awk '
    BEGIN { split("IN PRI OUT ERR HUP NVAL RDNORM RDBAND WRNORM WRBAND MSG RDHUP", o, " ");
            for (i in o) rank[o[i]] = i }
    { print rank[$1] " " $1 }' | sort -n | awk '{ printf "%s%s", (NR > 1 ? "|" : ""), $2 }'
}

# 1. getsockopt(SO_ERROR).
run so_error so_error 127.0.0.1 7199
rc=$?
check "so_error: the client saw its connect refused through SO_ERROR (rc=$rc: $(tail -n 1 "$dir/so_error.out"))" \
  [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$dir/so_error.err"
truth=$(grep '^getsockopt(.*SO_ERROR' "$dir/so_error.strace" | grep -v '\[0\]' | tail -n 1)
echo "  strace: $truth"
check "so_error: strace saw getsockopt fetch ECONNREFUSED" \
  sh -c "printf '%s\n' '$truth' | grep -q '\[ECONNREFUSED\].* = 0'"
line=$(ladder_of "$dir/so_error.txt" | grep 'getsockopt([0-9]*, .*SO_ERROR) = 0, so_error ECONNREFUSED' | head -n 1)
check "so_error: the ladder's line shows the value fetched ($line)" [ -n "$line" ]
check "so_error: the Why names the RST that refused it" \
  why_names_refusal so_error 'client getsockopt([0-9]*, .*SO_ERROR) = 0, so_error ECONNREFUSED: '
check "so_error: one RST, one failed attempt, as the namespace counted" refusal_counted so_error

# 2 and 3. poll, then epoll_wait: the line shows the bits strace saw, the
# Why names the error and the RST.
readiness_case() {  # readiness_case NAME SYSCALL FIELD LINE (LINE: the call's text, a regex)
  _name=$1 _sys=$2 _field=$3 _call=$4
  run "$_name" "$_name" 127.0.0.1 7199
  _rc=$?
  check "$_name: the client saw ERR/HUP (rc=$_rc: $(tail -n 1 "$dir/$_name.out"))" [ "$_rc" -eq 0 ]
  [ "$_rc" -eq 0 ] || cat "$dir/$_name.err"
  _bits=$(bits_in_order "$(strace_bits "$dir/$_name.strace" "$_sys" "$_field")")
  echo "  strace: $(grep "^$_sys(" "$dir/$_name.strace" | tail -n 1)"
  check "$_name: strace saw $_field with ERR ($_bits)" sh -c "printf '%s\n' '$_bits' | grep -q ERR"
  _line=$(ladder_of "$dir/$_name.txt" | grep "$_call = 1 $_bits\$" | head -n 1)
  check "$_name: the ladder's line shows the bits strace saw ($_line)" [ -n "$_line" ]
  check "$_name: the Why names the error and the RST" \
    why_names_refusal "$_name" "client $_call = 1 $_bits: ECONNREFUSED: "
  check "$_name: one RST, one failed attempt, as the namespace counted" refusal_counted "$_name"
}
readiness_case poll poll revents 'poll(fds, 1)'
readiness_case epoll epoll_wait events 'epoll_wait([0-9]*, events, 1)'

# 4. A timeout through poll: 192.0.2.0/24 (TEST-NET-1) routed into lo
# without being local, so the SYN is dropped on its way in (no forwarding)
# and never answered; TCP_SYNCNT 1 ends the attempt after about 3 s.
run timeout poll 192.0.2.2 7199 1 'ip route add 192.0.2.0/24 dev lo src 127.0.0.1'
rc=$?
check "timeout: the client saw ERR/HUP (rc=$rc: $(tail -n 1 "$dir/timeout.out"))" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$dir/timeout.err"
retrans=$(counter "$dir/timeout.nstat" TcpRetransSegs)
line=$(why_of "$dir/timeout.txt" | grep -e 'client poll(fds, 1) = 1 [A-Z|]*ERR[A-Z|]*: ETIMEDOUT: ' | head -n 1)
counted=$(printf '%s\n' "$line" | sed -n 's/.*ETIMEDOUT: \([0-9]*\) retransmissions\{0,1\} unanswered.*, then socket error ETIMEDOUT at .*/\1/p')
# Each SYN (the first and every retransmit) reaches lo and is dropped there.
dropped=$(printf '%s\n' "$line" | sed -n 's/.*unanswered: \([0-9]*\) SYNs\{0,1\} dropped on this host.*/\1/p')
echo "  timeout: why: $line; nstat TcpRetransSegs $retrans"
timeout_counted() {
  [ "$retrans" -ge 1 ] && [ -n "$counted" ] && same_count "$counted" "$retrans" "$(lost_of timeout)"
}
timeout_lost=$(lost_of timeout)
if [ -z "$counted" ] && [ "${timeout_lost:-0}" -gt 0 ]; then
  # The kernel skipped one of our programs during the run (counted, seen
  # under qemu): the socket error the cause rests on may be the one missed.
  echo "note: timeout: no Why, and the run lost $timeout_lost events it counted: not judged"
else
  check "timeout: the Why counts the SYN's retransmissions as the namespace did ($retrans: ${counted:-none}), then ETIMEDOUT" \
    timeout_counted
  timeout_counted || { echo "  timeout: the run's output:"; sed 's/^/    /' "$dir/timeout.txt"; }
  check "timeout: the Why names every SYN dropped on this host: the first and each retransmit ($((retrans + 1)): ${dropped:-none})" \
    [ "${dropped:-0}" -eq $((retrans + 1)) ]
fi

# 5. The same refusal as JSON: the step keeps the value and its cause.
"$bin" exec --json --user 0 --output "$dir/json.jsonl" -- unshare -n sh -c \
  "ip link set lo up && '$client' so_error 127.0.0.1 7199 > /dev/null" 2> "$dir/json.err"
rc=$?
check "json: the run succeeded (rc=$rc)" [ "$rc" -eq 0 ]
grep '"type":"step"' "$dir/json.jsonl" | grep '"so_error":"ECONNREFUSED"' | head -n 1 > "$dir/json.step"
echo "  json: $(cat "$dir/json.step")"
check "json: the getsockopt step has info.so_error ECONNREFUSED and its cause" \
  grep -q '"op":"getsockopt".*"cause":"RST received in SYN_SENT at ' "$dir/json.step"

# 6. curl (Debian's, from tools/install-deps.sh), as the issue ran it.
if command -v curl > /dev/null; then
  "$bin" exec --user 0 -- unshare -n sh -c \
    "ip link set lo up && curl -sS --max-time 20 http://127.0.0.1:7199/" > "$dir/curl.txt" 2>&1
  rc=$?
  check "curl: exits 7, could not connect ($rc)" [ "$rc" -eq 7 ]
  why_of "$dir/curl.txt" | sed 's/^/  curl: why: /'
  line=$(ladder_of "$dir/curl.txt" | grep 'SO_ERROR) = 0, so_error ECONNREFUSED' | head -n 1)
  check "curl: its SO_ERROR line shows ECONNREFUSED ($line)" [ -n "$line" ]
  check "curl: its SO_ERROR read has a Why naming the RST" \
    why_names_refusal curl 'SO_ERROR) = 0, so_error ECONNREFUSED: '
else
  echo "note: curl is not installed here: its run is left out"
fi
exit $fail
