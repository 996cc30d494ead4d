#!/usr/bin/env python3
"""`tcpscope metrics`'s endpoint against clients that do not play fair, and
its web configuration (TLS, basic auth) against a real Prometheus (Debian's
package):

- a second instance on the same port exits 3 "Address already in use"
  while the first keeps serving (cpp-httplib's default SO_REUSEPORT let
  both listen);
- once attached it runs as nobody with CAP_BPF alone (every thread);
- a client trickling a header byte a second is cut off at the request's
  deadline (10 s), not kept as long as it trickles; connections beyond the
  bound per peer address are closed at once;
- 72 slow clients from 6 addresses (more than cpp-httplib's 8 workers)
  trickle bytes for 30 s while Prometheus scrapes every 3 s (timeout 3 s,
  a scrape takes milliseconds): no scrape fails;
- --web.config.file: Prometheus scrapes over TLS with basic auth (up 1,
  data), a job with a wrong password gets up 0; curl without or with wrong
  credentials gets 401, plain HTTP gets no answer; bad files exit 2 with
  the reason in words.

Usage: endpoint_test.py TCPSCOPE_BINARY
"""
import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import metrics_support as ms  # noqa: E402

failures = []
CAP_BPF = 39


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


def whole(body):
    return "tcpscope_scrape_duration_seconds " in body


class Prometheus(ms.Prometheus):
    """Debian's prometheus on a loopback port, with the given scrape jobs."""

    def __init__(self, workdir, jobs, every=1):
        super().__init__(workdir, "global:\n  scrape_interval: %ds\n  scrape_timeout: %ds\n"
                                  "scrape_configs:\n" % (every, every) + jobs)

    def wait_scrapes(self, job, n, timeout=30):
        """Until the job's target has been scraped n more times."""
        def count():
            v = self.value('count_over_time(up{job="%s"}[1h])' % job)
            return v or 0
        start = count()
        deadline = time.time() + timeout
        while count() < start + n and time.time() < deadline:
            time.sleep(0.5)
        return count() - start

def status_of(pid):
    """Every thread's Uid, CapEff, CapPrm, CapBnd and NoNewPrivs."""
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        fields = {}
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    k, _, v = line.partition(":")
                    fields[k] = v.split()
        except OSError:
            continue  # a connection's thread that ended meanwhile
        out.append(fields)
    return out


def connect_from(source, port, timeout=5):
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def closed_by_server(s, wait):
    """True when the server closes s (or resets it) within `wait` seconds."""
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


class Trickler:
    """A client that sends a request's header a byte at a time, `every`
    seconds apart, from `source`, reconnecting whenever it is cut off."""

    def __init__(self, source, port, every, stop):
        self.source, self.port, self.every, self.stop = source, port, every, stop
        self.connections = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        request = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 10000
        while not self.stop.is_set():
            try:
                s = connect_from(self.source, self.port)
                self.connections += 1
                for i in range(len(request)):
                    s.send(request[i:i + 1])
                    if self.stop.wait(self.every):
                        break
            except OSError:
                if self.stop.wait(0.2):
                    break
            finally:
                try:
                    s.close()
                except Exception:  # noqa: BLE001
                    pass


def sample(body, series):
    """The value of one series in a text-format scrape, or None."""
    for line in body.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


def test_second_instance(binary):
    first = ms.Metrics(binary)
    try:
        r = subprocess.run([binary, "metrics", "--listen", "127.0.0.1:%d" % first.port],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 3, "a second instance on the same port exits 3 (got %d)" % r.returncode)
        check("cannot listen on 127.0.0.1:%d: Address already in use" % first.port in r.stderr,
              "it says why: " + r.stderr.strip()[-200:])
        check(whole(first.scrape()) and first.proc.poll() is None, "the first keeps serving")
    except subprocess.TimeoutExpired:
        check(False, "a second instance on the same port exits 3 (it kept running: it shares the port)")
    finally:
        rc, _ = first.stop()
        check(rc == 0, "the first stops cleanly")


def test_privileges(binary):
    m = ms.Metrics(binary, "--stuck", "1")
    try:
        threads = status_of(m.proc.pid)
        want = "%016x" % (1 << CAP_BPF)
        ok = bool(threads)
        for t in threads:
            ok = (t["Uid"] == ["65534"] * 4 and t["CapEff"] == [want] and t["CapPrm"] == [want] and
                  t["CapInh"] == ["0" * 16] and t["CapBnd"] == [want] and t["NoNewPrivs"] == ["1"])
            if not ok:
                break
        check(ok, "every thread (%d) runs as nobody with CAP_BPF alone: Uid %s CapEff %s CapPrm %s CapBnd %s "
              "NoNewPrivs %s" % (len(threads), " ".join(t["Uid"]), t["CapEff"][0], t["CapPrm"][0],
                                 t["CapBnd"][0], t["NoNewPrivs"][0]))
        body = m.scrape()
        check(whole(body) and "tcpscope_sockets{" in body and "tcpscope_state_transitions_total{" in body,
              "after the drop a scrape still reads the maps and sock_diag (tcpscope_sockets)")
    finally:
        m.stop()


def test_deadline_and_per_peer(binary):
    m = ms.Metrics(binary)
    try:
        # A byte a second: each read is quick, the request never ends.
        s = connect_from("127.0.0.1", m.port)
        start = time.time()
        cut = False
        for i in range(25):
            try:
                s.send(b"GET /metrics HTTP/1.1\r\n"[i:i + 1] or b"a")
            except OSError:
                cut = True
                break
            if closed_by_server(s, 1.0):
                cut = True
                break
        took = time.time() - start
        check(cut and took < 14, "a client trickling a byte a second is cut off at the deadline (%.1f s)" % took)
        s.close()
        check(sample(m.scrape(), 'tcpscope_http_requests_cut_total{reason="deadline"}') == 1,
              "and tcpscope counts it: tcpscope_http_requests_cut_total{reason=\"deadline\"} 1")

        # Endless header lines (each short enough for httplib, and few
        # enough for its 100 headers): cut off at the request's 128 KiB,
        # not stored until the deadline.
        s = connect_from("127.0.0.1", m.port)
        sent = 0
        try:
            s.sendall(b"GET /metrics HTTP/1.1\r\n")
            for _ in range(1024):
                s.sendall(b"X-Filler: " + b"a" * 4000 + b"\r\n")
                sent += 4010
        except OSError:
            pass
        check(sent < 1024 * 4010 or closed_by_server(s, 2),
              "endless headers: cut off after %d KiB sent (of %d)" % (sent // 1024, 1024 * 4010 // 1024))
        s.close()
        too_large = sample(m.scrape(), 'tcpscope_http_requests_cut_total{reason="too_large"}')
        check(too_large == 1, "and counted as too_large (%s)" % too_large)

        # A request httplib cannot parse: one 400, and the connection ends
        # (it once answered the rest of the bytes as a hundred more requests).
        s = connect_from("127.0.0.1", m.port)
        s.sendall(b"NONSENSE\r\n\r\n" + b"more nonsense\r\n" * 50)
        answers, data = 0, b""
        s.settimeout(3)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        answers = data.count(b"HTTP/1.1 400")
        s.close()
        malformed = sample(m.scrape(), 'tcpscope_http_requests_cut_total{reason="malformed"}')
        check(answers == 1 and malformed == 1,
              "a request that cannot be parsed: one 400 (%d) and the connection closed, counted as "
              "malformed (%s)" % (answers, malformed))

        # One peer address gets 8 connections at once; the 9th and 10th are closed at once.
        held = [connect_from("127.0.0.7", m.port) for _ in range(8)]
        time.sleep(0.5)
        extra = [connect_from("127.0.0.7", m.port) for _ in range(2)]
        check(all(closed_by_server(e, 2) for e in extra), "beyond 8 connections from one address: closed at once")
        check(not any(closed_by_server(h, 0.2) for h in held), "the first 8 stay open")
        body = m.scrape()
        check(whole(body), "another address still scrapes")
        refused = sample(body, 'tcpscope_http_connections_refused_total{reason="peer_limit"}')
        check(refused == 2, "and the 2 refused are counted as peer_limit (%s)" % refused)
        for c in held + extra:
            c.close()
    finally:
        m.stop()


def test_slow_clients(binary, workdir):
    m = ms.Metrics(binary)
    prom = None
    stop = threading.Event()
    tricklers = []
    try:
        prom = Prometheus(workdir, "  - job_name: tcpscope\n    static_configs:\n"
                                   "      - targets: ['127.0.0.1:%d']\n" % m.port, every=3)
        got = prom.wait_scrapes("tcpscope", 3)
        check(got >= 3 and prom.value('min_over_time(up{job="tcpscope"}[1h])') == 1, "Prometheus scrapes")
        before = prom.value('count_over_time(up{job="tcpscope"}[1h])')
        # 6 addresses x 12 clients, a byte every 2 s.
        for a in range(6):
            for _ in range(12):
                tricklers.append(Trickler("127.0.0.%d" % (20 + a), m.port, 2.0, stop))
        attack = 30
        time.sleep(attack)
        scrapes = prom.value('count_over_time(up{job="tcpscope"}[1h])') - before
        failed = prom.value('count_over_time(up{job="tcpscope"}[1h]) - sum_over_time(up{job="tcpscope"}[1h])')
        conns = sum(t.connections for t in tricklers)
        check(scrapes >= attack / 6 and failed == 0,
              "72 slow clients (%d connections) for %d s: %d scrapes, %d failed" % (conns, attack, scrapes, failed))
        check(conns >= 72, "the slow clients connected (%d connections, reconnecting when cut off)" % conns)
    finally:
        stop.set()
        for t in tricklers:
            t.thread.join(5)
        if prom:
            prom.stop()
        m.stop()


def htpasswd(user, password):
    out = ms.sh("htpasswd", "-nbBC", "10", user, password).stdout.strip()
    return out.split(":", 1)[1]


def test_web_config(binary, workdir):
    crt, key = os.path.join(workdir, "server.crt"), os.path.join(workdir, "server.key")
    ms.sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "2",
          "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    os.chmod(key, 0o600)
    secret = "s3cret-%d" % os.getpid()
    config = os.path.join(workdir, "web.yml")
    with open(config, "w") as f:
        # htpasswd writes $2y$: the variant libxcrypt must accept too.
        f.write("tls_server_config:\n  cert_file: server.crt\n  key_file: %s\n"
                "basic_auth_users:\n  prometheus: '%s'\n" % (key, htpasswd("prometheus", secret)))

    # Bad files: exit 2 with the reason, before anything is loaded.
    def bad(text, words, name="bad.yml"):
        path = os.path.join(workdir, name)
        if text is not None:
            with open(path, "w") as f:
                f.write(text)
        r = subprocess.run([binary, "metrics", "--listen", "127.0.0.1:%d" % ms.free_port(),
                            "--web.config.file", path], capture_output=True, text=True, timeout=60)
        check(r.returncode == 2 and words in r.stderr,
              "web config %s: exit 2, says %r: %s" % (name, words, r.stderr.strip()[-200:]))
    bad(None, "does not exist", "missing.yml")
    bad("tls_server_config: [unclosed\n", "line", "bad-yaml.yml")
    bad("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suitez: []\n",
        "unknown or unsupported key 'cipher_suitez'", "unknown-key.yml")
    bad("http_server_config:\n  http2: false\n", "unknown or unsupported key 'http_server_config'", "top-key.yml")
    bad("tls_server_config:\n  cert_file: nowhere.crt\n  key_file: server.key\n", "cannot read", "no-cert.yml")
    bad("tls_server_config:\n  cert_file: server.key\n  key_file: server.key\n", "cert_file", "not-a-cert.yml")
    bad("basic_auth_users:\n  prometheus: plaintext\n", "not a bcrypt hash", "plain-hash.yml")
    bad("basic_auth_users:\n  prometheus: '$1$abc$0123456789012345678901'\n", "not a bcrypt hash", "md5-hash.yml")

    m = ms.Metrics.__new__(ms.Metrics)
    m.port = ms.free_port()
    m.proc = subprocess.Popen([binary, "metrics", "--listen", "127.0.0.1:%d" % m.port, "--web.config.file", config],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    context = ssl.create_default_context(cafile=crt)
    prom = None
    try:
        def get(headers=None, tls=True):
            conn = (http.client.HTTPSConnection("127.0.0.1", m.port, context=context, timeout=10) if tls
                    else http.client.HTTPConnection("127.0.0.1", m.port, timeout=10))
            try:
                conn.request("GET", "/metrics", headers=headers or {})
                r = conn.getresponse()
                return r.status, r.getheader("WWW-Authenticate"), r.read().decode()
            finally:
                conn.close()

        import base64
        auth = {"Authorization": "Basic " + base64.b64encode(("prometheus:" + secret).encode()).decode()}
        wrong = {"Authorization": "Basic " + base64.b64encode(b"prometheus:guess").decode()}
        stranger = {"Authorization": "Basic " + base64.b64encode(("nobody:" + secret).encode()).decode()}
        deadline = time.time() + 30
        while True:
            if m.proc.poll() is not None:
                raise RuntimeError("tcpscope metrics exited %d: %s" % (m.proc.returncode, m.proc.stderr.read()))
            try:
                status, _, body = get(auth)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        check(status == 200 and whole(body), "curl-like: TLS and the right password: 200 and a whole scrape")
        status, challenge, _ = get()
        check(status == 401 and challenge and challenge.startswith("Basic"), "no credentials: 401, Basic challenge")
        check(get(wrong)[0] == 401, "a wrong password: 401")
        check(get(stranger)[0] == 401, "an unknown user: 401")
        try:
            get(auth, tls=False)
            check(False, "plain HTTP on the TLS port gets no answer")
        except (OSError, http.client.HTTPException):
            check(True, "plain HTTP on the TLS port gets no answer")
        tls_cut = sample(get(auth)[2], 'tcpscope_http_requests_cut_total{reason="tls_handshake"}')
        check(tls_cut is not None and tls_cut >= 1, "and it is counted as a failed TLS handshake (%s)" % tls_cut)
        r = ms.sh("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", crt, "-u", "prometheus:" + secret,
                  "https://127.0.0.1:%d/metrics" % m.port, check=False)
        check(r.stdout == "200", "curl --cacert -u: %s %s" % (r.stdout, r.stderr.strip()))
        r = ms.sh("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", crt, "-u", "prometheus:guess",
                  "https://127.0.0.1:%d/metrics" % m.port, check=False)
        check(r.stdout == "401", "curl with a wrong password: %s" % r.stdout)

        pw_good, pw_bad = os.path.join(workdir, "good.pw"), os.path.join(workdir, "bad.pw")
        with open(pw_good, "w") as f:
            f.write(secret)
        with open(pw_bad, "w") as f:
            f.write("guess")
        job = ("  - job_name: %s\n    scheme: https\n    tls_config:\n      ca_file: %s\n"
               "    basic_auth:\n      username: prometheus\n      password_file: %s\n"
               "    static_configs:\n      - targets: ['127.0.0.1:%d']\n")
        prom = Prometheus(workdir, job % ("tls-good", crt, pw_good, m.port) + job % ("tls-bad", crt, pw_bad, m.port))
        prom.wait_scrapes("tls-good", 3)
        prom.wait_scrapes("tls-bad", 1)
        check(prom.value('up{job="tls-good"}') == 1, "Prometheus over TLS with basic auth: up 1")
        n = prom.value('count(tcpscope_state_transitions_total{job="tls-good"})')
        check(n is not None and n > 0 and prom.value('tcpscope_build_info{job="tls-good"}') == 1,
              "and it has the data (%s transition series)" % n)
        check(prom.value('up{job="tls-bad"}') == 0, "a wrong password: up 0")
        errors = [t.get("lastError", "") for t in prom.targets() if t["labels"]["job"] == "tls-bad"]
        check(any("401" in e for e in errors), "because of a 401: %s" % errors)
    finally:
        if prom:
            prom.stop()
        stop_metrics(m)
    test_client_certificates(binary, workdir, crt, key)


def stop_metrics(m):
    if m.proc.poll() is None:
        m.proc.send_signal(signal.SIGTERM)
    try:
        m.proc.wait(15)
    except subprocess.TimeoutExpired:
        m.proc.kill()
        m.proc.wait()
    check(m.proc.returncode == 0, "stops cleanly (%d)" % m.proc.returncode)


def test_client_certificates(binary, workdir, crt, key):
    """client_auth_type RequireAndVerifyClientCert: curl without a client
    certificate, or with one the client CA did not sign, is refused."""
    ccrt, ckey = os.path.join(workdir, "client.crt"), os.path.join(workdir, "client.key")
    ocrt, okey = os.path.join(workdir, "other.crt"), os.path.join(workdir, "other.key")
    for c, k, cn in ((ccrt, ckey, "scraper"), (ocrt, okey, "stranger")):
        ms.sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", k, "-out", c, "-days", "2",
              "-subj", "/CN=" + cn)
    config = os.path.join(workdir, "mtls.yml")
    with open(config, "w") as f:
        f.write("tls_server_config:\n  cert_file: %s\n  key_file: %s\n  client_ca_file: client.crt\n"
                "  client_auth_type: RequireAndVerifyClientCert\n" % (crt, key))
    m = ms.Metrics.__new__(ms.Metrics)
    m.port = ms.free_port()
    m.proc = subprocess.Popen([binary, "metrics", "--listen", "127.0.0.1:%d" % m.port, "--web.config.file", config],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = "https://127.0.0.1:%d/metrics" % m.port
    try:
        def curl(*extra):
            return ms.sh("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", crt, *extra, url,
                         check=False).stdout
        deadline = time.time() + 30
        while curl("--cert", ccrt, "--key", ckey) != "200" and time.time() < deadline and m.proc.poll() is None:
            time.sleep(0.3)
        check(curl("--cert", ccrt, "--key", ckey) == "200", "a client certificate the client CA signed: 200")
        check(curl() != "200", "no client certificate: refused")
        check(curl("--cert", ocrt, "--key", okey) != "200", "a client certificate of another CA: refused")
    finally:
        stop_metrics(m)


def main():
    ms.require_root()
    binary = sys.argv[1]
    only = sys.argv[2:]
    workdir = tempfile.mkdtemp(prefix="tcpscope-endpoint-")
    os.chmod(workdir, 0o755)
    try:
        tests = [("second-instance", lambda: test_second_instance(binary)),
                 ("privileges", lambda: test_privileges(binary)),
                 ("deadline", lambda: test_deadline_and_per_peer(binary)),
                 ("slow-clients", lambda: test_slow_clients(binary, os.path.join(workdir, "slow"))),
                 ("web-config", lambda: test_web_config(binary, os.path.join(workdir, "web")))]
        os.makedirs(os.path.join(workdir, "slow"))
        os.makedirs(os.path.join(workdir, "web"))
        for name, run in tests:
            if only and name not in only:
                continue
            print("--", name, flush=True)
            try:
                run()
            except Exception as e:  # noqa: BLE001
                check(False, "%s: %r" % (name, e))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
