"""The engine's healthcheck manager against Seesaw's engine/healthcheck_test.go."""

from __future__ import annotations

import dataclasses
import ipaddress

from engine_fixtures import ip, key

from seesaw.config.model import (
    Backend,
    Healthcheck,
    HealthcheckMode,
    HealthcheckType,
    Host,
    LBMode,
    Protocol,
    Vserver,
    VserverEntry,
)
from seesaw.engine.healthchecks import PARTITION, HealthcheckManager, checkset_delta, marks_held
from seesaw.engine.marks import CHECK_MARK_BASE, FWM_BASE, FWM_SIZE, MarkAllocator
from seesaw.engine.vserver import Check, VserverMachine
from seesaw.pb import common_pb2, healthcheck_pb2, ncc_pb2

TCP_81 = Healthcheck(
    name="TCP/81_0",
    type=HealthcheckType.TCP,
    port=81,
    interval=100,
    timeout=50,
    send="some tcp request",
    receive="some tcp response",
)
HTTP_3901 = Healthcheck(
    name="HTTP/3901_0",
    type=HealthcheckType.HTTP,
    port=3901,
    interval=100,
    timeout=50,
    send="some request",
    receive="some response",
    code=200,
)

FOO = Vserver(
    name="foo",
    host=Host(
        hostname="dns-vip1.example.com.",
        ipv4=ipaddress.IPv4Interface("1.1.1.1/24"),
        ipv6=ipaddress.IPv6Interface("2012::cafe/64"),
    ),
    entries={
        "80/TCP": VserverEntry(port=80, protocol=Protocol.TCP, mode=LBMode.DSR, healthchecks={"TCP/81_0": TCP_81})
    },
    backends={
        "dns1-1.example.com.": Backend(
            host=Host(
                hostname="dns1-1.example.com.",
                ipv4=ipaddress.IPv4Interface("1.1.1.2/24"),
                ipv6=ipaddress.IPv6Interface("2012::cafd/64"),
            )
        ),
        "dns1-2.example.com.": Backend(
            host=Host(hostname="dns1-2.example.com.", ipv4=ipaddress.IPv4Interface("1.1.1.3/24")), enabled=False
        ),
    },
    healthchecks={"HTTP/3901_0": HTTP_3901},
)


def expected_config(target: str, hc: Healthcheck) -> healthcheck_pb2.CheckConfig:
    http = hc.type == HealthcheckType.HTTP
    return healthcheck_pb2.CheckConfig(
        name=hc.name,
        type=int(hc.type),
        mode=healthcheck_pb2.MODE_PLAIN,
        target=target,
        port=hc.port,
        interval_ms=100_000,
        timeout_ms=50_000,
        send=hc.send,
        receive=hc.receive,
        code=200 if http else 0,
        method="GET" if http else "",
        tls_verify=True,
        backend=target,
    )


HC_TESTS = [
    ("Empty", [], set()),
    (
        "One Vserver HC, 1 VserverEntry HC, 1 enabled backend, 1 disabled backend",
        [FOO],
        {
            ("1.1.1.2", "HTTP/3901_0"),
            ("2012::cafd", "HTTP/3901_0"),
            ("1.1.1.2", "TCP/81_0"),
            ("2012::cafd", "TCP/81_0"),
        },
    ),
]


def test_healthchecks() -> None:
    hcm = HealthcheckManager()
    for desc, vservers, expected in HC_TESTS:
        machines = {}
        for cfg in vservers:
            m = VserverMachine(cfg.name, MarkAllocator(FWM_BASE, FWM_SIZE))
            m.handle_config(cfg)
            machines[cfg.name] = m
            hcm.update(cfg.name, m.checks)
        assert len(hcm.ids()) == len(hcm.configs()), desc
        old_ids, old_cfgs, old_version = dict(hcm.ids()), dict(hcm.configs()), hcm.version
        for name, m in machines.items():
            assert hcm.update(name, m.checks) is False, desc
        assert hcm.ids() == old_ids and hcm.configs() == old_cfgs and hcm.version == old_version, desc

        got = {(c.target, c.name): c for c in hcm.configs().values()}
        assert set(got) == expected, desc
        for (target, name), cfg in got.items():
            want = expected_config(target, HTTP_3901 if name.startswith("HTTP") else TCP_81)
            want.id = cfg.id
            cfg_no_description = healthcheck_pb2.CheckConfig()
            cfg_no_description.CopyFrom(cfg)
            cfg_no_description.ClearField("description")
            assert cfg_no_description == want, desc
            assert cfg.description, desc

        for name in machines:
            hcm.update(name, None)
        assert hcm.ids() == {} and hcm.configs() == {}, desc


DNS_53 = Healthcheck(
    name="DNS/53_0",
    type=HealthcheckType.DNS,
    port=53,
    interval=2,
    timeout=1,
    method="A",
    send="dns-anycast.example.com",
    receive="192.168.255.1",
)
HTTPS_16767 = Healthcheck(
    name="HTTP/16767_0",
    type=HealthcheckType.HTTPS,
    port=16767,
    send="/healthz",
    receive="Ok",
    code=200,
    tls_verify=False,
)
HTTPS_16767_RETRIES = dataclasses.replace(HTTPS_16767, retries=2, send="https://dns-anycast.example.com/healthz")

UK1 = key("192.168.36.1", "192.168.37.2", 53, "HTTP/53_0", 53, 17, type_=HealthcheckType.DNS)
UK2 = key("192.168.36.1", "192.168.37.3", 53, "HTTP/53_0", 53, 17, type_=HealthcheckType.DNS)
UK3 = key("192.168.36.1", "192.168.37.2", 16767, "HTTP/16767_0", 53, 17, type_=HealthcheckType.HTTPS)
UK4 = key("192.168.36.1", "192.168.37.3", 16767, "HTTP/16767_0", 53, 17, type_=HealthcheckType.HTTPS)

HC_UPDATE_TESTS = [
    ("initial healthchecks", {UK1: DNS_53, UK2: DNS_53}),
    ("change of healthcheck type/port", {UK3: HTTPS_16767, UK4: HTTPS_16767}),
    ("change to healthcheck configuration", {UK3: HTTPS_16767_RETRIES, UK4: HTTPS_16767_RETRIES}),
    ("remove healthchecks", {}),
]


def test_healthcheck_updates() -> None:
    hcm = HealthcheckManager()
    previous_ids: set[int] = set()
    for desc, checks in HC_UPDATE_TESTS:
        hcm.update("test", {k: Check(k, hc) for k, hc in checks.items()})
        assert len(hcm.ids()) == len(checks), desc
        assert len(hcm.configs()) == len(checks), desc
        for k, hc in checks.items():
            check_id = hcm.id_for("test", k)
            assert check_id in hcm.configs(), desc
            assert hcm.routes(check_id) == [("test", k)], desc
            cfg = hcm.configs()[check_id]
            assert (cfg.name, cfg.type, cfg.port, cfg.retries, cfg.send) == (
                hc.name,
                int(hc.type),
                hc.port,
                hc.retries,
                hc.send,
            ), desc
            assert cfg.target == str(k.backend_ip), desc
        ids = set(hcm.configs())
        assert not ids & previous_ids, f"{desc}: a changed check must get a new ID"
        previous_ids = ids


def test_plain_checks_are_shared_across_vservers_and_keep_their_ids() -> None:
    hcm = HealthcheckManager()
    a = key("10.1.0.1", "10.2.0.1", 80, "HTTP/80_0", 80, 6, type_=HealthcheckType.HTTP)
    b = dataclasses.replace(a, vserver_ip=ip("10.1.0.2"), name="HTTP/80_1")
    http = Healthcheck(name="HTTP/80_0", type=HealthcheckType.HTTP, port=80)
    hcm.set_vserver_checks("a", {a: Check(a, http)})
    hcm.set_vserver_checks("b", {b: Check(b, http)})
    hcm.rebuild()
    (check_id,) = hcm.configs()
    assert sorted(hcm.routes(check_id)) == [("a", a), ("b", b)]
    hcm.update("a", None)
    assert list(hcm.configs()) == [check_id] and hcm.routes(check_id) == [("b", b)]


def test_dsr_checks_get_marks_and_mark_services() -> None:
    hcm = HealthcheckManager()
    dsr = Healthcheck(name="HTTP/80_0", type=HealthcheckType.HTTP, mode=HealthcheckMode.DSR, port=80)
    tun = dataclasses.replace(dsr, name="HTTP/80_1", mode=HealthcheckMode.TUN)
    k1 = key("10.1.0.1", "10.2.0.1", 80, dsr.name, 80, 6, HealthcheckMode.DSR, HealthcheckType.HTTP)
    k2 = dataclasses.replace(k1, vserver_ip=ip("10.1.0.2"))  # same backend, other VIP: same mark
    k3 = key("10.1.0.1", "10.2.0.1", 80, tun.name, 80, 6, HealthcheckMode.TUN, HealthcheckType.HTTP)
    hcm.update("v", {k1: Check(k1, dsr), k2: Check(k2, dsr), k3: Check(k3, tun)})
    configs = sorted(hcm.configs().values(), key=lambda c: (c.mode, c.target))
    assert [(c.target, c.mark, c.mode) for c in configs] == [
        ("10.1.0.1", CHECK_MARK_BASE, healthcheck_pb2.MODE_DSR),
        ("10.1.0.2", CHECK_MARK_BASE, healthcheck_pb2.MODE_DSR),
        ("10.1.0.1", CHECK_MARK_BASE + 1, healthcheck_pb2.MODE_TUN),
    ]
    part = hcm.partition()
    assert part.name == PARTITION
    assert [(s.fwmark, s.scheduler, s.family) for s in part.services] == [
        (CHECK_MARK_BASE, "rr", common_pb2.AF_INET),
        (CHECK_MARK_BASE + 1, "rr", common_pb2.AF_INET),
    ]
    assert [(d.address, d.port, d.weight, d.forwarding) for s in part.services for d in s.destinations] == [
        ("10.2.0.1", 0, 1, common_pb2.FWD_ROUTE),
        ("10.2.0.1", 0, 1, common_pb2.FWD_TUNNEL),
    ]
    version = hcm.marks_version
    hcm.update("v", {k3: Check(k3, tun)})
    assert hcm.marks_version == version + 1
    assert [s.fwmark for s in hcm.partition().services] == [CHECK_MARK_BASE + 1]
    hcm.update("v", None)
    assert list(hcm.partition().services) == []


def test_adopted_marks_are_kept_and_the_rest_fill_the_gaps() -> None:
    dsr = Healthcheck(name="HTTP/80_0", type=HealthcheckType.HTTP, mode=HealthcheckMode.DSR, port=80)
    tun = dataclasses.replace(dsr, name="HTTP/80_1", mode=HealthcheckMode.TUN)
    k1 = key("10.1.0.1", "10.2.0.1", 80, dsr.name, 80, 6, HealthcheckMode.DSR, HealthcheckType.HTTP)
    k2 = key("10.1.0.1", "10.2.0.2", 80, dsr.name, 80, 6, HealthcheckMode.DSR, HealthcheckType.HTTP)
    k3 = key("10.1.0.1", "10.2.0.1", 80, tun.name, 80, 6, HealthcheckMode.TUN, HealthcheckType.HTTP)
    checks = {k1: Check(k1, dsr), k2: Check(k2, dsr), k3: Check(k3, tun)}
    # What the dataplane holds: 10.2.0.2 DSR on the first mark, a mark for a backend no longer checked, a
    # vserver fwmark service and a NAT destination (neither is a probe mark), and a second claim on one mark.
    state = ncc_pb2.DataplaneState()
    for mark, address, forwarding in [
        (CHECK_MARK_BASE, "10.2.0.2", common_pb2.FWD_ROUTE),
        (CHECK_MARK_BASE + 2, "10.2.0.9", common_pb2.FWD_ROUTE),
        (FWM_BASE, "10.2.0.1", common_pb2.FWD_ROUTE),
        (CHECK_MARK_BASE + 3, "10.2.0.1", common_pb2.FWD_MASQ),
        (CHECK_MARK_BASE, "10.2.0.1", common_pb2.FWD_TUNNEL),
    ]:
        entry = state.services.add(service=ncc_pb2.Service(fwmark=mark))
        entry.destinations.add(destination=ncc_pb2.Destination(address=address, forwarding=forwarding))
    held = marks_held(state)
    assert held == {
        (ip("10.2.0.2"), HealthcheckMode.DSR): CHECK_MARK_BASE,
        (ip("10.2.0.9"), HealthcheckMode.DSR): CHECK_MARK_BASE + 2,
        (ip("10.2.0.1"), HealthcheckMode.TUN): CHECK_MARK_BASE,
    }
    hcm = HealthcheckManager()
    hcm.update("v", checks)  # loaded before NCC's state is known: lowest first, in the order met
    assert hcm.marks()[(ip("10.2.0.1"), HealthcheckMode.DSR)] == CHECK_MARK_BASE
    assert hcm.adopt_marks(held) is True  # the checker configs carry the marks: they changed
    assert hcm.marks() == {
        (ip("10.2.0.2"), HealthcheckMode.DSR): CHECK_MARK_BASE,  # kept
        (ip("10.2.0.1"), HealthcheckMode.DSR): CHECK_MARK_BASE + 1,  # the lowest free
        (ip("10.2.0.1"), HealthcheckMode.TUN): CHECK_MARK_BASE + 2,  # its held mark was taken; 10.2.0.9's is free
    }
    assert {(c.backend, c.mode): c.mark for c in hcm.configs().values()} == {
        ("10.2.0.1", healthcheck_pb2.MODE_DSR): CHECK_MARK_BASE + 1,
        ("10.2.0.2", healthcheck_pb2.MODE_DSR): CHECK_MARK_BASE,
        ("10.2.0.1", healthcheck_pb2.MODE_TUN): CHECK_MARK_BASE + 2,
    }
    assert [s.fwmark for s in hcm.partition().services] == [CHECK_MARK_BASE, CHECK_MARK_BASE + 1, CHECK_MARK_BASE + 2]
    # adopting what it would now hand NCC changes nothing
    now = ncc_pb2.DataplaneState(
        services=[
            ncc_pb2.ServiceStats(
                service=svc, destinations=[ncc_pb2.DestinationStats(destination=d) for d in svc.destinations]
            )
            for svc in hcm.partition().services
        ]
    )
    marks_before = hcm.marks()
    assert hcm.adopt_marks(marks_held(now)) is False
    assert hcm.marks() == marks_before


def test_reserved_marks_are_never_handed_out() -> None:
    alloc = MarkAllocator(FWM_BASE, 4)
    alloc.reserve({FWM_BASE + 1, FWM_BASE + 3, FWM_BASE + 99})  # one out of range: ignored
    assert [alloc.get(), alloc.get()] == [FWM_BASE, FWM_BASE + 2]
    assert alloc.in_use() == 4
    alloc.put(FWM_BASE + 3)
    assert alloc.get() == FWM_BASE + 3


def test_checkset_delta() -> None:
    a = healthcheck_pb2.CheckConfig(id=1, name="a", port=80)
    b = healthcheck_pb2.CheckConfig(id=2, name="b", port=80)
    b2 = healthcheck_pb2.CheckConfig(id=2, name="b", port=81)
    c = healthcheck_pb2.CheckConfig(id=3, name="c", port=80)
    delta = checkset_delta({1: a, 2: b}, {2: b2, 3: c})
    assert not delta.full
    assert [u.id for u in delta.upsert] == [2, 3]
    assert list(delta.remove) == [1]
    assert checkset_delta({1: a}, {1: a}) == healthcheck_pb2.CheckSet()
