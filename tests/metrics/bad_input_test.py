#!/usr/bin/env python3
"""`tcpscope metrics` facing bad input: a port already in use (a clear error,
exit 3), a bad --listen (exit 2), requests that are not HTTP, slow clients,
50 concurrent scrapes, SIGTERM in the middle of scrapes. Nothing crashes,
every good scrape is whole, and no BPF link is left.

Usage: bad_input_test.py TCPSCOPE_BINARY
"""
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import metrics_support as ms  # noqa: E402

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


def whole(body):
    # The last family in the reply: a scrape cut short lacks it.
    return "tcpscope_scrape_duration_seconds " in body


def raw(port, data, timeout=3):
    """Sends bytes, returns what comes back before the server closes (a
    reset is a close: the server ends a connection whose request it could
    not parse, with that request's unread bytes still queued)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # closed (or reset) before it took everything: read what came
        got = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return got


REFUSED_CONNECTS = '''
import socket
for port in range(1000, 1100):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        pass
    s.close()
'''


def main():
    ms.require_root()
    binary = sys.argv[1]

    # A port in use: exit 3, and the message says which and why.
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = subprocess.run([binary, "metrics", "--listen", "127.0.0.1:%d" % port],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 3, "port in use: exit 3 (got %d)" % r.returncode)
        check("cannot listen on 127.0.0.1:%d: Address already in use" % port in r.stderr,
              "port in use: says so: " + r.stderr.strip())
    r = subprocess.run([binary, "metrics", "--listen", "localhost"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 2 and "--listen" in r.stderr and "ADDRESS:PORT" in r.stderr,
          "bad --listen: exit 2 with the form in words: " + r.stderr.strip())

    for bad, words in ((["--labels", "pid"], "comm, netns, port and container"),
                       (["--max-series", "0"], "from 1 to 16384"),
                       # The cap: its kernel memory is stated in the README.
                       (["--max-series", "16385"], "from 1 to 16384"),
                       (["--max-series", "1000000"], "from 1 to 16384"),
                       (["--series-idle", "0"], "positive number of seconds"),
                       (["--stuck", "0"], "positive number of seconds"),
                       (["--stuck", "-5"], "positive number of seconds"),
                       (["--stuck", "nan"], "positive number of seconds")):
        r = subprocess.run([binary, "metrics", *bad], capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and words in r.stderr, "%s: exit 2, in words: %s" % (" ".join(bad), r.stderr.strip()))

    # With labels, a scrape names them.
    m = ms.Metrics(binary, "--labels", "comm,port", "--max-series", "500")
    body = m.scrape()
    check('comm="' in body and 'port="' in body and "tcpscope_series_dropped_total 0" in body,
          "--labels comm,port: the counters carry them")
    rc, _ = m.stop()
    check(rc == 0, "stopped")

    # Series idle for --series-idle are removed between scrapes too: 100
    # refused connects (4 series a port) fill --max-series 64; with no
    # scrape meanwhile, the next scrape finds them gone.
    ns = ms.Netns("tsmidle%d" % os.getpid())
    m = None
    try:
        m = ms.Metrics(binary, "--netns", ns.path, "--labels", "port", "--max-series", "64",
                       "--series-idle", "5")
        ns.run("python3", "-c", REFUSED_CONNECTS)
        body = m.scrape()
        full = sum(1 for line in body.splitlines() if line.startswith("tcpscope_") and 'port="' in line)
        check(full == 64 and "tcpscope_series_dropped_total 0" not in body,
              "refused connects to 100 ports fill --max-series 64 (%d series)" % full)
        time.sleep(12)  # idle 5 s, swept every 1.25 s; no scrape meanwhile
        body = m.scrape()
        left = sum(1 for line in body.splitlines() if line.startswith("tcpscope_") and 'port="' in line)
        check(left == 0 and "tcpscope_series_expired_total 64" in body,
              "idle series removed without a scrape (%d left)" % left)
        rc, _ = m.stop()
        m = None
        check(rc == 0, "stopped")
    finally:
        if m:
            m.stop(signal.SIGKILL)
        ns.close()

    m = ms.Metrics(binary)
    try:
        status, headers, body = ms.fetch(m.url + "/")
        check(status == 200 and 'href="/metrics"' in body, "landing page links /metrics")
        # An Accept header we cannot honour (an old OpenMetrics draft, junk)
        # gets the text format, never an error.
        for accept in ("application/openmetrics-text;version=0.0.1", "\x7f;;q=,,", "a" * 4000):
            status, headers, body = ms.fetch(m.url + "/metrics", headers={"Accept": accept})
            check(status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4") and
                  whole(body), "Accept %r...: text format 0.0.4" % accept[:40])
        try:
            ms.fetch(m.url + "/nothing")
            check(False, "an unknown path is 404")
        except Exception as e:  # urllib raises HTTPError for 404
            check(getattr(e, "code", None) == 404, "an unknown path is 404")

        # Not HTTP at all.
        for junk in (b"\x00\x01\x02\xff" * 100 + b"\r\n\r\n", b"HELLO\r\n\r\n", b"GET\r\n\r\n",
                     b"GET /metrics HTTP/9.9\r\n" + b"X: " + b"a" * 100000 + b"\r\n\r\n",
                     os.urandom(4096)):
            got = raw(m.port, junk)
            check(not got or got.startswith(b"HTTP/1.1 4"), "junk %r...: a 4xx or a close" % junk[:12])
        check(whole(m.scrape()), "scrapes still answer after junk")

        # Slow clients: one sends nothing, one half a request; scrapes go on.
        idle = socket.create_connection(("127.0.0.1", m.port))
        half = socket.create_connection(("127.0.0.1", m.port))
        half.sendall(b"GET /metrics HTTP/1.1\r\nHo")
        start = time.time()
        body = m.scrape()
        check(whole(body) and time.time() - start < 2, "a scrape beside two slow clients takes %.2f s" %
              (time.time() - start))

        # 50 concurrent scrapes, all whole: from 10 addresses, 5 each (one
        # address gets 8 connections at once; endpoint_test.py checks that).
        results = []

        def scrape_once(i):
            conn = http.client.HTTPConnection("127.0.0.1", m.port, timeout=30,
                                              source_address=("127.0.0.%d" % (100 + i % 10), 0))
            try:
                conn.request("GET", "/metrics")
                results.append(whole(conn.getresponse().read().decode()))
            except Exception as e:  # noqa: BLE001
                results.append(repr(e))
            finally:
                conn.close()

        threads = [threading.Thread(target=scrape_once, args=(i,)) for i in range(50)]
        start = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(results.count(True) == 50, "50 concurrent scrapes all whole in %.2f s (%s)" %
              (time.time() - start, [r for r in results if r is not True][:3]))
        idle.close()
        half.close()

        # SIGTERM while scrapes run: a clean exit; each reply whole or refused.
        stop = threading.Event()
        outcomes = {"whole": 0, "cut": 0, "refused": 0}

        def scrape_loop():
            while not stop.is_set():
                try:
                    outcomes["whole" if whole(ms.fetch(m.url + "/metrics", timeout=10)[2]) else "cut"] += 1
                except Exception:  # noqa: BLE001
                    outcomes["refused"] += 1
                    time.sleep(0.01)

        loops = [threading.Thread(target=scrape_loop) for _ in range(8)]
        for t in loops:
            t.start()
        time.sleep(1.0)
        rc, err = m.stop(signal.SIGTERM, timeout=15)
        stop.set()
        for t in loops:
            t.join()
        check(rc == 0, "SIGTERM during scrapes: exit 0 (got %d): %s" % (rc, err.strip()[-200:]))
        check(outcomes["cut"] == 0 and outcomes["whole"] > 0, "no reply cut short: %s" % outcomes)
    finally:
        if m.proc.poll() is None:
            m.proc.kill()
            m.proc.wait()
    check(m.proc.returncode >= 0, "never killed by a signal")
    check(len(m.link_ids) >= 5 and not (m.link_ids & ms.live_link_ids()),
          "no BPF link left behind (it held %d)" % len(m.link_ids))
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
