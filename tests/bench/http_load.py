"""A real server under a real load, for the benchmark: nginx serving a small
file to wrk over loopback, in a network namespace of the benchmark's own.

Two loads:
  nginx-close      wrk sends `Connection: close`: nginx answers and closes,
                   so every request is a connection (handshake, request,
                   response, FIN from the server, TIME_WAIT on its side):
                   what a tracer of connection events costs a real server
                   at its busiest;
  nginx-keepalive  wrk keeps its connections open: many requests and
                   segments per connection and almost no state changes,
                   what the tracers' packet-free kinds should cost nothing.

wrk runs for a fixed time (a round is seconds, not a count) with one thread
and HTTP_CONNECTIONS connections; nginx runs one worker, so on a 2-core
machine the server and the load each have a core, as churn's threads do.
(wrk takes whole seconds.) A round reports requests per second and wrk's latency percentiles (p50,
p99), which the benchmark divides by the untraced round's.

Both come from Debian's packages (nginx-light or nginx, and wrk); the
benchmark leaves the nginx loads out, and says so, when either is missing.
"""

import os
import re
import shutil
import subprocess
import time

HTTP_PORT = 8080
HTTP_CONNECTIONS = 32
# The file served: the size of nginx's own welcome page.
BODY_BYTES = 615
HTTP_LOADS = ("nginx-close", "nginx-keepalive")
HTTP_WORDS = {
    "nginx-close": "nginx (1 worker) serving %d bytes to wrk (1 thread, %d connections) with "
                   "Connection: close: a connection per request" % (BODY_BYTES, HTTP_CONNECTIONS),
    "nginx-keepalive": "nginx (1 worker) serving %d bytes to wrk (1 thread, %d connections), "
                       "keep-alive: many requests per connection" % (BODY_BYTES, HTTP_CONNECTIONS),
}


def find_http_tools(log):
    """(nginx, wrk) paths, or None when either is missing. Not installed here:
    Debian's nginx package starts a server on port 80 on a host with systemd,
    which a benchmark must not leave behind."""
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    wrk = shutil.which("wrk")
    if nginx and wrk:
        return nginx, wrk
    log("nginx or wrk is missing (apt-get install nginx-light wrk, then stop and disable "
        "the nginx service it starts): no nginx loads")
    return None


class HttpServer:
    """nginx in a namespace of its own (`ip netns add`, lo up), configured in
    workdir: one worker, no access log, a file of BODY_BYTES. close() stops it
    (SIGQUIT, then SIGKILL) and deletes the namespace."""

    def __init__(self, nginx, wrk, workdir, log):
        self.nginx, self.wrk, self.log = nginx, wrk, log
        self.name = "tshttp%d" % os.getpid()
        self.dir = os.path.join(workdir, "nginx")
        self.proc = None
        os.makedirs(os.path.join(self.dir, "www"), exist_ok=True)
        # nginx's worker runs as nobody: it must reach the file through
        # the benchmark's private (0700) work directory.
        os.chmod(workdir, 0o711)
        os.chmod(self.dir, 0o755)
        os.chmod(os.path.join(self.dir, "www"), 0o755)
        with open(os.path.join(self.dir, "www", "index.html"), "w") as f:
            f.write("x" * (BODY_BYTES - 1) + "\n")
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""daemon off;
master_process on;
worker_processes 1;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    keepalive_requests 100000000;
    keepalive_timeout 600s;
    server {
        listen 127.0.0.1:%(port)d backlog=4096;
        root %(dir)s/www;
    }
}
""" % {"dir": self.dir, "port": HTTP_PORT})
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        try:
            subprocess.run(["ip", "-n", self.name, "link", "set", "lo", "up"], check=True)
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.name, nginx, "-c", conf, "-p", self.dir,
                 "-e", os.path.join(self.dir, "error.log")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=open(os.path.join(self.dir, "stderr"), "wb"))
            self._wait_listening()
            # A first request proves the whole path before any round counts.
            self.run("nginx-keepalive", 1)
        except BaseException:
            self.close()
            raise

    def _wait_listening(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited with status %d: %s" % (
                    self.proc.returncode, self._stderr()))
            out = subprocess.run(["ip", "netns", "exec", self.name, "ss", "-Hltn",
                                  "sport = :%d" % HTTP_PORT], capture_output=True, text=True,
                                 check=False).stdout
            if out.strip():
                return
            time.sleep(0.05)
        raise RuntimeError("nginx did not listen on port %d within %.0f s: %s" % (
            HTTP_PORT, timeout, self._stderr()))

    def _stderr(self):
        try:
            with open(os.path.join(self.dir, "stderr"), errors="replace") as f:
                return f.read()[-500:]
        except OSError:
            return ""

    def run(self, load, seconds):
        """One wrk run of `seconds`; the benchmark's round result: requests per
        second as conn_per_s (for nginx-close a request is a connection),
        requests as connections, and wrk's latency percentiles in ms."""
        cmd = ["ip", "netns", "exec", self.name, self.wrk, "-t1", "-c%d" % HTTP_CONNECTIONS,
               "-d%ds" % max(1, round(seconds)), "--latency", "--timeout", "10s"]
        if load == "nginx-close":
            cmd += ["-H", "Connection: close"]
        cmd.append("http://127.0.0.1:%d/index.html" % HTTP_PORT)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60,
                           check=False)
        if r.returncode != 0:
            raise RuntimeError("wrk failed (%d): %s" % (r.returncode,
                                                         (r.stderr or r.stdout).strip()[-400:]))
        return parse_wrk(r.stdout)

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(3)  # SIGQUIT: nginx's graceful stop
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # The master's workers die with it; anything left in the namespace
        # (a worker that outlived it) is killed before the namespace goes.
        pids = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True,
                              text=True, check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), 9)
            except (OSError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", self.name], check=False,
                       stderr=subprocess.DEVNULL)


_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError("not a wrk duration: %r" % text)
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def parse_wrk(out):
    """The numbers of wrk's report (`--latency`); errors raise, because a run
    whose requests failed measures the failures, not the server."""
    r = {}
    m = re.search(r"^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m)", out, re.M)
    if not m:
        raise RuntimeError("no request count in wrk's output: %r" % out[-300:])
    r["connections"] = int(m.group(1))
    r["elapsed_s"] = _ms(m.group(2) + m.group(3)) / 1e3
    m = re.search(r"^Requests/sec:\s+([0-9.]+)", out, re.M)
    r["conn_per_s"] = float(m.group(1)) if m else r["connections"] / r["elapsed_s"]
    for pct in ("50", "99"):
        m = re.search(r"^\s+%s(?:\.000)?%%\s+([0-9.]+(?:us|ms|s|m))" % pct, out, re.M)
        if not m:
            raise RuntimeError("no %s%% latency in wrk's output: %r" % (pct, out[-300:]))
        r["p%s_ms" % pct] = _ms(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(m.group(1)) if m else 0
    if errors:
        raise RuntimeError("wrk saw %d errors: %s" % (errors, out.strip()[-400:]))
    return r
