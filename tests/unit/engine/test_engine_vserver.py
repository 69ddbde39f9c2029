"""The vserver machine against Seesaw's engine/vserver_test.go tables."""

from __future__ import annotations

import dataclasses

import pytest
from engine_fixtures import (
    HC1,
    VSERVER_HC,
    backend,
    ip,
    key,
    load_vserver,
    vserver_config,
    with_watermarks,
)

from seesaw.config.model import Healthcheck, HealthcheckMode, HealthcheckType
from seesaw.engine.checks import HEALTHY, UNHEALTHY, CheckStatus
from seesaw.engine.marks import FWM_BASE, FWM_SIZE, MarkAllocator
from seesaw.engine.vserver import ServiceKey, VserverMachine, is_anycast
from seesaw.pb import common_pb2

TCP, UDP = 6, 17
V4, V6 = ip("192.168.255.1"), ip("2012::1")


def machine() -> VserverMachine:
    return VserverMachine("dns.resolver@au-syd", MarkAllocator(FWM_BASE, FWM_SIZE))


def notify_all(m: VserverMachine, status: CheckStatus, backend_ips: set[str] | None = None) -> None:
    for k in list(m.checks):
        if backend_ips is None or str(k.backend_ip) in backend_ips:
            m.handle_check(k, status)


def all_down_errors(m: VserverMachine) -> list[str]:
    errors = [f"service {s} active" for s in m.services.values() if s.active]
    errors += [f"VIP {a} active" for a, up in m.active.items() if up]
    return errors


def all_up_errors(m: VserverMachine) -> list[str]:
    errors = [f"service {s} inactive" for s in m.services.values() if not s.active]
    errors += [f"VIP {a} inactive" for a, up in m.active.items() if not up]
    return errors


# ------------------------------------------------------------------ expansion

EXPECTED_SERVICES = {
    ServiceKey(4, 0, UDP, 53): (V4, {"1.1.1.10", "1.1.1.11"}),
    ServiceKey(4, 0, TCP, 8053): (V4, {"1.1.1.10", "1.1.1.11"}),
    ServiceKey(6, 0, UDP, 53): (V6, {"2012::10", "2012::11"}),
    ServiceKey(6, 0, TCP, 8053): (V6, {"2012::10", "2012::11"}),
}


def test_expand_services() -> None:
    m = machine()
    m.config = vserver_config()
    services = m.expand_services()
    assert set(services) == set(EXPECTED_SERVICES)
    for k, svc in services.items():
        want_ip, want_dests = EXPECTED_SERVICES[k]
        assert svc.ip == want_ip
        assert {str(d) for d in m.expand_dests(svc)} == want_dests


def test_expand_fwm_services() -> None:
    m = machine()
    m.config = vserver_config(use_fwm=True)
    services = m.expand_services()
    expected = {
        ServiceKey(4, FWM_BASE + 0): (V4, {"1.1.1.10", "1.1.1.11"}),
        ServiceKey(6, FWM_BASE + 1): (V6, {"2012::10", "2012::11"}),
    }
    assert set(services) == set(expected)
    for k, svc in services.items():
        want_ip, want_dests = expected[k]
        assert svc.ip == want_ip
        assert {str(d) for d in m.expand_dests(svc)} == want_dests


def test_fwm_marks_are_returned_on_shutdown() -> None:
    alloc = MarkAllocator(FWM_BASE, FWM_SIZE)
    m = VserverMachine("fwm@au-syd", alloc)
    m.handle_config(vserver_config(use_fwm=True))
    assert alloc.in_use() == 2
    m.shutdown()
    assert alloc.in_use() == 0


def test_expand_checks() -> None:
    m = machine()
    m.handle_config(vserver_config())
    # 1 vserver check x 2 backends x 2 IPs + 2 entry checks x 2 backends x 2 IPs x 2 entries = 20
    assert len(m.checks) == 20
    count = 0
    for svc in m.services.values():
        for dest in svc.dests.values():
            assert len(dest.checks) == 3
            for check in dest.checks:
                if check.healthcheck.port == VSERVER_HC.port:
                    assert len(check.dests) == 2
                else:
                    assert len(check.dests) == 1
                count += 1
    assert count == 24


# ------------------------------------------------------- health notification

# Seesaw's expectedVserverActive / expectedServiceStates, step by step.
F, T = False, True
EXPECTED_VIP_ACTIVE = {
    V4: [F, F, T, T, F, F, F],
    V6: [F, F, T, T, T, T, F],
}
EXPECTED_SERVICE_STATES = {
    ServiceKey(4, 0, UDP, 53): (
        ([F, F, T, T, F, F, F], [F, F, T, T, F, F, F]),
        {
            "1.1.1.10": ([F, F, T, F, F, F, F], [F, F, T, F, F, F, F]),
            "1.1.1.11": ([F, F, T, T, F, F, F], [F, F, T, T, F, F, F]),
        },
    ),
    ServiceKey(4, 0, TCP, 8053): (
        ([F, F, T, T, F, F, F], [F, F, T, T, T, T, F]),
        {
            "1.1.1.10": ([F, F, T, T, F, F, F], [F, F, T, T, T, T, F]),
            "1.1.1.11": ([F, F, T, T, F, F, F], [F, F, T, T, T, T, F]),
        },
    ),
    ServiceKey(6, 0, UDP, 53): (
        ([F, F, T, T, T, F, F], [F, F, T, T, T, F, F]),
        {
            "2012::10": ([F, F, T, T, T, F, F], [F, F, T, T, T, F, F]),
            "2012::11": ([F, F, T, T, T, F, F], [F, F, T, T, T, F, F]),
        },
    ),
    ServiceKey(6, 0, TCP, 8053): (
        ([F, F, T, T, T, T, F], [F, F, T, T, T, T, F]),
        {
            "2012::10": ([F, F, T, T, T, T, F], [F, F, T, T, T, T, F]),
            "2012::11": ([F, F, T, T, T, T, F], [F, F, T, T, T, T, F]),
        },
    ),
}


def check_states(step: int, m: VserverMachine) -> None:
    for vip, want in EXPECTED_VIP_ACTIVE.items():
        assert m.active.get(vip, False) == want[step], f"step {step}: VIP {vip}"
    assert set(m.services) == set(EXPECTED_SERVICE_STATES)
    for k, svc in m.services.items():
        (active, healthy), dests = EXPECTED_SERVICE_STATES[k]
        assert (svc.active, svc.healthy) == (active[step], healthy[step]), f"step {step}: service {svc}"
        assert {str(d) for d in svc.dests} == set(dests)
        for dest_ip, dest in svc.dests.items():
            d_active, d_healthy = dests[str(dest_ip)]
            assert (dest.active, dest.healthy) == (d_active[step], d_healthy[step]), f"step {step}: {dest.name}"


def test_healthcheck_notification() -> None:
    m = machine()
    m.handle_config(vserver_config())
    check_states(0, m)

    # One check healthy; each destination has two more, so nothing comes up.
    m.handle_check(key("192.168.255.1", "1.1.1.10", 5, VSERVER_HC.name), HEALTHY)
    check_states(1, m)

    # Everything healthy: everything up.
    notify_all(m, HEALTHY)
    check_states(2, m)

    # One backend of v4 UDP/53 unhealthy: the service stays up on the other.
    udp_key = key("192.168.255.1", "1.1.1.10", 1, HC1.name, 53, UDP)
    m.handle_check(udp_key, UNHEALTHY)
    check_states(3, m)

    # The other one too: 192.168.255.1 is anycast, so the VIP and all its services go.
    m.handle_check(dataclasses.replace(udp_key, backend_ip=ip("1.1.1.11")), UNHEALTHY)
    check_states(4, m)

    # Both backends of v6 UDP/53 unhealthy: 2012::1 is unicast, TCP keeps it up.
    v6_key = dataclasses.replace(udp_key, vserver_ip=V6, backend_ip=ip("2012::10"))
    m.handle_check(v6_key, UNHEALTHY)
    m.handle_check(dataclasses.replace(v6_key, backend_ip=ip("2012::11")), UNHEALTHY)
    check_states(5, m)

    notify_all(m, UNHEALTHY)
    check_states(6, m)


# ----------------------------------------------------------------- watermarks


def test_watermarks_hysteresis_two_backends() -> None:
    m = machine()
    m.handle_config(with_watermarks(vserver_config(), low=0.49, high=0.51))
    b1 = {"1.1.1.10", "2012::10"}
    # Both backends must be healthy for the service to come up.
    notify_all(m, HEALTHY, b1)
    assert all_down_errors(m) == []
    notify_all(m, HEALTHY)
    assert all_up_errors(m) == []
    # One goes down, one stays up: still up (low watermark).
    notify_all(m, UNHEALTHY, b1)
    assert all_up_errors(m) == []
    # The rest go down: down.
    notify_all(m, UNHEALTHY, {"1.1.1.11", "2012::11"})
    assert all_down_errors(m) == []


def test_watermarks_half_is_enough_at_fifty_percent() -> None:
    m = machine()
    m.handle_config(with_watermarks(vserver_config(), low=0.5, high=0.5))
    notify_all(m, HEALTHY, {"1.1.1.10", "2012::10"})
    assert all_up_errors(m) == []
    assert all(s.active for s in m.services.values())


def test_watermarks_five_backends() -> None:
    m = machine()
    backends = [backend(n) for n in range(1, 6)]
    cfg = dataclasses.replace(
        with_watermarks(vserver_config(), low=0.4, high=0.4), backends={b.hostname: b for b in backends}
    )
    m.handle_config(cfg)
    notify_all(m, HEALTHY)
    assert all_up_errors(m) == []

    def ips(b: object) -> set[str]:
        return {str(b.host.ipv4.ip), str(b.host.ipv6.ip)}  # type: ignore[attr-defined]

    # Down one at a time: the tipping point is one healthy backend left (1/5 < 0.4).
    remaining = len(backends)
    for b in backends:
        notify_all(m, UNHEALTHY, ips(b))
        remaining -= 1
        errors = all_down_errors(m) if remaining <= 1 else all_up_errors(m)
        assert errors == [], f"{remaining} healthy"
        if remaining > 1:
            assert any(m.active.values())
    # Up one at a time: it takes two healthy backends (2/5 >= 0.4).
    for healthy, b in enumerate(backends, start=1):
        notify_all(m, HEALTHY, ips(b))
        errors = all_down_errors(m) if healthy <= 1 else all_up_errors(m)
        assert errors == [], f"{healthy} healthy"
    assert all(m.active.values()) and m.active


# --------------------------------------------------------- disable / override


def bring_up(m: VserverMachine) -> None:
    notify_all(m, HEALTHY)
    assert len(m.services) == 4
    assert all_up_errors(m) == []
    assert m.active


def test_disable_vserver() -> None:
    m = machine()
    m.handle_config(vserver_config())
    bring_up(m)
    m.handle_config(vserver_config(enabled=False))
    assert len(m.services) == 4
    assert all_down_errors(m) == []
    notify_all(m, HEALTHY)  # checks have no effect now
    assert all_down_errors(m) == []
    assert m.active_checks() == {}


def test_vserver_override() -> None:
    m = machine()
    m.handle_config(vserver_config())
    bring_up(m)

    m.handle_override(common_pb2.OVERRIDE_DISABLED)
    assert len(m.services) == 4
    assert all_down_errors(m) == []
    notify_all(m, HEALTHY)
    assert all_down_errors(m) == []

    m.handle_override(common_pb2.OVERRIDE_DEFAULT)
    bring_up(m)

    m.handle_config(vserver_config(enabled=False))
    assert all_down_errors(m) == []

    m.handle_override(common_pb2.OVERRIDE_ENABLED)
    bring_up(m)

    # Enabling it in the config changes nothing, and nor does resetting the override.
    m.handle_config(vserver_config())
    assert all_up_errors(m) == [] and m.active
    m.handle_override(common_pb2.OVERRIDE_DEFAULT)
    assert all_up_errors(m) == [] and m.active


# ------------------------------------------------------------------- snapshot


def test_vserver_snapshot() -> None:
    m = machine()
    assert m.snapshot() is None
    m.handle_config(vserver_config())
    snap = m.snapshot()
    assert snap is not None
    assert (snap.name, snap.enabled, snap.hostname) == ("dns.resolver@au-syd", True, "dns-vip1.example.com")
    assert (snap.ipv4, snap.ipv6) == ("192.168.255.1/24", "2012::1/64")
    assert len(snap.services) == 4
    got = {(s.family, s.protocol, s.port): s for s in snap.services}
    assert list(got) == [
        (common_pb2.AF_INET, TCP, 8053),
        (common_pb2.AF_INET, UDP, 53),
        (common_pb2.AF_INET6, TCP, 8053),
        (common_pb2.AF_INET6, UDP, 53),
    ]
    for (family, proto, port), svc in got.items():
        assert svc.address == ("192.168.255.1" if family == common_pb2.AF_INET else "2012::1")
        assert (svc.mode, svc.scheduler) == ("DSR", "wrr")
        assert (svc.enabled, svc.healthy, svc.active) == (True, False, False)
        low, high = (0.1, 0.2) if port == 8053 else (0.0, 0.0)
        assert svc.low_watermark == pytest.approx(low) and svc.high_watermark == pytest.approx(high)
        assert svc.current_watermark == 0
        name = "UDP" if proto == UDP else "TCP"
        hosts = ["1.1.1.10", "1.1.1.11"] if family == common_pb2.AF_INET else ["[2012::10]", "[2012::11]"]
        assert [d.name for d in svc.destinations] == [f"dns.resolver@au-syd/{h}:{port}/{name}" for h in hosts]
        assert [(d.weight, d.backend, d.enabled) for d in svc.destinations] == [
            (1, "dns1-1.example.com", True),
            (2, "dns1-2.example.com", True),
        ]
        assert all(d.vserver == "dns.resolver@au-syd" and not d.healthy and not d.active for d in svc.destinations)


# ------------------------------------------------------------ config updates

HTTP_53 = Healthcheck(
    name="HTTP/53_0",
    type=HealthcheckType.HTTP,
    mode=HealthcheckMode.DSR,
    port=53,
    interval=10,
    timeout=5,
    send="foo",
    receive="bar",
    code=200,
    tls_verify=True,
)
DNS_53 = Healthcheck(
    name="DNS/53_0",
    type=HealthcheckType.DNS,
    mode=HealthcheckMode.DSR,
    port=53,
    interval=2,
    timeout=1,
    method="A",
    send="dns-anycast.example.com",
    receive="192.168.255.1",
    tls_verify=True,
)
HTTPS_16767 = Healthcheck(
    name="HTTP/16767_0",
    type=HealthcheckType.HTTPS,
    mode=HealthcheckMode.DSR,
    port=16767,
    interval=10,
    timeout=5,
    send="/healthz",
    receive="Ok",
    code=200,
    tls_verify=False,
)
DNS_53_RETRIES = dataclasses.replace(DNS_53, retries=2)
HTTPS_16767_URL = dataclasses.replace(HTTPS_16767, send="https://dns-anycast.example.com/healthz")


def update_key(vip: str, backend_ip: str, proto: int, hc: Healthcheck, port: int = 53) -> object:
    return key(vip, backend_ip, hc.port, hc.name, port, proto, hc.mode, hc.type)


K1 = update_key("192.168.255.1", "192.168.37.2", UDP, HTTP_53)
K2 = update_key("192.168.255.1", "192.168.37.2", TCP, HTTP_53)
K3 = update_key("192.168.255.1", "192.168.37.3", UDP, HTTP_53)
K4 = update_key("192.168.255.1", "192.168.37.3", TCP, HTTP_53)
K5 = update_key("192.168.255.99", "192.168.37.2", UDP, HTTP_53)
K6 = update_key("192.168.255.99", "192.168.37.2", TCP, HTTP_53)
K7 = update_key("192.168.36.1", "192.168.37.2", UDP, HTTP_53)
K8 = update_key("192.168.36.1", "192.168.37.2", TCP, HTTP_53)
K9 = update_key("192.168.36.1", "192.168.37.3", UDP, HTTP_53)
K10 = update_key("192.168.36.1", "192.168.37.3", TCP, HTTP_53)
K11 = update_key("192.168.255.99", "192.168.37.2", UDP, DNS_53)
K12 = update_key("192.168.255.99", "192.168.37.2", 0, HTTPS_16767, port=0)

SVC_UDP, SVC_TCP = ServiceKey(4, 0, UDP, 53), ServiceKey(4, 0, TCP, 53)

# (description, file, notifications, expected checks, expected services, all up, all down)
UPDATE_TESTS = [
    ("anycast initial config", "vserver_update_anycast_1.pb", [K1], {K1: HTTP_53},
     {SVC_UDP: ("192.168.255.1", T, T)}, T, F),
    ("anycast add service", "vserver_update_anycast_2.pb", [],
     {K1: HTTP_53, K2: HTTP_53, K3: HTTP_53, K4: HTTP_53},
     {SVC_UDP: ("192.168.255.1", F, F), SVC_TCP: ("192.168.255.1", F, F)}, F, T),
    ("anycast destinations up", "vserver_update_anycast_2.pb", [K1, K2, K4],
     {K1: HTTP_53, K2: HTTP_53, K3: HTTP_53, K4: HTTP_53},
     {SVC_UDP: ("192.168.255.1", T, T), SVC_TCP: ("192.168.255.1", T, T)}, T, F),
    ("anycast modify service and remove backend", "vserver_update_anycast_3.pb", [],
     {K1: HTTP_53, K2: HTTP_53},
     {SVC_UDP: ("192.168.255.1", T, T), SVC_TCP: ("192.168.255.1", T, T)}, T, F),
    ("anycast change IP", "vserver_update_anycast_4.pb", [], {K5: HTTP_53, K6: HTTP_53},
     {SVC_UDP: ("192.168.255.99", F, F), SVC_TCP: ("192.168.255.99", F, F)}, F, T),
    ("anycast change healthchecks", "vserver_update_anycast_5.pb", [], {K11: DNS_53, K12: HTTPS_16767},
     {SVC_UDP: ("192.168.255.99", F, F), SVC_TCP: ("192.168.255.99", F, F)}, F, T),
    ("anycast change healthchecks again", "vserver_update_anycast_6.pb", [],
     {K11: DNS_53_RETRIES, K12: HTTPS_16767_URL},
     {SVC_UDP: ("192.168.255.99", F, F), SVC_TCP: ("192.168.255.99", F, F)}, F, T),
    ("unicast initial config", "vserver_update_unicast_1.pb", [K7], {K7: HTTP_53},
     {SVC_UDP: ("192.168.36.1", T, T)}, T, F),
    ("unicast add service", "vserver_update_unicast_2.pb", [],
     {K7: HTTP_53, K8: HTTP_53, K9: HTTP_53, K10: HTTP_53},
     {SVC_UDP: ("192.168.36.1", F, F), SVC_TCP: ("192.168.36.1", F, F)}, F, F),
    ("unicast disable backends", "vserver_update_unicast_3.pb", [K7, K8], {},
     {SVC_UDP: ("192.168.36.1", F, F), SVC_TCP: ("192.168.36.1", F, F)}, F, T),
    ("unicast enable backends", "vserver_update_unicast_4.pb", [K7, K8], {K7: HTTP_53, K8: HTTP_53},
     {SVC_UDP: ("192.168.36.1", T, T), SVC_TCP: ("192.168.36.1", T, T)}, T, F),
    ("unicast change to NAT", "vserver_update_unicast_5.pb", [], {K7: HTTP_53, K8: HTTP_53},
     {SVC_UDP: ("192.168.36.1", F, F), SVC_TCP: ("192.168.36.1", F, F)}, F, T),
]  # fmt: skip


def test_update_vserver() -> None:
    m = machine()
    for desc, file, notifications, checks, services, all_up, all_down in UPDATE_TESTS:
        m.handle_config(load_vserver(file))
        for k in notifications:
            m.handle_check(k, HEALTHY)
        assert {k: c.healthcheck for k, c in m.checks.items()} == checks, desc
        got = {k: (str(s.ip), s.healthy, s.active) for k, s in m.services.items()}
        assert got == services, desc
        if all_up:
            assert all_up_errors(m) == [], desc
        if all_down:
            assert all_down_errors(m) == [], desc


REIP_TESTS = [
    ("initial", "re-ip/config_1.pb", None, {"192.168.36.1"}),
    ("re-ip unicast", "re-ip/config_2.pb", None, {"192.168.36.5"}),
    ("unicast unhealthy", None, UNHEALTHY, {"192.168.36.5"}),
    ("unicast disabled", "re-ip/config_3.pb", None, set()),
    ("re-ip anycast (unhealthy)", "re-ip/config_4.pb", None, set()),
    ("anycast health", None, HEALTHY, {"192.168.255.1"}),
    ("anycast disabled", "re-ip/config_5.pb", None, set()),
    ("back to unicast", "re-ip/config_1.pb", None, {"192.168.36.1"}),
]


def test_reip_vserver() -> None:
    m = machine()
    for desc, file, health, want in REIP_TESTS:
        if file:
            m.handle_config(load_vserver(file))
        if health is not None:
            notify_all(m, health)
        assert m.config is not None
        if is_anycast(m.config.host.ipv4.ip):  # type: ignore[union-attr]
            assert m.vips == set(), desc  # only unicast VIPs are "configured"
        else:
            assert {str(v.ip) for v in m.vips} == want, desc
        assert {str(a) for a in m.lb_vservers} == want, desc
        assert {str(a) for a in m.interface_vips()} == want, desc
        part = m.partition()
        assert {v.address for v in part.vips} == want, desc
        assert {f.address for f in part.filters} == want, desc
