"""seesaw.cfg's [ha] keys for failover speed, and the HAConfig the engine derives from them."""

from __future__ import annotations

import ipaddress

import pytest

from seesaw.config.errors import ConfigError
from seesaw.config.model import Cluster, HAState, Host, Node
from seesaw.config.seesaw_cfg import parse_settings_text
from seesaw.engine.ha_state import ha_config

HEAD = "[cluster]\nname = au-syd\nnode_ipv4 = 10.0.0.2\n"


def test_defaults() -> None:
    s = parse_settings_text(HEAD, "seesaw.cfg").settings
    assert (s.takeover_skew, s.make_before_break, s.realtime_priority) == (False, True, 0)


def test_keys_are_read() -> None:
    text = HEAD + "[ha]\ntakeover_skew = yes\nmake_before_break = off\nrealtime_priority = 50\n"
    s = parse_settings_text(text, "seesaw.cfg").settings
    assert (s.takeover_skew, s.make_before_break, s.realtime_priority) == (True, False, 50)
    assert s.unknown_keys == ()


def test_realtime_priority_out_of_range_is_located() -> None:
    with pytest.raises(ConfigError, match=r"seesaw.cfg:5:1: ha.realtime_priority.*between 0 and 99"):
        parse_settings_text(HEAD + "[ha]\nrealtime_priority = 100\n", "seesaw.cfg")


@pytest.mark.parametrize(
    ("cluster", "ha", "hold"),
    [
        ("use_vmac = false\n", "advert_interval_ms = 100\n", 300),  # 3 intervals of make before break
        ("use_vmac = false\n", "advert_interval_ms = 100\nmake_before_break = false\n", 0),
        ("use_vmac = true\n", "advert_interval_ms = 100\n", 0),  # the VMAC must never be up on two nodes
        ("", "", 0),  # Seesaw's default: use_vmac = true
    ],
)
def test_the_engine_passes_them_to_ha(cluster: str, ha: str, hold: int) -> None:
    text = HEAD + cluster + "[ha]\n" + ha + "takeover_skew = true\nrealtime_priority = 10\n"
    config = ha_config(None, parse_settings_text(text, "seesaw.cfg").settings)
    assert (config.handover_hold_ms, config.takeover_skew, config.realtime_priority) == (hold, True, 10)


def _cluster(count: int) -> Cluster:
    """`count` nodes at 10.0.0.1.. with Seesaw's priorities: 255, then count-1 .. 1."""
    nodes = {}
    for i in range(count):
        host = Host(f"lb{i + 1}", ipaddress.IPv4Interface(f"10.0.0.{i + 1}/24"))
        nodes[host.hostname] = Node(host, 255 if i == 0 else count - i, HAState.UNKNOWN, True, True, True)
    return Cluster(site="au-syd", vip=Host("vip", ipaddress.IPv4Interface("10.0.0.100/24")), nodes=nodes)


@pytest.mark.parametrize(
    ("scheme", "expected"),
    [
        ("", [255, 2, 1]),  # Seesaw's, the default
        ("priorities = seesaw\n", [255, 2, 1]),
        ("priorities = adjacent\n", [255, 254, 253]),  # same order, a backup's skew under 1 % of an interval
    ],
)
def test_priorities_keep_seesaws_order(scheme: str, expected: list[int]) -> None:
    cluster = _cluster(3)
    got = []
    for i in range(3):
        text = f"[cluster]\nname = au-syd\nnode_ipv4 = 10.0.0.{i + 1}\n[ha]\n{scheme}"
        got.append(ha_config(cluster, parse_settings_text(text, "seesaw.cfg").settings).priority)
    assert got == expected


def test_an_unknown_priority_scheme_is_located() -> None:
    with pytest.raises(ConfigError, match=r"seesaw.cfg:5:1: ha.priorities.*seesaw.*adjacent"):
        parse_settings_text(HEAD + "[ha]\npriorities = dense\n", "seesaw.cfg")
