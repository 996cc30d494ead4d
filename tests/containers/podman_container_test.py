#!/usr/bin/python3
"""A real container: podman starts it, and tcpscope names its events after the ID podman gave it.

containers.identity and containers.metrics lay cgroups out by hand as the runtimes document
them; this test lets a runtime do it. The image is made here, nothing pulled: Debian's
busybox-static as the whole root file system, `podman import`ed. The container joins a
network namespace of the test's own (`--network ns:...`), where a server of the test's (on
the host, in no container) listens, waits for the test's signal (a file on a volume), then
connects three times with busybox's `nc`. Podman's own answer (`podman run -d` prints the
container's ID) is the ground truth for:

- `trace --json --netns`: every event of the container's `nc` names that ID and the runtime
  `podman`; the server's events name no container; no other process is given the ID;
- `trace --container <its first 12 digits>`: the container's events and nothing else (the
  kernel's cgroup subtree filter on the cgroup podman made);
- `metrics --labels container`: the container's three connects counted under
  `container_id="<ID>"`, the server's three accepts under `container_id=""`, and
  `tcpscope_container_info` naming the ID with runtime `podman`.

Podman 4.3's default runtime (crun) cannot start a container on a host whose hard rlimits
are below podman's defaults or whose cgroups are hybrid (these machines): the test then runs
it with runc and rlimits no higher than podman's own, and says so.
Removes what it made: the container, the image, the namespace, its files.
Needs root, podman and busybox-static; skips (77) without.
Usage: podman_container_test.py TCPSCOPE_BINARY WORK_DIR
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "metrics"))
import metrics_support as ms  # noqa: E402

BUSYBOX = "/bin/busybox"
PORT = 7210
CONNECTS = 3
SERVER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", %d)); s.listen(8); print(flush=True)
for _ in range(%d):
    c, _ = s.accept(); c.recv(10); c.close()
print(flush=True); sys.stdin.read()
""" % (PORT, CONNECTS)
# In the container: wait for the test, connect, say done, and stay until the test has
# scraped (metrics names a cgroup at a scrape: a container gone before any scrape named
# it is counted under "?", docs/metrics.md).
CONTAINER = ("while [ ! -e /sig/go ]; do sleep 0.1; done; "
             "for i in %s; do echo x | nc 127.0.0.1 %d; done; touch /sig/done; "
             "while [ ! -e /sig/end ]; do sleep 0.1; done"
             % (" ".join(str(i) for i in range(CONNECTS)), PORT))


def podman(*argv, check=True):
    return subprocess.run(["podman", *argv], capture_output=True, text=True, check=check)


def hard_limit(name, cap):
    with open("/proc/self/limits") as f:
        for line in f:
            if line.startswith(name):
                value = line[len(name):].split()[1]
                return cap if value == "unlimited" else min(int(value), cap)
    return cap


def run_options(image):
    """podman run's options that start a container here: none, else runc with rlimits no
    higher than this process's hard limits and podman's own (podman 4.3 lowers its
    RLIMIT_NPROC to 32768 before it starts the runtime)."""
    probe = podman("run", "--rm", image, "true", check=False)
    if probe.returncode == 0:
        print("podman run works with its default runtime", flush=True)
        return []
    nofile, nproc = hard_limit("Max open files", 1048576), hard_limit("Max processes", 32768)
    opts = ["--ulimit", "nofile=%d:%d" % (nofile, nofile), "--ulimit", "nproc=%d:%d" % (nproc, nproc)]
    if shutil.which("runc"):
        opts = ["--runtime", "runc"] + opts
    print("podman's default runtime fails here (%s); with %s:" %
          (probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else probe.returncode, " ".join(opts)),
          flush=True)
    again = podman("run", "--rm", *opts, image, "true", check=False)
    if again.returncode != 0:
        raise RuntimeError("podman cannot start a container here: " + again.stderr.strip())
    return opts


def make_image(work, name):
    """busybox-static as a root file system, imported as an image."""
    root = os.path.join(work, "rootfs")
    os.makedirs(os.path.join(root, "bin"))
    shutil.copy(BUSYBOX, os.path.join(root, "bin", "busybox"))
    for applet in ("sh", "nc", "sleep", "touch", "echo", "[", "true"):
        os.symlink("busybox", os.path.join(root, "bin", applet))
    for d in ("sig", "proc", "sys", "dev", "etc", "tmp"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    tar = os.path.join(work, "rootfs.tar")
    subprocess.run(["tar", "-C", root, "-cf", tar, "."], check=True)
    podman("import", "-q", tar, name)


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (podman's storage, BPF programs)")
        return 77
    for tool in ("podman", "tar"):
        if shutil.which(tool) is None:
            print("SKIP: %s not found (apt-get install podman runc, or tools/install-deps.sh)" % tool)
            return 77
    if not os.path.exists(BUSYBOX):
        print("SKIP: %s not found (apt-get install busybox-static)" % BUSYBOX)
        return 77
    binary, work_root = sys.argv[1], sys.argv[2]
    tag = "tsc-podman-%d" % os.getpid()
    image = "localhost/tcpscope-test-busybox:%d" % os.getpid()
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            failures.append(what)

    work = tempfile.mkdtemp(prefix="podman-test-", dir=work_root)
    sig = os.path.join(work, "sig")
    os.makedirs(sig)
    procs, metrics, cid = [], None, None
    ns = ms.Netns(tag)
    try:
        make_image(work, image)
        opts = run_options(image)
        server = ns.popen("python3", "-c", SERVER, stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
        procs.append(server)
        server.stdout.readline()
        cid = podman("run", "-d", "--name", tag, *opts, "--network", "ns:" + ns.path,
                     "-v", sig + ":/sig", image, "sh", "-c", CONTAINER).stdout.strip()
        check(len(cid) == 64 and all(c in "0123456789abcdef" for c in cid), "podman's container ID: " + cid)

        def trace(*extra):
            p = subprocess.Popen([binary, "trace", "--json", *extra], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            procs.append(p)
            return p

        everything = trace("--netns", tag)
        only_it = trace("--container", cid[:12])
        metrics = ms.Metrics(binary, "--netns", tag, "--labels", "container")
        time.sleep(3)  # the traces attached (they say nothing until their first event)
        for p in (everything, only_it):
            check(p.poll() is None, "trace %s is running (%s)" % (p.args[3:], "" if p.poll() is None
                                                                  else p.stderr.read().strip()))
        with open(os.path.join(sig, "go"), "w"):
            pass
        deadline = time.time() + 30
        while not os.path.exists(os.path.join(sig, "done")) and time.time() < deadline:
            time.sleep(0.1)
        check(os.path.exists(os.path.join(sig, "done")), "the container made its %d connections" % CONNECTS)
        server.stdout.readline()
        time.sleep(1)  # the last closes end in softirq, after the calls return
        scraped = ms.parse_text(metrics.scrape())
        with open(os.path.join(sig, "end"), "w"):
            pass
        for p in (everything, only_it):
            p.send_signal(signal.SIGINT)
        outs = [p.communicate(timeout=20)[0] for p in (everything, only_it)]
        events = [[json.loads(line) for line in out.splitlines() if line.startswith("{")] for out in outs]
        events = [[e for e in evs if e.get("type") not in ("summary", "lost")] for evs in events]

        mine = [e for e in events[0] if e.get("comm") == "nc"]
        theirs = [e for e in events[0] if e.get("comm") != "nc"]
        opens = [e for e in mine if e.get("type") == "state" and e.get("new_state") == "SYN_SENT"]
        check(len(opens) == CONNECTS, "trace: the container's nc opened %d connections (%d seen, %d events)"
              % (CONNECTS, len(opens), len(mine)))
        bad = [e for e in mine if (e.get("container_id"), e.get("container_runtime")) != (cid, "podman")]
        check(not bad, "each of the container's %d events names podman's ID and runtime (%d do not%s)" %
              (len(mine), len(bad), ": " + json.dumps(bad[0]) if bad else ""))
        server_events = [e for e in theirs if e.get("pid") == server.pid or e.get("comm") == "python3"]
        check(len(server_events) > 0 and not any("container_id" in e for e in server_events),
              "the server's %d events (on the host) name no container" % len(server_events))
        claimed = [e for e in theirs if e.get("container_id") == cid]
        check(not claimed, "no other process is given the container's ID (%d are)" % len(claimed))
        check(len(events[1]) == len(mine) and all(e.get("comm") == "nc" for e in events[1]),
              "trace --container %s: the container's %d events and nothing else (%d)" %
              (cid[:12], len(mine), len(events[1])))

        def count(name, **want):
            return sum(v for (n, labels), v in scraped.items()
                       if n == name and all((k, w) in labels for k, w in want.items()))

        transitions = "tcpscope_state_transitions_total"
        counted = count(transitions, **{"from": "CLOSE", "to": "SYN_SENT", "container_id": cid})
        check(counted == CONNECTS, "metrics: %d connects under container_id=<podman's ID> (%d)" % (CONNECTS, counted))
        accepted = count(transitions, **{"from": "LISTEN", "to": "SYN_RECV", "container_id": ""})
        check(accepted == CONNECTS, "metrics: the server's %d accepts under container_id=\"\" (%d)" %
              (CONNECTS, accepted))
        info = count("tcpscope_container_info", container_id=cid, runtime="podman")
        check(info == 1, "metrics: tcpscope_container_info names the ID with runtime podman (%d)" % info)
    finally:
        if metrics:
            metrics.stop()
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        podman("rm", "-f", "-t", "0", tag, check=False)
        podman("rmi", image, check=False)
        ns.close()
        shutil.rmtree(work, ignore_errors=True)
    left = podman("ps", "-a", "--filter", "name=" + tag, "--format", "{{.ID}}", check=False).stdout.strip()
    check(not left, "the container is gone")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
