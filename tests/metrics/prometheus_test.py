#!/usr/bin/env python3
"""`tcpscope metrics` against a real Prometheus (Debian's package), started
here on a loopback port with a generated config that scrapes tcpscope every
second. A known workload runs in network namespaces of the test's own;
tcpscope counts only the first (--netns). Then Prometheus's HTTP API must
give the namespace's own kernel counters (nstat in it) and one histogram
observation per connection, every panel query of the Grafana dashboard must
return data, and promtool must accept a real scrape.

Usage: prometheus_test.py TCPSCOPE_BINARY REPO_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import metrics_support as ms  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class Prometheus(ms.Prometheus):
    """Scraping tcpscope every second, with the alert rules."""

    def __init__(self, target, rules, workdir):
        shutil.copy(rules, os.path.join(workdir, "alerts.yml"))
        super().__init__(workdir,
                         "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                         "rule_files: [alerts.yml]\n"
                         "scrape_configs:\n  - job_name: tcpscope\n"
                         "    static_configs:\n      - targets: ['%s']\n" % target)


# The Accept header Prometheus 2.42 sends.
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
                     "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


# `leak ADDR PORT` connects to its peer and holds the socket in CLOSE_WAIT
# once the peer has closed, until stdin closes; named so that its gauges are
# told from the workload's. `peer ADDR PORT` accepts one connection and
# closes it.
OLD_LEAK = '''
import socket, sys
mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "peer":
    lst = socket.create_server((addr, port))
    print("listening", flush=True)
    conn, _ = lst.accept()
    conn.close()
else:
    open("/proc/self/comm", "w").write("oldleak")
    s = socket.create_connection((addr, port))
    while s.recv(100):
        pass
    print("leaking", flush=True)
sys.stdin.read()
'''



def main():
    ms.require_root()
    binary, repo = sys.argv[1], sys.argv[2]
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            failures.append(what)

    tag = "tsm%d" % os.getpid()
    workdir = tempfile.mkdtemp(prefix="tcpscope-prom-")
    spaces, procs = [], []
    metrics = prom = None
    try:
        a = ms.Netns(tag + "a")
        spaces.append(a)
        b = ms.Netns(tag + "b")
        spaces.append(b)
        # A veth pair between them, 10.253.77.0/24 (addresses of the test's own namespaces only).
        ms.sh("ip", "link", "add", tag + "va", "netns", a.name, "type", "veth", "peer", "name", tag + "vb",
              "netns", b.name)
        ms.sh("ip", "-n", a.name, "addr", "add", "10.253.77.1/24", "dev", tag + "va")
        ms.sh("ip", "-n", b.name, "addr", "add", "10.253.77.2/24", "dev", tag + "vb")
        ms.sh("ip", "-n", a.name, "link", "set", tag + "va", "up")
        ms.sh("ip", "-n", b.name, "link", "set", tag + "vb", "up")

        # A CLOSE_WAIT leak older than tcpscope: its process ("oldleak")
        # holds a socket whose peer closed before tcpscope started.
        # Its peer, which closes at once, is in the other namespace: its
        # orphan in FIN_WAIT2 is not among the census's sockets.
        oldpeer = b.popen("python3", "-c", OLD_LEAK, "peer", "10.253.77.2", "7001", stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
        procs.append(oldpeer)
        if oldpeer.stdout.readline().strip() != "listening":
            raise RuntimeError("the older leak's peer did not start")
        oldleak = a.popen("python3", "-c", OLD_LEAK, "leak", "10.253.77.2", "7001", stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
        procs.append(oldleak)
        if oldleak.stdout.readline().strip() != "leaking":
            raise RuntimeError("the older leak did not start")
        # Its connection is in the namespace's counters but not tcpscope's.
        k0 = a.nstat()

        metrics = ms.Metrics(binary, "--netns", a.path, "--stuck", "1")
        # Every check below runs after tcpscope dropped to nobody with CAP_BPF alone.
        with open("/proc/%d/status" % metrics.proc.pid) as f:
            status = dict(line.split(":", 1) for line in f)
        check(status["Uid"].split()[0] == "65534" and status["CapEff"].strip() == "%016x" % (1 << 39),
              "scraped as nobody with CAP_BPF alone (Uid %s, CapEff %s)" % (status["Uid"].split()[0],
                                                                        status["CapEff"].strip()))
        prom = Prometheus("127.0.0.1:%d" % metrics.port, os.path.join(repo, "dashboards/prometheus/alerts.yml"),
                          workdir)
        # A witness of the retransmit tracepoint itself, independent of
        # tcpscope: perf's count of tcp:tcp_retransmit_skb on the whole host.
        # On our VMs a timer's retransmit now and then fires no tracepoint
        # while TcpRetransSegs counts it (receiver-overrun shows it: perf
        # misses it too); only perf's count can tell that from a fault of
        # ours.
        perf_out = os.path.join(workdir, "perf-retransmits.txt")
        perf = None
        if shutil.which("perf"):
            perf = subprocess.Popen(["perf", "stat", "-a", "-x", ",", "-e", "tcp:tcp_retransmit_skb", "-o",
                                     perf_out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(perf)
            time.sleep(0.5)

        server = b.popen("python3", os.path.join(HERE, "workload.py"), "server", "10.253.77.2", "7000",
                         stdout=subprocess.PIPE, text=True)
        procs.append(server)
        if server.stdout.readline().strip() != "listening":
            raise RuntimeError("the peer's server did not start")
        client = a.popen("python3", os.path.join(HERE, "workload.py"), "client", "6000", "10.253.77.2", "7000",
                         b.name, tag + "vb", stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(client)
        done = json.loads(client.stdout.readline())
        print("workload:", done, flush=True)
        check(done["refused"] == 5 and done["timed_out"] and done["epipe"] >= 1, "the workload ran as planned")
        # Drops: an nftables rule in the namespace drops the SYNs to one
        # port; a connect there gives up after its first SYN retransmit.
        # The rule's own counter is what tcpscope_drops_total must say.
        # The table goes with the namespace.
        a.run("nft", "add table inet tsdrops")
        a.run("nft", "add chain inet tsdrops input { type filter hook input priority 0 ; }")
        a.run("nft", "add rule inet tsdrops input tcp dport 6200 tcp flags syn counter drop")
        a.run("python3", "-c", "import socket\ns = socket.socket()\ns.settimeout(1.5)\n"
              "try:\n    s.connect(('127.0.0.1', 6200))\nexcept OSError:\n    pass\n")
        rule = a.run("nft", "list chain inet tsdrops input").stdout
        netfilter_drops = int(re.search(r"counter packets ([0-9]+)", rule).group(1))
        check(netfilter_drops >= 2, "the rule dropped the SYN and its retransmit (%d)" % netfilter_drops)
        k = a.nstat()
        traced_retransmits = None
        if perf is not None:
            # A perf that could not count (it exited, or wrote no count)
            # leaves the comparison as strict as without it.
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=10)
            lines = open(perf_out).read().splitlines() if os.path.exists(perf_out) else []
            for line in lines:
                fields = line.strip().split(",")
                if len(fields) > 2 and fields[2] == "tcp:tcp_retransmit_skb" and fields[0].isdigit():
                    traced_retransmits = int(fields[0])
            print("perf: tcp:tcp_retransmit_skb fired %s times on the host" % traced_retransmits, flush=True)

        def kn(name):
            return int(k.get(name, 0)) - int(k0.get(name, 0))

        print("nstat:", {n: kn(n) for n in ("TcpActiveOpens", "TcpPassiveOpens", "TcpOutRsts", "TcpEstabResets",
                                             "TcpAttemptFails", "TcpRetransSegs", "TcpExtTCPRetransFail")}, flush=True)
        reasons_known = 'reason="not_reported"' not in metrics.scrape()
        expected = {
            'sum(tcpscope_state_transitions_total{from="CLOSE",to="SYN_SENT"})': kn("TcpActiveOpens"),
            'sum(tcpscope_state_transitions_total{from="LISTEN",to="SYN_RECV"})': kn("TcpPassiveOpens"),
            'sum(tcpscope_state_transitions_total{from=~"ESTABLISHED|CLOSE_WAIT",to="CLOSE"})': kn("TcpEstabResets"),
            # The connect the rule stopped is closed in SYN_SENT by its
            # process: a move to CLOSE that tcp_done() never counted.
            'sum(tcpscope_state_transitions_total{from=~"SYN_SENT|SYN_RECV",to="CLOSE"})':
                kn("TcpAttemptFails") + 1,
            'sum(tcpscope_resets_sent_total)': kn("TcpOutRsts") if reasons_known else
            kn("TcpExtTCPAbortOnClose") + kn("TcpExtTCPAbortOnData") + kn("TcpExtTCPAbortOnLinger"),
            'tcpscope_connect_duration_seconds_count': done["connects"],
            'tcpscope_accept_duration_seconds_count': done["accepts"],
            # All but the one left in CLOSE_WAIT (its peer, an orphan in
            # FIN_WAIT2, became a timewait socket: the full socket's CLOSE).
            'tcpscope_connection_duration_seconds_count': done["connects"] + done["accepts"] - 1,
            # The smoothed RTT at each of those connections' end.
            'tcpscope_rtt_seconds_count': done["connects"] + done["accepts"] - 1,
            'sum(tcpscope_close_wait_sockets{comm="python3"})': 1,
            'sum(tcpscope_close_wait_sockets{comm="oldleak"})': 1,
            'sum(tcpscope_sockets{state="CLOSE_WAIT"})': 2,
            # --stuck 1: the same socket, once it has been there a second.
            'sum(tcpscope_stuck_sockets{state="CLOSE_WAIT",comm="python3"})': 1,
            'sum(tcpscope_drops_total{reason="NETFILTER_DROP"})': netfilter_drops,
        }
        # Prometheus scrapes every second: wait until it holds the final values.
        deadline = time.time() + 20
        while True:
            got = {e: prom.value(e) for e in expected}
            if all(got[e] == v for e, v in expected.items()) or time.time() > deadline:
                break
            time.sleep(1)
        for e, v in expected.items():
            check(got[e] == v, "%s = %s (expected %s)" % (e, got[e], v))
        # Retransmits: the namespace's count, or, when the tracepoint fired
        # fewer times than that on the whole host, what it fired.
        retransmits = prom.value('sum(tcpscope_retransmits_total)')
        kernel = kn("TcpRetransSegs")
        untraced = traced_retransmits is not None and traced_retransmits < kernel
        check(retransmits == kernel or (untraced and retransmits == traced_retransmits),
              "sum(tcpscope_retransmits_total) = %s (expected TcpRetransSegs %d%s)" %
              (retransmits, kernel, ", or %d: the tracepoint fired %d times on the whole host" %
               (traced_retransmits, traced_retransmits) if untraced else ""))
        check(kn("TcpRetransSegs") > 0 and kn("TcpOutRsts") > 0 and kn("TcpEstabResets") > 0,
              "the workload moved every counter compared")

        # The accept queue: a listener with backlog 1 that never accepts,
        # and four clients. Two connections fill its queue (the kernel
        # holds backlog + 1), the other SYNs are dropped: the listener's
        # own counter, which the census exports, against the namespace's
        # ListenOverflows. Closed once checked.
        q0 = a.nstat()
        backlog = a.popen("python3", "-c", ms.ACCEPT_QUEUE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(backlog)
        check(backlog.stdout.readline().strip() == "full", "the accept-queue workload started")
        time.sleep(2.5)  # the first SYN retransmits, dropped too
        q1 = a.nstat()
        overflows = int(q1.get("TcpExtListenOverflows", 0)) - int(q0.get("TcpExtListenOverflows", 0))
        queue_expected = {
            'sum(tcpscope_listen_queue{port="6300"})': 2,
            'sum(tcpscope_listen_backlog{port="6300"})': 1,
        }
        deadline = time.time() + 20
        while True:
            got = {e: prom.value(e) for e in queue_expected}
            drops = prom.value('sum(tcpscope_listen_drops_total{port="6300"})')
            if (all(got[e] == v for e, v in queue_expected.items()) and drops is not None and
                    drops >= overflows) or time.time() > deadline:
                break
            time.sleep(1)
        for e, v in queue_expected.items():
            check(got[e] == v, "%s = %s (expected %s)" % (e, got[e], v))
        # sk_drops counts a refused handshake ACK twice, ListenOverflows once.
        check(overflows > 0 and drops is not None and drops >= overflows,
              "the listener's drops %s cover the namespace's ListenOverflows %d" % (drops, overflows))
        backlog.stdin.close()
        backlog.wait(10)
        check((prom.value('sum(tcpscope_sigpipe_total{result="ignored"})') or 0) >= 1, "SIGPIPE counted")
        age = prom.value('max(tcpscope_close_wait_oldest_seconds{comm="python3"})')
        check(age is not None and 0 < age < 120, "the CLOSE_WAIT socket's age is known: %s s" % age)
        # The leak older than tcpscope has an age too (at least since
        # tcpscope first found it), which the CloseWaitLeak alert needs.
        old_age = prom.value('max(tcpscope_close_wait_oldest_seconds{comm="oldleak"})')
        check(old_age is not None and old_age > 0,
              "a CLOSE_WAIT socket older than tcpscope has an age for the leak alert: %s s" % old_age)
        # The stuck gauges against ss in that namespace: one CLOSE_WAIT socket
        # there, as old as the CLOSE_WAIT gauge says.
        # The stuck gauges against ss in that namespace: the workload is over,
        # so every socket ss shows in a watched state has been there past
        # --stuck 1 (the CLOSE_WAIT leak, and its loopback peer's FIN_WAIT2
        # timewait socket); none ESTABLISHED retransmits any more.
        watched = ("close-wait", "fin-wait-2", "syn-sent", "syn-recv", "last-ack")
        # A socket that entered its state less than --stuck before the last
        # scrape is not stuck yet: give the scrapes a few seconds to agree.
        deadline = time.time() + 10
        while True:
            ss = a.run("ss", "-Htn", *sum((["state", w] for w in watched), [])).stdout.splitlines()
            stuck = prom.value('sum(tcpscope_stuck_sockets)')
            if stuck == len(ss) or time.time() > deadline:
                break
            time.sleep(1)
        check(stuck == len(ss) >= 1, "stuck sockets %s, ss shows %d in a watched state: %s; ss: %s" %
              (stuck, len(ss), prom.query('tcpscope_stuck_sockets'), ss))
        stuck_age = prom.value('max(tcpscope_stuck_oldest_seconds{state="CLOSE_WAIT",comm="python3"})')
        check(stuck_age is not None and age is not None and 1 <= stuck_age and abs(stuck_age - age) < 3,
              "the stuck socket's age %s s is the CLOSE_WAIT gauge's (%s s), past --stuck 1" % (stuck_age, age))

        # Every panel query of the dashboard returns data (over the whole
        # test: the accept-queue workload ended some checks ago).
        time.sleep(2)
        with open(os.path.join(repo, "dashboards/grafana/tcpscope.json")) as f:
            dashboard = json.load(f)
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"].replace("$__rate_interval", "5m").replace("$__interval", "5m")
                result = prom.query(expr)
                check(len(result) > 0, "panel %r: %s returns data" % (panel["title"], target["refId"]))

        # promtool accepts a real scrape (lint included).
        scrape = metrics.scrape()
        lint = subprocess.run(["promtool", "check", "metrics"], input=scrape, capture_output=True, text=True)
        check(lint.returncode == 0, "promtool check metrics on a real scrape" +
              ("" if lint.returncode == 0 else ": " + lint.stdout + lint.stderr))
        # The alert rules load in that Prometheus.
        rules = json.loads(ms.fetch(prom.url + "/api/v1/rules")[2])["data"]["groups"]
        check(sum(len(g["rules"]) for g in rules) == 6, "Prometheus loaded the 6 alert rules")
        up = prom.value('up{job="tcpscope"}')
        check(up == 1, "the target is up")
        # Prometheus asks for OpenMetrics first, and every value above came
        # through that parser; our own scrapes (no Accept header) got text.
        om = prom.value('tcpscope_scrapes_total{format="openmetrics"}')
        check(om is not None and om >= 1, "Prometheus scraped OpenMetrics (%s scrapes)" % om)
        status, headers, body = ms.fetch(metrics.url + "/metrics", headers={"Accept": PROMETHEUS_ACCEPT})
        check(headers.get("Content-Type", "").startswith("application/openmetrics-text; version=1.0.0") and
              body.endswith("# EOF\n") and "# TYPE tcpscope_state_transitions counter" in body,
              "an OpenMetrics scrape: %s" % headers.get("Content-Type"))
        status, headers, body = ms.fetch(metrics.url + "/metrics", headers={"Accept": "text/plain"})
        check(headers.get("Content-Type", "").startswith("text/plain; version=0.0.4") and "# EOF" not in body,
              "a text-format scrape: %s" % headers.get("Content-Type"))

        ours = metrics.link_ids
        check(len(ours) >= 5, "tcpscope held its links (%d)" % len(ours))
        rc, err = metrics.stop()
        check(rc == 0, "tcpscope metrics exits 0 on SIGTERM (%d): %s" % (rc, err.strip()[-300:]))
        metrics = None
        check(not (ours & ms.live_link_ids()), "no BPF link left behind")
    finally:
        if metrics:
            metrics.stop(signal.SIGKILL)
        if prom:
            prom.stop()
        for p in procs:
            if p.stdin:
                p.stdin.close()
            p.kill()
            p.wait()
        for s in spaces:
            s.close()
        shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
