"""The two-node lab under load: a client loop per service (a new connection or query every 20 ms through
each VIP) while backends die, configs reload and change, and daemons are SIGKILLed.

    backend killed, restarted   failures only until its check removes it; none from then on, re-add included
    50 reloads, no change       no failed request, no dataplane write on either node
    config adds a backend       no failed request; the new backend takes its share
    SIGKILL ncc/hc/ecu          on the master: no failed request, and the lab serves as before
    SIGKILL engine              on the master: no failed request, no failover (HA waits for its engine),
                                and the restarted engine writes nothing (it adopts the dataplane); the
                                same on a single node (the tutorial's, with DSR checks through marks)
    SIGKILL ha on the master    exactly one failover (the other node leads, and keeps leading)

A reused flow (a client source port seen before) of a removed backend goes to a live one: nftables DSR
flow maps forget a flow whose destination left its service.
The load loops use fresh source ports (seesaw.lab.traffic), so they measure how new flows are served.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator

import grpc
import pytest
from e2e_lab import running_lab

from seesaw.common import paths
from seesaw.lab import configs, query, topology, traffic
from seesaw.lab.lab import Lab
from seesaw.lab.traffic import Load
from seesaw.pb import common_pb2, ha_pb2_grpc

pytestmark = [pytest.mark.netns, pytest.mark.slow]


def wait_for(condition: Callable[[], object], timeout: float, what: str, step: float = 0.05) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)
    return time.monotonic()


def destinations(lab: Lab, node: str, address: str) -> list[str]:
    """The states `show destinations` gives the destinations on `address` (e.g. 'enabled, healthy, active')."""
    out = lab.nodes[node].cli("show destinations").stdout
    return [line.rsplit("(", 1)[1].rstrip(")") for line in out.splitlines() if f"/{address}:" in line]


def failures(loops: dict[str, Load], since: float, until: float = float("inf")) -> dict[str, list[str]]:
    found = {
        label: [f"{o.start - since:+.3f}s {o.error}" for o in loop.failures(since, until)]
        for label, loop in loops.items()
    }
    return {label: errors for label, errors in found.items() if errors}


def more_requests(loops: dict[str, Load], count: int = 20) -> None:
    for loop in loops.values():
        loop.wait_requests(count)


def backends_seen(loop: Load, since: float) -> set[str]:
    return {o.backend for o in loop.outcomes(since) if o.backend is not None}


def test_backend_killed_and_restarted(pair_lab: Lab, load):
    loops = load()
    master = pair_lab.master()
    assert master is not None
    address = str(pair_lab.topo.host("be1").ip.ip)
    killed = time.monotonic()
    pair_lab.kill_backend("be1")
    noticed = wait_for(
        lambda: all(s.endswith("inactive") for s in destinations(pair_lab, master, address)),
        15,
        "be1's destinations to go inactive",
    )
    more_requests(loops)
    for label, loop in loops.items():
        assert backends_seen(loop, noticed) == {"be2"}, label
    pair_lab.start_backend("be1")
    readded = wait_for(
        lambda: all(s == "enabled, healthy, active" for s in destinations(pair_lab, master, address)),
        15,
        "be1's destinations to be active again",
    )
    more_requests(loops)
    assert failures(loops, noticed) == {}, f"killed at {killed - noticed:+.3f}s"
    for label, loop in loops.items():
        assert backends_seen(loop, readded) == {"be1", "be2"}, label


def test_50_reloads_without_change_write_nothing(pair_lab: Lab, load):
    loops = load()
    writes = {name: query.ncc_status(node.run_dir) for name, node in pair_lab.nodes.items()}
    started = time.monotonic()
    for _ in range(50):
        pair_lab.reload()
    more_requests(loops)
    after = {name: query.ncc_status(node.run_dir) for name, node in pair_lab.nodes.items()}
    assert failures(loops, started) == {}
    assert {n: s.writes for n, s in after.items() if s} == {n: s.writes for n, s in writes.items() if s}
    assert all(after.values())


def test_config_change_adds_a_backend(pair_lab: Lab, load):
    topo = pair_lab.topo
    loops = load()
    started = time.monotonic()
    pair_lab.set_cluster(configs.cluster_pb(topo, (*topo.backends, *topo.spares)))
    try:
        replies = pair_lab.reload()
        assert all(replies.values()), replies
        wait_for(
            lambda: all("be3" in backends_seen(loop, started) for loop in loops.values()),
            15,
            "be3 to answer on every service",
        )
        added = time.monotonic()
        more_requests(loops, 30)
        assert failures(loops, started) == {}
        for label, loop in loops.items():
            assert backends_seen(loop, added) == {"be1", "be2", "be3"}, label
    finally:
        pair_lab.set_cluster(configs.cluster_pb(topo))
        pair_lab.reload()
        pair_lab.wait_serving()


def sigkill_on_the_master(lab: Lab, daemon: str) -> tuple[str, float]:
    """SIGKILL `daemon` on the master; (the master, when) once the watchdog restarted it and the lab serves again."""
    master = lab.master()
    assert master is not None
    node = lab.nodes[master]
    old_pid = int(node.status()[daemon]["pid"])
    killed = time.monotonic()
    os.kill(old_pid, signal.SIGKILL)
    node.wait(
        lambda: int(node.status()[daemon].get("pid") or 0) not in (0, old_pid) and node.all_running(),
        30,
        f"{daemon} restarted and every daemon serving",
    )
    lab.wait_serving(30)
    return master, killed


@pytest.mark.parametrize("daemon", ["ncc", "healthcheck", "ecu"])
def test_sigkill_of_a_daemon_on_the_master_fails_no_request(pair_lab: Lab, load, daemon: str):
    loops = load()
    master, killed = sigkill_on_the_master(pair_lab, daemon)
    more_requests(loops, 30)
    assert failures(loops, killed) == {}, f"master was {master}; HA now {pair_lab.ha_states()}"


def ha_transitions(lab: Lab) -> dict[str, int]:
    """Each node's count of HA transitions, from seesaw-ha itself (it outlives an engine)."""
    counts = {}
    for name, node in lab.nodes.items():
        with grpc.insecure_channel(f"unix:{paths.socket_path(node.run_dir, 'ha')}") as channel:
            status = ha_pb2_grpc.HAStub(channel).GetStatus(common_pb2.Empty(), timeout=3)
        counts[name] = status.transitions
    return counts


def test_sigkill_of_the_engine_on_the_master_fails_no_request(pair_lab: Lab, load):
    # The kernel keeps forwarding while the engine is away. HA keeps leading through the engine's
    # absence (seesaw/ha/engine_grace.py), and the restarted engine adopts what NCC holds until HA and
    # the healthchecks report (seesaw/engine/adoption.py): nothing moves, nothing is rewritten.
    loops = load()
    master = pair_lab.master()
    assert master is not None
    transitions = ha_transitions(pair_lab)
    writes = query.ncc_status(pair_lab.nodes[master].run_dir)
    master, killed = sigkill_on_the_master(pair_lab, "engine")
    serving = time.monotonic()
    more_requests(loops, 30)
    print(f"engine SIGKILL on {master}: serving again after {serving - killed:.2f}s; {failures(loops, killed)}")
    assert failures(loops, killed) == {}, f"HA now {pair_lab.ha_states()}"
    assert pair_lab.master() == master
    assert ha_transitions(pair_lab) == transitions  # no failover, not even for a moment
    after = query.ncc_status(pair_lab.nodes[master].run_dir)
    assert writes is not None and after is not None and after.writes == writes.writes
    for label, loop in loops.items():
        assert backends_seen(loop, serving) == {"be1", "be2"}, label


@pytest.fixture(scope="module")
def single_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The tutorial's one-node lab: nobody to take over."""
    with running_lab(tmp_path_factory.mktemp("single"), topology.tutorial("e2e-one-")) as lab:
        yield lab


@contextlib.contextmanager
def client_load(lab: Lab) -> Iterator[dict[str, Load]]:
    """A client loop per service of `lab`, running for the block."""
    loops = {s.label: Load(lab.client(s.request(timeout=1.0))) for s in lab.services}
    with contextlib.ExitStack() as stack:
        for loop in loops.values():
            stack.enter_context(loop)
        for loop in loops.values():
            loop.wait_requests(5)
        yield loops


def test_sigkill_of_the_engine_on_a_single_node_fails_no_request(single_lab: Lab):
    # Without the adoption, the restarted engine knew no check result and took every destination out
    # (connections refused for 1-2 s) and the LB interface down until HA reported.
    with client_load(single_lab) as loops:
        (name,) = single_lab.nodes
        writes = query.ncc_status(single_lab.nodes[name].run_dir)
        _, killed = sigkill_on_the_master(single_lab, "engine")
        more_requests(loops, 30)
        assert failures(loops, killed) == {}
        after = query.ncc_status(single_lab.nodes[name].run_dir)
        assert writes is not None and after is not None and after.writes == writes.writes


def test_sigkill_of_ha_on_the_master_is_one_failover(pair_lab: Lab, load):
    loops = load()
    old = pair_lab.master()
    assert old is not None
    (new,) = [name for name in pair_lab.nodes if name != old]
    node = pair_lab.nodes[old]
    old_pid = int(node.status()["ha"]["pid"])
    killed = time.monotonic()
    os.kill(old_pid, signal.SIGKILL)
    took_over = wait_for(lambda: pair_lab.ha_states()[new] == "LEADER", 10, f"{new} to lead")
    node.wait(
        lambda: int(node.status()["ha"].get("pid") or 0) not in (0, old_pid) and node.all_running(),
        30,
        "ha restarted on the old master",
    )
    wait_for(lambda: pair_lab.ha_states()[old] == "BACKUP", 10, f"{old} back as BACKUP")
    leaders = []
    for _ in range(20):  # and it stays that way: one failover, no flapping back
        states = pair_lab.ha_states()
        leaders.append(tuple(sorted(n for n, s in states.items() if s == "LEADER")))
        time.sleep(0.1)
    assert set(leaders) == {(new,)}
    more_requests(loops, 30)
    print(f"failover {took_over - killed:.3f}s after the kill; failed requests: {failures(loops, killed)}")
    assert failures(loops, took_over + 1.0) == {}
    for label, loop in loops.items():
        assert backends_seen(loop, took_over + 1.0) == {"be1", "be2"}, label


def dsr_dns_from(lab: Lab, ports: range) -> dict[int, str]:
    """Port -> the backend answering a DSR DNS query sent from that client source port ("-" if none did)."""
    out = {}
    for port in ports:
        try:
            out[port] = lab.client(lambda p=port: traffic.dns_txt("10.99.1.200", 53, 0.5, sport=p))()
        except OSError:
            out[port] = "-"
    return out


def test_a_reused_flow_of_a_removed_backend_goes_to_a_live_one(pair_lab: Lab):
    ports = range(10000, 10020)  # below the load loops' ports (traffic.source_port): no flow of theirs
    first = dsr_dns_from(pair_lab, ports)
    assert set(first.values()) == {"be1", "be2"}
    master = pair_lab.master()
    assert master is not None
    address = str(pair_lab.topo.host("be1").ip.ip)
    pair_lab.kill_backend("be1")
    try:
        wait_for(lambda: all(s.endswith("inactive") for s in destinations(pair_lab, master, address)), 15, "be1 out")
        assert set(dsr_dns_from(pair_lab, ports).values()) == {"be2"}
    finally:
        pair_lab.start_backend("be1")
        pair_lab.wait_serving()
