#!/bin/sh
# The scenario runner when a scenario misbehaves: a program that crashes
# (SIGSEGV), one killed with SIGKILL after making a namespace, and one that
# hangs past its timeout, and a real scenario interrupted by Ctrl-C. Each
# must be reported as what happened, make `tcpscope run` exit 1, and leave
# no namespace, process or BPF link.
# Each program also prints who it runs as: a loopback scenario as nobody
# with no capabilities in a namespace of its own, a scenario that builds
# hosts as root with CAP_NET_ADMIN and CAP_SYS_ADMIN only.
# Usage: runner_faults_test.sh TCPSCOPE_BINARY
set -u
. "$(dirname "$0")/bpf_links.sh"
bin=$1
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root to load BPF programs and create network namespaces"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
links_before=$(bpf_link_ids)

# Scenario names must exist in the catalogue; the programs are ours.
# The directory stays root's alone (mktemp: 0700): the runner opens the
# program before it gives up root.
ident='echo "ident: uid=$(id -u) $(grep CapEff /proc/self/status | tr -d "[:space:]") netns=$(readlink /proc/self/ns/net) ready=${TCPSCOPE_NETNS_READY:-}"'
# The fake scenarios' sleeps carry this test's pid, so that the check for
# leftovers below finds theirs and nobody else's sleep.
nap=$((100000 + $$))
cat > "$dir/zero-byte-send" <<PROG
#!/bin/sh
$ident
kill -SEGV \$\$
PROG
cat > "$dir/peer-vanished" <<PROG
#!/bin/sh
$ident
ip netns add "tsc-\$\$-fault" || exit 3
sleep $nap &
kill -KILL \$\$
PROG
# This one also asks the runner to trace the namespace it made, and a name
# not its own, and prints the answers (scenarios/lib/runner_scope.h): both
# are answered, whatever the runner does with them. The runner's socket has
# a high fd number, which only bash redirects; without bash (the matrix's
# guests) the program does not ask.
if command -v bash >/dev/null; then
  shell=$(command -v bash)
  ask='printf "tsc-%s-hang\nnot-ours\n" $$ >&$TCPSCOPE_SCOPE_FD
read -r -t 5 mine <&$TCPSCOPE_SCOPE_FD
read -r -t 5 other <&$TCPSCOPE_SCOPE_FD
echo "scope answers: $mine $other (asked for tsc-$$-hang not-ours)"'
else
  shell=/bin/sh
  ask=''
fi
cat > "$dir/peer-rebooted" <<PROG
#!$shell
$ident
ip netns add "tsc-\$\$-hang" || exit 3
$ask
sleep $nap
PROG
chmod +x "$dir"/*

host_netns=$(readlink /proc/self/ns/net)
expect() {  # scenario, text the report must contain, identity it must print
  out=$(TCPSCOPE_SCENARIO_DIR="$dir" TCPSCOPE_SCENARIO_TIMEOUT=2 "$bin" run "$1" 2>&1)
  status=$?
  if [ "$status" -ne 1 ]; then
    echo "FAIL: $1: exit status $status, expected 1"; fail=1
  fi
  case "$out" in
    *"$2"*) echo "ok: $1 reported: $2" ;;
    *) echo "FAIL: $1: report lacks '$2':"; echo "$out" | tail -3; fail=1 ;;
  esac
  case "$out" in
    *"$3"*) echo "ok: $1 ran as: $3" ;;
    *) echo "FAIL: $1: expected to run as '$3', saw: $(echo "$out" | grep '^ident:')"; fail=1 ;;
  esac
}
# CapEff bits: CAP_NET_ADMIN is 12, CAP_SYS_ADMIN 21.
expect zero-byte-send "killed by SIGSEGV" "uid=65534 CapEff:0000000000000000"
loopback_out=$out
expect peer-vanished "killed by SIGKILL" "uid=0 CapEff:0000000000201000 netns=$host_netns ready="
expect peer-rebooted "timed out and was killed" "uid=0 CapEff:0000000000201000"
case "$out" in
  *"scope answers: tsc-"*"-hang not-ours (asked for tsc-"*"-hang not-ours)"*)
    asked=$(echo "$out" | sed -n 's/.*scope answers: \(tsc-[0-9]*-hang\) not-ours (asked for \(tsc-[0-9]*-hang\).*/\1 \2/p')
    set -- $asked
    if [ "$#" -eq 2 ] && [ "$1" = "$2" ]; then
      echo "ok: the runner answered the program's requests to trace a namespace"
    else
      echo "FAIL: scope answers do not match the requests: $asked"; fail=1
    fi ;;
  *) if [ -n "$ask" ]; then
       echo "FAIL: no scope answers: $(echo "$out" | grep 'scope answers')"; fail=1
     else
       echo "skipped: the runner's answers to a request to trace a namespace (no bash here)"
     fi ;;
esac
# The loopback scenario played in a namespace the runner made for it.
case "$loopback_out" in
  *"netns=$host_netns"*) echo "FAIL: the loopback scenario ran in the host's namespace"; fail=1 ;;
  *"ready=1"*) echo "ok: loopback scenario in a namespace of its own" ;;
  *) echo "FAIL: no namespace-ready mark: $(echo "$loopback_out" | grep '^ident:')"; fail=1 ;;
esac

# Ctrl-C in the middle of a real scenario that has built its hosts
# (peer-vanished: two namespaces and a veth pair, then seconds of
# retransmissions): reported as interrupted, exit 1, and cleaned up like
# the rest (checked below).
"$bin" run peer-vanished > "$dir/interrupted.out" 2>&1 &
run_pid=$!
for _ in $(seq 1 50); do
  ip netns list | grep -q '^tsc-' && break
  sleep 0.1
done
sleep 0.5
kill -INT "$run_pid"
wait "$run_pid"
status=$?
if [ "$status" -ne 1 ]; then
  echo "FAIL: peer-vanished interrupted: exit status $status, expected 1"; fail=1
elif grep -q "interrupted" "$dir/interrupted.out"; then
  echo "ok: peer-vanished interrupted mid-run: reported, exit 1"
else
  echo "FAIL: peer-vanished interrupted: no report:"; tail -3 "$dir/interrupted.out"; fail=1
fi

if ip netns list | grep -q '^tsc-'; then
  echo "FAIL: namespaces left: $(ip netns list | grep '^tsc-')"; fail=1
fi
# SIGKILL is delivered at once but a busy machine may take a moment to
# run the dying process's exit: give it up to 2 s before calling it left.
# The same for the interrupted scenario's processes, which init reaps.
for _ in 1 2 3 4 5 6 7 8 9 10; do
  pgrep -f "^sleep $nap\$" >/dev/null || pgrep -x peer-vanished >/dev/null || break
  sleep 0.2
done
if pgrep -f "^sleep $nap\$" >/dev/null; then
  echo "FAIL: processes left: $(pgrep -a -f "^sleep $nap\$")"; pkill -f "^sleep $nap\$"; fail=1
fi
if pgrep -x peer-vanished >/dev/null; then
  echo "FAIL: scenario processes left: $(pgrep -a -x peer-vanished)"; pkill -KILL -x peer-vanished; fail=1
fi
left_links=$(orphan_bpf_links "$links_before")
if [ -n "$left_links" ]; then
  echo "FAIL: BPF links left: ids$left_links, held by no process"; fail=1
fi
exit $fail
