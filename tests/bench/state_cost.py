#!/usr/bin/env python3
"""What keeping state per socket costs, before anything else a program does.

tcpscope's kernel side keeps, for every TCP socket it sees, its owner, the
time of its last state change and its service port, in socket storage
(bpf/attribution.bpf.h). Issue 23 suspects that storage of most of the
kernel-side cost. This measures it apart from tcpscope: on the `serial` load
(tests/bench/run_bench.py), rounds alternate no program, the empty program on
inet_sock_set_state (the floor), one that makes a single helper call (what a
call costs), one that keeps a 24-byte timestamp value in socket storage as
tcpscope does (BPF_F_CLONE included), one that keeps it in a preallocated
hash keyed by the socket, deleted at CLOSE, and one that keeps it in a
direct-mapped table indexed by a hash of the socket's cookie
(tests/bench/floor.bpf.c). For each: the rate and its ratio to the untraced
round, the machine's CPU per connection (softirq and the kernel's own work
for the storage, such as copying a listener's value into each child and
freeing it with the socket, included: bpf_stats sees only the program), and
bpf_stats' ns per run, less the floor's.

Not part of `make test`. Usage (root, after the build):
    python3 tests/bench/state_cost.py build [--rounds 5] [--load serial]
"""
import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_bench as rb  # noqa: E402

VARIANTS = ("none", "floor", "floor-ktime", "floor-storage", "floor-hash", "floor-table")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build_dir", nargs="?", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--load", default="serial", choices=("serial", "churn", "rst"))
    ap.add_argument("--seconds", type=float, default=3.0,
                    help="length of an untraced round (default 3)")
    ap.add_argument("--idle-wait", type=float, default=30.0)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("state_cost.py: needs root (BPF programs, a private network namespace)")
    build_dir = os.path.abspath(args.build_dir)
    old_stats = rb.read_bpf_stats()
    if old_stats is None:
        sys.exit("state_cost.py: no %s" % rb.BPF_STATS)
    workdir = tempfile.mkdtemp(prefix="tcpscope-state-cost-")
    rounds = {v: [] for v in VARIANTS}
    stats = {v: [] for v in VARIANTS[1:]}
    try:
        tools = {"tcpscope": None, "tcpstates": None,
                 "churn": rb.find_churn(build_dir, workdir), "floor": rb.find_floor(build_dir)}
        if not tools["floor"]:
            sys.exit("state_cost.py: no tcpscope_floor in %s" % build_dir)
        connections, _ = rb.calibrate(tools["churn"], args.load, args.seconds)
        # The rates with bpf_stats off (its accounting costs every run too),
        # then bpf_stats rounds of the programs for their ns per run.
        rb.write_bpf_stats("0")
        for it in range(args.rounds):
            for v in VARIANTS:
                r = rb.run_round(v, args.load, connections, tools, workdir,
                                 idle_wait=args.idle_wait)
                rounds[v].append(r)
                rb.log("round %d/%d %-14s %8.0f conn/s %6.1f us CPU/conn" % (
                    it + 1, args.rounds, v, r["conn_per_s"], r["cpu_us_per_conn"]))
        rb.write_bpf_stats("1")
        for it in range(args.rounds):
            for v in VARIANTS[1:]:
                r = rb.run_round(v, args.load, connections, tools, workdir, kstats=True,
                                 idle_wait=args.idle_wait)
                stats[v].append(r["kernel"])
                rb.log("bpf_stats round %d/%d %-14s %.0f ns/run, %.1f runs/conn" % (
                    it + 1, args.rounds, v, r["kernel"]["ns_per_run"] or 0,
                    r["kernel"]["run_cnt"] / r["connections"]))
    finally:
        for pid in list(rb._live):
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except OSError:
                pass
        rb.write_bpf_stats(old_stats)
        shutil.rmtree(workdir, ignore_errors=True)

    floor_runs = [k["ns_per_run"] for k in stats["floor"]]
    print("\n%s load, %d rounds of %d connections, medians (round-by-round ratios); the rates "
          "with bpf_stats off, the ns per run from %d rounds with it on:"
          % (args.load, args.rounds, connections, args.rounds))
    print("| program | conn/s | ratio to untraced | machine CPU per connection | ns per run "
          "| net of the floor, per run | net, per socket |")
    print("|---|---|---|---|---|---|---|")
    for v in VARIANTS:
        rs = rounds[v]
        rate = rb.med([r["conn_per_s"] for r in rs])
        ratio = rb.med([r["conn_per_s"] / u["conn_per_s"] for r, u in zip(rs, rounds["none"])])
        cpu = rb.med([r["cpu_us_per_conn"] for r in rs])
        if v == "none":
            print("| no program | %.0f | 1 | %.1f µs | | | |" % (rate, cpu))
            continue
        ks = stats[v]
        per_run = rb.med([k["ns_per_run"] for k in ks])
        net = rb.med([k["ns_per_run"] - f for k, f in zip(ks, floor_runs)])
        runs_per_conn = rb.med([k["run_cnt"] / r["connections"] for k, r in zip(ks, rs)])
        # Two sockets a connection: the client's and the server's child.
        per_socket = net * runs_per_conn / 2
        print("| %s | %.0f | %.3f | %.1f µs | %.0f | %s | %s |" % (
            v, rate, ratio, cpu, per_run, "" if v == "floor" else "%.0f" % net,
            "" if v == "floor" else "%.0f ns" % per_socket))


if __name__ == "__main__":
    main()
