"""seesaw.cfg: Seesaw's keys and defaults, the new keys, errors with line numbers."""

import ipaddress
import textwrap
from pathlib import Path

import pytest

from seesaw.config import ConfigError, load_settings, parse_settings_text
from seesaw.config.settings import DEFAULT_CONFIG_SERVERS, Settings

EXAMPLE = Path(__file__).parents[2] / "data" / "compat" / "etc" / "seesaw" / "seesaw.cfg.example"
MINIMAL = "[cluster]\nname = au-syd\nnode_ipv4 = 192.168.10.2\n"


def parse(text: str):
    return parse_settings_text(textwrap.dedent(text), "seesaw.cfg")


def errors(text: str) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse(text)
    return [str(p) for p in err.value.problems]


def test_defaults():
    s = parse(MINIMAL).settings
    assert s == Settings(cluster_name="au-syd", node_ipv4=ipaddress.IPv4Address("192.168.10.2"))
    assert (s.anycast_enabled, s.use_vmac, s.garp_interval_sec, s.vrid) == (False, True, 10, 60)
    assert (s.node_interface, s.lb_interface, s.dummy_interface, s.routing_table) == ("eth0", "eth1", "dummy0", 2)
    assert s.config_servers == DEFAULT_CONFIG_SERVERS
    assert (s.dataplane, s.advert_interval_ms, s.preempt, s.advert_format) == ("auto", 500, False, "seesaw")
    assert (s.max_vserver_changes, s.max_delete_share, s.sync_port) == (10, 0.5, 10258)
    assert (s.ecu_control_port, s.ecu_monitor_port) == (10256, 10257)


def test_seesaws_example_file():
    s = load_settings(EXAMPLE)
    assert s == Settings(
        cluster_name="au-syd",
        anycast_enabled=False,
        node_ipv4=ipaddress.IPv4Address("192.168.10.2"),
        node_ipv6=ipaddress.IPv6Address("2015:cafe::2"),
        peer_ipv4=ipaddress.IPv4Address("192.168.10.3"),
        peer_ipv6=ipaddress.IPv6Address("2015:cafe::3"),
        vip_ipv4=ipaddress.IPv4Address("192.168.10.1"),
        vip_ipv6=ipaddress.IPv6Address("2015:cafe::1"),
        config_servers=("seesaw-config1.example.com", "seesaw-config2.example.com", "seesaw-config3.example.com"),
        node_interface="eth0",
        lb_interface="eth1",
    )


def test_every_key():
    parsed = parse(
        """\
        [cluster]
        name = au-syd
        anycast_enabled = yes
        node_ipv4 = 192.168.10.2
        use_vmac = off
        garp_interval_sec = 3
        vrid = 61
        [config_server]
        secondary = cfg2.example.com
        primary = cfg1.example.com
        [interface]
        node = ens3
        lb = ens4.100
        dummy = dummy1
        routing_table = 100
        [extra_service_anycast]
        dns = 192.168.255.53
        dns6 = 2015:cafe:ffff::53
        [dataplane]
        backend = NFTables
        [ha]
        advert_interval_ms = 1000
        preempt = t
        format = rfc5798
        unicast_peers = 192.168.10.3, 2015:cafe::3
        [engine]
        max_vserver_changes = 0
        max_delete_share = 0.25
        sync_port = 20258
        [ecu]
        control_port = 20256
        monitor_port = 20257
        """
    )
    s = parsed.settings
    assert parsed.warnings == ()
    assert (s.anycast_enabled, s.use_vmac, s.garp_interval_sec, s.vrid) == (True, False, 3, 61)
    assert s.config_servers == ("cfg1.example.com", "cfg2.example.com")
    assert (s.node_interface, s.lb_interface, s.dummy_interface, s.routing_table) == ("ens3", "ens4.100", "dummy1", 100)
    assert s.extra_service_anycast == (
        ipaddress.ip_address("192.168.255.53"),
        ipaddress.ip_address("2015:cafe:ffff::53"),
    )
    assert (s.dataplane, s.advert_interval_ms, s.preempt, s.advert_format) == ("nftables", 1000, True, "rfc5798")
    assert s.unicast_peers == ("192.168.10.3", "2015:cafe::3")
    assert (s.max_vserver_changes, s.max_delete_share, s.sync_port) == (0, 0.25, 20258)
    assert (s.ecu_control_port, s.ecu_monitor_port) == (20256, 20257)


def test_unknown_keys_are_kept_and_warned_about():
    parsed = parse(
        """\
        [cluster]
        name = au-syd
        node_ipv4 = 192.168.10.2
        vip = 192.168.10.1
        [healthcheck]
        max_checks = 10
        [empty]
        """
    )
    assert parsed.settings.unknown_keys == ("cluster.vip", "healthcheck.max_checks", "[empty]")
    assert [str(w) for w in parsed.warnings] == [
        "seesaw.cfg:4:1: cluster.vip: warning: unknown key: it is kept but not used; [cluster] knows name, "
        "anycast_enabled, vip_ipv4, vip_ipv6, node_ipv4, node_ipv6, peer_ipv4, peer_ipv6, use_vmac, "
        "garp_interval_sec, vrid",
        "seesaw.cfg:5:1: healthcheck: warning: unknown section [healthcheck]: its keys are kept but not used; "
        "known sections are cluster, config_server, dataplane, ecu, engine, extra_service_anycast, ha, interface",
        "seesaw.cfg:7:1: empty: warning: unknown section [empty]: its keys are kept but not used; known sections "
        "are cluster, config_server, dataplane, ecu, engine, extra_service_anycast, ha, interface",
    ]


def test_bad_values_are_errors_at_their_line():
    assert errors(
        """\
        [cluster]
        name = au-syd
        node_ipv4 = 192.168.10.2/24
        vrid = 300
        use_vmac = maybe
        vip_ipv6 = 192.168.10.1

        [dataplane]
          backend = xdp
        [interface]
        routing_table = 254
        lb = eth1 with spaces
        [ha]
        unicast_peer = 10.0.0.1 nope
        """
    ) == [
        'seesaw.cfg:3:1: cluster.node_ipv4: "192.168.10.2/24" is not an IPv4 address (e.g. 192.168.10.2): write '
        "the address without a prefix length",
        "seesaw.cfg:4:1: cluster.vrid: 300 is out of range: use a number between 1 and 255",
        'seesaw.cfg:5:1: cluster.use_vmac: "maybe" is not a boolean: use true or false',
        'seesaw.cfg:6:1: cluster.vip_ipv6: "192.168.10.1" is an IPv4 address; this key takes IPv6',
        'seesaw.cfg:9:3: dataplane.backend: "xdp" is not one of auto, ipvs, nftables, sim',
        "seesaw.cfg:11:1: interface.routing_table: 254 is out of range: use a number between 1 and 250",
        'seesaw.cfg:12:1: interface.lb: "eth1 with spaces" is not a network interface name (1 to 15 letters, '
        "digits, '.', '-', '_')",
        'seesaw.cfg:14:1: ha.unicast_peer: "nope" is not an IP address: list peer addresses separated by commas',
    ]


def test_required_and_inconsistent_values():
    assert errors(
        """\
        [cluster]
        vip_ipv4 = 192.168.10.2
        peer_ipv4 = 192.168.10.3
        [extra_service_anycast]
        a = 10.0.0.1
        [ecu]
        monitor_port = 10256
        """
    ) == [
        "seesaw.cfg:1:1: cluster.name: is not set: set `name = <site>` in [cluster] (the cluster's name, e.g. "
        "au-syd); it names the cluster to config servers",
        "seesaw.cfg:1:1: cluster.node_ipv4: is not set: set node_ipv4 in [cluster] to this node's address, as "
        "listed under `node` in cluster.pb",
        "seesaw.cfg:5:1: extra_service_anycast.a: 10.0.0.1 is not an anycast address: extra service anycast VIPs "
        "must lie in 192.168.255.0/24, 2015:cafe:ffff::/64",
        "seesaw.cfg:7:1: ecu.monitor_port: port 10256 is also ecu.control_port: each service needs its own port",
    ]


def test_node_peer_and_vip_must_differ():
    assert errors(
        """\
        [cluster]
        name = x
        node_ipv4 = 192.168.10.2
        peer_ipv4 = 192.168.10.2
        vip_ipv4 = 192.168.10.2
        """
    ) == [
        "seesaw.cfg:4:1: cluster.peer_ipv4: 192.168.10.2 is this node's own address (node_ipv4): set it to the "
        "other node's address",
        "seesaw.cfg:5:1: cluster.vip_ipv4: 192.168.10.2 is a node's own address: the cluster VIP must be an address "
        "of its own that moves to the leader",
    ]


def test_syntax_errors_carry_line_numbers():
    assert errors("name = x\n[cluster]\n") == [
        "seesaw.cfg:1:1: settings must follow a [section] header such as [cluster]"
    ]
    assert errors("[cluster]\nname = x\nname = y\n") == [
        "seesaw.cfg:3:1: cluster.name: is set twice in its section: keep one"
    ]
    assert errors("[cluster]\n[cluster]\n") == [
        "seesaw.cfg:2:1: cluster: section appears twice: merge the two into one"
    ]
    assert errors("[cluster]\nname x\n") == ['seesaw.cfg:2:1: cannot parse "name x": write `key = value`']


def test_empty_values_mean_default_and_inline_comments_are_ignored():
    s = parse(MINIMAL + "vrid =\nuse_vmac = false  # no VMAC in VMs\n").settings
    assert (s.vrid, s.use_vmac) == (60, False)


def test_extra_anycast_without_anycast_is_a_warning():
    parsed = parse(MINIMAL + "[extra_service_anycast]\ndns = 192.168.255.53\n")
    assert [str(w) for w in parsed.warnings] == [
        "seesaw.cfg:4:1: extra_service_anycast: warning: anycast_enabled is false, so these addresses are never "
        "advertised: set anycast_enabled = true in [cluster] or remove the section"
    ]


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "seesaw.cfg")
    assert str(err.value) == f"{tmp_path / 'seesaw.cfg'}: cannot read the file: No such file or directory"


def test_non_utf8_file(tmp_path):
    path = tmp_path / "seesaw.cfg"
    path.write_bytes(b"[cluster]\nname = \xff\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(err.value) == f"{path}:2:8: byte 0xff is not UTF-8: the file must be text"
