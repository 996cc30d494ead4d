#!/usr/bin/python3
"""How many series `tcpscope metrics` exposes per host, by --labels: the
numbers behind docs/metrics.md's "Sizing for 10,000 hosts".

    sudo tools/metrics-sizing.py build/tcpscope [SECONDS [REPLICAS]]

In a network namespace of its own (an nftables rule drops 1% of the TCP
segments, so that there are retransmits and drops to count), a small host's traffic
runs for SECONDS (default 20): a web tier (nginx, port 8080) in one
container calls an API (9000) in another, which calls a database (5432)
and a cache (6379), each in REPLICAS containers of its own (default 1;
replicas share their port with SO_REUSEPORT, as a service's pods share
theirs), laid out as the kubelet with containerd names them; on the host, curl hits the web tier,
an sshd holds a session, a prober aborts connections (SO_LINGER 0) and
tries a closed port. One `tcpscope metrics --netns` per label set counts
it all at once; at the end each is scraped in both formats. Prints a
Markdown table: series (sample lines) in all and of the labelled families,
and the bytes of each format. Removes everything it made.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "metrics"))
import metrics_support as ms  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "containers"))
from cgroup_support import cgroup2_mount, remove_tree  # noqa: E402

LABEL_SETS = ["", "port", "comm", "container", "port,container", "comm,port", "comm,port,container"]
# The families --labels splits (the rest do not change with it).
LABELLED = ("tcpscope_state_transitions_total", "tcpscope_resets_sent_total", "tcpscope_resets_received_total",
            "tcpscope_retransmits_total", "tcpscope_socket_errors_total", "tcpscope_sigpipe_total",
            "tcpscope_drops_total", "tcpscope_rtt_seconds")

# role NAME PORT [UPSTREAM_PORT...]: a server that, for each connection it
# accepts, opens one to each upstream (as a service without a pool would),
# exchanges a request and an answer, and closes. role client NAME PORT RATE:
# RATE connections a second. role prober: aborts and a closed port.
ROLE = r"""
import ctypes, socket, struct, sys, threading, time
ctypes.CDLL(None).prctl(15, sys.argv[2].encode(), 0, 0, 0)  # PR_SET_NAME: the comm label
kind = sys.argv[1]

def call(port, abort=False):
    try:
        c = socket.create_connection(('127.0.0.1', port), timeout=5)
        c.sendall(b'GET / HTTP/1.0\r\n\r\n' + b'x' * 2000)
        c.recv(4096)
        if abort:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        c.close()
    except OSError:
        pass

if kind == 'server':
    port, upstreams = int(sys.argv[3]), [int(p) for p in sys.argv[4:]]
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(('127.0.0.1', port)); s.listen(128)
    def serve(c):
        try:
            c.recv(4096)
            for u in upstreams:
                call(u)
            c.sendall(b'HTTP/1.0 200 OK\r\n\r\n' + b'y' * 8000)
            c.recv(10)
        except OSError:
            pass
        c.close()
    print(flush=True)
    while True:
        c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
elif kind == 'client':
    port, rate = int(sys.argv[3]), float(sys.argv[4])
    print(flush=True)
    while True:
        threading.Thread(target=call, args=(port,), daemon=True).start(); time.sleep(1 / rate)
else:
    print(flush=True)
    while True:
        call(8080, abort=True)
        try:
            socket.create_connection(('127.0.0.1', 9999), timeout=1)
        except OSError:
            pass
        time.sleep(0.5)
"""


def main():
    if os.geteuid() != 0 or cgroup2_mount() is None:
        print("needs root and a cgroup v2 mount")
        return 77
    binary = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 20
    replicas = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    top = os.path.join(cgroup2_mount(), "tcpscope-sizing-%d" % os.getpid())
    pod_slice = os.path.join(top, "kubepods.slice", "kubepods-burstable.slice")

    def container(i):
        uid = "%08x-0000-4000-8000-%012x" % (i, i)
        return os.path.join(pod_slice, "kubepods-burstable-pod%s.slice" % uid.replace("-", "_"),
                            "cri-containerd-%064x.scope" % (0x5151 + i))

    host = os.path.join(top, "system.slice", "host.service")
    ns = ms.Netns("tsc-size-%d" % os.getpid())
    procs, metrics = [], []
    try:
        # 1% of TCP segments dropped on their way out (no netem needed).
        ns.run("nft", "add table inet sizing; add chain inet sizing out { type filter hook output priority 0; }; "
               "add rule inet sizing out meta l4proto tcp numgen random mod 100 < 1 drop")

        def start(cg, *args):
            os.makedirs(cg, exist_ok=True)
            p = subprocess.Popen(["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec ip netns exec "$@"',
                                  cg, ns.name, "python3", "-c", ROLE, *args],
                                 stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
            procs.append(p)
            p.stdout.readline()

        for labels in LABEL_SETS:
            metrics.append(ms.Metrics(binary, "--netns", ns.name, *(["--labels", labels] if labels else [])))
        tiers = [("redis-server", "6379"), ("postgres", "5432"), ("api", "9000", "5432", "6379"),
                 ("nginx", "8080", "9000")]
        for t, tier in enumerate(tiers):
            for r in range(replicas):
                start(container(t * replicas + r + 1), "server", *tier)
        start(host, "server", "sshd", "22")
        start(host, "client", "ssh", "22", "0.2")
        start(host, "client", "curl", "8080", "20")
        start(host, "prober", "blackbox")
        time.sleep(seconds)
        rows = []
        for labels, m in zip(LABEL_SETS, metrics):
            text = ms.fetch(m.url + "/metrics")[2]
            om = ms.fetch(m.url + "/metrics",
                          headers={"Accept": "application/openmetrics-text; version=1.0.0"})[2]
            lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
            labelled = [ln for ln in lines if ln.startswith(LABELLED)]
            rows.append((labels or "(none)", len(lines), len(labelled), len(text), len(om)))
        print("| `--labels` | series | of them labelled families | text bytes | OpenMetrics bytes |")
        print("|---|---|---|---|---|")
        for r in rows:
            print("| %s | %d | %d | %d | %d |" % r)
        active = [ln for ln in ms.fetch(metrics[0].url + "/metrics")[2].splitlines()
                  if ln.startswith('tcpscope_state_transitions_total{from="CLOSE",to="SYN_SENT"}')]
        print("%d containers; connects counted: %s" % (len(tiers) * replicas, active))
    finally:
        for m in metrics:
            m.stop()
        for p in procs:
            p.kill()
            p.wait()
        ns.close()
        remove_tree(top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
