#!/usr/bin/env python3
"""Test host: logs every TCP connection, UDP datagram and ICMP echo request it receives.

One JSON object per line in --log: {"time", "proto", "local", "peer"}. TCP clients get the banner
"hello from <name> <local address> <port>\n"; UDP senders get the same line back. Listens on every
address of the container (IPv4 and IPv6) for the given ports.

    rustyolo-test-listener --log /log/events.jsonl --name hosts --tcp 80,443,8080,22 --udp 9999
"""
import argparse
import json
import socket
import struct
import threading
import time

lock = threading.Lock()


def log(path, proto, local, peer):
    line = json.dumps({"time": time.time(), "proto": proto, "local": local, "peer": peer})
    with lock, open(path, "a") as f:
        f.write(line + "\n")
        f.flush()


def addr(sockaddr):
    host = sockaddr[0]
    if host.startswith("::ffff:"):
        host = host[7:]
    return host


def listening(port):
    """A TCP socket listening on `port`, IPv4 and IPv6."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(64)
    return s


def serve_tcp(port, args):
    s = listening(port)
    while True:
        conn, peer = s.accept()
        local = addr(conn.getsockname())
        log(args.log, "tcp", f"{local}:{port}", addr(peer))
        try:
            conn.sendall(f"hello from {args.name} {local} {port}\n".encode())
        except OSError:
            pass
        conn.close()


def hold_one(conn, local, port, peer, args):
    try:
        conn.sendall(f"hello from {args.name} {local} {port}\n".encode())
        while True:
            data = conn.recv(4096)
            if not data:
                log(args.log, "tcp-end", f"{local}:{port}", f"{peer} closed")
                break
            conn.sendall(b"echo " + data)
    except OSError as e:
        log(args.log, "tcp-end", f"{local}:{port}", f"{peer} {e.__class__.__name__}")
    finally:
        conn.close()


def serve_hold(port, args):
    """Like serve_tcp, but keeps each connection open and echoes what arrives; its end is logged as
    "tcp-end" (closed by the peer, or reset)."""
    s = listening(port)
    while True:
        conn, peer = s.accept()
        local = addr(conn.getsockname())
        log(args.log, "tcp", f"{local}:{port}", addr(peer))
        threading.Thread(target=hold_one, args=(conn, local, port, addr(peer), args), daemon=True).start()


def serve_udp(port, args):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    s.bind(("::", port))
    while True:
        data, ancillary, _flags, peer = s.recvmsg(4096, 256)
        local = "?"
        for level, kind, value in ancillary:
            if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO:
                local = addr((socket.inet_ntop(socket.AF_INET6, value[:16]),))
        log(args.log, "udp", f"{local}:{port}", addr(peer))
        try:
            s.sendto(f"hello from {args.name} {local} {port}\n".encode(), peer)
        except OSError:
            pass


def serve_icmp(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    while True:
        packet, peer = s.recvfrom(65535)
        header = (packet[0] & 0x0F) * 4
        if len(packet) > header and packet[header] == 8:  # echo request
            local = socket.inet_ntoa(packet[16:20])
            log(args.log, "icmp", local, peer[0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--name", default="testhost")
    parser.add_argument("--tcp", default="")
    parser.add_argument("--hold", default="", help="TCP ports whose connections stay open (echo)")
    parser.add_argument("--udp", default="")
    parser.add_argument("--icmp", action="store_true")
    args = parser.parse_args()
    threads = []
    for port in filter(None, args.tcp.split(",")):
        threads.append(threading.Thread(target=serve_tcp, args=(int(port), args), daemon=True))
    for port in filter(None, args.hold.split(",")):
        threads.append(threading.Thread(target=serve_hold, args=(int(port), args), daemon=True))
    for port in filter(None, args.udp.split(",")):
        threads.append(threading.Thread(target=serve_udp, args=(int(port), args), daemon=True))
    if args.icmp:
        threads.append(threading.Thread(target=serve_icmp, args=(args,), daemon=True))
    for t in threads:
        t.start()
    with open(args.log, "a") as f:
        f.write(json.dumps({"time": time.time(), "proto": "ready", "local": args.name, "peer": ""}) + "\n")
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
