"""The engine while HA hands over (make before break): the LB interface stays up, gratuitous ARP stops."""

from __future__ import annotations

from engine_fixtures import cluster, settings

from seesaw.common.clock import FakeClock
from seesaw.engine.core import Engine
from seesaw.pb import common_pb2, ha_pb2


def leader(handing_over: bool) -> ha_pb2.HAStatus:
    return ha_pb2.HAStatus(state=common_pb2.HA_LEADER, transitions=2, handing_over=handing_over)


def test_a_leader_handing_over_keeps_serving_but_announces_nothing() -> None:
    e = Engine(settings(use_vmac=False), FakeClock())
    e.load_config(cluster())
    e.ha_session_opened()
    e.ha_report(leader(handing_over=False))
    assert e.lb_up() and e.arp_map() != {}
    e.ha_report(leader(handing_over=True))  # the operator's failover: the peer takes over now
    assert e.lb_up() and e.arp_map() == {}  # a GARP now would call the clients back from the new master
    e.ha_report(ha_pb2.HAStatus(state=common_pb2.HA_BACKUP, transitions=3))
    assert not e.lb_up() and e.arp_map() == {}
    e.ha_report(leader(handing_over=False))
    assert e.arp_map() != {}
