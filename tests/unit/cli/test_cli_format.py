"""The Go formatting rules the CLI reproduces (pure functions, no engine)."""

from __future__ import annotations

import pytest

from seesaw.cli import format as fmt
from seesaw.pb import common_pb2, engine_pb2


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (16, "16s"),
        (59, "59s"),
        (60, "1m0s"),
        (3600, "1h0m0s"),
        (2 * 3600 + 13 * 60 + 5, "2h13m5s"),
        (100 * 3600, "100h0m0s"),
        (-5, "-5s"),
    ],
)
def test_go_durations(seconds, text):
    assert fmt.go_duration(seconds) == text


def test_go_timestamps(utc_zone):
    assert fmt.go_timestamp(0) == "Jan 1 00:00:00 UTC"  # Go's zero time
    assert fmt.go_timestamp(1_795_719_543.999) == "Nov 26 18:59:03 UTC"  # truncated, day not padded
    assert fmt.go_timestamp(1_767_312_000) == "Jan 2 00:00:00 UTC"


def test_labels_pad_to_a_width_including_the_indent():
    assert fmt.label("State:", 8, 20) == "        State:      "
    assert fmt.value_line("Name:", "x") == "  Name:                x\n"
    assert fmt.value_line("Advertisements Sent:", 1) == "  Advertisements Sent: 1\n"
    assert fmt.value_line("A label longer than twenty:", True) == "  A label longer than twenty: true\n"


def test_status_summary():
    assert fmt.status_summary(False, True, True) == "disabled"
    assert fmt.status_summary(True, True, True) == "enabled, healthy, active"
    assert fmt.status_summary(True, False, False) == "enabled, unhealthy, inactive"


def test_service_headers():
    svc = engine_pb2.Service(
        family=common_pb2.AF_INET6, protocol=common_pb2.IPPROTO_UDP, port=443, mode="NAT", scheduler="wlc"
    )
    assert fmt.service_header(svc) == "    IPv6 UDP/443   (NAT, wlc scheduler)"
    svc.one_packet, svc.persistence = True, 60
    assert fmt.service_header(svc) == "    IPv6 UDP/443   (NAT, wlc scheduler, one-packet mode, 60s persistence)"
    fwm = engine_pb2.Service(family=common_pb2.AF_INET, protocol=common_pb2.IPPROTO_TCP, fwmark=7, mode="DSR")
    assert fmt.service_header(fwm).startswith("    IPv4 TCP/0     (DSR, ")


def test_services_sort_by_family_protocol_port():
    vs = engine_pb2.Vserver(name="v")
    for family, protocol, port in [(10, 6, 80), (2, 17, 53), (2, 6, 443), (2, 6, 80)]:
        vs.services.add(family=family, protocol=protocol, port=port, mode="DSR", scheduler="rr")
    headers = [line.split("(")[0].strip() for line in fmt.vserver_detail(vs).splitlines() if "scheduler" in line]
    assert headers == ["IPv4 TCP/80", "IPv4 TCP/443", "IPv4 UDP/53", "IPv6 TCP/80"]


@pytest.mark.parametrize(("us", "text"), [(0, "0us"), (999, "999us"), (1234, "1.2ms"), (2_500_000, "2.50s")])
def test_latency(us, text):
    assert fmt.latency(us) == text


def test_check_targets():
    assert fmt.check_target(engine_pb2.CheckState(target="10.0.0.1", port=80)) == "10.0.0.1:80"
    assert fmt.check_target(engine_pb2.CheckState(target="2001:db8::1", port=53)) == "[2001:db8::1]:53"
    assert fmt.check_target(engine_pb2.CheckState(target="10.0.0.1")) == "10.0.0.1"
    assert fmt.check_target(engine_pb2.CheckState()) == "-"


def test_backend_summary_follows_seesaw():
    from seesaw.cli.select import Backend

    on = engine_pb2.Vserver(name="on", enabled=True)
    off = engine_pb2.Vserver(name="off", enabled=False)
    by_name = {"on": on, "off": off}

    def dest(vserver, enabled=True):
        return engine_pb2.Destination(name=f"{vserver}/d", vserver=vserver, enabled=enabled)

    assert fmt.backend_summary(Backend("h", (dest("on"),)), by_name) == "h"
    assert fmt.backend_summary(Backend("h", (dest("off"),)), by_name) == "h (disabled)"
    assert fmt.backend_summary(Backend("h", (dest("on"), dest("off"))), by_name) == "h (partially disabled)"
    assert fmt.backend_summary(Backend("h", (dest("on", False),)), by_name) == "h (disabled)"
    assert fmt.backend_summary(Backend("h", (dest("on", False), dest("on"))), by_name) == "h (partially disabled)"
