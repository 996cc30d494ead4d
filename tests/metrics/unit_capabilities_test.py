#!/usr/bin/env python3
"""The systemd unit's service, run under exactly the capabilities the unit grants.

systemd is not PID 1 on these machines, so the unit itself cannot be started here; what
decides whether the service works is its capability set, and that can be reproduced:
setpriv runs the unit's ExecStart (its listen address moved to a free port, plus --stuck 1)
with the bounding set the unit names and no_new_privs, as root, which is what systemd does
for a root service with CapabilityBoundingSet (a root exec gets exactly the bounding set).
The service must then
  - start and serve a scrape,
  - hold no capability outside the unit's set (CapEff of its process),
  - name the owner of a socket older than itself: a CLOSE_WAIT socket made before it started,
    held by a process with a name of its own, shows under that name in tcpscope_stuck_sockets.
The hardening settings that need systemd (ProtectSystem, ...) are checked by
systemd_unit_test.sh (systemd-analyze) only.
Exit 0 on success, 1 on failure, 77 (skipped) without root.
"""
import os
import re
import shlex
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metrics_support import fetch, free_port, parse_text, require_root  # noqa: E402

# Capability names as setpriv spells them, bit numbers as /proc/PID/status counts them.
CAP_BITS = {"CAP_SYS_PTRACE": 19, "CAP_SYS_ADMIN": 21, "CAP_SYS_RESOURCE": 24,
            "CAP_NET_ADMIN": 12, "CAP_PERFMON": 38, "CAP_BPF": 39}

# A process named for this test holds a CLOSE_WAIT socket: its peer closed, it never does.
LEAKER = r"""
import ctypes, socket, sys, time
ctypes.CDLL(None).prctl(15, b"tsunit-leaker", 0, 0, 0)
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
client = socket.create_connection(listener.getsockname())
server, _ = listener.accept()
client.close()
print(listener.getsockname()[1], flush=True)
time.sleep(120)
"""


def unit_settings(path):
    settings = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                settings[key] = value
    return settings


def main():
    require_root()
    binary, unit = sys.argv[1], sys.argv[2]
    settings = unit_settings(unit)
    caps = settings["CapabilityBoundingSet"].split()
    unknown = [c for c in caps if c not in CAP_BITS]
    if unknown:
        print(f"FAIL: the unit names capabilities this test does not know: {unknown}")
        return 1
    argv = shlex.split(settings["ExecStart"])
    argv[0] = binary
    port = free_port()
    argv = [re.sub(r"^127\.0\.0\.1:\d+$", f"127.0.0.1:{port}", a) for a in argv] + ["--stuck", "1"]
    if settings.get("NoNewPrivileges") != "yes":
        print("FAIL: the unit should set NoNewPrivileges=yes")
        return 1

    leaker = subprocess.Popen([sys.executable, "-c", LEAKER], stdout=subprocess.PIPE, text=True)
    service = None
    failures = []
    try:
        leak_port = int(leaker.stdout.readline())
        bounding = "-all," + ",".join("+" + c[4:].lower() for c in caps)
        service = subprocess.Popen(["setpriv", "--bounding-set", bounding, "--inh-caps", "-all",
                                    "--no-new-privs", "--", *argv],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        url = f"http://127.0.0.1:{port}/metrics"
        deadline = time.time() + 60
        body = None
        while time.time() < deadline and body is None:
            if service.poll() is not None:
                failures.append(f"the service exited {service.returncode}: {service.stderr.read()}")
                break
            try:
                body = fetch(url, timeout=5)[2]
            except OSError:
                time.sleep(0.2)
        if body is None and not failures:
            failures.append("the service did not answer within 60 s")
        if body is not None:
            with open(f"/proc/{service.pid}/status") as f:
                cap_eff = int(re.search(r"^CapEff:\s*([0-9a-f]+)", f.read(), re.M).group(1), 16)
            allowed = sum(1 << CAP_BITS[c] for c in caps)
            if cap_eff & ~allowed:
                failures.append(f"CapEff {cap_eff:016x} holds more than the unit's set {allowed:016x}")
            # The stuck gauge needs a second past the start; the socket is older than the service.
            owner_seen = False
            for _ in range(20):
                time.sleep(0.5)
                samples = parse_text(fetch(url, timeout=5)[2])
                owner_seen = any(name == "tcpscope_stuck_sockets" and value >= 1 and
                                 dict(labels).get("comm") == "tsunit-leaker" and
                                 dict(labels).get("state") == "CLOSE_WAIT"
                                 for (name, labels), value in samples.items())
                if owner_seen:
                    break
            if not owner_seen:
                failures.append("the CLOSE_WAIT socket made before the service (port "
                                f"{leak_port}) is not named after its owner tsunit-leaker")
            print(f"service: CapEff {cap_eff:016x} (unit: {' '.join(caps)}), "
                  f"older socket's owner named: {owner_seen}")
    finally:
        if service and service.poll() is None:
            service.terminate()
            try:
                service.wait(timeout=15)
            except subprocess.TimeoutExpired:
                service.kill()
                service.wait()
        leaker.kill()
        leaker.wait()
    for f in failures:
        print("FAIL:", f)
    print("ok" if not failures else "FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
