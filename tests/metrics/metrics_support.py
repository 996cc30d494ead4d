"""What the metrics tests share: network namespaces of the test's own, a
free loopback port, tcpscope metrics started and stopped, HTTP fetches,
nstat inside a namespace, the BPF links tcpscope leaves (none), and a real
Prometheus to scrape it."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

SKIP = 77


def require_root():
    if os.geteuid() != 0:
        print("needs root to load BPF programs: skipped")
        sys.exit(SKIP)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(*argv, check=True, **kw):
    return subprocess.run(list(argv), check=check, capture_output=True, text=True, **kw)


class Netns:
    """A named network namespace with lo up, removed on close."""

    def __init__(self, name):
        self.name = name
        sh("ip", "netns", "add", name)
        sh("ip", "-n", name, "link", "set", "lo", "up")

    @property
    def path(self):
        return "/run/netns/" + self.name

    def run(self, *argv, **kw):
        return sh("ip", "netns", "exec", self.name, *argv, **kw)

    def popen(self, *argv, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.name, *argv], **kw)

    def nstat(self):
        out = self.run("nstat", "-asz", "--json").stdout
        data = json.loads(out)
        counters = {}
        for table in data.values():
            counters.update(table)
        return counters

    def close(self):
        sh("ip", "netns", "del", self.name, check=False)


def wait_ready(name, proc, url, log_name, seconds=30):
    """Until url/-/ready answers (Prometheus and Alertmanager both have it)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited %d, see %s" % (name, proc.returncode, log_name))
        try:
            fetch(url + "/-/ready", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("%s is not ready" % name)


def stop_server(proc, log):
    """SIGTERM, then SIGKILL after 20 s; closes its log (Prometheus, Alertmanager)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log.close()


def fetch(url, timeout=10, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.headers, r.read().decode()


def link_ids_of(pid):
    """The BPF links a process holds, from its descriptors' fdinfo."""
    ids = set()
    fddir = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fddir):
        try:
            with open(os.path.join(fddir, fd)) as f:
                for line in f:
                    if line.startswith("link_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def live_link_ids():
    out = sh("bpftool", "link", "show", "--json", check=False).stdout or "[]"
    return {l["id"] for l in json.loads(out)}


# A listener with backlog 1 on 127.0.0.1:6300 that never accepts, and four
# non-blocking connects to it; prints "full", holds them until stdin closes.
ACCEPT_QUEUE = r'''
import socket, sys, time
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 6300))
ls.listen(1)
clients = []
for _ in range(4):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", 6300))
    except BlockingIOError:
        pass
    clients.append(c)
time.sleep(0.2)
print("full", flush=True)
sys.stdin.read()
'''


class Metrics:
    """tcpscope metrics, started and waited for until it serves; link_ids
    are the BPF links it holds."""

    def __init__(self, binary, *args):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = subprocess.Popen([binary, "metrics", "--listen", "127.0.0.1:%d" % self.port, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("tcpscope metrics exited %d: %s" % (self.proc.returncode, self.proc.stderr.read()))
            try:
                fetch(self.url + "/metrics", timeout=2)
                # Ours, by id: other tracers may come and go meanwhile.
                self.link_ids = link_ids_of(self.proc.pid)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("tcpscope metrics does not answer")

    def scrape(self):
        return fetch(self.url + "/metrics")[2]

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("tcpscope metrics did not stop within %d s of signal %d" % (timeout, sig))
        return rc, self.proc.stderr.read()


def parse_text(text):
    """Samples of the text format: {(name, frozenset(labels)): value}."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_labels, value = line.rsplit(" ", 1)
        if "{" in name_labels:
            name, rest = name_labels.split("{", 1)
            labels = []
            for part in rest.rstrip("}").split('",'):
                if part:
                    k, v = part.split("=", 1)
                    labels.append((k, v.strip('"')))
            samples[(name, frozenset(labels))] = float(value)
        else:
            samples[(name_labels, frozenset())] = float(value)
    return samples


class Prometheus:
    """Debian's prometheus on a loopback port of its own, with the configuration given
    (YAML text, written to workdir), waited for until it is ready."""

    def __init__(self, workdir, config_text):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        config = os.path.join(workdir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(config_text)
        self.log = open(os.path.join(workdir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file=" + config, "--storage.tsdb.path=" + os.path.join(workdir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir)
        wait_ready("prometheus", self.proc, self.url, self.log.name)

    def query(self, expr):
        url = self.url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        body = json.loads(fetch(url)[2])
        if body.get("status") != "success":
            raise RuntimeError("query %s: %s" % (expr, body))
        return body["data"]["result"]

    def value(self, expr):
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def targets(self):
        return json.loads(fetch(self.url + "/api/v1/targets")[2])["data"]["activeTargets"]

    def stop(self):
        stop_server(self.proc, self.log)
