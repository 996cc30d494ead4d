#!/usr/bin/env python3
"""`tcpscope top` as a person uses it: in a real terminal (tmux), against a
known load in a network namespace of the test's own.

The load (top_load.py): a server process (topsrv) and a client process
(topcli) making N connections that end with FIN, M refused, K reset by
the server (SO_LINGER 0) and C left in CLOSE_WAIT. top runs in a tmux pane
(its own server socket, `tmux -L`), keys go in with `send-keys`, the screen
comes out with `capture-pane -p`; the numbers on it are checked against
the load and against the namespace's own counters (nstat): connections
made (TcpActiveOpens, TcpPassiveOpens), RSTs sent (TcpOutRsts = the refused
connects' RSTs + the aborted closes'). Then the keys (sort, group, filter,
pause, the stories), and that the terminal is given back after `q` and
after SIGTERM (the alternate screen left, the shell echoing typed text).
The batch table and the JSON lines are checked against the same load, and
the RTT columns against `ss -ti` over a queue made by tbf.

Usage: top_tmux_test.py TCPSCOPE
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

HERE = os.path.dirname(os.path.abspath(__file__))
LOAD = os.path.join(HERE, "top_load.py")
N_FIN, M_REFUSED, K_RESET, C_CLOSE_WAIT = 20, 7, 5, 2
TAG = "tstop%d" % os.getpid()
NETNS = TAG
TMUX = ["tmux", "-L", TAG]

failures = []


def check(ok, what, context=""):
    if ok:
        print("ok: " + what)
    else:
        print("FAIL: " + what + ("\n" + context if context else ""))
        failures.append(what)
    return ok


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def tmux(*args):
    return run(TMUX + list(args)).stdout


def screen():
    return tmux("capture-pane", "-p", "-t", "top")


def alternate_on():
    return tmux("display-message", "-p", "-t", "top", "#{alternate_on}").strip() == "1"


def keys(*k):
    tmux("send-keys", "-t", "top", *k)


def wait_for(predicate, seconds, what):
    """Polls the screen until predicate(screen) holds; returns the last screen."""
    end = time.monotonic() + seconds
    text = ""
    while time.monotonic() < end:
        text = screen()
        if predicate(text):
            return text
        time.sleep(0.3)
    check(False, what, text)
    return text


def table(text):
    """The rows on the screen (or a batch frame): {group: {column: cell}}."""
    rows, header = {}, None
    for line in text.splitlines():
        cells = line.split()
        if cells and cells[0].lstrip("v^") == "GROUP":
            header = [c.lstrip("v^") for c in cells]
            continue
        # A row: its group, then numbers (the status line has words).
        if header is None or len(cells) < 17 or not cells[2].isdigit():
            continue
        rows[cells[0]] = dict(zip(header, cells))
    return rows


def nstat():
    out = run(["ip", "netns", "exec", NETNS, "nstat", "-asz", "--json"]).stdout  # -s: no history file in /tmp
    data = json.loads(out)
    return data.get("kernel", data)


class Load:
    """The server, and each client run; all killed by pid at the end."""

    def __init__(self):
        self.procs = []

    def start(self, *args, expect):
        p = subprocess.Popen(["ip", "netns", "exec", NETNS, sys.executable, LOAD] + list(args),
                             stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        line = p.stdout.readline().strip()
        if expect is None:
            return line  # what it said is the caller's to judge
        if line != expect:
            raise RuntimeError("load %s said %r" % (args, line))
        return p

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()


def expected_client_rows(rounds):
    return {"conns": rounds * (N_FIN + M_REFUSED + K_RESET + C_CLOSE_WAIT), "fin": rounds * N_FIN,
            "refused": rounds * M_REFUSED, "reset_received": rounds * K_RESET}


def screen_checks(tcpscope, load, workdir):
    pidfile = os.path.join(workdir, "top.pid")
    command = ("sh -c 'echo $$ > %s; exec %s top --netns %s --stuck 1 --interval 0.5'" %
               (pidfile, tcpscope, NETNS))
    keys(command, "Enter")
    wait_for(lambda s: "GROUP" in s and "tcpscope top" in s, 60, "top draws its screen")
    check(alternate_on(), "top is on the alternate screen")
    before = nstat()
    load.start("client", str(N_FIN), str(M_REFUSED), str(K_RESET), str(C_CLOSE_WAIT), expect="done")

    def settled(s):
        rows = table(s)
        cli = next((r for k, r in rows.items() if k.startswith("topcli[")), None)
        srv = next((r for k, r in rows.items() if k.startswith("topsrv[")), None)
        return (cli is not None and srv is not None and
                cli["FIN"] == str(N_FIN) and cli["REFUSED"] == str(M_REFUSED) and
                cli["RSTRX"] == str(K_RESET) and srv["ABORT"] == str(K_RESET) and
                cli["STUCK"] == str(C_CLOSE_WAIT))

    text = wait_for(settled, 30, "the screen shows the load's endings and stuck sockets")
    after = nstat()
    rows = table(text)
    cli = next((r for k, r in rows.items() if k.startswith("topcli[")), {})
    srv = next((r for k, r in rows.items() if k.startswith("topsrv[")), {})
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in ("TcpActiveOpens", "TcpPassiveOpens", "TcpOutRsts")}
    made = N_FIN + M_REFUSED + K_RESET + C_CLOSE_WAIT
    check(cli.get("CONNS") == str(made) and delta["TcpActiveOpens"] == made,
          "topcli's CONNS = connections made = TcpActiveOpens (%s, %d, %d)" %
          (cli.get("CONNS"), made, delta["TcpActiveOpens"]), text)
    check(srv.get("CONNS") == str(N_FIN + K_RESET + C_CLOSE_WAIT) and
          delta["TcpPassiveOpens"] == N_FIN + K_RESET + C_CLOSE_WAIT,
          "topsrv's CONNS = connections accepted = TcpPassiveOpens (%s, %d)" %
          (srv.get("CONNS"), delta["TcpPassiveOpens"]), text)
    check(delta["TcpOutRsts"] == M_REFUSED + K_RESET and
          int(cli.get("REFUSED", -1)) + int(srv.get("ABORT", -1)) == delta["TcpOutRsts"],
          "RSTs sent (TcpOutRsts %d) = refused connects + aborted closes on the screen" %
          delta["TcpOutRsts"], text)
    check(cli.get("ACTIVE") == str(C_CLOSE_WAIT), "topcli's ACTIVE = its CLOSE_WAIT sockets", text)
    check(cli.get("CONN50", "-") != "-", "topcli has a connect time", text)
    check(re.search(r"CLOSE_WAIT \d+", text) is not None, "the header counts the namespace's sockets", text)
    check(re.search(r"tcpscope: cpu [\d.]+%  lost: .*ringbuf_full 0", text) is not None,
          "the header shows tcpscope's CPU and losses", text)

    # Sort: by CONNS, largest first (the client); reversed, the server first.
    order = [k for k in table(text) if k.startswith(("topcli", "topsrv"))]
    check(order and order[0].startswith("topcli"), "sorted by CONNS, topcli first", text)
    keys("r")
    text = wait_for(lambda s: "^CONNS" in s, 10, "r reverses the sort")
    order = [k for k in table(text) if k.startswith(("topcli", "topsrv"))]
    check(order and order[0].startswith("topsrv"), "ascending: topsrv first", text)
    keys("r", ">")
    wait_for(lambda s: "vACTIVE" in s and "sort: ACTIVE" in s, 10, "> sorts by the next column")
    keys("<")
    wait_for(lambda s: "vCONNS" in s, 10, "< goes back")

    # Group by port, then by remote address.
    keys("g")
    text = wait_for(lambda s: "group: port" in s and "->8081" in s, 10, "g groups by port")
    rows = table(text)
    check(rows.get("->8081", {}).get("REFUSED") == str(M_REFUSED),
          "port ->8081 (no listener): %d refused" % M_REFUSED, text)
    check(rows.get(":8082", {}).get("ABORT") == str(K_RESET),
          "port :8082 (SO_LINGER 0): %d aborted" % K_RESET, text)
    check(rows.get(":8080", {}).get("FIN") == str(N_FIN), "port :8080: %d FIN" % N_FIN, text)
    keys("g")
    text = wait_for(lambda s: "group: remote" in s and "127.0.0.2" in s, 10, "g groups by remote address")
    check(table(text).get("127.0.0.2", {}).get("REFUSED") == str(M_REFUSED),
          "peer 127.0.0.2: %d refused" % M_REFUSED, text)
    keys("g")
    wait_for(lambda s: "group: process" in s, 10, "g comes back to process")

    # Filter by typing.
    keys("/", "s", "r", "v")
    text = wait_for(lambda s: "filter: srv" in s, 10, "/ shows the typed filter")
    keys("Enter")
    text = wait_for(lambda s: "rows filtered out" in s, 10, "the filter hides rows")
    groups = list(table(text))
    check(groups and all("srv" in g for g in groups), "only rows matching 'srv': %s" % groups, text)
    keys("/", "Escape")
    text = wait_for(lambda s: "filtered out" not in s and any(k.startswith("topcli") for k in table(s)),
                    10, "Esc clears the filter")

    # Pause: the screen stands still while a second load runs, then catches up.
    keys("Space")
    wait_for(lambda s: "PAUSED" in s, 10, "space pauses")
    frozen = table(screen())
    load.start("client", str(N_FIN), str(M_REFUSED), str(K_RESET), str(C_CLOSE_WAIT), expect="done")
    time.sleep(3)
    still = table(screen())
    cli_f = next((r for k, r in frozen.items() if k.startswith("topcli")), {})
    cli_s = next((r for k, r in still.items() if k.startswith("topcli")), {})
    check(cli_f.get("CONNS") == cli_s.get("CONNS") == str(made), "paused: CONNS stays %d" % made)
    keys("p")
    # Rows are per process: the second client is a row of its own.
    text = wait_for(lambda s: [r["CONNS"] for k, r in table(s).items() if k.startswith("topcli")] ==
                    [str(made)] * 2, 15, "p resumes: the second client's row, CONNS %d" % made)
    check("PAUSED" not in text, "resumed")

    # Enter: the selected (first) row's recent connection stories.
    keys("Enter")
    # The first row: the server, which accepted both clients' connections.
    text = wait_for(lambda s: "recent connections of topsrv" in s, 10, "Enter opens the row's stories")
    check(" aborted " in text and " fin " in text, "the stories say how connections ended", text)
    keys("Escape")
    wait_for(lambda s: "GROUP" in s and "recent connections" not in s, 10, "Esc goes back to the table")

    # q: top exits and the terminal is the shell's again.
    keys("q")
    text = wait_for(lambda s: "GROUP" not in s, 15, "q quits")
    time.sleep(0.5)
    check(not alternate_on(), "after q, the alternate screen is left")
    keys("echo restored-$((40+2))", "Enter")
    wait_for(lambda s: "restored-42" in s and "echo restored-$((40+2))" in s, 10,
             "after q the shell echoes and runs typed commands")

    # SIGTERM: the same.
    keys("clear", "Enter")
    os.remove(pidfile)
    keys(command, "Enter")
    wait_for(lambda s: "GROUP" in s, 60, "top draws its screen again")
    pid = int(open(pidfile).read())
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda s: "GROUP" not in s, 15, "SIGTERM ends top")
    time.sleep(0.5)
    check(not alternate_on(), "after SIGTERM, the alternate screen is left")
    keys("echo term-$((40+3))", "Enter")
    wait_for(lambda s: "term-43" in s and "echo term-$((40+3))" in s, 10,
             "after SIGTERM the shell echoes and runs typed commands")
    return 2  # load rounds run so far


def lines_checks(tcpscope, load, rounds_before):
    """--json and --batch (stdout a file, not a terminal) against one more load each."""
    made = N_FIN + M_REFUSED + K_RESET + C_CLOSE_WAIT
    # JSON: a line per interval; the last one has the counts of this run's load.
    p = subprocess.Popen([tcpscope, "top", "--netns", NETNS, "--json", "--interval", "0.5",
                          "--stuck", "1", "--duration", "8"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)  # attached well before the load (loading takes ~1 s here)
    load.start("client", str(N_FIN), str(M_REFUSED), str(K_RESET), str(C_CLOSE_WAIT), expect="done")
    out, err = p.communicate(timeout=60)
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    check(p.returncode == 0 and len(lines) >= 10, "--json: a line per interval (%d, exit %s)" %
          (len(lines), p.returncode), err)
    last = lines[-1] if lines else {"rows": []}
    # This run's client: the topcli row with connections (the earlier ones
    # only hold their CLOSE_WAIT sockets).
    cli = max((r for r in last["rows"] if r["group"].startswith("topcli[")), key=lambda r: r["conns"],
              default={})
    srv = next((r for r in last["rows"] if r["group"].startswith("topsrv[")), {})
    check(cli.get("conns") == made and cli.get("ended", {}).get("fin") == N_FIN and
          cli["ended"]["refused"] == M_REFUSED and cli["ended"]["reset_received"] == K_RESET,
          "--json: topcli's conns and endings match the load", json.dumps(cli))
    check(srv.get("ended", {}).get("aborted") == K_RESET and sum(srv["reset_sent_reasons"].values()) == K_RESET,
          "--json: topsrv's aborted closes and their RST reasons", json.dumps(srv))
    check(cli.get("stuck") == C_CLOSE_WAIT and cli.get("stuck_oldest_state") == "CLOSE_WAIT",
          "--json: the client's CLOSE_WAIT sockets are stuck", json.dumps(cli))
    # The earlier clients' sockets are older than this top: stuck as well
    # (their owner may be unknown to it), and the census counts them all.
    held = C_CLOSE_WAIT * (rounds_before + 1)
    check(last["totals"]["sockets"].get("CLOSE_WAIT") == held and last["totals"]["stuck"] >= held,
          "--json: every CLOSE_WAIT still held is in the census and stuck (%d)" % held,
          json.dumps(last["totals"]))
    check(isinstance(cli.get("connect_p50_ms"), float) and cli["connect_p50_ms"] < 1000,
          "--json: a loopback connect p50 in ms", json.dumps(cli))
    rtt = cli.get("rtt_p50_ms")
    check(isinstance(rtt, float) and rtt < 100, "--json: a loopback RTT p50 in ms", json.dumps(cli))
    check(all(k in last for k in ("totals", "tcpscope", "rows")) and
          last["tcpscope"]["lost"].get("ringbuf_full") == 0, "--json: totals and losses", json.dumps(last)[:2000])
    check(last["totals"]["conns"] == made + N_FIN + K_RESET + C_CLOSE_WAIT,
          "--json: the totals count both ends", json.dumps(last["totals"]))

    # Batch: the same table as the screen, a frame per interval.
    p = subprocess.Popen([tcpscope, "top", "--netns", NETNS, "--batch", "--interval", "1",
                          "--iterations", "7", "--group", "port"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    load.start("client", str(N_FIN), str(M_REFUSED), str(K_RESET), str(C_CLOSE_WAIT), expect="done")
    out, err = p.communicate(timeout=60)
    # A frame begins with its header: "12:50:11 UTC  tcpscope top  group: ...".
    frames = [f for f in re.split(r"(?m)^(?=\d\d:\d\d:\d\d UTC  tcpscope top )", out) if f.strip()]
    check(p.returncode == 0 and len(frames) == 7, "--batch --iterations 7: 7 frames (%d)" % len(frames), err)
    rows = table(frames[-1] if frames else "")
    check(rows.get("->8081", {}).get("REFUSED") == str(M_REFUSED) and
          rows.get(":8082", {}).get("ABORT") == str(K_RESET) and
          rows.get(":8080", {}).get("FIN") == str(N_FIN),
          "--batch --group port: refused, aborted and FIN per port match the load", out[-3000:])


def rtt_checks(tcpscope, load):
    """The RTT columns against a real delay: tbf on the namespace's lo (2 Mbit/s) queues a
    300 kB send, and the client's smoothed RTT as `ss -ti` reads it just before its close
    (with SO_LINGER 0: no later sample) is what its row must show, within the buckets'
    3 % and ss's rounding."""
    # tbf drops a packet larger than its burst, and lo's 64 KiB MTU makes such segments:
    # an Ethernet MTU for this phase.
    run(["ip", "-n", NETNS, "link", "set", "lo", "mtu", "1500"])
    run(["ip", "netns", "exec", NETNS, "tc", "qdisc", "add", "dev", "lo", "root", "tbf",
         "rate", "2mbit", "burst", "16kb", "latency", "5s"])
    try:
        p = subprocess.Popen([tcpscope, "top", "--netns", NETNS, "--json", "--group", "port",
                              "--interval", "0.5", "--duration", "12"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        said = load.start("bulk", str(300 * 1024), expect=None)
        out, err = p.communicate(timeout=60)
    finally:
        run(["ip", "netns", "exec", NETNS, "tc", "qdisc", "del", "dev", "lo", "root"])
        run(["ip", "-n", NETNS, "link", "set", "lo", "mtu", "65536"])
    m = re.match(r"rtt ([0-9.]+)$", said)
    if not check(m is not None, "the bulk client read its RTT from ss (%r)" % said):
        return
    ss_ms = float(m.group(1))
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    row = next((r for r in (lines[-1]["rows"] if lines else []) if r["group"] == "->8084"), {})
    top_ms = row.get("rtt_p50_ms")
    check(ss_ms > 50, "tbf's queue made a long RTT (ss: %.1f ms)" % ss_ms)
    check(isinstance(top_ms, float) and abs(top_ms - ss_ms) <= 0.05 * ss_ms + 0.1,
          "top's RTT p50 for ->8084 is the socket's own (top %s ms, ss %.1f ms)" % (top_ms, ss_ms),
          json.dumps(row) + "\n" + err)


def main():
    tcpscope = sys.argv[1]
    if os.geteuid() != 0:
        print("SKIP: needs root")
        return 77
    if shutil.which("tmux") is None:
        print("SKIP: needs tmux (tools/install-deps.sh)")
        return 77
    run(["ip", "netns", "add", NETNS])
    load = Load()
    workdir = tempfile.mkdtemp(prefix=TAG)
    try:
        run(["ip", "-n", NETNS, "link", "set", "lo", "up"])
        load.start("server", expect="ready")
        env = dict(os.environ, PS1="$ ", TERM="xterm")
        subprocess.run(TMUX + ["-f", "/dev/null", "new-session", "-d", "-s", "top", "-x", "200", "-y", "50",
                               "bash --norc --noprofile"], check=True, env=env)
        rounds = screen_checks(tcpscope, load, workdir)
        lines_checks(tcpscope, load, rounds)
        rtt_checks(tcpscope, load)
    finally:
        subprocess.run(TMUX + ["kill-server"], capture_output=True)
        # The server's socket outlives it: removed, and tmux's directory
        # with it when nothing else is in it.
        sock_dir = os.path.join(os.environ.get("TMUX_TMPDIR", "/tmp"), "tmux-%d" % os.getuid())
        for path, remove in ((os.path.join(sock_dir, TAG), os.unlink), (sock_dir, os.rmdir)):
            try:
                remove(path)
            except OSError:
                pass
        load.stop()
        subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        print("%d check(s) failed: %s" % (len(failures), "; ".join(failures)))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
