"""The BGP speaker driver against a real FRR bgpd (loopback neighbours only, no sessions, no zebra).

Everything NCC types is read back from bgpd's own running config.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seesaw.lab import frr
from seesaw.ncc.bgp import running
from seesaw.ncc.bgp.client import VTYSession
from seesaw.ncc.bgp.execute import execute
from seesaw.ncc.bgp.model import DISABLED, Change, ChangeOp, Desired, Peer, SessionState
from seesaw.ncc.bgp.plan import plan
from seesaw.ncc.bgp.speaker import Speaker

ROUTER_ID = ipaddress.IPv4Address("10.0.0.2")


def desired(peers: dict[str, str], networks: tuple[str, ...], remote_asn: int = 64513) -> Desired:
    return Desired(
        enabled=True,
        local_asn=64512,
        remote_asn=remote_asn,
        router_id=ROUTER_ID,
        peers=tuple(Peer(ipaddress.ip_address(a), d) for a, d in sorted(peers.items())),
        networks=frozenset(ipaddress.ip_network(n) for n in networks),
    )


WANTED = desired(
    {"127.0.0.11": "router1.example.com.", "::1": "router6.example.com."},
    ("192.168.255.1/32", "192.168.255.254/32", "2015:cafe:ffff::1/128"),
)


@pytest.fixture
def bgpd(tmp_path: Path) -> Iterator[frr.FRR]:
    if frr.missing():
        pytest.skip(frr.missing())
    with frr.running(tmp_path / "frr", standalone=True) as daemon:
        yield daemon


async def show(bgpd: frr.FRR, command: str = "show running-config") -> str:
    async with VTYSession(bgpd.bgpd_vty) as session:
        reply = await session.command(command)
    assert reply.ok, reply.describe()
    return reply.output


async def typed(bgpd: frr.FRR, *lines: str) -> None:
    async with VTYSession(bgpd.bgpd_vty) as session:
        for line in ("configure terminal", *lines, "end"):
            reply = await session.command(line)
            assert reply.ok, (line, reply.describe())


def test_apply_then_bgpd_holds_it_and_again_writes_nothing(bgpd: frr.FRR) -> None:
    async def scenario() -> None:
        speaker = Speaker(bgpd.bgpd_vty)
        first = await speaker.apply(WANTED)
        assert first.problems == []
        assert first.writes == len(first.changes) == 12
        text = await show(bgpd)
        assert "router bgp 64512\n bgp router-id 10.0.0.2\n" in text
        assert " neighbor 127.0.0.11 description router1.example.com.\n" in text
        assert "  network 2015:cafe:ffff::1/128\n" in text
        assert plan(WANTED, running.parse(text)).changes == ()
        again = await speaker.apply(WANTED)
        assert (again.writes, again.changes, again.problems) == (0, [], [])

        found = await speaker.neighbors()
        assert [(str(n.address), n.asn, n.local_asn, n.description, n.peer_group) for n in found] == [
            ("127.0.0.11", 64513, 64512, "router1.example.com.", "SEESAW"),
            ("::1", 64513, 64512, "router6.example.com.", "SEESAW"),
        ]
        assert all(n.state is not SessionState.ESTABLISHED and n.uptime_s == 0 for n in found)

    asyncio.run(scenario())


def test_withdraw_and_disable(bgpd: frr.FRR) -> None:
    async def scenario() -> None:
        speaker = Speaker(bgpd.bgpd_vty)
        await speaker.apply(WANTED)
        fewer = desired({"127.0.0.11": "router1.example.com."}, ("192.168.255.254/32",))
        outcome = await speaker.apply(fewer)
        assert sorted((str(c.op), c.key) for c in outcome.changes) == [
            ("DELETE", "neighbor ::1"),
            ("DELETE", "network 192.168.255.1/32"),
            ("DELETE", "network 2015:cafe:ffff::1/128"),
        ]
        held = running.parse(await show(bgpd))
        assert held.networks == {ipaddress.ip_network("192.168.255.254/32")}
        assert set(held.members) == {ipaddress.ip_address("127.0.0.11")}

        await typed(bgpd, "router bgp 64512", "address-family ipv4 unicast", "network 10.1.0.0/16")
        off = await speaker.apply(DISABLED)
        assert off.problems == [] and off.writes == 3
        held = running.parse(await show(bgpd))
        assert held.asn == 64512 and not held.group and not held.members
        assert held.networks == {ipaddress.ip_network("10.1.0.0/16")}  # the operator's stays
        assert await speaker.neighbors() == []

    asyncio.run(scenario())


def test_dry_run_changes_nothing(bgpd: frr.FRR) -> None:
    async def scenario() -> None:
        speaker = Speaker(bgpd.bgpd_vty)
        outcome = await speaker.apply(WANTED, dry_run=True)
        assert outcome.writes == 0 and len(outcome.changes) == 12
        assert running.parse(await show(bgpd)).asn is None
        assert speaker.desired is None  # a dry run is not a wish: the audit must not apply it

    asyncio.run(scenario())


def test_another_as_and_an_operators_neighbour(bgpd: frr.FRR) -> None:
    async def scenario() -> None:
        speaker = Speaker(bgpd.bgpd_vty)
        await typed(bgpd, "router bgp 65000")
        refused = await speaker.apply(WANTED)
        assert refused.writes == 0
        assert [p.key for p in refused.problems] == ["router bgp 64512"]
        await typed(bgpd, "no router bgp 65000", "router bgp 64512", "neighbor 127.0.0.11 remote-as 64999")
        partly = await speaker.apply(WANTED)
        assert [p.key for p in partly.problems] == ["neighbor 127.0.0.11"]
        held = running.parse(await show(bgpd))
        assert held.others == {ipaddress.ip_address("127.0.0.11")}  # still the operator's, untouched
        assert set(held.members) == {ipaddress.ip_address("::1")}
        assert len(held.networks) == 3

    asyncio.run(scenario())


def test_a_restarted_bgpd_is_repaired_by_the_audit(bgpd: frr.FRR) -> None:
    async def scenario() -> None:
        speaker = Speaker(bgpd.bgpd_vty)
        assert await speaker.audit() == 0  # never asked for anything: never touches bgpd
        await speaker.apply(WANTED)
        assert await speaker.audit() == 0
        bgpd.stop_bgpd()
        assert await speaker.audit() == 0  # unreachable: logged, nothing written
        bgpd.start_bgpd()
        assert running.parse(await show(bgpd)).asn is None
        assert await speaker.audit() == 12
        assert plan(WANTED, running.parse(await show(bgpd))).changes == ()
        assert speaker.repairs_total == 12

    asyncio.run(scenario())


def test_no_bgpd(tmp_path: Path) -> None:
    async def scenario() -> None:
        speaker = Speaker(tmp_path / "bgpd.vty", timeout=2)
        outcome = await speaker.apply(WANTED)
        assert [p.key for p in outcome.problems] == ["bgpd"]
        assert "bgpd is not running" in outcome.problems[0].message
        assert (await speaker.apply(DISABLED)).problems == []  # nothing runs, so nothing is advertised

    asyncio.run(scenario())


def test_a_refused_mode_fails_only_the_changes_inside_it(bgpd: frr.FRR) -> None:
    async def scenario() -> None:
        bogus = ("router bgp 64512", "address-family bogus")
        changes = [
            Change(ChangeOp.ADD, "one", bogus, ("network 192.168.255.1/32",)),
            Change(ChangeOp.ADD, "two", bogus, ("network 192.168.255.2/32",)),
            Change(
                ChangeOp.ADD, "three", ("router bgp 64512", "address-family ipv4 unicast"), ("network 192.0.2.1/32",)
            ),
            Change(ChangeOp.ADD, "four", ("router bgp 64512",), ("neighbor 127.0.0.12 remote-as 1", "bogus line")),
        ]
        async with VTYSession(bgpd.bgpd_vty) as session:
            result = await execute(session, changes)
        assert [c.key for c in result.done] == ["three"]
        assert [p.key for p in result.problems] == ["one", "two", "four"]
        assert "refused `address-family bogus`" in result.problems[0].message
        assert "refused `bogus line`" in result.problems[2].message
        held = running.parse(await show(bgpd))
        assert held.networks == {ipaddress.ip_network("192.0.2.1/32")}

    asyncio.run(scenario())


PEERS = st.dictionaries(
    st.sampled_from(["127.0.0.11", "127.0.0.12", "127.0.0.13", "::1"]),
    st.sampled_from(["", "r1.example.com.", "edge router"]),
)
NETWORKS = st.sets(st.sampled_from(["192.168.255.1/32", "192.168.255.7/32", "2015:cafe:ffff::1/128"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(PEERS, NETWORKS, st.sampled_from([64513, 65000])), min_size=1, max_size=4))
def test_any_sequence_converges_and_disable_leaves_nothing_of_ncc(
    bgpd: frr.FRR, steps: list[tuple[dict[str, str], set[str], int]]
) -> None:
    async def scenario() -> None:
        speaker = Speaker(bgpd.bgpd_vty)
        for peers, networks, remote_asn in steps:
            wanted = desired(peers, tuple(networks), remote_asn)
            outcome = await speaker.apply(wanted)
            assert outcome.problems == []
            assert plan(wanted, running.parse(await show(bgpd))).changes == ()
        await speaker.apply(DISABLED)
        held = running.parse(await show(bgpd))
        assert not held.group and not held.members and not held.networks

    asyncio.run(scenario())
