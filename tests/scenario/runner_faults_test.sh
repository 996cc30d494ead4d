#!/bin/sh
# The scenario runner when a scenario misbehaves: a program that crashes
# (SIGSEGV), one killed with SIGKILL after making a namespace, and one that
# hangs past its timeout. Each must be reported as what happened, make
# `tcpscope run` exit 1, and leave no namespace, process or BPF link.
# Usage: runner_faults_test.sh TCPSCOPE_BINARY
set -u
bin=$1
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root to load BPF programs and create network namespaces"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
links_before=$(bpftool link list 2>/dev/null | grep -c '^[0-9]')

# Scenario names must exist in the catalogue; the programs are ours.
cat > "$dir/zero-byte-send" <<'PROG'
#!/bin/sh
kill -SEGV $$
PROG
cat > "$dir/time-wait" <<'PROG'
#!/bin/sh
ip netns add "tsc-$$-fault"
sleep 300 &
kill -KILL $$
PROG
cat > "$dir/linger-zero" <<'PROG'
#!/bin/sh
ip netns add "tsc-$$-hang"
sleep 300
PROG
chmod +x "$dir"/*

expect() {  # scenario, text the report must contain
  out=$(TCPSCOPE_SCENARIO_DIR="$dir" TCPSCOPE_SCENARIO_TIMEOUT=2 "$bin" run "$1" 2>&1)
  status=$?
  if [ "$status" -ne 1 ]; then
    echo "FAIL: $1: exit status $status, expected 1"; fail=1
  fi
  case "$out" in
    *"$2"*) echo "ok: $1 reported: $2" ;;
    *) echo "FAIL: $1: report lacks '$2':"; echo "$out" | tail -3; fail=1 ;;
  esac
}
expect zero-byte-send "killed by SIGSEGV"
expect time-wait "killed by SIGKILL"
expect linger-zero "timed out and was killed"

if ip netns list | grep -q '^tsc-'; then
  echo "FAIL: namespaces left: $(ip netns list | grep '^tsc-')"; fail=1
fi
# SIGKILL is delivered at once but a busy machine may take a moment to
# run the dying process's exit: give it up to 2 s before calling it left.
for _ in 1 2 3 4 5 6 7 8 9 10; do
  pgrep -f "^sleep 300" >/dev/null || break
  sleep 0.2
done
if pgrep -f "^sleep 300" >/dev/null; then
  echo "FAIL: processes left: $(pgrep -a -f '^sleep 300')"; pkill -f '^sleep 300'; fail=1
fi
links_after=$(bpftool link list 2>/dev/null | grep -c '^[0-9]')
if [ "$links_after" -gt "$links_before" ]; then
  echo "FAIL: BPF links left: $links_before before, $links_after after"; fail=1
fi
exit $fail
