#!/usr/bin/env python3
"""Soak: connection churn for a long time under `tcpscope trace --json --output FILE`.

Not part of `make test`. Usage (root, after `make test` built everything):
    python3 tests/soak/run_soak.py build [--minutes 10]

Checks, and prints with the numbers:
  - zero events lost (the summary's "lost");
  - the tracer's RSS and its map of listening sockets stay flat: the last third of the
    samples may not exceed the first third's maximum by more than 10% (RSS) or by more
    than the listeners alive at any moment (map). Per-socket state needs no check: it
    lives in socket-local storage, which the kernel frees with the socket;
  - the state events of the churn's namespaces equal the transitions the load made:
    10 per connection (client: CLOSE->SYN_SENT->ESTABLISHED->CLOSE_WAIT->LAST_ACK->CLOSE;
    server: LISTEN->SYN_RECV->ESTABLISHED->FIN_WAIT1->FIN_WAIT2->CLOSE) plus 2 per churn
    run for its listener (CLOSE->LISTEN, LISTEN->CLOSE), counting the events that name
    the load's process as owner or as the running task;
  - every one of those names the load as its owner (attribution).
Exit status 0 when every check holds.
"""
import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def json_value(line, key):
    """The text of a top-level value in one JSON line, without parsing it all."""
    at = line.index(f'"{key}":') + len(key) + 3
    if line[at] == '"':
        return line[at + 1:line.index('"', at + 1)]
    end = at
    while line[end] not in ",}":
        end += 1
    return line[at:end]


# The two paths a churn connection takes: client, then server side.
USUAL_PATHS = {
    ("CLOSE>SYN_SENT", "SYN_SENT>ESTABLISHED", "ESTABLISHED>CLOSE_WAIT", "CLOSE_WAIT>LAST_ACK",
     "LAST_ACK>CLOSE"),
    ("LISTEN>SYN_RECV", "SYN_RECV>ESTABLISHED", "ESTABLISHED>FIN_WAIT1", "FIN_WAIT1>FIN_WAIT2",
     "FIN_WAIT2>CLOSE"),
    ("CLOSE>LISTEN", "LISTEN>CLOSE"),
}


def map_id_by_name(pid, name):
    """The id of the tracer's map called `name`, from its file descriptors."""
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        except OSError:
            continue
        if "map_id" not in info:
            continue
        out = subprocess.run(["bpftool", "map", "show", "id", info["map_id"], "--json"],
                             capture_output=True, text=True)
        if out.returncode == 0 and json.loads(out.stdout).get("name") == name:
            return info["map_id"]
    return None


def map_entries(map_id):
    out = subprocess.run(["bpftool", "map", "dump", "id", map_id, "--json"],
                         capture_output=True, text=True)
    return len(json.loads(out.stdout)) if out.returncode == 0 else -1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build_dir", nargs="?", default="build")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--connections-per-run", type=int, default=5000)
    ap.add_argument("--sample-seconds", type=float, default=15.0)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run_soak: needs root (it loads BPF programs)")
    tcpscope = os.path.join(args.build_dir, "tcpscope")
    churn = os.path.join(args.build_dir, "tcpscope_churn")
    for path in (tcpscope, churn):
        if not os.access(path, os.X_OK):
            sys.exit(f"run_soak: {path} not found: build first (make test)")

    workdir = tempfile.mkdtemp(prefix="tcpscope-soak-")
    output = os.path.join(workdir, "events.jsonl")
    # Everything is traced and the load's events are picked out afterwards:
    # a --comm filter would count only the events attributed to the load,
    # and mix up delivery with attribution. Other activity on the host may
    # reuse a finished churn run's namespace inode: its events are told
    # apart by the task names they carry.
    tracer = subprocess.Popen([tcpscope, "trace", "--json", "--output", output],
                              stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        map_id = map_id_by_name(tracer.pid, "listeners")
        samples = []  # (seconds, rss KiB, map entries)
        # Transitions each namespace should show (an inode can be reused
        # by a later run: its expectations add up).
        expected_by_netns = collections.Counter()
        connections, runs, errors = 0, 0, 0
        start = time.monotonic()
        next_sample = start
        while time.monotonic() - start < args.minutes * 60:
            out = subprocess.run([churn, "--mode", "close", "--connections",
                                  str(args.connections_per_run)], capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"run_soak: churn failed: {out.stderr.strip()}")
            result = json.loads(out.stdout.strip().splitlines()[-1])
            expected_by_netns[result["netns_inode"]] += 10 * result["connections"] + 2
            connections += result["connections"]
            errors += result["errors"]
            runs += 1
            if time.monotonic() >= next_sample:
                samples.append((round(time.monotonic() - start), rss_kib(tracer.pid),
                                map_entries(map_id) if map_id else -1))
                print(f"t={samples[-1][0]:>4}s rss={samples[-1][1]} KiB listeners map={samples[-1][2]} "
                      f"connections={connections}", flush=True)
                next_sample += args.sample_seconds
        samples.append((round(time.monotonic() - start), rss_kib(tracer.pid),
                        map_entries(map_id) if map_id else -1))
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=30)

    # Ten minutes of churn write tens of millions of lines: read the keys
    # needed without parsing each line as a whole. Each socket's path (its
    # transitions by cookie) is followed, so that a count that differs
    # points at the sockets that took another path.
    seen_by_netns, summary = collections.Counter(), None
    paths, other_paths = {}, collections.Counter()
    other_examples = {}
    attributed = 0  # of those, how many name the load as their process
    state_prefix = '{"v":1,"type":"state",'
    name = os.path.basename(churn)[:15]
    as_owner, as_current = f'"comm":"{name}"', f'"cur_comm":"{name}"'
    with open(output) as f:
        for line in f:
            if line.startswith(state_prefix):
                at = line.index('"netns":') + 8
                inode = int(line[at:line.index(",", at)])
                if inode not in expected_by_netns:
                    continue
                owner = as_owner in line
                if owner or as_current in line:
                    seen_by_netns[inode] += 1
                    attributed += owner
                    cookie = json_value(line, "cookie")
                    new = json_value(line, "new_state")
                    paths.setdefault(cookie, []).append(json_value(line, "old_state") + ">" + new)
                    if new == "CLOSE":
                        path = tuple(paths.pop(cookie))
                        if path not in USUAL_PATHS:
                            other_paths[" ".join(path)] += 1
                            other_examples.setdefault(" ".join(path), line.strip())
            elif '"type":"summary"' in line:
                summary = json.loads(line)
    expected = sum(expected_by_netns.values())
    state_events = sum(seen_by_netns.values())
    # Where the count differs, which runs: the first place to look.
    mismatched = {str(inode): {"expected": n, "seen": seen_by_netns[inode]}
                  for inode, n in expected_by_netns.items() if seen_by_netns[inode] != n}
    third = max(1, len(samples) // 3)
    rss_first, rss_last = max(s[1] for s in samples[:third]), max(s[1] for s in samples[-third:])
    map_first, map_last = max(s[2] for s in samples[:third]), max(s[2] for s in samples[-third:])
    checks = {
        "zero lost": summary is not None and summary["lost"] == 0,
        "state events == transitions": state_events == expected and errors == 0,
        "every state event attributed to the load": attributed == state_events,
        "RSS flat": rss_last <= rss_first * 1.10,
        "listeners map flat": map_last <= map_first + 4,
    }
    print(json.dumps({"minutes": args.minutes, "churn_runs": runs, "connections": connections,
                      "churn_errors": errors, "state_events": state_events,
                      "expected_transitions": expected, "mismatched_netns": mismatched,
                      "attributed_to_the_load": attributed,
                      "other_paths": {p: {"sockets": n, "last_event": other_examples[p]}
                                      for p, n in other_paths.items()},
                      "unfinished_paths": [" ".join(p) for p in list(paths.values())[:20]],
                      "lost": summary and summary["lost"],
                      "lost_by_reason": summary and summary.get("lost_by_reason"),
                      "events": summary and summary["events"],
                      "rss_kib_first_third_max": rss_first, "rss_kib_last_third_max": rss_last,
                      "listeners_map_first_third_max": map_first,
                      "listeners_map_last_third_max": map_last,
                      "checks": checks}, indent=1))
    os.remove(output)
    os.rmdir(workdir)
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
