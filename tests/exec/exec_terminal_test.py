#!/usr/bin/env python3
"""`tcpscope exec` at a terminal: one Ctrl-C reaches the command once.

tcpscope and the command run in a pseudo-terminal (the parent holds its
master side), in the terminal's foreground process group, as a user's shell
would start them. Writing ^C to the master makes the tty driver send SIGINT
to that whole group, as a real Ctrl-C does: the command gets it from the
terminal, so tcpscope must not forward a second copy (the command's handler
would run twice, and many tools take a second Ctrl-C as "stop now", skipping
their graceful shutdown). A SIGINT sent to tcpscope alone is still forwarded
(exec_test.sh checks that).

Usage: exec_terminal_test.py TCPSCOPE SIGINT_COUNTER
"""
import os
import pty
import select
import sys
import tempfile
import time


def main():
    tcpscope, counter = sys.argv[1], sys.argv[2]
    if os.geteuid() != 0:
        print("SKIP: needs root")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        count_file = os.path.join(tmp, "count")
        pid, master = pty.fork()
        if pid == 0:
            os.execv(tcpscope, [tcpscope, "exec", "--", counter, count_file])
        output = b""

        def drain(seconds):
            nonlocal output
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                r, _, _ = select.select([master], [], [], 0.1)
                if r:
                    try:
                        output += os.read(master, 4096)
                    except OSError:
                        return

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            drain(0.1)
            if os.path.exists(count_file) and open(count_file).read() == "ready\n":
                break
        else:
            print("FAIL: the command never became ready\n" + output.decode(errors="replace"))
            os.kill(pid, 9)
            return 1
        os.write(master, b"\x03")  # Ctrl-C, as the terminal's line discipline sees it
        status = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            drain(0.1)
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                break
        if status is None:
            print("FAIL: tcpscope did not end after Ctrl-C")
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            return 1
        count = open(count_file).read().strip()
        print(f"the command's SIGINT handler ran {count} time(s); tcpscope's status {status:#x}")
        if count != "1":
            print("FAIL: one Ctrl-C must reach the command once\n" + output.decode(errors="replace"))
            return 1
        print("ok: one Ctrl-C, one SIGINT for the command")
        return 0


if __name__ == "__main__":
    sys.exit(main())
