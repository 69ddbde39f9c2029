"""The lab's layouts and the commands that build them (pure: nothing runs)."""

from __future__ import annotations

import ipaddress

import pytest

from seesaw.lab import build, topology


@pytest.mark.parametrize("layout", sorted(topology.LAYOUTS))
def test_every_namespace_and_address_is_unique_and_prefixed(layout):
    topo = topology.LAYOUTS[layout]("x-")
    assert all(ns.startswith("x-") for ns in topo.namespaces)
    assert len(set(topo.namespaces)) == len(topo.namespaces)
    macs = [h.mac for h in topo.hosts] + [h.lb_mac for h in topo.lbs]
    assert len(set(macs)) == len(macs)
    addresses = [h.ip.ip for h in topo.hosts] + [topo.cluster_vip.ip] + [v.vip.ip for v in topo.vservers]
    assert len(set(addresses)) == len(addresses)
    assert topo.namespaces[-1] == topo.lan  # the bridge goes last on the way down


@pytest.mark.parametrize("layout", sorted(topology.LAYOUTS))
def test_vips_live_in_the_node_network(layout):
    # NCC puts a unicast VIP on the LB interface only if the node network holds it
    topo = topology.LAYOUTS[layout]()
    for node in topo.lbs:
        assert topo.cluster_vip.ip in node.ip.network
        assert all(v.vip.ip in node.ip.network for v in topo.vservers)


def test_commands_make_the_bridge_first_then_every_host():
    topo = topology.pair("t-")
    commands = build.commands(topo)
    assert commands[0] == ("ip", "netns", "add", "t-lan")
    made = [c[3] for c in commands if c[:3] == ("ip", "netns", "add")]
    assert made == ["t-lan", *(topo.ns(h.name) for h in topo.hosts)]
    peers = [c[c.index("peer") + 2] for c in commands if "peer" in c]
    assert all(len(p) <= 15 for p in peers)  # IFNAMSIZ


def test_lb_nodes_get_an_lb_interface_without_address_left_down():
    topo = topology.pair("t-")
    commands = build.commands(topo)
    for node in topo.lbs:
        ns = ("ip", "-n", topo.ns(node.name))
        assert (*ns, "link", "add", "eth1", "address", node.lb_mac, "type", "veth", "peer", "name",
                f"w-{node.name}", "netns", "t-lan") in commands  # fmt: skip
        assert not [c for c in commands if c[:3] == ns and "eth1" in c and c[3] in ("addr", "link") and "up" in c]
        assert (*ns, "addr", "add", str(node.ip), "dev", "eth0") in commands


def test_dsr_backends_hold_the_vip_on_lo_and_ignore_arp_for_it_before_any_address():
    topo = topology.pair("t-")
    commands = build.commands(topo)
    dsr = topo.vserver("web-dsr")
    for backend in topo.backends:
        ns = topo.ns(backend.name)
        mine = [c for c in commands if ns in c]
        assert ("ip", "-n", ns, "addr", "add", f"{dsr.vip.ip}/32", "dev", "lo") in mine
        arp = [i for i, c in enumerate(mine) if "sysctl" in c]
        first_address = next(i for i, c in enumerate(mine) if c[3:5] == ("addr", "add"))
        assert len(arp) == 4 and max(arp) < first_address
        # DSR replies leave from the VIP straight to the router; everything else via the cluster VIP (NAT)
        assert ("ip", "-n", ns, "rule", "add", "from", str(dsr.vip.ip), "table", topology.DSR_TABLE) in mine


def test_pair_client_sends_from_its_own_subnet_through_itself_as_router():
    topo = topology.pair()
    assert topo.source == topo.client.ip.ip
    assert topo.source not in topo.lbs[0].ip.network
    router = next(c[2] for c in topo.client.setup if c[:2] == ("addr", "add"))
    gateway = next(c[c.index("via") + 1] for c in topo.lbs[0].setup if "default" in c)
    assert ipaddress.ip_interface(router).ip == ipaddress.ip_address(gateway)


def test_tutorial_is_seesaws_first_deployment():
    topo = topology.tutorial()
    assert [n.fqdn for n in topo.lbs] == ["node01.localdomain."]
    assert str(topo.cluster_vip) == "192.168.37.80/24"
    (vserver,) = topo.vservers
    assert (vserver.name, str(vserver.vip), vserver.mode) == ("test-vserver", "192.168.37.200/24", "DSR")
    assert [(e.protocol, e.port, e.scheduler, e.check.type, e.check.port) for e in vserver.entries] == [
        ("TCP", 80, "RR", "HTTP", 80)
    ]
    assert [str(b.ip.ip) for b in topo.backends] == ["192.168.37.71", "192.168.37.72"]
    assert str(topo.client.ip.ip) == "192.168.37.172" and topo.use_vmac


def test_unknown_names_say_what_there_is():
    topo = topology.pair()
    with pytest.raises(KeyError, match="be1, be2, be3"):
        topo.host("be9")
    with pytest.raises(KeyError, match="web-dsr, web-nat"):
        topo.vserver("nope")
