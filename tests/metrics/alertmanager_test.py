#!/usr/bin/python3
"""The alert path end to end: tcpscope metrics -> a real Prometheus -> a real Alertmanager -> a webhook.

In a network namespace of the test's own, three things go wrong, as on a
production host: a process ("leaky", in a cgroup laid out as podman lays out
a container's) leaves connections its peers closed in CLOSE_WAIT; a client
knocks on a closed port 303 times (a burst of RSTs); a listener with backlog
1 never accepts (its accept queue overflows). `tcpscope metrics --netns`
watches the namespace with `--labels comm,port,container`.
Debian's prometheus scrapes it every second and evaluates
dashboards/prometheus/alerts.yml and recording.yml; Debian's alertmanager
routes what fires to a webhook receiver the test runs on loopback.

The alert rules are the shipped ones with their `for` cut to 1 s and the
CloseWaitLeak and RstBurst thresholds scaled to what a test can make in
seconds (the rewrite is checked to have matched, so a changed rule fails
here instead of going untested; the exact thresholds are promtool's to test:
alerts_test.yml). The webhook must receive TcpscopeCloseWaitLeak for
comm="leaky" and its container's container_id, TcpscopeRstBurst and TcpscopeAcceptQueueOverflow for
port="6300", each with the host (instance) and severity labels and its
summary, and the recording rules must give the per-host, per-service and
fleet series. Everything it started is stopped; the namespace goes.
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import metrics_support as ms  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "..", "containers"))
from cgroup_support import cgroup2_mount, remove_tree  # noqa: E402

import yaml  # noqa: E402

# What the test can make in seconds, for each rule whose threshold counts
# more than that: (the shipped text, what the test uses).
SCALED = {
    "TcpscopeCloseWaitLeak": [(">= 50", ">= 3"), ("> 600", "> 2")],
    "TcpscopeRstBurst": [("> 50", "> 1")],
}

# leaky's container, as podman would name it.
LEAKY_ID = "1eac" + "5" * 60
LEAKY = r'''
import socket, sys
open("/proc/self/comm", "w").write("leaky")
ls = socket.create_server(("127.0.0.1", 6100))
peers, held = [], []
for _ in range(5):
    peers.append(socket.create_connection(("127.0.0.1", 6100)))
    held.append(ls.accept()[0])
for p in peers:
    p.close()          # the peers close; leaky never does: CLOSE_WAIT
print("leaking", flush=True)
sys.stdin.read()
'''

RST_BURST = r'''
import socket, sys
refused = 0
for _ in range(int(sys.argv[1])):
    try:
        socket.create_connection(("127.0.0.1", 6200)).close()
    except ConnectionRefusedError:
        refused += 1
print(refused, flush=True)
'''



class Webhook:
    """Alertmanager's webhook receiver: keeps every notification posted."""

    def __init__(self):
        self.notifications = []
        received = self.notifications

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def alerts(self):
        return [a for n in list(self.notifications) for a in n.get("alerts", [])]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Alertmanager:
    """Debian's alertmanager on loopback, routing everything to the webhook at once."""

    def __init__(self, workdir, webhook_port):
        self.port = ms.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        config = os.path.join(workdir, "alertmanager.yml")
        with open(config, "w") as f:
            f.write("route:\n  receiver: test\n  group_by: [alertname, instance]\n"
                    "  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n"
                    "receivers:\n  - name: test\n    webhook_configs:\n"
                    "      - url: http://127.0.0.1:%d/\n        send_resolved: false\n" % webhook_port)
        self.log = open(os.path.join(workdir, "alertmanager.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus-alertmanager", "--config.file=" + config,
             "--storage.path=" + os.path.join(workdir, "am-data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--cluster.listen-address=", "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir)
        ms.wait_ready("alertmanager", self.proc, self.url, self.log.name)

    def stop(self):
        ms.stop_server(self.proc, self.log)


def fast_rules(source, target):
    """The shipped alert rules with `for` 1 s and the SCALED thresholds."""
    with open(source) as f:
        doc = yaml.safe_load(f)
    seen = set()
    for group in doc["groups"]:
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            if "for" in rule:
                rule["for"] = "1s"
            for old, new in SCALED.get(rule["alert"], []):
                if old not in rule["expr"]:
                    raise RuntimeError("%s: its expression no longer has %r: update SCALED" % (rule["alert"], old))
                rule["expr"] = rule["expr"].replace(old, new)
                seen.add(rule["alert"])
    missing = set(SCALED) - seen
    if missing:
        raise RuntimeError("no such alert rules any more: %s" % sorted(missing))
    with open(target, "w") as f:
        yaml.safe_dump(doc, f)


def main():
    ms.require_root()
    for tool in ("prometheus", "prometheus-alertmanager"):
        if shutil.which(tool) is None:
            print("SKIP: %s is not installed (tools/install-deps.sh)" % tool)
            return 77
    binary, repo = sys.argv[1], sys.argv[2]
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            failures.append(what)

    tag = "tsc-am-%d" % os.getpid()
    cgroups = cgroup2_mount()
    if cgroups is None:
        print("SKIP: no cgroup v2 mount (leaky runs in a container's cgroup)")
        return 77
    top = os.path.join(cgroups, "tcpscope-am-%d" % os.getpid())
    leaky_cg = os.path.join(top, "machine.slice", "libpod-%s.scope" % LEAKY_ID)
    workdir = tempfile.mkdtemp(prefix="tcpscope-am-")
    spaces, procs, stoppers = [], [], []
    try:
        a = ms.Netns(tag)
        spaces.append(a)
        webhook = Webhook()
        stoppers.append(webhook.stop)
        am = Alertmanager(workdir, webhook.port)
        stoppers.append(am.stop)
        metrics = ms.Metrics(binary, "--netns", a.path, "--labels", "comm,port,container")
        stoppers.append(metrics.stop)
        fast_rules(os.path.join(repo, "dashboards/prometheus/alerts.yml"), os.path.join(workdir, "alerts.yml"))
        shutil.copy(os.path.join(repo, "dashboards/prometheus/recording.yml"), workdir)
        prom = ms.Prometheus(workdir,
                             "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                             "rule_files: [alerts.yml, recording.yml]\n"
                             "alerting:\n  alertmanagers:\n    - static_configs:\n"
                             "        - targets: ['127.0.0.1:%d']\n"
                             "scrape_configs:\n  - job_name: tcpscope\n"
                             "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % (am.port, metrics.port))
        stoppers.append(prom.stop)
        instance = "127.0.0.1:%d" % metrics.port
        # Prometheus starts scraping a few seconds after it is ready (its
        # discovery hands targets over every 5 s): the workload waits for
        # the first scrape, or its first counts would be the series' birth.
        deadline = time.time() + 30
        while time.time() < deadline and not any(t.get("health") == "up" for t in prom.targets()):
            time.sleep(0.5)
        check(any(t.get("health") == "up" for t in prom.targets()), "Prometheus scrapes tcpscope")

        # leaky runs in a cgroup laid out as podman lays out a container's.
        os.makedirs(leaky_cg)
        leaky = subprocess.Popen(["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec ip netns exec "$1" python3 -c "$2"',
                                  leaky_cg, a.name, LEAKY], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(leaky)
        check(leaky.stdout.readline().strip() == "leaking", "leaky holds 5 connections in CLOSE_WAIT")
        full = a.popen("python3", "-c", ms.ACCEPT_QUEUE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(full)
        check(full.stdout.readline().strip() == "full", "the listener on 6300 has a full accept queue")
        # A counter series is born with its first count, which rate()
        # cannot see: a few RSTs first (as a host has had before any
        # burst), scraped, then the burst.
        refused = int(a.run("python3", "-c", RST_BURST, "3").stdout.strip())
        time.sleep(3)
        refused += int(a.run("python3", "-c", RST_BURST, "300").stdout.strip())
        check(refused == 303, "303 connects to a closed port refused (%d)" % refused)

        wanted = {
            "TcpscopeCloseWaitLeak": {"comm": "leaky", "container_id": LEAKY_ID},
            "TcpscopeRstBurst": {},
            "TcpscopeAcceptQueueOverflow": {"port": "6300"},
        }
        got = {}
        deadline = time.time() + 90
        while time.time() < deadline and len(got) < len(wanted):
            for alert in webhook.alerts():
                name = alert["labels"].get("alertname")
                if name in wanted and all(alert["labels"].get(k) == v for k, v in wanted[name].items()):
                    got.setdefault(name, alert)
            time.sleep(1)
        for name, labels in wanted.items():
            alert = got.get(name)
            check(alert is not None, "the webhook received %s %s" % (name, labels))
            if alert is None:
                continue
            check(alert["status"] == "firing" and alert["labels"].get("instance") == instance
                  and alert["labels"].get("severity") == "warning" and alert["annotations"].get("summary"),
                  "%s: firing, on the host (instance %s), severity and summary: %s / %s" %
                  (name, instance, json.dumps(alert["labels"], sort_keys=True), alert["annotations"].get("summary")))
        if "TcpscopeRstBurst" in got:
            reason = got["TcpscopeRstBurst"]["labels"].get("reason")
            check(reason not in (None, ""), "the RST burst's alert names the kernel's reason (%s)" % reason)

        # The recording rules over the same series.
        for expr, want in (("instance:tcpscope_close_wait_sockets:sum{instance='%s'}" % instance, 5),
                           ("comm:tcpscope_close_wait_sockets:sum{comm='leaky'}", 5),
                           ("fleet:tcpscope_hosts_with_close_wait:count", 1)):
            value = prom.value(expr)
            check(value == want, "%s = %s (expected %s)" % (expr, value, want))
        for expr in ("instance:tcpscope_resets_sent:rate5m{instance='%s'}" % instance,
                     "fleet:tcpscope_resets_sent:rate5m", "port:tcpscope_listen_drops:increase5m{port='6300'}"):
            value = prom.value(expr)
            check(value is not None and value > 0, "%s = %s (> 0)" % (expr, value))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for stop in reversed(stoppers):
            try:
                stop()
            except Exception as e:  # a failed stop must not hide the others
                print("FAIL  stopping: %s" % e)
                failures.append("stop")
        for s in spaces:
            s.close()
        shutil.rmtree(workdir, ignore_errors=True)
        if not remove_tree(top):
            print("FAIL  the test's cgroups are left: %s" % top)
            failures.append("cgroups left")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
