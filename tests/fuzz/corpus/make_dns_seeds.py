#!/usr/bin/python3
"""Writes the DNS seeds of the dns_query and dns_answer fuzz targets (run it from anywhere; it
rewrites corpus/dns_query/*.bin and corpus/dns_answer/*.bin next to it).

Queries are built by a real resolver library (dnspython, Debian's python3-dnspython) the way
clients build them: with and without EDNS, DNSSEC OK, options, several types and classes, TCP
framing stripped. Answers are captured from a real server: dnsmasq (Debian's dnsmasq-base) started
on 127.0.0.1 with a small zone, asked by dnspython over UDP and TCP; each answer is stored as the
server sent it. Nothing leaves the machine.
"""
import os
import socket
import subprocess
import sys
import time

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rdataclass
import dns.rdatatype

HERE = os.path.dirname(os.path.abspath(__file__))
QUERIES = os.path.join(HERE, "dns_query")
ANSWERS = os.path.join(HERE, "dns_answer")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write(directory, name, wire):
    with open(os.path.join(directory, name + ".bin"), "wb") as f:
        f.write(wire)


def queries():
    made = {
        "a-plain": dns.message.make_query("allowed.test", "A", use_edns=False),
        "a-edns": dns.message.make_query("allowed.test", "A", use_edns=0, payload=1232),
        "aaaa-edns-do": dns.message.make_query("api.wild.test", "AAAA", use_edns=0, want_dnssec=True, payload=4096),
        "cname": dns.message.make_query("alias.wild.test", "CNAME"),
        "txt-blocked": dns.message.make_query("exfil-6461746131.attacker.test", "TXT"),
        "any": dns.message.make_query("allowed.test", "ANY"),
        "mx-allowed-name": dns.message.make_query("allowed.test", "MX"),
        "chaos-version": dns.message.make_query("version.bind", "TXT", rdclass=dns.rdataclass.CH),
        "root-ns": dns.message.make_query(".", "NS"),
        "upper-case": dns.message.make_query("ALLOWED.Test", "A"),
        "idn-punycode": dns.message.make_query("xn--bcher-kva.test", "A"),
        "binary-label": dns.message.make_query(dns.name.Name([b"a\x00b\xff", b"wild", b"test", b""]), "A"),
        "ecs-option": dns.message.make_query(
            "allowed.test", "A", use_edns=0,
            options=[dns.edns.ECSOption("192.0.2.0", 24), dns.edns.GenericOption(10, b"\x01" * 8)]),
        "ptr": dns.message.make_query("1.0.0.127.in-addr.arpa", "PTR"),
        "https-type": dns.message.make_query("allowed.test", "HTTPS"),
        "type65280": dns.message.make_query("allowed.test", 65280),
    }
    status = dns.message.make_query("allowed.test", "A")
    status.set_opcode(dns.opcode.STATUS)
    made["opcode-status"] = status
    two = dns.message.make_query("allowed.test", "A")
    two.question.append(dns.rrset.RRset(dns.name.from_text("other.test"), dns.rdataclass.IN, dns.rdatatype.A))
    made["two-questions"] = two
    no_rd = dns.message.make_query("allowed.test", "A")
    no_rd.flags &= ~dns.flags.RD
    made["no-rd"] = no_rd
    response = dns.message.make_response(dns.message.make_query("allowed.test", "A"))
    made["a-response-reflected"] = response
    for name, message in made.items():
        write(QUERIES, name, message.to_wire())


ZONE = [
    "--host-record=allowed.test,93.184.216.34,2606:2800:220:1:248:1893:25c8:1946",
    "--host-record=api.wild.test,151.101.1.69",
    "--host-record=api.wild.test,151.101.65.69",
    "--host-record=api.wild.test,2a04:4e42::69",
    "--cname=alias.wild.test,allowed.test",
    "--cname=chain.wild.test,alias.wild.test",
    "--cname=outside.wild.test,target.elsewhere.test",
    "--host-record=target.elsewhere.test,10.1.2.3",
    "--host-record=meta.wild.test,169.254.169.254",
    "--host-record=loop.wild.test,127.0.0.1,::1",
    "--host-record=lan.wild.test,192.168.1.10,fd00::10",
    "--txt-record=txt.wild.test,\"v=spf1 -all\",\"second string\"",
    "--mx-host=allowed.test,mail.allowed.test,10",
    "--srv-host=_https._tcp.allowed.test,allowed.test,443,0,5",
    "--local=/nx.test/",
    "--local-ttl=300",
]

ASKED = [
    ("allowed.test", "A"), ("allowed.test", "AAAA"), ("api.wild.test", "A"), ("api.wild.test", "AAAA"),
    ("alias.wild.test", "A"), ("chain.wild.test", "AAAA"), ("outside.wild.test", "A"),
    ("meta.wild.test", "A"), ("loop.wild.test", "AAAA"), ("lan.wild.test", "A"), ("txt.wild.test", "TXT"),
    ("allowed.test", "MX"), ("_https._tcp.allowed.test", "SRV"), ("missing.nx.test", "A"),
    ("allowed.test", "ANY"), ("alias.wild.test", "CNAME"),
]


def answers():
    port = free_port()
    server = subprocess.Popen(
        ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
         "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={port}", "--user=root", *ZONE],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)
        if server.poll() is not None:
            sys.exit("dnsmasq did not start: " + server.stderr.read().decode())
        for name, rtype in ASKED:
            for edns in (False, True):
                query = dns.message.make_query(name, rtype, use_edns=0 if edns else False)
                query.id = 0x2a2a
                wire = query.to_wire()
                tag = f"{rtype.lower()}-{name.replace('.', '_').strip('_')}"
                # UDP: the datagram as the server sent it.
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.settimeout(2)
                    s.sendto(wire, ("127.0.0.1", port))
                    reply, _ = s.recvfrom(65535)
                write(ANSWERS, tag + ("-edns" if edns else "") + "-udp", reply)
                if not edns:
                    # TCP: the message without its length prefix (what the filter parses).
                    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                        s.sendall(len(wire).to_bytes(2, "big") + wire)
                        length = int.from_bytes(s.recv(2), "big")
                        data = b""
                        while len(data) < length:
                            data += s.recv(length - len(data))
                    write(ANSWERS, tag + "-tcp", data)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    os.makedirs(QUERIES, exist_ok=True)
    os.makedirs(ANSWERS, exist_ok=True)
    queries()
    answers()
