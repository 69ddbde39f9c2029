"""How the failover trials are measured: the client's samples around a fault (seesaw.lab.outage), the adverts
on the wire (seesaw.lab.adverts), the probe's own parts, and the keepalived baseline's config."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import struct

import pytest

from seesaw.config.check import check_config
from seesaw.engine.ha_state import ha_config
from seesaw.lab import configs, keepalived, topology
from seesaw.lab.adverts import Advert, intrusions, lateness, parse
from seesaw.lab.outage import percentile, trial
from seesaw.lab.probe import Sample, http_get, neighbour

OLD, NEW = "02:99:00:00:00:11", "02:99:00:00:00:12"


def loop(*spec: tuple[float, str, bool], rtt: float = 0.002) -> list[Sample]:
    """Samples sent at the given times, through the given MACs, succeeding or not (a failure times out)."""
    return [
        Sample(t, t + (rtt if ok else 0.2), mac, "be1" if ok else None, "" if ok else "TimeoutError")
        for t, mac, ok in spec
    ]


def test_a_crashed_master_that_keeps_forwarding_has_a_takeover_but_no_outage():
    samples = loop(*[(t / 100, OLD, True) for t in range(0, 40)], *[(t / 100, NEW, True) for t in range(40, 60)])
    measured = trial(samples, fault=0.05, new_mac=NEW)
    assert measured.takeover == pytest.approx(0.40 + 0.002 - 0.05)
    assert (measured.outage, measured.failed, measured.sent) == (0.0, 0, 55)


def test_a_cut_off_master_shows_the_outage_from_the_first_failure_to_the_first_answer_after_the_last():
    samples = loop(
        (0.00, OLD, True), (0.01, OLD, False), (0.02, OLD, False), (0.03, NEW, True), (0.04, NEW, True)
    )  # fmt: skip
    measured = trial(samples, fault=0.005, new_mac=NEW)
    assert measured.takeover == pytest.approx(0.032 - 0.005)
    assert measured.outage == pytest.approx(0.032 - 0.01)
    assert (measured.failed, measured.sent) == (2, 4)  # the sample before the fault is not in the trial


def test_takeover_counts_only_once_nothing_fails_any_more():
    samples = loop((0.1, NEW, True), (0.2, NEW, False), (0.3, NEW, True), (0.4, OLD, True))
    measured = trial(samples, fault=0.0, new_mac=NEW)
    assert measured.takeover == pytest.approx(0.302)  # not 0.102: a request failed after it
    assert measured.outage == pytest.approx(0.302 - 0.2)


def test_a_new_master_that_never_served_has_no_takeover():
    measured = trial(loop((0.1, OLD, False), (0.2, OLD, True)), fault=0.0, new_mac=NEW)
    assert measured.takeover is None
    assert measured.describe() == "takeover never, outage 102 ms, 1/2 requests failed"


def test_samples_after_the_window_do_not_count():
    samples = loop((0.1, OLD, False), (0.2, NEW, True), (0.3, NEW, False))
    assert trial(samples, fault=0.0, new_mac=NEW, until=0.25).takeover == pytest.approx(0.202)
    assert trial(samples, fault=0.0, new_mac=NEW).takeover is None


def test_percentile_is_the_nearest_rank():
    values = list(range(1, 21))
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (10, 20, 20)
    assert percentile([7.5], 99) == 7.5
    with pytest.raises(ValueError):
        percentile([], 50)


def vrrp_packet(source: str, vrid: int, priority: int, interval_cs: int, ihl: int = 5) -> bytes:
    header = bytes([0x40 | ihl, 0xC0]) + struct.pack("!HHHBBH", 20 + 4 * (ihl - 5) + 12, 0, 0, 255, 112, 0)
    header += ipaddress.IPv4Address(source).packed + ipaddress.IPv4Address("224.0.0.18").packed
    header += bytes(4 * (ihl - 5))  # options
    body = bytes([0x31, vrid, priority, 1]) + struct.pack("!HH", interval_cs & 0x0FFF, 0) + bytes(4)
    return header + body


def test_parse_reads_an_advert_after_any_ip_options():
    assert parse(vrrp_packet("10.99.1.2", 60, 255, 10), at=5.0) == Advert(5.0, "10.99.1.2", 60, 255, 10)
    assert parse(vrrp_packet("10.99.1.3", 7, 0, 100, ihl=6), at=1.0) == Advert(1.0, "10.99.1.3", 7, 0, 100)


def test_parse_ignores_what_is_not_vrrp():
    packet = bytearray(vrrp_packet("10.99.1.2", 60, 255, 10))
    packet[9] = 17  # UDP
    assert parse(bytes(packet), 0.0) is None
    assert parse(vrrp_packet("10.99.1.2", 60, 255, 10)[:24], 0.0) is None  # cut short
    assert parse(b"\x60" + bytes(60), 0.0) is None  # IPv6


def advert(at: float, source: str = "10.99.1.2", priority: int = 255) -> Advert:
    return Advert(at, source, 60, priority, 10)


def test_lateness_is_the_gap_past_the_interval_of_a_steady_master():
    adverts = [advert(0.0), advert(0.1), advert(0.25), advert(0.34)]
    assert lateness(adverts, 0.1) == pytest.approx([0.0, 0.05, 0.0])


def test_lateness_skips_handovers_and_the_gaps_another_sender_interrupts():
    adverts = [
        advert(0.0), advert(0.1, priority=0),  # a goodbye: no timer behind it
        advert(0.2, "10.99.1.3", 1), advert(0.3, "10.99.1.3", 1),
        advert(0.9), advert(1.0),  # the first node again, much later: not lateness
    ]  # fmt: skip
    assert lateness(adverts, 0.1) == pytest.approx([0.0, 0.0])


def test_intrusions_count_the_runs_of_another_sender():
    master, other = "10.99.1.2", "10.99.1.3"
    adverts = [advert(t / 10, other if t in (3, 4, 8) else master) for t in range(10)]
    assert intrusions(adverts, master) == 2
    assert intrusions([advert(t / 10) for t in range(10)], master) == 0
    assert intrusions([], master) == 0


ARP = """\
IP address       HW type     Flags       HW address            Mask     Device
10.99.1.200      0x1         0x2         02:99:00:00:00:12     *        eth0
10.99.1.201      0x1         0x0         00:00:00:00:00:00     *        eth0
"""


def test_neighbour_reads_complete_entries_only(tmp_path):
    table = tmp_path / "arp"
    table.write_text(ARP)
    assert neighbour("10.99.1.200", table) == "02:99:00:00:00:12"
    assert neighbour("10.99.1.201", table) is None  # incomplete: nobody answered
    assert neighbour("10.99.1.1", table) is None


async def serve_once(status: bytes, body: bytes) -> tuple[asyncio.Server, int]:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.0 " + status + b"\r\nContent-Type: text/plain\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_http_get_returns_the_first_line_of_the_body():
    async def run() -> str:
        server, port = await serve_once(b"200 OK", b"be2\nmore\n")
        async with server:
            return await http_get("127.0.0.1", port, 0)

    assert asyncio.run(run()) == "be2"


def test_http_get_fails_on_any_other_status():
    async def run() -> str:
        server, port = await serve_once(b"503 Service Unavailable", b"no\n")
        async with server:
            return await http_get("127.0.0.1", port, 0)

    with pytest.raises(OSError, match="503"):
        asyncio.run(run())


def test_keepalived_gets_seesaws_priorities_and_settings():
    topo = topology.pair()
    assert keepalived.seesaw_priorities(topo) == {"lb1": 255, "lb2": 1}
    assert keepalived.keepalived_priorities(topo) == {"lb1": 254, "lb2": 1}
    adjacent = dataclasses.replace(topo, ha_priorities="adjacent")
    assert keepalived.seesaw_priorities(adjacent) == {"lb1": 255, "lb2": 254}
    assert keepalived.keepalived_priorities(adjacent) == {"lb1": 254, "lb2": 253}
    text = keepalived.config("lb1", 255, 100, ["10.99.1.1/24"], ["10.99.1.200/24"])
    lines = [line.strip() for line in text.splitlines()]
    for wanted in ("vrrp_version 3", "state BACKUP", "nopreempt", "interface eth0", "virtual_router_id 60"):
        assert wanted in lines
    assert "priority 254" in lines  # keepalived refuses 255 unless it owns the addresses
    assert "advert_int 0.1" in lines
    assert lines.index("10.99.1.1/24 dev eth1") < lines.index("virtual_ipaddress_excluded {")
    assert lines.index("10.99.1.200/24 dev eth1") > lines.index("virtual_ipaddress_excluded {")
    assert text.count("{") == text.count("}")
    assert "virtual_ipaddress_excluded" not in keepalived.config("lb2", 1, 100, ["10.99.1.1/24"])


@pytest.mark.parametrize("scheme", ["seesaw", "adjacent"])
def test_seesaw_priorities_are_what_seesaws_config_gives_the_nodes(tmp_path, scheme):
    topo = dataclasses.replace(topology.pair(), ha_priorities=scheme)
    given = {}
    for lb in topo.lbs:
        configs.write(topo, lb, tmp_path / lb.name)
        report = check_config(tmp_path / lb.name / "seesaw.cfg", tmp_path / lb.name / "cluster.pb")
        given[lb.name] = ha_config(report.cluster.cluster, report.settings.settings).priority
    assert keepalived.seesaw_priorities(topo) == given


def test_a_lab_with_rfc5798_adverts_writes_a_config_seesaw_accepts(tmp_path):
    topo = dataclasses.replace(topology.pair(), advert_format="rfc5798")
    configs.write(topo, topo.lbs[0], tmp_path)
    report = check_config(tmp_path / "seesaw.cfg", tmp_path / "cluster.pb")
    assert report.ok and not report.warnings, [str(p) for p in report.problems]
    assert report.settings.settings.advert_format == "rfc5798"
    assert "format" not in configs.seesaw_cfg(topology.pair(), topology.pair().lbs[0])  # the default says nothing
