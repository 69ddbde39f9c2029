"""The sim dataplane refuses what a kernel refuses, with the kernel's errno, and counts what it writes."""

import errno

import pytest
from ncc_build import dest, ip, lb, service, vip, vip_filter, vlan

from seesaw.ncc.dataplane import DataplaneError
from seesaw.ncc.model import Stats, VIPType, ref
from seesaw.ncc.sim import SimDataplane
from seesaw.ncc.steps import Step


def apply_one(sim: SimDataplane, step: Step):
    [result] = sim.apply([step])
    return result


def test_add_update_delete_round_trip_counts_writes():
    sim = SimDataplane()
    svc = service()
    d = dest(svc, "10.0.0.1")
    results = sim.apply([Step.add("p", svc), Step.add("p", d), Step.update("p", d, dest(svc, "10.0.0.1", weight=9))])
    assert all(r.ok for r in results)
    state = sim.read()
    assert state.objects[ref(d)].weight == 9
    assert sim.writes == 3 and sim.batches == 1 and sim.rejected == 0
    assert [str(s.op) for s in sim.history] == ["ADD", "ADD", "UPDATE"]


@pytest.mark.parametrize(
    ("setup", "step", "code", "words"),
    [
        ([Step.add("p", service())], Step.add("p", service()), errno.EEXIST, "already exists"),
        ([], Step.delete("p", service()), errno.ENOENT, "no such service"),
        ([], Step.update("p", service(), service()), errno.ENOENT, "no such service"),
        ([], Step.add("p", dest(service(), "10.0.0.1")), errno.ENOENT, "no such service"),
        ([Step.add("p", service())], Step.add("p", dest(service(), "2001:db8::1")), errno.EINVAL, "IPv6 destination"),
        ([], Step.add("p", service(scheduler="mh")), errno.ENOENT, "ip_vs_mh"),
        ([], Step.delete("p", vip()), errno.EADDRNOTAVAIL, "no such address"),
        ([], Step.add("p", vip()), errno.EADDRNOTAVAIL, "no LB interface or VLAN"),
        ([Step.add("", lb())], Step.add("p", vip("192.0.2.100")), errno.EEXIST, "cluster VIP of eth1"),
        ([Step.add("", lb())], Step.add("", lb("eth2")), errno.EBUSY, "already the LB interface"),
        ([], Step.add("", vlan()), errno.ENODEV, "no such network interface 'eth1'"),
        ([], Step.update("", lb(), lb(up=True)), errno.ENODEV, "no such LB interface"),
        ([], Step.delete("p", vip_filter()), errno.ENOENT, "no such filter"),
    ],
)
def test_refusals_carry_the_kernel_errno(setup, step, code, words):
    sim = SimDataplane(schedulers={"rr", "wrr", "wlc"})
    assert all(r.ok for r in sim.apply(setup))
    before = sim.read().objects
    result = apply_one(sim, step)
    assert not result.ok
    assert result.errno == code
    assert words in result.error
    assert sim.read().objects == before
    assert sim.rejected == 1


def test_a_refused_step_fails_alone():
    sim = SimDataplane(schedulers={"wrr"})
    good, bad = service("192.0.2.1"), service("192.0.2.2", scheduler="mh")
    results = sim.apply([Step.add("p", bad), Step.add("p", good), Step.add("p", dest(good, "10.0.0.1"))])
    assert [r.ok for r in results] == [False, True, True]
    assert sim.writes == 2
    assert ref(good) in sim.read().objects and ref(bad) not in sim.read().objects


def test_deleting_a_service_drops_its_destinations_like_ipvs():
    sim = SimDataplane()
    svc = service()
    sim.apply([Step.add("p", svc), Step.add("p", dest(svc, "10.0.0.1")), Step.add("p", dest(svc, "10.0.0.2"))])
    assert apply_one(sim, Step.delete("p", svc)).ok
    assert sim.read().objects == {}


def test_deleting_the_lb_interface_drops_its_vlans():
    sim = SimDataplane()
    sim.apply([Step.add("", lb()), Step.add("", vlan())])
    assert apply_one(sim, Step.delete("", lb())).ok
    assert sim.read().objects == {}


def test_unicast_vips_need_a_subnet_anycast_do_not():
    sim = SimDataplane()
    assert apply_one(sim, Step.add("p", vip("192.168.255.1", VIPType.ANYCAST))).ok
    sim.apply([Step.add("", lb()), Step.add("", vlan())])
    assert apply_one(sim, Step.add("p", vip("192.0.2.1"))).ok  # LB subnet
    assert apply_one(sim, Step.add("p", vip("198.51.100.1"))).ok  # VLAN subnet
    assert not apply_one(sim, Step.add("p", vip("203.0.113.1"))).ok


def test_links_restrict_interface_names():
    sim = SimDataplane(links={"eth0", "eth1"})
    result = apply_one(sim, Step.add("", lb("enp0s3")))
    assert result.errno == errno.ENODEV and "'enp0s3'" in result.error
    assert apply_one(sim, Step.add("", lb("eth1"))).ok


def test_tampering_is_not_a_write_and_stats_are_reported():
    sim = SimDataplane()
    svc = service()
    sim.tamper_put(svc)
    sim.tamper_put(dest(svc, "10.0.0.1"))
    assert sim.writes == 0
    assert sim.read().stats == {}
    sim.set_stats(ref(svc), Stats(connections=5, packets_in=10))
    assert sim.read().stats[ref(svc)].connections == 5
    sim.tamper_delete(ref(svc))
    assert sim.read().objects == {} and sim.read().stats == {}


def test_gratuitous_arp_is_recorded_and_needs_an_up_ipv4_interface():
    sim = SimDataplane()
    with pytest.raises(DataplaneError) as missing:
        sim.send_gratuitous_arp("eth1", ip("192.0.2.1"))
    assert missing.value.errno == errno.ENODEV
    sim.apply([Step.add("", lb())])
    with pytest.raises(DataplaneError) as down:
        sim.send_gratuitous_arp("eth1", ip("192.0.2.1"))
    assert down.value.errno == errno.ENETDOWN
    sim.apply([Step.update("", lb(), lb(up=True))])
    sim.send_gratuitous_arp("eth1", ip("192.0.2.1"))
    with pytest.raises(DataplaneError, match=r"no such network interface 'eth1\.100'"):
        sim.send_gratuitous_arp("eth1.100", ip("198.51.100.1"))
    sim.apply([Step.add("", vlan())])
    sim.send_gratuitous_arp("eth1.100", ip("198.51.100.1"))
    with pytest.raises(DataplaneError) as v6:
        sim.send_gratuitous_arp("eth1", ip("2001:db8::1"))
    assert v6.value.errno == errno.EAFNOSUPPORT
    assert sim.garps == [("eth1", ip("192.0.2.1")), ("eth1.100", ip("198.51.100.1"))]


def test_read_returns_a_copy():
    sim = SimDataplane()
    state = sim.read()
    state.objects[ref(vip())] = vip()
    assert sim.read().objects == {}
