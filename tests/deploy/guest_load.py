#!/usr/bin/python3
"""The guest's side of the deployment check: loads whose counts the check knows.

  guest_load.py leak NAME      makes a CLOSE_WAIT socket (its peer closed, it never does)
                               in a process named NAME, prints its port, then waits to be
                               killed: a socket older than the service, for the owner check
  guest_load.py connect N      N connections to a listener of its own, each closed by the
                               client first (N active opens, no RST)
  guest_load.py abort N        N connections the client aborts (SO_LINGER 0, then close):
                               N active opens and N RSTs, each sent by a full socket, which
                               every kernel traces (6.1 does not trace a RST sent with no
                               socket, docs/kernels.md)
  guest_load.py refused N      N connects to a port nobody listens on (N active opens, each
                               answered with a RST)
"""
import socket
import struct
import sys
import time


def leak(name):
    # The process's comm (python3-minimal has no ctypes for prctl; one thread, so the
    # thread's name is the process's).
    with open("/proc/self/comm", "w") as f:
        f.write(name)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    client.close()
    print(listener.getsockname()[1], flush=True)
    while True:
        time.sleep(3600)


def connect(n):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(n)
    for _ in range(n):
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
        client.close()
        server.close()
    listener.close()


def abort(n):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(n)
    servers = []
    for _ in range(n):
        client = socket.create_connection(listener.getsockname())
        servers.append(listener.accept()[0])
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
    for server in servers:
        server.close()
    listener.close()


def refused(n):
    # A port taken from the kernel and released: nobody listens on it now.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    for _ in range(n):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            sys.exit(f"port {port} accepted a connection")
        except ConnectionRefusedError:
            pass


if __name__ == "__main__":
    mode, arg = sys.argv[1], sys.argv[2]
    {"leak": leak, "connect": lambda a: connect(int(a)), "abort": lambda a: abort(int(a)),
     "refused": lambda a: refused(int(a))}[mode](arg)
