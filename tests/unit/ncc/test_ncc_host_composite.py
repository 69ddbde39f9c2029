"""KernelDataplane: steps routed to the part owning their kind, in plan order, one batch per run of a part."""

import errno
import ipaddress

import pytest

from seesaw.ncc import planner
from seesaw.ncc.dataplane import DataplaneError
from seesaw.ncc.inventory import Inventory
from seesaw.ncc.kernel.composite import KernelDataplane
from seesaw.ncc.model import (
    VIP,
    Destination,
    DestinationKey,
    Kind,
    LBInterface,
    Partition,
    Protocol,
    Request,
    Service,
    ServiceKey,
    Stats,
    VIPFilter,
    ref,
)
from seesaw.ncc.sim import SimDataplane
from seesaw.ncc.steps import Step


class SimPart(SimDataplane):
    """The sim kernel model as one part: it holds the kinds it is given and records each batch."""

    def __init__(self, kinds):
        super().__init__()
        self.kinds = frozenset(kinds)
        self.runs = []

    def apply(self, steps):
        assert all(step.kind in self.kinds for step in steps), "a part was handed another part's step"
        self.runs.append([step.kind for step in steps])
        return super().apply(steps)


def ip(text):
    return ipaddress.ip_address(text)


LB = LBInterface("eth1", node_ipv4=ipaddress.IPv4Interface("10.0.0.2/24"), cluster_vip_ipv4=ip("10.0.0.10"))
SVC = Service(ServiceKey.ip(Protocol.TCP, ip("10.0.0.100"), 80))
DEST = Destination(DestinationKey(SVC.key, ip("10.0.1.11"), 80))
FILTER = VIPFilter(ip("10.0.0.100"), frozenset({(Protocol.TCP, 80)}))


def parts():
    return SimPart({Kind.SERVICE, Kind.DESTINATION}), SimPart({Kind.LB, Kind.VLAN, Kind.VIP}), SimPart({Kind.FILTER})


def first_plan():
    request = Request((Partition.of("", [LB]), Partition.of("web", [VIP(ip("10.0.0.100")), SVC, DEST, FILTER])))
    return planner.plan(request, Inventory(), Inventory(), {}).steps


def test_a_plan_is_cut_into_runs_of_one_part_in_plan_order():
    services, host, filters = parts()
    dataplane = KernelDataplane("ipvs", [services, host, filters])
    results = dataplane.apply(first_plan())
    assert [r.step.kind for r in results] == [Kind.LB, Kind.VIP, Kind.SERVICE, Kind.DESTINATION, Kind.FILTER]
    assert all(r.ok for r in results)
    assert host.runs == [[Kind.LB, Kind.VIP]]
    assert services.runs == [[Kind.SERVICE, Kind.DESTINATION]]
    assert filters.runs == [[Kind.FILTER]]


def test_reads_are_merged_with_counters():
    services, host, filters = parts()
    dataplane = KernelDataplane("ipvs", [services, host, filters])
    dataplane.apply(first_plan())
    services.set_stats(ref(SVC), Stats(connections=7))
    state = dataplane.read()
    assert set(state.objects) == {ref(s) for s in (LB, VIP(ip("10.0.0.100")), SVC, DEST, FILTER)}
    assert state.stats[ref(SVC)].connections == 7


def test_without_a_filters_part_filter_steps_fail_alone_and_say_why():
    services, host, _ = parts()
    results = KernelDataplane("ipvs", [services, host]).apply(first_plan())
    assert [r.ok for r in results] == [True, True, True, True, False]
    assert "VIP filtering needs nftables" in results[-1].error
    assert "apt-get install nftables libnftables1" in results[-1].error


def test_a_part_failing_as_a_whole_fails_only_its_own_steps():
    services, host, filters = parts()
    services.failure = DataplaneError("netlink socket closed", errno.EBADF)
    results = KernelDataplane("ipvs", [services, host, filters]).apply(first_plan())
    assert [r.ok for r in results] == [True, True, False, False, True]
    assert results[2].error == "not applied: netlink socket closed" and results[2].errno == errno.EBADF


def test_gratuitous_arp_goes_through_the_host_part():
    services, host, filters = parts()
    dataplane = KernelDataplane("ipvs", [services, host, filters])
    dataplane.apply([Step.add("", LBInterface("eth1", up=True))])
    dataplane.send_gratuitous_arp("eth1", ip("10.0.0.10"))
    assert host.garps == [("eth1", ip("10.0.0.10"))]


def test_two_parts_may_not_own_one_kind():
    with pytest.raises(ValueError, match="two parts of the x dataplane own vip objects"):
        KernelDataplane("x", [SimPart({Kind.VIP}), SimPart({Kind.VIP, Kind.LB})])


def test_close_closes_every_part():
    all_parts = parts()
    KernelDataplane("nftables", all_parts).close()
    assert all(p.closed for p in all_parts)
