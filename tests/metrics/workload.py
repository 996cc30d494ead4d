"""The known workload of the metrics tests, run inside the test's network
namespace (`ip netns exec`). Prints one JSON line: what it did.

  workload.py server ADDR PORT        accept one connection and hold it
  workload.py client PORT  (holds a CLOSE_WAIT socket until stdin closes)
                     PORT PEER_ADDR PEER_PORT PEER_NETNS PEER_LINK (the link the peer's address is on)
"""
import errno
import json
import signal
import socket
import struct
import subprocess
import sys
import time

CLOSED, ABORTS, REFUSED = 20, 5, 5


def server(addr, port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(16)
    print("listening", flush=True)
    conn, _ = ls.accept()
    time.sleep(60)


def client(port, peer_addr, peer_port, peer_netns, peer_link):
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    connects = accepts = 0
    # Closed with FIN by both, the client first; then aborted with SO_LINGER 0.
    for i in range(CLOSED + ABORTS):
        c = socket.create_connection(("127.0.0.1", port))
        a, _ = ls.accept()
        connects += 1
        accepts += 1
        c.sendall(b"x")
        a.recv(1)
        if i >= CLOSED:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        try:
            a.recv(1)
        except ConnectionResetError:
            pass
        a.close()
    # Refused: no listener on port + 1.
    refused = 0
    for _ in range(REFUSED):
        try:
            socket.create_connection(("127.0.0.1", port + 1)).close()
        except ConnectionRefusedError:
            refused += 1
    # The server closes; the client writes into the closed connection:
    # a RST from the server's timewait socket, EPIPE, then SIGPIPE (ignored).
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = ls.accept()
    connects += 1
    accepts += 1
    a.close()
    time.sleep(0.1)
    epipe = 0
    for _ in range(3):
        try:
            c.send(b"x")
            time.sleep(0.1)
        except BrokenPipeError:
            epipe += 1
    c.close()
    ls.close()
    # Retransmits: the peer's address goes away under an established
    # connection (its segments reach the peer and are dropped there; a link
    # taken down would drop them before they leave, unsent, and uncounted);
    # TCP_USER_TIMEOUT ends it with ETIMEDOUT after a few retransmits.
    c = socket.create_connection((peer_addr, peer_port), timeout=5)
    connects += 1
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, 3000)
    subprocess.run(["ip", "-n", peer_netns, "addr", "del", peer_addr + "/24", "dev", peer_link], check=True)
    c.send(b"lost")
    timed_out = False
    c.settimeout(10)
    try:
        c.recv(1)
    except OSError as e:
        timed_out = e.errno == errno.ETIMEDOUT
    c.close()
    # Left in CLOSE_WAIT until the test is done: its server side closes,
    # this side never does (what a descriptor leak looks like).
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port + 2))
    ls.listen(1)
    leaked = socket.create_connection(("127.0.0.1", port + 2))
    a, _ = ls.accept()
    connects += 1
    accepts += 1
    a.close()
    ls.close()
    print(json.dumps({"connects": connects, "accepts": accepts, "refused": refused,
                      "epipe": epipe, "timed_out": timed_out}), flush=True)
    sys.stdin.read()  # until the test closes it
    leaked.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], int(sys.argv[3]))
    else:
        client(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6])
