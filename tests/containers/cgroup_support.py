"""The cgroup v2 tree as the container tests (and tools/metrics-sizing.py) use it: where it
is mounted, and removing a tree of cgroups a test made once its processes are gone."""
import os
import time


def cgroup2_mount():
    """The mount point of the cgroup v2 hierarchy's root (/sys/fs/cgroup, or
    /sys/fs/cgroup/unified on a hybrid host), or None."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            head, _, tail = line.partition(" - ")
            if tail.split()[0] == "cgroup2" and head.split()[3] == "/":
                return head.split()[4]
    return None


def remove_tree(top):
    """Removes the cgroup top and every cgroup below it, deepest first. A cgroup can be
    removed only once its last process has gone, which the kernel notes a moment after
    the process is reaped: each is tried for up to 5 s. True when top is gone."""
    if os.path.isdir(top):
        for root, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count("/")):
            for _ in range(50):
                try:
                    os.rmdir(root)
                    break
                except OSError:
                    time.sleep(0.1)
    return not os.path.exists(top)


def cgroup2_for_test():
    """The cgroup2 mount for a test that makes cgroups and loads BPF programs, or None
    once it has said why the test skips (no root, no cgroup v2)."""
    if os.geteuid() != 0:
        print("SKIP: needs root to make cgroups and load BPF programs")
        return None
    mount = cgroup2_mount()
    if mount is None:
        print("SKIP: no cgroup v2 mount")
    return mount
