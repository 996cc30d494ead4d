#!/usr/bin/env python3
"""A known TCP load for `tcpscope top`'s tests, run inside a namespace.

  top_load.py server        listens on 8080 (answers one byte, closes with
                            FIN), 8082 (closes with SO_LINGER 0: RST),
                            8083 (closes at once: the client is left in
                            CLOSE_WAIT) and 8084 (reads until EOF or RST);
                            prints "ready", serves until killed.
  top_load.py bulk BYTES    sends BYTES to 127.0.0.1:8084, waits until all
                            are acknowledged, prints the kernel's smoothed
                            RTT of its socket as `ss -ti` reads it ("rtt
                            MS"), then closes with SO_LINGER 0 so that no
                            later sample changes it before its end.
  top_load.py client N M K C  N connections to 127.0.0.1:8080 ending with FIN,
                            M refused (127.0.0.2:8081, no listener), K reset
                            by the server (127.0.0.3:8082), C left in
                            CLOSE_WAIT (127.0.0.1:8083, never closed); prints
                            "done", then holds the CLOSE_WAIT sockets until
                            killed.

Each names itself (topsrv, topcli) so that top's process rows are known.
"""
import ctypes
import re
import select
import socket
import struct
import subprocess
import sys
import time


def name_process(name):
    # prctl(PR_SET_NAME): the main thread's name is the process's comm.
    ctypes.CDLL(None, use_errno=True).prctl(15, name.encode(), 0, 0, 0)


def listener(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(128)
    return s


def server():
    name_process("topsrv")
    fin, rst, half, sink = listener(8080), listener(8082), listener(8083), listener(8084)
    print("ready", flush=True)
    kept = []  # nothing: every accepted socket is closed at once
    sinks = []  # 8084's connections, read until they end
    while True:
        ready, _, _ = select.select([fin, rst, half, sink] + sinks, [], [])
        for ls in ready:
            if ls in sinks:
                try:
                    data = ls.recv(65536)
                except ConnectionResetError:
                    data = b""
                if not data:
                    sinks.remove(ls)
                    ls.close()
                continue
            conn, _ = ls.accept()
            if ls is sink:
                sinks.append(conn)
                continue
            if ls is fin:
                conn.recv(1)
                conn.sendall(b"y")
                conn.close()
            elif ls is rst:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            else:
                conn.close()
    del kept


def client(n, m, k, c):
    name_process("topcli")
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", 8080))
        s.sendall(b"x")
        while s.recv(16):
            pass
        s.close()
    for _ in range(m):
        s = socket.socket()
        try:
            s.connect(("127.0.0.2", 8081))
            raise SystemExit("127.0.0.2:8081 accepted a connection")
        except ConnectionRefusedError:
            pass
        s.close()
    for _ in range(k):
        s = socket.create_connection(("127.0.0.3", 8082))
        try:
            while s.recv(16):
                pass
        except ConnectionResetError:
            pass
        s.close()
    held = []
    for _ in range(c):
        s = socket.create_connection(("127.0.0.1", 8083))
        s.recv(16)  # EOF: the server closed; this side stays in CLOSE_WAIT
        held.append(s)
    print("done", flush=True)
    while True:
        time.sleep(3600)


def bulk(size):
    name_process("topblk")
    s = socket.create_connection(("127.0.0.1", 8084))
    s.sendall(b"z" * size)
    outq = ctypes.c_int(1)
    libc = ctypes.CDLL(None, use_errno=True)
    deadline = time.monotonic() + 30
    while outq.value:  # SIOCOUTQ: bytes not yet acknowledged
        if time.monotonic() > deadline:
            print("rtt none (still %d bytes unacknowledged after 30 s)" % outq.value, flush=True)
            s.close()
            return
        time.sleep(0.05)
        libc.ioctl(s.fileno(), 0x5411, ctypes.byref(outq))
    port = s.getsockname()[1]
    out = subprocess.run(["ss", "-tinH", "src", "127.0.0.1:%d" % port, "dst", "127.0.0.1:8084"],
                         capture_output=True, text=True).stdout
    m = re.search(r"\brtt:([0-9.]+)/", out)
    print("rtt %s" % (m.group(1) if m else "none"), flush=True)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    while True:
        time.sleep(3600)


def main():
    if sys.argv[1] == "server":
        server()
    elif sys.argv[1] == "bulk":
        bulk(int(sys.argv[2]))
    else:
        client(*[int(a) for a in sys.argv[2:6]])


if __name__ == "__main__":
    main()
