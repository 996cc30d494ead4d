#!/bin/sh
# Runs tcpscope's container image the way a DaemonSet runs it, and checks
# that it sees the host (docs/packaging.md, "The container image"):
#
#   image_run_check.sh IMAGE_ARCHIVE
#
#   - podman loads the archive; the image's entrypoint, default command and
#     version label are the ones `make image` sets;
#   - the container runs with the host's PID and network namespaces, every
#     capability dropped but CAP_BPF and CAP_PERFMON (to load and attach)
#     and CAP_SETUID and CAP_SETGID (to switch to nobody once attached),
#     /sys/fs/cgroup and
#     /sys/kernel/btf from the host, read-only, a read-only root, and the
#     runtime's default seccomp profile with bpf() and perf_event_open()
#     let through (packaging/image/seccomp-bpf.py). With the default profile
#     itself it is refused (reported, not failed: a runtime whose default
#     allows bpf() to CAP_BPF runs it);
#   - `trace --json` in the container names a connection made on the host,
#     in a network namespace this check makes, with the host's pid of the
#     process that made it, and runs as nobody with no capability left;
#   - `metrics` in the container counts a known workload in that namespace
#     as the namespace's own kernel counters (nstat) do; while it serves,
#     its process is nobody with CAP_BPF alone (/proc/PID/status on the
#     host); SIGTERM (podman stop) ends it with status 0 and none of the
#     BPF links it held is left (bpftool).
# Needs root, podman, python3, iproute2 (ip, nstat) and bpftool; exits 77
# without them. TCPSCOPE_PODMAN_RUN_OPTS adds options to every podman run
# (a host whose runtime needs them, e.g. --runtime runc). Removes what it
# made: containers, the namespace, its files, and the image if it was not in
# local storage before. About 15 s.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 IMAGE_ARCHIVE" >&2; exit 2; }
archive=$1
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (loads BPF programs through podman)"; exit 77; }
for tool in podman python3 ip nstat bpftool; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
done
[ -f "$archive" ] || { echo "FAIL: $archive missing"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/image-run-check.XXXXXX")
tag=$$
ns="tcpscope-image-$tag"
trace_ctr="tcpscope-check-trace-$tag"
metrics_ctr="tcpscope-check-metrics-$tag"
image=""
remove_image=no
cleanup() {
  # One by one: podman rm stops at a name that does not exist.
  for c in "$trace_ctr" "$metrics_ctr" "$trace_ctr-default"; do
    podman container exists "$c" && podman rm -f -t 0 "$c" > /dev/null 2>&1
  done
  ip netns del "$ns" 2>/dev/null || true
  if [ "$remove_image" = yes ]; then podman rmi "$image" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# shellcheck disable=SC2086
set -- ${TCPSCOPE_PODMAN_RUN_OPTS:-}
extra="$*"

# The image: its name is the one the archive was written with.
image=$(tar -xOf "$archive" index.json | python3 -c '
import json, sys
print(json.load(sys.stdin)["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"])')
case $image in */*) ;; *) image="localhost/tcpscope:$image" ;; esac
podman image exists "$image" || remove_image=yes
podman load -q -i "$archive" >/dev/null
inspect() { podman image inspect --format "$1" "$image"; }
echo "image: $image, $(inspect '{{.Size}}') bytes unpacked, archive $(stat -c %s "$archive") bytes"
[ "$(inspect '{{json .Config.Entrypoint}}')" = '["/usr/bin/tcpscope"]' ] ||
  fail "entrypoint: $(inspect '{{json .Config.Entrypoint}}')"
[ "$(inspect '{{json .Config.Cmd}}')" = '["metrics","--listen","0.0.0.0:19979"]' ] ||
  fail "command: $(inspect '{{json .Config.Cmd}}')"
version=$(inspect '{{index .Config.Labels "org.opencontainers.image.version"}}')
case $image in *":$version") ;; *) fail "label version $version, image $image" ;; esac

# The DaemonSet's way: the host's namespaces, two capabilities, the host's
# cgroup tree and BTF read-only, nothing writable in the image.
python3 "$here/../../packaging/image/seccomp-bpf.py" > "$work/seccomp.json"
run_opts="--pid=host --network=host --cap-drop=all --cap-add=bpf,perfmon,setuid,setgid \
 -v /sys/fs/cgroup:/sys/fs/cgroup:ro -v /sys/kernel/btf:/sys/kernel/btf:ro --read-only $extra"

ip netns add "$ns"
ip -n "$ns" link set lo up
ns_inode=$(stat -L -c %i "/run/netns/$ns")
nstat_json() { ip netns exec "$ns" nstat -asz --json; }

# A known workload in the namespace: CONNECTS connections to a server that
# reads until EOF and closes, then REFUSED connects to a closed port (each
# answered by a RST from no socket). Prints its pid (the host's: it runs
# in the host's PID namespace), then what it did as JSON.
cat > "$work/workload.py" <<'PY'
import json, os, socket, sys, threading
connects, refused = int(sys.argv[1]), int(sys.argv[2])
srv = socket.socket()
srv.bind(("127.0.0.1", 7000))
srv.listen(16)
def serve():
    for _ in range(connects):
        c, _ = srv.accept()
        while c.recv(4096):
            pass
        c.close()
t = threading.Thread(target=serve)
t.start()
for _ in range(connects):
    c = socket.create_connection(("127.0.0.1", 7000))
    c.sendall(b"tcpscope image check\n")
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
    c.close()
t.join()
srv.close()
failed = 0
for _ in range(refused):
    try:
        socket.create_connection(("127.0.0.1", 7001)).close()
    except ConnectionRefusedError:
        failed += 1
print(json.dumps({"pid": os.getpid(), "connects": connects, "refused": failed}), flush=True)
PY
workload() { ip netns exec "$ns" python3 "$work/workload.py" "$1" "$2"; }
json_get() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# The links a process holds, from its descriptors (bpftool's own view of
# owners needs a bpftool built with skeletons).
link_ids_of() {
  for f in /proc/"$1"/fdinfo/*; do sed -n 's/^link_id:[[:space:]]*//p' "$f" 2>/dev/null; done | sort -n
}
live_link_ids() { bpftool link show --json | python3 -c '
import json, sys
for link in json.load(sys.stdin): print(link["id"])' | sort -n; }
# Waits until the container's process holds BPF links: the programs are
# attached (at most 30 s: a slow guest). Prints its host pid.
wait_attached() {
  i=0
  while [ $i -lt 300 ]; do
    pid=$(podman inspect --format '{{.State.Pid}}' "$1" 2>/dev/null || echo 0)
    if [ "${pid:-0}" -gt 0 ] && [ -n "$(link_ids_of "$pid")" ]; then echo "$pid"; return 0; fi
    [ "$(podman inspect --format '{{.State.Running}}' "$1" 2>/dev/null)" = true ] || break
    sleep 0.1
    i=$((i + 1))
  done
  podman logs "$1" >&2 || true
  return 1
}

# A process's user and capability sets, from /proc/PID/status on the host.
creds_of() {
  awk '$1 == "Uid:" { printf "Uid %s", $2 } $1 ~ /^Cap(Inh|Prm|Eff|Bnd|Amb):$/ { printf " %s %s", $1, $2 }
       $1 == "NoNewPrivs:" { printf " NoNewPrivs %s", $2 } $1 == "Seccomp:" { printf " Seccomp %s", $2 }' \
    "/proc/$1/status" | tr -d :
}
# Until the process has switched to nobody (it does once its programs are
# attached and its output or port is open); prints its credentials.
creds_once_dropped() {
  i=0
  while [ $i -lt 50 ] && ! creds_of "$1" | grep -q '^Uid 65534 '; do sleep 0.1; i=$((i + 1)); done
  creds_of "$1"
}
cap_bpf=0000008000000000

# 1. The runtime's default seccomp profile.
# shellcheck disable=SC2086
if out=$(podman run --rm --name "$trace_ctr-default" $run_opts "$image" trace --duration 1 2>&1); then
  echo "seccomp: the runtime's default profile lets tcpscope load its programs"
else
  echo "seccomp: the runtime's default profile refuses it ($(echo "$out" | grep -m1 'tcpscope' || echo "$out" | tail -1))"
fi
run_opts="$run_opts --security-opt seccomp=$work/seccomp.json"

# 2. trace: a connection made on the host shows up, with its host pid.
# shellcheck disable=SC2086
podman run -d --name "$trace_ctr" $run_opts "$image" \
  trace --json --duration 5 --netns "$ns_inode" --events state > /dev/null
if trace_pid=$(wait_attached "$trace_ctr"); then
  done_json=$(workload 3 0)
  trace_creds=$(creds_once_dropped "$trace_pid")
  podman wait "$trace_ctr" > "$work/trace.status"
  podman logs "$trace_ctr" > "$work/trace.jsonl" 2> "$work/trace.stderr"
  wl_pid=$(json_get "$done_json" pid)
  established=$(python3 - "$work/trace.jsonl" "$wl_pid" "$ns_inode" <<'PY'
import json, sys
path, pid, netns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
n = 0
for line in open(path):
    e = json.loads(line)
    if (e.get("type") == "state" and e["old_state"] == "SYN_SENT" and e["new_state"] == "ESTABLISHED"
            and e["pid"] == pid and e["comm"] == "python3" and e["dport"] == 7000 and e["netns"] == netns):
        n += 1
print(n)
PY
)
  echo "trace: container pid $trace_pid, exit $(cat "$work/trace.status"), $(wc -l < "$work/trace.jsonl") lines;" \
    "$established connects by pid $wl_pid seen"
  echo "trace: $trace_creds"
  # No capability left: it reads its ring buffer through descriptors it holds.
  echo "$trace_creds" | grep -q '^Uid 65534 CapInh 0000000000000000 CapPrm 0000000000000000 CapEff 0000000000000000 ' ||
    fail "trace: not nobody with no capability"
  [ "$(cat "$work/trace.status")" = 0 ] || { cat "$work/trace.stderr"; fail "trace exited $(cat "$work/trace.status")"; }
  [ "$established" = 3 ] || { head -20 "$work/trace.jsonl"; fail "trace: $established of 3 connects seen"; }
else
  fail "trace: the container attached no program"
fi

# 3. metrics: counts against nstat, capabilities, links, stop.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
links_before=$(live_link_ids)
# shellcheck disable=SC2086
podman run -d --name "$metrics_ctr" $run_opts "$image" \
  metrics --listen "127.0.0.1:$port" --netns "$ns_inode" > /dev/null
scrape() {
  python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
    "http://127.0.0.1:$port/metrics"
}
if metrics_pid=$(wait_attached "$metrics_ctr"); then
  i=0
  until scrape > /dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 50 ] || break; sleep 0.1
  done
  held=$(link_ids_of "$metrics_pid")
  creds=$(creds_once_dropped "$metrics_pid")
  echo "metrics: container pid $metrics_pid, $(echo "$held" | wc -w) links held; $creds"
  # nobody with CAP_BPF alone (39): a scrape reads the maps it holds.
  echo "$creds" | grep -q "^Uid 65534 CapInh 0000000000000000 CapPrm $cap_bpf CapEff $cap_bpf .* CapAmb 0000000000000000 NoNewPrivs 1 " ||
    fail "metrics: not nobody with CAP_BPF alone"

  k0=$(nstat_json)
  done_json=$(workload 5 3)
  k1=$(nstat_json)
  scrape > "$work/scrape.txt"
  python3 - "$work/scrape.txt" "$k0" "$k1" "$done_json" <<'PY' || failures=$((failures + 1))
import json, re, sys
text = open(sys.argv[1]).read()
def counters(s):
    out = {}
    for table in json.loads(s).values():
        out.update(table)
    return out
k0, k1, done = counters(sys.argv[2]), counters(sys.argv[3]), json.loads(sys.argv[4])
def kn(name):
    return int(k1.get(name, 0)) - int(k0.get(name, 0))
def metric(name, **labels):
    total = 0
    for line in text.splitlines():
        m = re.match(r'^%s(\{[^}]*\})? ([0-9.e+]+)$' % re.escape(name), line)
        if not m:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(m.group(2))
    return int(total)
reasons_known = 'reason="not_reported"' not in text
checks = [
    ("CLOSE->SYN_SENT = TcpActiveOpens", metric("tcpscope_state_transitions_total", **{"from": "CLOSE", "to": "SYN_SENT"}),
     kn("TcpActiveOpens")),
    ("LISTEN->SYN_RECV = TcpPassiveOpens", metric("tcpscope_state_transitions_total", **{"from": "LISTEN", "to": "SYN_RECV"}),
     kn("TcpPassiveOpens")),
    ("SYN_SENT->CLOSE = TcpAttemptFails", metric("tcpscope_state_transitions_total", **{"from": "SYN_SENT", "to": "CLOSE"}),
     kn("TcpAttemptFails")),
    ("connect durations = the workload's connects", metric("tcpscope_connect_duration_seconds_count"), done["connects"]),
]
if reasons_known:
    checks.append(("RSTs sent = TcpOutRsts", metric("tcpscope_resets_sent_total"), kn("TcpOutRsts")))
bad = 0
for what, got, want in checks:
    print("metrics: %s: %d, kernel %d" % (what, got, want))
    if got != want or want == 0:
        print("FAIL: metrics: %s" % what)
        bad += 1
if done["refused"] != 3:
    print("FAIL: the workload's 3 connects to a closed port were not all refused (%d)" % done["refused"])
    bad += 1
sys.exit(1 if bad else 0)
PY
  podman stop -t 10 "$metrics_ctr" > /dev/null
  exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$metrics_ctr")
  links_after=$(live_link_ids)
  left=$(for id in $held; do echo "$links_after" | grep -qx "$id" && echo "$id"; done || true)
  echo "metrics: stopped, exit $exit_code; links on the host: $(echo "$links_before" | wc -w) before," \
    "$(echo "$held" | wc -w) held, $(echo "$links_after" | wc -w) after; left of those it held: ${left:-none}"
  [ "$exit_code" = 0 ] || { podman logs "$metrics_ctr"; fail "metrics exited $exit_code on SIGTERM"; }
  [ -z "$left" ] || fail "BPF links left after the container stopped: $left"
else
  fail "metrics: the container attached no program"
fi

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok"
