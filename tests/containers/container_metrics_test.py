#!/usr/bin/python3
"""`tcpscope metrics --labels container` on real cgroups, laid out as the runtimes lay them out.

In a network namespace of the test's own, real processes make known
connections from three places: a Kubernetes pod's container as the kubelet's
systemd driver and containerd name it (its server and a client in the
container's scope, a second client in a cgroup below it), a podman
container (a client, and two connects to a closed port), and a host service
(a client). Two `tcpscope metrics --netns` count them, one without labels
and one with `--labels port,container`. One scrape of each must show:

- the active opens (CLOSE -> SYN_SENT) of each container under its ID, the
  host's under container_id="", the passive opens all under the pod's
  container (its server accepts them), the RSTs that answer the closed port
  under "?" (no socket: nobody's);
- the pod container's two cgroups merged into one series (one line per
  label set, holding both clients' connects);
- for every counter, the labelled series adding up, label set by label
  set, to the unlabelled ones, and those to the namespace's own counters
  (nstat: TcpActiveOpens, TcpPassiveOpens, TcpAttemptFails);
- tcpscope_container_info naming each container's runtime and the pod.

Everything the test made is removed: processes, cgroups, the namespace.
Needs root and a cgroup v2 mount; skips (77) without.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "metrics"))
import metrics_support as ms  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cgroup_support import cgroup2_for_test, remove_tree  # noqa: E402

POD_ID = "c0de" + "1" * 60
PODMAN_ID = "c0de" + "2" * 60
POD_UID = "7d3e1b52-9a4c-4f0e-8b6d-1c2a3e4f5a6b"
PORT, CLOSED = 7200, 7201
# Connections per client: the pod's two (its scope, its sub-cgroup), the
# podman container's, the host's.
POD_A, POD_B, PODMAN, HOST, REFUSED = 2, 3, 4, 5, 2

SERVER = """
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', %d)); s.listen(64); print(flush=True)
def serve(c):
    c.recv(10); c.send(b'y'); c.recv(10); c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
""" % PORT

CLIENT = """
import socket, sys
n, refused = int(sys.argv[1]), int(sys.argv[2])
for _ in range(n):
    c = socket.create_connection(('127.0.0.1', %d)); c.send(b'x'); c.recv(10); c.close()
for _ in range(refused):
    try:
        socket.create_connection(('127.0.0.1', %d))
    except ConnectionRefusedError:
        pass
print(flush=True); sys.stdin.read()
""" % (PORT, CLOSED)


def main():
    mount = cgroup2_for_test()
    if mount is None:
        return 77
    binary = sys.argv[1]
    top = os.path.join(mount, "tcpscope-mtest-%d" % os.getpid())
    pod_cg = os.path.join(top, "kubepods.slice", "kubepods-besteffort.slice",
                          "kubepods-besteffort-pod%s.slice" % POD_UID.replace("-", "_"),
                          "cri-containerd-%s.scope" % POD_ID)
    pod_sub = os.path.join(pod_cg, "worker")  # a cgroup the container made below its own
    podman_cg = os.path.join(top, "machine.slice", "libpod-%s.scope" % PODMAN_ID)
    host_cg = os.path.join(top, "system.slice", "host-client.service")
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            failures.append(what)

    procs, metrics = [], []
    ns = ms.Netns("tsc-cm-%d" % os.getpid())
    try:
        for cg in (pod_sub, podman_cg, host_cg):
            os.makedirs(cg)

        def in_cgroup(cg, script, *args):
            # Joins the cgroup, then becomes the program in the namespace:
            # every socket it makes is the cgroup's from the start.
            p = subprocess.Popen(["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec ip netns exec "$@"',
                                  cg, ns.name, "python3", "-c", script, *args],
                                 stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
            procs.append(p)
            return p

        plain = ms.Metrics(binary, "--netns", ns.name)
        metrics.append(plain)
        labelled = ms.Metrics(binary, "--netns", ns.name, "--labels", "port,container")
        metrics.append(labelled)
        before = ns.nstat()
        server = in_cgroup(pod_cg, SERVER)
        server.stdout.readline()
        clients = [in_cgroup(pod_cg, CLIENT, str(POD_A), "0"), in_cgroup(pod_sub, CLIENT, str(POD_B), "0"),
                   in_cgroup(podman_cg, CLIENT, str(PODMAN), str(REFUSED)), in_cgroup(host_cg, CLIENT, str(HOST), "0")]
        for c in clients:
            c.stdout.readline()
        time.sleep(1)  # the last closes end in softirq, after the calls return
        after = ns.nstat()
        p_text, l_text = plain.scrape(), labelled.scrape()
        p, l = ms.parse_text(p_text), ms.parse_text(l_text)

        def delta(name):
            return after.get(name, 0) - before.get(name, 0)

        def count(samples, name, **want):
            return sum(v for (n, labels), v in samples.items()
                       if n == name and all((k, w) in labels for k, w in want.items()))

        opens = "tcpscope_state_transitions_total"
        active = {c: count(l, opens, **{"from": "CLOSE", "to": "SYN_SENT", "container_id": c})
                  for c in (POD_ID, PODMAN_ID, "", "?")}
        check(active == {POD_ID: POD_A + POD_B, PODMAN_ID: PODMAN + REFUSED, "": HOST, "?": 0},
              "active opens by container: the pod's two cgroups, podman's, the host's (%s)" %
              {c[:8]: v for c, v in active.items()})
        check(sum(active.values()) == delta("TcpActiveOpens") == count(p, opens, **{"from": "CLOSE", "to": "SYN_SENT"}),
              "active opens add up to the unlabelled count and nstat's TcpActiveOpens (%d)" % delta("TcpActiveOpens"))
        passive = {c: count(l, opens, **{"from": "LISTEN", "to": "SYN_RECV", "container_id": c})
                   for c in (POD_ID, PODMAN_ID, "", "?")}
        total = POD_A + POD_B + PODMAN + HOST
        check(passive == {POD_ID: total, PODMAN_ID: 0, "": 0, "?": 0} and total == delta("TcpPassiveOpens"),
              "passive opens all the pod's (its server accepts them): %s, TcpPassiveOpens %d" %
              ({c[:8]: v for c, v in passive.items()}, delta("TcpPassiveOpens")))
        fails = count(l, opens, **{"from": "SYN_SENT", "to": "CLOSE", "container_id": PODMAN_ID})
        check(fails == REFUSED == delta("TcpAttemptFails"),
              "the refused connects are podman's (%d), TcpAttemptFails %d" % (fails, delta("TcpAttemptFails")))
        no_socket = count(l, "tcpscope_resets_sent_total", reason="NO_SOCKET", container_id="?")
        check(no_socket == REFUSED, "the RSTs with no socket are nobody's: container_id=\"?\" (%d)" % no_socket)

        lines = [ln.split(" ")[0] for ln in l_text.splitlines() if ln and not ln.startswith("#")]
        merged = [ln for ln in lines if ln.startswith(opens + '{from="CLOSE",to="SYN_SENT"') and POD_ID in ln]
        check(len(lines) == len(set(lines)) and len(merged) == 1,
              "one line per label set: the pod's two cgroups are one series (%d lines, %d distinct; %d of "
              "the pod's connects)" % (len(lines), len(set(lines)), len(merged)))

        # Every counter, label set by label set without port and container.
        mismatched = []
        counted = {"tcpscope_%s_total" % f for f in ("state_transitions", "resets_sent", "resets_received",
                                                      "retransmits", "socket_errors", "sigpipe", "drops")}
        for (name, labels), value in p.items():
            if name not in counted:
                continue
            got = sum(v for (n, ls), v in l.items()
                      if n == name and {kv for kv in ls if kv[0] not in ("port", "container_id")} == labels)
            if got != value:
                mismatched.append("%s%s: %s labelled, %s not" % (name, sorted(labels), got, value))
        check(not mismatched and len([k for k in p if k[0] == opens]) >= 5,
              "every counter's labelled series add up to its unlabelled one%s" %
              (": " + "; ".join(mismatched[:5]) if mismatched else ""))

        info = {dict(ls)["container_id"]: dict(ls) for (n, ls), v in l.items() if n == "tcpscope_container_info" and v == 1}
        check(set(info) == {POD_ID, PODMAN_ID} and
              (info[POD_ID]["runtime"], info[POD_ID]["pod_uid"], info[POD_ID]["pod_qos"]) ==
              ("containerd", POD_UID, "besteffort") and
              (info[PODMAN_ID]["runtime"], info[PODMAN_ID]["pod_uid"]) == ("podman", ""),
              "tcpscope_container_info: the pod's containerd container and the podman one (%s)" %
              sorted((c[:8], i.get("runtime"), i.get("pod_uid")) for c, i in info.items()))
        for m in metrics:
            rc, err = m.stop()
            check(rc == 0, "tcpscope metrics exits 0 (%d): %s" % (rc, err.strip()[-300:]))
    finally:
        for m in metrics:
            if m.proc.poll() is None:
                m.proc.kill()
                m.proc.wait()
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        ns.close()
        remove_tree(top)
    check(not os.path.exists(top), "the test's cgroups are gone")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
