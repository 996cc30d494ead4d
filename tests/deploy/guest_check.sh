#!/bin/sh
# Runs inside the Debian 12 guest (tests/deploy/debian_guest.py boots it), as root, once
# systemd has reached multi-user.target. $1 is the read-only disk with the package and the
# load. Each check prints `@@ PASS what` or `@@ FAIL what: why`; facts worth reading print
# `@@ NOTE ...`; the last line is `@@ DONE failed=N`.
set -u
payload=$1
failed=0
pass() { echo "@@ PASS $*"; }
fail() { echo "@@ FAIL $*"; failed=$((failed + 1)); }
note() { echo "@@ NOTE $*"; }
check() { # check WHAT COMMAND...: PASS when the command succeeds
  what=$1; shift
  if "$@" >/tmp/check.out 2>&1; then pass "$what"; else fail "$what: $(tail -3 /tmp/check.out | tr '\n' ' ')"; fi
}
url=http://127.0.0.1:19979/metrics
scrape() { curl -sS --max-time 10 "$url"; }
# sum NAME [LABEL-REGEX]: the sum of a metric's samples (whose labels match) in $scraped
sum() {
  printf '%s\n' "$scraped" | awk -v name="$1" -v want="${2:-}" '
    $1 ~ "^" name "({|$)" && (want == "" || $1 ~ want) { s += $NF } END { printf "%d\n", s }'
}
nstat_value() { nstat -asz "$1" | awk -v n="$1" '$1 == n { print $2 }'; }
cap_field() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$2/status"; }
links() { bpftool link list 2>/dev/null | grep -c '^[0-9]*:'; }

note "guest: $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r), systemd $(systemctl --version | awk 'NR == 1 { print $2 }'), state $(systemctl is-system-running)"

# 1. The package installs with apt, as a user installs it, and leaves the service off.
deb=$(ls "$payload"/tcpscope_*.deb)
check "apt install ./$(basename "$deb")" env DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb"
check "dpkg says installed: $(dpkg-query -W -f '${Version}' tcpscope 2>/dev/null)" \
  sh -c 'dpkg-query -W -f "\${Status}" tcpscope | grep -qx "install ok installed"'
check "the unit is installed, not enabled" sh -c '[ "$(systemctl is-enabled tcpscope-metrics)" = disabled ]'
check "the unit is not started by the install" sh -c '! systemctl is-active -q tcpscope-metrics'
for f in /usr/bin/tcpscope /usr/share/man/man1/tcpscope.1.gz /usr/share/tcpscope/dashboards/prometheus/alerts.yml; do
  check "installed: $f" test -s "$f"
done

# 2. A socket older than the service, whose owner it must learn in the kernel.
python3 "$payload/guest_load.py" leak guest-leaker >/tmp/leak.port &
leaker=$!
for _ in $(seq 50); do [ -s /tmp/leak.port ] && break; sleep 0.1; done

# 3. The service starts under systemd, as its unit says.
links_before=$(links)
check "systemctl start tcpscope-metrics" systemctl start tcpscope-metrics
scraped=""
for _ in $(seq 120); do scraped=$(scrape 2>/dev/null) && [ -n "$scraped" ] && break; sleep 0.5; done
if [ -n "$scraped" ]; then pass "the endpoint answers: $url"; else fail "no scrape answered within 60 s"; fi
links_running=$(links)
pid=$(systemctl show -p MainPID --value tcpscope-metrics)
note "MainPID $pid, BPF links before $links_before, running $links_running"
check "the journal has the start line" sh -c \
  "journalctl -b -u tcpscope-metrics --no-pager | grep -F 'serving $url'"
journalctl -b -u tcpscope-metrics --no-pager -o cat | head -5 | sed 's/^/@@ NOTE journal: /'

# 4. Exactly its capabilities and hardening, read from the running process.
if [ -n "$pid" ] && [ "$pid" != 0 ]; then
  bnd=$(cap_field CapBnd "$pid"); eff=$(cap_field CapEff "$pid"); amb=$(cap_field CapAmb "$pid")
  # CAP_BPF 39, CAP_PERFMON 38, CAP_SYS_RESOURCE 24: the unit's CapabilityBoundingSet.
  check "CapBnd is the unit's set (CAP_BPF CAP_PERFMON CAP_SYS_RESOURCE): $bnd" [ "$bnd" = 000000c001000000 ]
  check "CapEff once attached is CAP_BPF alone: $eff" [ "$eff" = 0000008000000000 ]
  note "CapAmb $amb, uid $(awk '$1 == "Uid:" { print $2 }' /proc/$pid/status)"
  check "NoNewPrivs is set" [ "$(cap_field NoNewPrivs "$pid")" = 1 ]
  check "a seccomp filter is on (SystemCallArchitectures, MemoryDenyWriteExecute, ...)" \
    [ "$(cap_field Seccomp "$pid")" = 2 ]
  check "ProtectSystem=strict: / is read-only for the service" sh -c \
    "awk '\$5 == \"/\" { print \$6 }' /proc/$pid/mountinfo | grep -q '^ro'"
  check "PrivateTmp: the service's /tmp is its own" sh -c \
    "awk '\$5 == \"/tmp\"' /proc/$pid/mountinfo | grep -q ."
  check "PrivateDevices: the service sees no block device" sh -c "! ls /proc/$pid/root/dev | grep -q '^vd'"
  exposure=$(systemd-analyze security tcpscope-metrics --no-pager 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: //p')
  note "systemd-analyze security: exposure $exposure"
  check "systemd-analyze rates the unit's exposure below 5.0 (MEDIUM and worse start there)" \
    awk -v e="${exposure%% *}" 'BEGIN { exit !(e != "" && e + 0 < 5.0) }'
else
  fail "systemd names no MainPID for tcpscope-metrics"
fi

# 5. Counts of known loads, against the guest's own counters (nstat). Each phase: scrape,
#    nstat, load, nstat, scrape; the second scrape's own connection is the one active open
#    the service counts and nstat does not.
opens() { sum tcpscope_state_transitions_total 'from="CLOSE",to="SYN_SENT"'; }
phase_begin() { scraped=$(scrape); t_opens=$(opens); t_sent=$(sum tcpscope_resets_sent_total)
  t_recv=$(sum tcpscope_resets_received_total 'state="SYN_SENT"')
  n_opens=$(nstat_value TcpActiveOpens); n_sent=$(nstat_value TcpOutRsts); n_fails=$(nstat_value TcpAttemptFails); }
phase_end() { n_opens=$(($(nstat_value TcpActiveOpens) - n_opens)); n_sent=$(($(nstat_value TcpOutRsts) - n_sent))
  n_fails=$(($(nstat_value TcpAttemptFails) - n_fails)); scraped=$(scrape); t_opens=$(($(opens) - t_opens))
  t_sent=$(($(sum tcpscope_resets_sent_total) - t_sent))
  t_recv=$(($(sum tcpscope_resets_received_total 'state="SYN_SENT"') - t_recv)); }

phase_begin
check "load: 40 connections closed, 20 aborted (SO_LINGER 0)" sh -c \
  "python3 '$payload/guest_load.py' connect 40 && python3 '$payload/guest_load.py' abort 20"
phase_end
check "active opens: the service counted $t_opens, TcpActiveOpens $n_opens (+1, the scrape's own)" \
  test "$t_opens" -eq $((n_opens + 1)) -a "$n_opens" -ge 60
check "RSTs sent: the service counted $t_sent, TcpOutRsts $n_sent (20 aborts)" \
  test "$t_sent" -eq "$n_sent" -a "$n_sent" -ge 20

phase_begin
check "load: 25 connects refused" python3 "$payload/guest_load.py" refused 25
phase_end
check "active opens: the service counted $t_opens, TcpActiveOpens $n_opens (+1, the scrape's own)" \
  test "$t_opens" -eq $((n_opens + 1)) -a "$n_opens" -ge 25
check "RSTs received in SYN_SENT: the service counted $t_recv, TcpAttemptFails $n_fails (25 refused)" \
  test "$t_recv" -eq "$n_fails" -a "$n_fails" -ge 25
check "the service lost nothing" [ "$(sum tcpscope_events_lost_total)" -eq 0 ]
check "the CLOSE_WAIT socket older than the service is named after its owner guest-leaker" \
  [ "$(sum tcpscope_close_wait_sockets 'comm="guest-leaker"')" -ge 1 ]
kill "$leaker" 2>/dev/null; wait "$leaker" 2>/dev/null

# 6. Stop: the service goes, and its BPF links with it.
check "systemctl stop tcpscope-metrics" systemctl stop tcpscope-metrics
links_after=$(links)
check "BPF links: $links_before before, $links_running running, $links_after after stop" \
  test "$links_running" -gt "$links_before" -a "$links_after" -eq "$links_before"
check "the journal has the service's stop" sh -c \
  "journalctl -b -u tcpscope-metrics --no-pager | grep -q 'Stopped'"

echo "@@ DONE failed=$failed"
