"""Neighbour reports: Seesaw's quagga/bgp_test.go tables on its test data, and FRR's from the anycast lab."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from seesaw.ncc.bgp.model import MessageStats, Neighbor, SessionState
from seesaw.ncc.bgp.neighbors import NeighborReportError, from_json, from_text, parse_uptime

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.mark.parametrize(
    ("uptime", "seconds"),
    [
        ("", 0),
        ("<error>", 0),
        ("never", 0),
        ("2:45:15", 2 * 3600 + 45 * 60 + 15),
        ("2d23h12m", 2 * 86400 + 23 * 3600 + 12 * 60),
        ("2w3d14h", 2 * 7 * 86400 + 3 * 86400 + 14 * 3600),
        ("03w2d10h", 3 * 7 * 86400 + 2 * 86400 + 10 * 3600),
        ("1y02w3d", 365 * 86400 + 2 * 7 * 86400 + 3 * 86400),
    ],
)
def test_uptime(uptime: str, seconds: int) -> None:
    assert parse_uptime(uptime) == seconds


@pytest.mark.parametrize(
    ("name", "state"),
    [
        ("Idle", SessionState.IDLE),
        ("Active", SessionState.ACTIVE),
        ("Established", SessionState.ESTABLISHED),
        ("established", SessionState.ESTABLISHED),
        ("Idle (Admin)", SessionState.IDLE),
        ("Clearing", SessionState.UNKNOWN),
    ],
)
def test_state_by_name(name: str, state: SessionState) -> None:
    assert SessionState.by_name(name) is state
    assert SessionState.by_name(str(state)) is state  # the name round-trips, as in Seesaw's table


def test_seesaws_quagga_test_data() -> None:
    text = (DATA / "compat" / "quagga" / "testdata" / "neighbors").read_text()
    stats = {
        "opens": (1, 1),
        "notifications": (0, 0),
        "updates": (15, 12),
        "route_refresh": (0, 0),
        "capability": (0, 0),
    }
    assert from_text(text) == [
        Neighbor(
            address=ipaddress.ip_address("192.168.0.252"),
            asn=64513,
            local_asn=64512,
            router_id="192.168.1.254",
            description="au-syd-router1.example.com.",
            state=SessionState.ESTABLISHED,
            uptime_s=parse_uptime("03w2d10h"),
            peer_group="SEESAW-PEERS",
            stats=MessageStats(**stats, keepalives=(202300, 197590), total=(202316, 197603)),
        ),
        Neighbor(
            address=ipaddress.ip_address("192.168.0.253"),
            asn=64513,
            local_asn=64512,
            router_id="192.168.2.254",
            description="au-syd-router2.example.com.",
            state=SessionState.ACTIVE,
            uptime_s=0,
            peer_group="SEESAW-PEERS",
            stats=MessageStats(**stats, keepalives=(202301, 197590), total=(202317, 197603)),
        ),
    ]


def test_route_refresh_row_is_read() -> None:
    text = (
        "BGP neighbor is 10.0.0.1, remote AS 1, local AS 2, external link\n"
        "  Message statistics:\n"
        "                         Sent       Rcvd\n"
        "    Route Refresh:          3          4\n"
        "    Total:                  9          9\n"
    )
    (neighbor,) = from_text(text)
    assert neighbor.stats.route_refresh == (3, 4)
    assert neighbor.stats.total == (9, 9)


def test_frr_json_and_text_from_the_lab_agree() -> None:
    expected = Neighbor(
        address=ipaddress.ip_address("10.99.7.1"),
        asn=64513,
        local_asn=64512,
        router_id="10.99.7.1",
        description="rtr1.lab.",
        state=SessionState.ESTABLISHED,
        uptime_s=9,
        peer_group="SEESAW",
        stats=MessageStats(
            opens=(1, 1),
            notifications=(0, 0),
            updates=(4, 0),
            keepalives=(3, 4),
            route_refresh=(2, 2),
            capability=(0, 0),
            total=(10, 7),
        ),
    )
    assert from_json((DATA / "bgp" / "frr_neighbors.json").read_text()) == [expected]
    (from_frr_text,) = from_text((DATA / "bgp" / "frr_neighbors.txt").read_text())
    assert from_frr_text.address == expected.address
    assert from_frr_text.state is SessionState.ESTABLISHED and from_frr_text.uptime_s == 9
    assert (from_frr_text.description, from_frr_text.router_id) == ("rtr1.lab.", "10.99.7.1")
    assert from_frr_text.peer_group == "SEESAW"


def test_json_neighbours_are_sorted_and_only_established_ones_have_an_uptime() -> None:
    text = """{
      "2001:db8::1": {"remoteAs": 1, "bgpState": "Active", "bgpTimerUpMsec": 5000},
      "10.0.0.9": {"remoteAs": 2, "bgpState": "Established", "bgpTimerUpMsec": 61999},
      "eth0": {"remoteAs": 3, "bgpState": "Established", "hostForeign": "fe80::1"},
      "eth1": {"remoteAs": 4, "bgpState": "Idle"}
    }"""
    got = from_json(text)
    assert [(str(n.address), n.asn, n.uptime_s) for n in got] == [
        ("10.0.0.9", 2, 61),
        ("2001:db8::1", 1, 0),
        ("fe80::1", 3, 0),
    ]
    assert from_json("{}") == [] and from_json("") == []


@pytest.mark.parametrize("bad", ["% Unknown command", "[1, 2]"])
def test_json_that_does_not_read_is_refused(bad: str) -> None:
    with pytest.raises(NeighborReportError):
        from_json(bad)
