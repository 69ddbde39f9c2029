"""How an HAConfig from the engine becomes the election's config and the socket's destinations; the order
in which a node carries out the election's actions."""

import asyncio

import pytest

from seesaw.common.clock import FakeClock
from seesaw.ha import machine as m
from seesaw.ha.node import Node, election_config, link_config
from seesaw.pb import ha_pb2


def ha_config(**fields) -> ha_pb2.HAConfig:
    values = {"enabled": True, "local_address": "10.0.0.2", "interface": "eth0", "priority": 255, "vrid": 60}
    values.update(fields)
    return ha_pb2.HAConfig(**values)


def test_seesaw_format_sends_no_addresses_even_if_given():
    config = election_config(ha_config(addresses=["10.0.0.200"]))
    assert config.addresses == () and config.advert_interval_ms == 500  # proto default 0 means Seesaw's 500 ms


def test_rfc5798_format_carries_the_addresses():
    config = election_config(ha_config(format=ha_pb2.HAConfig.RFC5798, addresses=["10.0.0.200", "10.0.1.1"]))
    assert config.addresses == ("10.0.0.200", "10.0.1.1")


def test_destinations():
    assert link_config(ha_config()).destinations == ("224.0.0.18",)
    assert link_config(ha_config(remote_address="224.0.0.18")).destinations == ("224.0.0.18",)
    peers = ha_config(unicast_peers=["10.0.0.3", "10.0.0.4"])
    assert link_config(peers).destinations == ("10.0.0.3", "10.0.0.4")  # unicast only: no multicast
    both = ha_config(remote_address="224.0.0.18", unicast_peers=["10.0.0.3", "224.0.0.18"])
    assert link_config(both).destinations == ("224.0.0.18", "10.0.0.3")
    assert link_config(ha_config(local_address="fe80::2%eth0")).destinations == ("ff02::12",)
    assert link_config(ha_config(local_address="fe80::2%eth0")).local_address == "fe80::2"
    assert link_config(ha_config()).joins_group and not link_config(peers).joins_group


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"priority": 0}, "priority 0 is out of range"),
        ({"vrid": 300}, "VRID 300"),
        ({"local_address": ""}, "set node_ipv4"),
        ({"advert_interval_ms": 5}, "advert interval"),
    ],
)
def test_bad_configs_say_what_to_fix(fields, message):
    with pytest.raises(ValueError, match=message):
        election_config(ha_config(**fields))


def test_bad_peer_address():
    with pytest.raises(ValueError):
        link_config(ha_config(unicast_peers=["peer-host"]))


def test_the_first_advert_goes_out_before_the_takeover():
    """A leader's first advert is on the wire before HA raises the LB interface (its kit's system calls can
    wait on the kernel's rtnl lock): the peer hears the new master first, then the clients are called over."""
    sent: list[object] = []
    order: list[str] = []

    class Wire:
        def send(self, advert: object) -> None:
            sent.append(advert)
            order.append("advert")

    async def scenario() -> None:
        node = Node(FakeClock())
        node._machine = m.Machine(election_config(ha_config()), FakeClock())
        node._socket = Wire()  # type: ignore[assignment]
        node.on_leader = lambda since_unix_ms: order.append("takeover")
        node._run([m.BecomeLeader(), m.SendAdvert(advert=object()), m.ReportStatus()])  # the machine's order
        node._cancel_timer()

    asyncio.run(scenario())
    assert order == ["advert", "takeover"]
