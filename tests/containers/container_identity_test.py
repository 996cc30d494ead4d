#!/usr/bin/python3
"""Container and pod identities on real cgroups, laid out as the runtimes lay them out.

The test makes, under the cgroup v2 mount, a directory of its own holding a
Kubernetes pod's container as the kubelet's systemd driver and containerd
name it (kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<UID>.slice/
cri-containerd-<ID>.scope) and a podman container (machine.slice/libpod-<ID>.scope),
and moves a real server into the first and a real client into the second,
both in a network namespace of the test's own. The kernel puts their
sockets' events in those cgroups; tcpscope must name each event's container:

- `trace --json` (the namespace only): every event of the server's process
  carries its container ID, containerd, the pod's UID and QoS class; every
  event of the client's carries its podman ID; nothing else claims either.
- `trace --container <12 digits of the server's ID>`: the server's events
  and none of the client's (the kernel's cgroup subtree filter).
- `trace --connections`: each connection's story names its owner's container.
- `trace --stuck 1`: the server's fourth connection, left in CLOSE_WAIT, is
  reported stuck with the server's container.
- `--container` with no match, a prefix two containers share, or what is
  not an ID: exit 2 and a message saying which.

Everything the test made is removed: processes, cgroups, the namespace.
Needs root and a cgroup v2 mount; skips (77) without.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cgroup_support import cgroup2_for_test, remove_tree  # noqa: E402

SERVER_ID = "5e1f" + "a" * 60
CLIENT_ID = "5e1f" + "b" * 60  # shares "5e1f" with the server: an ambiguous prefix
POD_UID = "0f6c9a2e-4b1d-4c7a-9e3f-2a5b8c1d7e40"


def main():
    mount = cgroup2_for_test()
    if mount is None:
        return 77
    binary = sys.argv[1]
    tag = "tsc-ct-%d" % os.getpid()
    top = os.path.join(mount, "tcpscope-test-%d" % os.getpid())
    pod = os.path.join(top, "kubepods.slice", "kubepods-burstable.slice",
                       "kubepods-burstable-pod%s.slice" % POD_UID.replace("-", "_"))
    server_cg = os.path.join(pod, "cri-containerd-%s.scope" % SERVER_ID)
    client_cg = os.path.join(top, "machine.slice", "libpod-%s.scope" % CLIENT_ID)
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            failures.append(what)

    procs = []
    subprocess.run(["ip", "netns", "add", tag], check=True)
    try:
        subprocess.run(["ip", "-n", tag, "link", "set", "lo", "up"], check=True)
        os.makedirs(server_cg)
        os.makedirs(client_cg)

        def in_cgroup(cg, script):
            # The shell joins the cgroup, then becomes the program in the
            # namespace: every socket it makes is the cgroup's from the start.
            return subprocess.Popen(["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec ip netns exec "$1" '
                                     'python3 -c "$2"', cg, tag, script],
                                    stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)

        def trace(*extra):
            p = subprocess.Popen([binary, "trace", "--json", "--netns", tag, *extra], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            procs.append(p)
            return p

        # Usage errors first: nothing to wait for.
        for arg, says in (("0123456789ab", "no running container's ID starts with"),
                          ("5e1f", "matches 2 containers"),
                          ("web-1", "is not a container ID")):
            r = subprocess.run([binary, "trace", "--container", arg, "--duration", "1"],
                               capture_output=True, text=True, timeout=30)
            check(r.returncode == 2 and says in r.stderr,
                  "--container %s: exit %d, %s" % (arg, r.returncode, r.stderr.strip()))

        everything = trace("--stuck", "1")
        only_server = trace("--container", SERVER_ID[:12])
        stories = trace("--connections")
        time.sleep(3)  # attached (a trace says nothing until its first event)
        server = in_cgroup(server_cg, "import socket, sys\n"
                           "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                           "s.bind(('127.0.0.1', 7100)); s.listen(4); print(flush=True)\n"
                           "for _ in range(3):\n"
                           "    c, _ = s.accept(); c.recv(10); c.close()\n"
                           "kept, _ = s.accept()\n"  # its peer closes; kept stays in CLOSE_WAIT
                           "sys.stdin.read()\n")
        procs.append(server)
        server.stdout.readline()
        client = in_cgroup(client_cg, "import socket, sys\n"
                           "for _ in range(3):\n"
                           "    c = socket.create_connection(('127.0.0.1', 7100)); c.send(b'x'); c.recv(10); c.close()\n"
                           "socket.create_connection(('127.0.0.1', 7100)).close()\n"
                           "print(flush=True); sys.stdin.read()\n")
        procs.append(client)
        client.stdout.readline()
        time.sleep(3)  # the CLOSE_WAIT past --stuck 1 (sock_diag once a second), the records flushed
        server_pid, client_pid = server.pid, client.pid
        for p in (everything, only_server, stories):
            p.send_signal(signal.SIGINT)
        outs = [p.communicate(timeout=20)[0] for p in (everything, only_server, stories)]
        events = [[json.loads(line) for line in out.splitlines() if line.startswith("{")] for out in outs]

        def of(evs, pid):
            return [e for e in evs if e.get("pid") == pid and e.get("type") not in ("summary", "lost")]

        srv, cli = of(events[0], server_pid), of(events[0], client_pid)
        check(len(srv) >= 6 and len(cli) >= 6,
              "trace saw the server's and the client's connections (%d and %d events)" % (len(srv), len(cli)))
        bad = [e for e in srv if (e.get("container_id"), e.get("container_runtime"), e.get("pod_uid"),
                                  e.get("pod_qos")) != (SERVER_ID, "containerd", POD_UID, "burstable")]
        check(not bad, "each server event names its containerd container, pod and QoS (%d do not%s)" %
              (len(bad), ": " + json.dumps(bad[0]) if bad else ""))
        bad = [e for e in cli if (e.get("container_id"), e.get("container_runtime"), e.get("pod_uid")) !=
               (CLIENT_ID, "podman", None)]
        check(not bad, "each client event names its podman container and no pod (%d do not%s)" %
              (len(bad), ": " + json.dumps(bad[0]) if bad else ""))
        stuck = [e for e in srv if e.get("type") == "stuck"]
        check(len(stuck) >= 1 and stuck[0].get("state") == "CLOSE_WAIT",
              "trace --stuck 1: the server's CLOSE_WAIT socket reported stuck, with its container (%s)" %
              (json.dumps(stuck[0]) if stuck else "none"))
        others = [e for e in events[0] if e.get("container_id") in (SERVER_ID, CLIENT_ID)
                  and e.get("pid") not in (server_pid, client_pid)]
        check(not others, "no other process is given either container (%d are)" % len(others))
        filtered = [e for e in events[1] if e.get("type") not in ("summary", "lost")]
        srv_events = [e for e in srv if e.get("type") != "stuck"]  # the filtered trace has no --stuck
        check(len(of(events[1], server_pid)) == len(srv_events) and len(filtered) == len(srv_events),
              "--container %s: the server's %d events and nothing else (%d, %d of the server's)" %
              (SERVER_ID[:12], len(srv_events), len(filtered), len(of(events[1], server_pid))))
        conns = [e for e in events[2] if e.get("type") == "connection"]
        named = {(e.get("pid"), e.get("container_id"), e.get("pod_uid")) for e in conns}
        # Six closed both ways; the client's fourth, whose peer stays in
        # CLOSE_WAIT, ends too when its orphan in FIN_WAIT2 becomes a
        # timewait mini-socket (not when the ACK came while close() held it).
        check(len(conns) in (6, 7) and named == {(server_pid, SERVER_ID, POD_UID), (client_pid, CLIENT_ID, None)},
              "trace --connections: %d stories, each naming its owner's container (%s)" %
              (len(conns), sorted(map(str, named))))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        subprocess.run(["ip", "netns", "del", tag], check=False)
        remove_tree(top)
    left = os.path.exists(top)
    check(not left, "the test's cgroups are gone")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
