"""Audit records of the DNS filter (docs/audit-schema.md: layer dns, event query; layer network,
event address), from the real plugin and filter under net-harness, which prints every record the
plugin sends as `audit: {json}` on stderr — before any level filter, so a record that must not exist
at a level is one the plugin did not send.

Each check counts records only after a later sentinel record has arrived: the filter's events pipe
and the feeder are in order, so everything before the sentinel has been reported by then.
"""
import json
import time

import pytest

import netlib
from netlib import LINK_LOCAL_TARGET

pytestmark = pytest.mark.parametrize("runner", ["harness"])  # the CLI's records go to the host's sinks


def stub(box, name, qtype="A", proto="udp"):
    return box.cmd(f"dns 127.0.0.1 53 {proto} {name} {qtype}")


def refused(result):
    """The DNS filter's own answer for a name that is not allowed: NXDOMAIN (blocked_answer.hpp)."""
    return result.startswith("ok rcode=3 ")


def type_refused(result):
    """Its answer for a type it does not forward, of an allowed name: NOERROR without records."""
    return result.startswith("ok rcode=0 ") and result.endswith(" an=-")


def answers(result):
    assert result.startswith("ok rcode=0 "), result
    listed = result.split(" an=", 1)[1]
    return [] if listed == "-" else listed.split(",")


def records(box):
    out = []
    for line in box.stderr().splitlines():
        if line.startswith("audit: "):
            record = json.loads(line[len("audit: "):])
            assert set(record) == {"layer", "verdict", "event", "details"}, record
            out.append(record)
    return out


def records_after_sentinel(box):
    """Sends a refused query for a fresh name, waits for its record, returns every record before it."""
    sentinel = f"sentinel-{netlib.token()}.blocked.test"
    assert refused(stub(box, sentinel))
    deadline = time.time() + 10
    while time.time() < deadline:
        found = records(box)
        for i, record in enumerate(found):
            if record["details"].get("name") == sentinel:
                return found[:i]
        time.sleep(0.1)
    raise AssertionError(f"no audit record for the sentinel {sentinel}; stderr:\n{box.stderr()}")


def query_record(verdict, name, qtype, protocol, rule):
    return {"layer": "dns", "verdict": verdict, "event": "query",
            "details": {"name": name, "qtype": qtype, "protocol": protocol, "rule": rule}}


def test_each_refused_query_makes_exactly_one_block_record(sandboxes, testnet):
    box = sandboxes.open(["allowed.test"])
    blocked_udp = f"a-{netlib.token()}.blocked.test"
    blocked_tcp = f"b-{netlib.token()}.blocked.test"
    assert type_refused(stub(box, "allowed.test", "TXT"))
    assert refused(stub(box, blocked_udp))
    assert refused(stub(box, blocked_tcp, proto="tcp"))
    assert type_refused(stub(box, "allowed.test", "MX", proto="tcp"))
    # Positive control: the allowed query is answered and makes no block record.
    assert answers(stub(box, "allowed.test")) == [testnet.ip(20)]
    found = records_after_sentinel(box)
    expected = [
        query_record("block", "allowed.test", "TXT", "udp", "dns-filter: type TXT not answered"),
        query_record("block", blocked_udp, "A", "udp", "dns-filter: name not in the allowlist"),
        query_record("block", blocked_tcp, "A", "tcp", "dns-filter: name not in the allowlist"),
        query_record("block", "allowed.test", "MX", "tcp", "dns-filter: type MX not answered"),
    ]
    for record in expected:
        assert found.count(record) == 1, (record, found)
    dns_records = [r for r in found if r["layer"] == "dns"]
    assert len(dns_records) == len(expected), dns_records
    assert [r for r in found if r["verdict"] == "allow"] == [], "level basic: no allow records"


def test_allowed_queries_are_recorded_only_at_verbose(sandboxes, testnet):
    verbose = sandboxes.open(["allowed.test"], audit="verbose")
    basic = sandboxes.open(["allowed.test"], audit="basic")
    for box in (verbose, basic):
        assert answers(stub(box, "allowed.test")) == [testnet.ip(20)]
        assert answers(stub(box, "allowed.test")) == [testnet.ip(20)]  # most likely from the cache
        assert answers(stub(box, "allowed.test", proto="tcp")) == [testnet.ip(20)]
    allowed = query_record("allow", "allowed.test", "A", "udp", "dns-filter: allowed name")
    allowed_tcp = query_record("allow", "allowed.test", "A", "tcp", "dns-filter: allowed name")
    found = records_after_sentinel(verbose)
    assert found.count(allowed) == 2, found  # one per query, answered from the cache or not
    assert found.count(allowed_tcp) == 1, found
    found = records_after_sentinel(basic)
    assert [r for r in found if r["verdict"] == "allow"] == [], found
    # Positive control for the basic box: its block records do arrive (the sentinel's did).


def test_a_refused_answer_address_carries_the_name(sandboxes, testnet):
    box = sandboxes.open(["linklocal.test:80", "allowed.test"])
    assert answers(stub(box, "linklocal.test")) == [LINK_LOCAL_TARGET]
    assert answers(stub(box, "allowed.test")) == [testnet.ip(20)]  # control: admitted, no record
    found = records_after_sentinel(box)
    addresses = [r for r in found if r["layer"] == "network" and r["event"] == "address"]
    assert len(addresses) == 1, found
    record = addresses[0]
    assert record["verdict"] == "block"
    assert record["details"]["destination"] == LINK_LOCAL_TARGET
    assert record["details"]["name"] == "linklocal.test"
    assert record["details"]["ports"] == [80]
    assert record["details"]["rule"] == "feeder: address class guard"
    assert "link-local" in record["details"]["reason"]
