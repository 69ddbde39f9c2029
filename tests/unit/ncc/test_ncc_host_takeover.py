"""The fast path of a takeover: raising an LB interface NCC already set up needs only links and addresses to
bring it up and announce it; anything else goes the usual way (plan_step on the full read)."""

import dataclasses

import pytest
from test_ncc_host_plan import LB, OWN_MAC, applied_host, fresh_host, ip, the_lb

from seesaw.ncc.kernel.host_plan import Announce, SetLink, plan_step, takeover_ops
from seesaw.ncc.kernel.host_snapshot import Snapshot
from seesaw.ncc.steps import Step


def standby(lb, vips=("10.0.0.100",)) -> Snapshot:
    """The backup's host: the LB interface set up by NCC (record, MAC, addresses, rules) and down."""
    return applied_host(dataclasses.replace(lb, up=False), vips=vips)


def raise_(lb) -> Step:
    return Step.update("lb", dataclasses.replace(lb, up=False), lb)


@pytest.mark.parametrize("use_vmac", [True, False])
def test_raising_a_standby_lb_is_link_up_and_the_burst(use_vmac):
    lb = the_lb(use_vmac=use_vmac)
    snap = standby(lb)
    ops = takeover_ops(raise_(lb), snap)
    assert ops == [
        SetLink("lb-1", up=True),
        Announce("lb-1", (ip("10.0.0.10"), ip("2001:db8::10"), ip("10.0.0.100")), burst=True),
    ]
    # the usual plan, on the read after it, brings up the rest and announces the same addresses
    after = dataclasses.replace(snap.links[LB], up=True, running=True)
    snap.links[LB] = after
    rest = plan_step(raise_(lb), snap)
    assert SetLink("lb-1", up=True) not in rest
    assert [op for op in rest if isinstance(op, Announce)] == [ops[1]]


@pytest.mark.parametrize(
    ("change_step", "change_host"),
    [
        (lambda lb: Step.add("lb", lb), None),  # a first set-up: sysctls and all come first
        (lambda lb: Step.update("lb", lb, dataclasses.replace(lb, routing_table=3)), None),  # not only `up`
        (lambda lb: Step.update("lb", dataclasses.replace(lb, up=True), dataclasses.replace(lb, up=False)), None),
        (None, lambda snap: snap.links.update({LB: dataclasses.replace(snap.links[LB], alias="")})),  # not ours
        (None, lambda snap: snap.links.update({LB: dataclasses.replace(snap.links[LB], mac=OWN_MAC)})),  # no VMAC
        (None, lambda snap: snap.links.update({LB: dataclasses.replace(snap.links[LB], up=True)})),  # already up
        (None, lambda snap: snap.links.pop(LB)),  # gone
    ],
)
def test_anything_else_goes_the_usual_way(change_step, change_host):
    lb = the_lb(use_vmac=True)
    snap = standby(lb)
    step = raise_(lb) if change_step is None else change_step(dataclasses.replace(lb, up=False))
    if change_host is not None:
        change_host(snap)
    assert takeover_ops(step, snap) is None


def test_a_different_record_is_not_raised_behind_the_plans_back():
    lb = the_lb(use_vmac=False)
    snap = standby(dataclasses.replace(lb, cluster_vip_ipv4=ip("10.0.0.11")))  # recorded with another VIP
    assert takeover_ops(raise_(lb), snap) is None
    assert takeover_ops(raise_(lb), fresh_host()) is None


def test_after_ha_raised_it_with_its_kit_the_burst_is_what_is_left():
    lb = the_lb(use_vmac=True)
    snap = standby(lb)
    full = takeover_ops(raise_(lb), snap, raised=True)  # HA said so, but the link is down: raise it all the same
    assert full is not None and full[0] == SetLink("lb-1", up=True)
    snap.links[LB] = dataclasses.replace(snap.links[LB], up=True)
    assert takeover_ops(raise_(lb), snap, raised=True) == full[1:]  # the burst (and its repeats) alone
    assert takeover_ops(raise_(lb), snap) is None  # up, and not by HA's kit: the usual way
