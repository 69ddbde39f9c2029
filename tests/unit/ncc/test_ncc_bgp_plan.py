"""The BGP planner: desired state + bgpd's running config -> the statements to type (pure, no bgpd)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from seesaw.ncc.bgp.model import DISABLED, Change, ChangeOp, Desired, Peer
from seesaw.ncc.bgp.plan import plan
from seesaw.ncc.bgp.running import parse

DATA = Path(__file__).resolve().parents[2] / "data" / "bgp"
ROUTER = ("router bgp 64512",)
V4 = (*ROUTER, "address-family ipv4 unicast")
V6 = (*ROUTER, "address-family ipv6 unicast")


def desired(peers: dict[str, str] | None = None, networks: tuple[str, ...] = (), **kw: object) -> Desired:
    peer_list = tuple(Peer(ipaddress.ip_address(a), d) for a, d in (peers or {}).items())
    base: dict[str, object] = dict(
        enabled=True,
        local_asn=64512,
        remote_asn=64513,
        router_id=ipaddress.IPv4Address("10.99.7.2"),
        peers=peer_list,
        networks=frozenset(ipaddress.ip_network(n) for n in networks),
    )
    base.update(kw)
    return Desired(**base)  # type: ignore[arg-type]


LAB = desired({"10.99.7.1": "rtr1.lab."}, ("192.168.255.1/32", "192.168.255.254/32"))
LAB_RUNNING = parse((DATA / "frr_running.txt").read_text())
EMPTY = parse("hostname lb1\n")


def keys(changes: tuple[Change, ...]) -> list[tuple[str, str]]:
    return [(str(c.op), c.key) for c in changes]


def test_from_nothing_every_statement_in_order() -> None:
    result = plan(LAB, EMPTY)
    assert result.problems == ()
    assert list(result.changes) == [
        Change(ChangeOp.ADD, "router-id", ROUTER, ("bgp router-id 10.99.7.2",)),
        Change(ChangeOp.ADD, "route-map SEESAW-IN", ("route-map SEESAW-IN deny 10",)),
        Change(ChangeOp.ADD, "route-map SEESAW-OUT", ("route-map SEESAW-OUT permit 10",)),
        Change(ChangeOp.ADD, "peer-group SEESAW", ROUTER, ("neighbor SEESAW peer-group",)),
        Change(ChangeOp.ADD, "peer-group SEESAW remote-as", ROUTER, ("neighbor SEESAW remote-as 64513",)),
        Change(
            ChangeOp.ADD,
            "peer-group SEESAW ipv4 unicast",
            V4,
            ("neighbor SEESAW route-map SEESAW-IN in", "neighbor SEESAW route-map SEESAW-OUT out"),
        ),
        Change(
            ChangeOp.ADD,
            "peer-group SEESAW ipv6 unicast",
            V6,
            (
                "neighbor SEESAW activate",
                "neighbor SEESAW route-map SEESAW-IN in",
                "neighbor SEESAW route-map SEESAW-OUT out",
            ),
        ),
        Change(
            ChangeOp.ADD,
            "neighbor 10.99.7.1",
            ROUTER,
            ("neighbor 10.99.7.1 peer-group SEESAW", "neighbor 10.99.7.1 description rtr1.lab."),
        ),
        Change(ChangeOp.ADD, "network 192.168.255.1/32", V4, ("network 192.168.255.1/32",)),
        Change(ChangeOp.ADD, "network 192.168.255.254/32", V4, ("network 192.168.255.254/32",)),
    ]


def test_the_state_bgpd_already_holds_plans_nothing() -> None:
    assert plan(LAB, LAB_RUNNING).changes == ()


def test_withdraw_one_advertise_another_v6() -> None:
    wanted = desired({"10.99.7.1": "rtr1.lab."}, ("192.168.255.254/32", "2015:cafe:ffff::1/128"))
    assert keys(plan(wanted, LAB_RUNNING).changes) == [
        ("DELETE", "network 192.168.255.1/32"),
        ("ADD", "network 2015:cafe:ffff::1/128"),
    ]
    (add,) = [c for c in plan(wanted, LAB_RUNNING).changes if c.op is ChangeOp.ADD]
    assert add.context == V6


def test_peers_change_description_join_and_leave() -> None:
    wanted = desired({"10.99.7.1": "router-one", "2001:db8::1": ""}, ("192.168.255.1/32", "192.168.255.254/32"))
    changes = plan(wanted, LAB_RUNNING).changes
    assert [(str(c.op), c.key, c.lines) for c in changes] == [
        ("UPDATE", "neighbor 10.99.7.1", ("neighbor 10.99.7.1 description router-one",)),
        ("ADD", "neighbor 2001:db8::1", ("neighbor 2001:db8::1 peer-group SEESAW",)),
    ]
    gone = desired({"10.99.7.5": ""}, ("192.168.255.1/32", "192.168.255.254/32"))
    assert keys(plan(gone, LAB_RUNNING).changes) == [("ADD", "neighbor 10.99.7.5"), ("DELETE", "neighbor 10.99.7.1")]


def test_remote_as_and_router_id_are_updated() -> None:
    wanted = desired(
        {"10.99.7.1": "rtr1.lab."},
        ("192.168.255.1/32", "192.168.255.254/32"),
        remote_asn=65000,
        router_id=ipaddress.IPv4Address("10.99.7.9"),
    )
    changes = plan(wanted, LAB_RUNNING).changes
    assert [(str(c.op), c.lines) for c in changes] == [
        ("UPDATE", ("bgp router-id 10.99.7.9",)),
        ("UPDATE", ("neighbor SEESAW remote-as 65000",)),
    ]


def test_no_peers_in_cluster_pb_leaves_no_peer_group_but_still_advertises() -> None:
    wanted = desired(None, ("192.168.255.1/32", "192.168.255.254/32"))
    assert keys(plan(wanted, LAB_RUNNING).changes) == [
        ("DELETE", "neighbor 10.99.7.1"),
        ("DELETE", "peer-group SEESAW"),
    ]
    assert keys(plan(wanted, EMPTY).changes) == [
        ("ADD", "router-id"),
        ("ADD", "network 192.168.255.1/32"),
        ("ADD", "network 192.168.255.254/32"),
    ]


def test_disabled_removes_only_what_ncc_owns() -> None:
    text = (
        (DATA / "frr_running.txt")
        .read_text()
        .replace("  network 192.168.255.1/32\n", "  network 192.168.255.1/32\n  network 10.1.0.0/16\n")
    )
    changes = plan(DISABLED, parse(text)).changes
    assert keys(changes) == [
        ("DELETE", "neighbor 10.99.7.1"),
        ("DELETE", "peer-group SEESAW"),
        ("DELETE", "network 192.168.255.1/32"),
        ("DELETE", "network 192.168.255.254/32"),
    ]
    assert all(c.context[0] == "router bgp 64512" for c in changes)
    assert plan(DISABLED, EMPTY).changes == ()


def test_enabled_with_nothing_to_say_creates_no_instance() -> None:
    assert plan(desired(), EMPTY).changes == ()


def test_another_as_running_changes_nothing_and_says_how_to_agree() -> None:
    running = parse((DATA / "frr_running.txt").read_text().replace("router bgp 64512", "router bgp 65000"))
    result = plan(LAB, running)
    assert result.changes == ()
    (problem,) = result.problems
    assert problem.key == "router bgp 64512"
    assert "bgpd runs `router bgp 65000`" in problem.message and "bgp_local_asn" in problem.message
    # Disabled, NCC still withdraws what it owns inside the instance that runs.
    assert keys(plan(DISABLED, running).changes)[-1] == ("DELETE", "network 192.168.255.254/32")


def test_an_operators_neighbour_is_left_alone_and_reported() -> None:
    running = parse("router bgp 64512\n neighbor 10.99.7.1 remote-as 64513\n neighbor 10.99.7.1 description mine\n")
    result = plan(LAB, running)
    assert "neighbor 10.99.7.1" not in [c.key for c in result.changes]
    (problem,) = result.problems
    assert problem.key == "neighbor 10.99.7.1"
    assert "outside the peer group SEESAW" in problem.message and "no neighbor 10.99.7.1" in problem.message
    assert ("ADD", "network 192.168.255.1/32") in keys(result.changes)


def test_an_operators_route_maps_are_kept() -> None:
    running = parse(
        (DATA / "frr_running.txt").read_text() + "route-map SEESAW-OUT permit 20\n set community 64512:1\nexit\n"
    )
    assert plan(LAB, running).changes == ()
