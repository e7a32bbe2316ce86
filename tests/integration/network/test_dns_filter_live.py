"""Live changes inside the DNS filter, run standalone: the real binary (as its own uid 65533 when the
test runs as root) driven over its events and ack pipes as the supervisor drives it, with an
upstream on 127.0.0.1 that holds its answer until the test releases it. Every packet stays on the
loopback interface.

A live deny is confirmed ("policy SEQ done") while a query for the denied name waits upstream, or
while its answer waits for the firewall's ack. Neither may be answered to the client or (for the
first) fed to the firewall after the confirmation: the deny's withdrawal of the name's addresses
would otherwise be undone. The twins deny another name and show the same query answered and fed."""
import os
import select
import socket
import struct
import subprocess

import pytest

ANSWER = "203.0.113.7"  # TEST-NET-3: only ever written into DNS answers here, never contacted


def query(name, qid):
    question = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question + struct.pack(">HH", 1, 1)


def answer(upstream_query, address, ttl=300):
    question = upstream_query[12:]
    question = question[:question.index(b"\0") + 5]  # the name and its type and class; no EDNS
    record = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, ttl, 4) + socket.inet_aton(address)
    return upstream_query[:2] + struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0) + question + record


def rcode(reply):
    return reply[3] & 0x0F


def answer_count(reply):
    return struct.unpack(">H", reply[6:8])[0]


class Lines:
    """The filter's events pipe, line by line."""

    def __init__(self, fd):
        self.fd, self.buffer = fd, b""

    def next(self, timeout):
        while b"\n" not in self.buffer:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(self.fd, 4096)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def until(self, predicate, timeout=5.0):
        seen = []
        while True:
            line = self.next(timeout)
            if line is None:
                return seen, None
            seen.append(line)
            if predicate(line):
                return seen, line


class Filter:
    """rustyolo-dns-filter on loopback sockets, allowing start.example.com, with no answer cache."""

    def __init__(self, binary):
        self.upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.upstream.bind(("127.0.0.1", 0))
        self.upstream.settimeout(5)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(4)
        events_r, events_w = os.pipe()
        ack_r, self.ack_w = os.pipe()
        child = {3: self.udp.fileno(), 4: self.tcp.fileno(), 5: events_w, 6: ack_r}

        def descriptors():
            copies = {k: os.dup(v) for k, v in child.items()}
            for k, v in copies.items():
                os.dup2(v, k)
                os.set_inheritable(k, True)

        argv = [binary, "--udp-fd", "3", "--tcp-fd", "4", "--events-fd", "5", "--ack-fd", "6",
                "--upstream", "127.0.0.1:%d" % self.upstream.getsockname()[1],
                "--allow", "start.example.com=443", "--cache-entries", "0"]
        ids = {"user": 65533, "group": 65533, "extra_groups": []} if os.geteuid() == 0 else {}
        self.process = subprocess.Popen(argv, preexec_fn=descriptors, close_fds=False, **ids)
        os.close(events_w)
        os.close(ack_r)
        self.events = Lines(events_r)
        self.seq = 0
        seen, ready = self.events.until(lambda line: line == "ready")
        assert ready, f"the filter did not become ready: {seen}"
        self.client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.client.settimeout(5)

    def change(self, entry, ports):
        """A live change as the supervisor sends it; returns once the filter confirmed it."""
        self.seq += 1
        os.write(self.ack_w, f"policy {self.seq} {entry} {ports}\n".encode())
        seen, done = self.events.until(lambda line: line == f"policy {self.seq} done")
        assert done, f"the filter did not confirm the change of {entry}: {seen}"
        return seen

    def ask(self, name, qid):
        """Sends a query; returns the query the upstream received and where to answer it."""
        self.client.sendto(query(name, qid), self.udp.getsockname())
        return self.upstream.recvfrom(4096)

    def batch(self, timeout=3.0):
        """The next batch fed to the firewall: (id, name), or None and the lines seen."""
        seen, end = self.events.until(lambda line: " end " in line or line.startswith("deny "), timeout)
        if end is None or end.startswith("deny "):
            return None, seen
        batch_id, _, name = end.split(" ", 2)
        return (batch_id, name), seen

    def close(self):
        os.close(self.ack_w)
        self.process.kill()
        self.process.wait()


@pytest.fixture
def dns_filter(plugin_dir):
    f = Filter(os.path.join(plugin_dir, "rustyolo-dns-filter"))
    yield f
    f.close()


@pytest.mark.parametrize("denied", ["live.example.com", "other.example.com"], ids=["deny-it", "twin-deny-another"])
def test_an_answer_in_flight_upstream_during_a_deny_is_judged_again(dns_filter, denied):
    dns_filter.change("live.example.com", "443")
    dns_filter.change("other.example.com", "443")
    upstream_query, peer = dns_filter.ask("live.example.com", 0x1111)
    dns_filter.change(denied, "-")
    dns_filter.upstream.sendto(answer(upstream_query, ANSWER), peer)
    batch, seen = dns_filter.batch()
    if denied == "live.example.com":
        assert batch is None, f"the filter fed an answer for a name it had confirmed denied: {seen}"
        assert any(line.startswith("deny ") and "live.example.com" in line for line in seen), seen
        reply, _ = dns_filter.client.recvfrom(4096)
        assert rcode(reply) == 3 and answer_count(reply) == 0  # NXDOMAIN, nothing answered
    else:
        assert batch is not None and "live.example.com" in batch[1], seen
        os.write(dns_filter.ack_w, f"{batch[0]} ok 300\n".encode())
        reply, _ = dns_filter.client.recvfrom(4096)
        assert rcode(reply) == 0 and answer_count(reply) == 1


@pytest.mark.parametrize("denied", ["live.example.com", "other.example.com"], ids=["deny-it", "twin-deny-another"])
def test_an_answer_waiting_for_its_ack_during_a_deny_is_judged_again(dns_filter, denied):
    dns_filter.change("live.example.com", "443")
    dns_filter.change("other.example.com", "443")
    upstream_query, peer = dns_filter.ask("live.example.com", 0x2222)
    dns_filter.upstream.sendto(answer(upstream_query, ANSWER), peer)
    batch, seen = dns_filter.batch()
    assert batch is not None, f"no batch for an allowed name: {seen}"
    dns_filter.change(denied, "-")
    # The firewall applied the batch before the change counted as done, then withdrew what the
    # deny takes back; its ack arrives after the change.
    os.write(dns_filter.ack_w, f"{batch[0]} ok 300\n".encode())
    reply, _ = dns_filter.client.recvfrom(4096)
    if denied == "live.example.com":
        assert rcode(reply) == 3 and answer_count(reply) == 0
        # Allowed again: the next answer is fed again, not taken as still in the sets.
        dns_filter.change("live.example.com", "443")
        upstream_query, peer = dns_filter.ask("live.example.com", 0x2223)
        dns_filter.upstream.sendto(answer(upstream_query, ANSWER), peer)
        again, seen = dns_filter.batch()
        assert again is not None and "live.example.com" in again[1], seen
    else:
        assert rcode(reply) == 0 and answer_count(reply) == 1
