#!/usr/bin/env python3
"""Writes the container runtime's default seccomp profile with bpf() and
perf_event_open() allowed, for tcpscope's container (docs/packaging.md,
"The container image").

    packaging/image/seccomp-bpf.py [DEFAULT_PROFILE] > tcpscope-seccomp.json

DEFAULT_PROFILE: the runtime's own default, /usr/share/containers/seccomp.json
(podman, buildah, cri-o) unless given; docker's and containerd's have the
same layout.

The default profiles allow these two calls only to a container that has
CAP_SYS_ADMIN (podman 4.3's in Debian 12, containerd's before 1.7); without
it they fail with EPERM whatever the capabilities, so a container given
CAP_BPF and CAP_PERFMON instead of CAP_SYS_ADMIN cannot load a program. This
profile lets the calls through to the kernel, whose own checks
(CAP_BPF, CAP_PERFMON) then decide. Everything else is the default's:
unlike seccomp=unconfined, the other calls the default blocks stay blocked.
"""
import json
import sys

ALLOWED = ("bpf", "perf_event_open")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/containers/seccomp.json"
    with open(path) as f:
        profile = json.load(f)
    rules = []
    for rule in profile.get("syscalls", []):
        names = [n for n in rule.get("names", []) if n not in ALLOWED]
        if names:
            rule["names"] = names
            rules.append(rule)
    rules.append({"names": list(ALLOWED), "action": "SCMP_ACT_ALLOW", "args": [],
                  "comment": "tcpscope: the kernel's CAP_BPF and CAP_PERFMON checks decide",
                  "includes": {}, "excludes": {}})
    profile["syscalls"] = rules
    json.dump(profile, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
