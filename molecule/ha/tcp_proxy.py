"""The ha scenario's load balancer: a TCP proxy in front of the control planes' API servers (test scaffolding).

Each connection goes to the first backend that accepts it, in the order given, so a control plane that does not
listen is passed over. Every forwarded connection is logged (one line: client, backend) for the verify step.
kube-vip's ARP virtual IP cannot be announced between these containers, hence this stand-in for the user's
load balancer (HAProxy, a cloud LB, ...).
"""

import argparse
import socket
import sys
import threading


def pipe(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client, address, backends, log):
    for host, port in backends:
        try:
            upstream = socket.create_connection((host, port), timeout=3)
        except OSError:
            continue
        upstream.settimeout(None)
        log.write("%s:%d -> %s:%d\n" % (address[0], address[1], host, port))
        log.flush()
        threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
        pipe(upstream, client)
        return
    client.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", type=int, default=6443)
    parser.add_argument("--log", default="/var/log/tcp-proxy.log")
    parser.add_argument("backends", nargs="+", help="host:port, tried in order")
    args = parser.parse_args()
    backends = [(item.rsplit(":", 1)[0], int(item.rsplit(":", 1)[1])) for item in args.backends]
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", args.listen))
    server.listen(64)
    with open(args.log, "a", encoding="utf-8") as log:
        while True:
            client, address = server.accept()
            threading.Thread(target=serve, args=(client, address, backends, log), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
