"""The IPVS services part against the real `ip_vs` module (inside scripts/run-in-uml), checked with ipvsadm.

Each test gets a fresh network namespace (IPVS state is per namespace) and drives IPVSServices(netns=...) with
plan steps, then compares what `ipvsadm -Ln` sees, what the part reads back, and what a kernel-free NCC planner
makes of it.
"""

from __future__ import annotations

import errno
import ipaddress
import subprocess
import time

import pytest

from seesaw.common.clock import FakeClock
from seesaw.ncc.kernel.ipvs import IPVSServices
from seesaw.ncc.model import (
    FLAG_ONEPACKET,
    FLAG_PERSISTENT,
    FLAG_SCHED1,
    FLAG_SCHED2,
    Destination,
    DestinationKey,
    Family,
    Forwarding,
    Partition,
    Protocol,
    Request,
    Service,
    ServiceKey,
    Spec,
    ref,
)
from seesaw.ncc.reconciler import Reconciler
from seesaw.ncc.steps import Step


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def tcp(address: str, port: int, scheduler: str = "wrr", flags: int = 0, timeout: int = 0) -> Service:
    return Service(ServiceKey.ip(Protocol.TCP, ip(address), port), scheduler, flags, timeout)


def udp(address: str, port: int, scheduler: str = "wrr", flags: int = 0, timeout: int = 0) -> Service:
    return Service(ServiceKey.ip(Protocol.UDP, ip(address), port), scheduler, flags, timeout)


def fwm(family: Family, mark: int, scheduler: str = "rr", flags: int = 0) -> Service:
    return Service(ServiceKey.mark(family, mark), scheduler, flags)


def dest(
    service: Service, address: str, port: int, forwarding: Forwarding = Forwarding.ROUTE, weight: int = 1, **t: int
) -> Destination:
    return Destination(DestinationKey(service.key, ip(address), port), forwarding, weight, **t)


def ipvsadm(netns: str, *args: str) -> str:
    done = subprocess.run(["ip", "netns", "exec", netns, "ipvsadm", *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def table(netns: str, *options: str) -> dict[str, list[str]]:
    """`ipvsadm -Ln [options]`: each service line (words joined by one space) -> its destination lines."""
    lines = ipvsadm(netns, "-Ln", *options).splitlines()[3:]
    services: dict[str, list[str]] = {}
    current: list[str] = []
    for line in lines:
        words = " ".join(line.split())
        if words.startswith("->"):
            current.append(words)
        else:
            current = services.setdefault(words, [])
    return services


def add_all(specs: list[Spec]) -> list[Step]:
    return [Step.add("p", spec) for spec in specs]


@pytest.fixture
def part(netns: str):
    ipvs = IPVSServices(netns=netns)
    yield ipvs
    ipvs.close()


WEB = tcp("192.0.2.1", 80, "wrr")
DNS6 = udp("2001:db8::53", 53, "sh", FLAG_SCHED1 | FLAG_SCHED2)
STICKY = tcp("192.0.2.2", 443, "wlc", FLAG_PERSISTENT, 300)
ONE_PACKET = udp("192.0.2.3", 53, "mh", FLAG_ONEPACKET)
MARK4 = fwm(Family.INET, 5, "lc")
MARK6 = fwm(Family.INET6, 6, "rr")
SERVICES = [WEB, DNS6, STICKY, ONE_PACKET, MARK4, MARK6]
DESTINATIONS = [
    dest(WEB, "10.0.0.1", 8080, Forwarding.MASQ, 3, upper_threshold=100, lower_threshold=10),
    dest(WEB, "10.0.0.2", 80, Forwarding.ROUTE, 1),
    dest(DNS6, "2001:db8:1::1", 53, Forwarding.ROUTE, 2),
    dest(STICKY, "10.0.0.3", 443, Forwarding.TUNNEL, 5),
    dest(ONE_PACKET, "10.0.0.4", 53),
    dest(MARK4, "10.0.0.5", 0),
    dest(MARK6, "2001:db8:1::5", 0, Forwarding.TUNNEL),
]

EXPECTED = {
    "TCP 192.0.2.1:80 wrr": ["-> 10.0.0.1:8080 Masq 3 0 0", "-> 10.0.0.2:80 Route 1 0 0"],
    "TCP 192.0.2.2:443 wlc persistent 300": ["-> 10.0.0.3:443 Tunnel 5 0 0"],
    "UDP 192.0.2.3:53 mh ops": ["-> 10.0.0.4:53 Route 1 0 0"],
    "UDP [2001:db8::53]:53 sh (sh-fallback,sh-port)": ["-> [2001:db8:1::1]:53 Route 2 0 0"],
    "FWM 5 lc": ["-> 10.0.0.5:0 Route 1 0 0"],
    "FWM 6 IPv6 rr": ["-> [2001:db8:1::5]:0 Tunnel 1 0 0"],
}


def test_add_update_delete_as_ipvsadm_sees_them(part, netns):
    results = part.apply(add_all(SERVICES + DESTINATIONS))
    assert [r.error for r in results] == [None] * len(results)
    assert table(netns) == EXPECTED
    thresholds = table(netns, "--thresholds")["TCP 192.0.2.1:80 wrr"]
    assert "-> 10.0.0.1:8080 100 10 0 0" in thresholds  # upper, lower threshold, active, inactive conns

    web_dest = DESTINATIONS[0]
    updates = [
        Step.update("p", WEB, tcp("192.0.2.1", 80, "rr")),
        Step.update("p", web_dest, dest(WEB, "10.0.0.1", 8080, Forwarding.TUNNEL, 7)),
        Step.update("p", DNS6, udp("2001:db8::53", 53, "sh", FLAG_PERSISTENT, 60)),
    ]
    assert all(r.ok for r in part.apply(updates))
    after = table(netns)
    assert after["TCP 192.0.2.1:80 rr"] == ["-> 10.0.0.1:8080 Tunnel 7 0 0", "-> 10.0.0.2:80 Route 1 0 0"]
    assert "UDP [2001:db8::53]:53 sh persistent 60" in after

    deletes = [Step.delete("p", DESTINATIONS[1]), Step.delete("p", MARK6), Step.delete("p", STICKY)]
    assert all(r.ok for r in part.apply(deletes))
    after = table(netns)
    assert after["TCP 192.0.2.1:80 rr"] == ["-> 10.0.0.1:8080 Tunnel 7 0 0"]
    assert "FWM 6 IPv6 rr" not in after and "TCP 192.0.2.2:443 wlc persistent 300" not in after
    assert len(after) == 4


def test_read_gives_back_exactly_what_was_applied(part):
    assert part.read().objects == {}
    part.apply(add_all(SERVICES + DESTINATIONS))
    state = part.read()
    assert state.objects == {ref(spec): spec for spec in SERVICES + DESTINATIONS}
    assert set(state.stats) == set(state.objects)


def test_services_made_with_ipvsadm_are_adopted_without_a_write(part, netns):
    script = "\n".join(
        [
            "-A -t 192.0.2.1:80 -s wrr",
            "-a -t 192.0.2.1:80 -r 10.0.0.1:8080 -m -w 3 -x 100 -y 10",
            "-a -t 192.0.2.1:80 -r 10.0.0.2:80 -g -w 1",
            "-A -t 192.0.2.2:443 -s wlc -p 300",
            "-a -t 192.0.2.2:443 -r 10.0.0.3:443 -i -w 5",
            "-A -u [2001:db8::53]:53 -s sh -b sh-fallback,sh-port",
            "-a -u [2001:db8::53]:53 -r [2001:db8:1::1]:53 -g -w 2",
            "-A -u 192.0.2.3:53 -s mh -o",
            "-a -u 192.0.2.3:53 -r 10.0.0.4:53 -g -w 1",
            "-A -f 5 -s lc",
            "-a -f 5 -r 10.0.0.5:0 -g -w 1",
            "-A -f 6 -6 -s rr",
            "-a -f 6 -6 -r [2001:db8:1::5]:0 -i -w 1",
        ]
    )
    subprocess.run(["ip", "netns", "exec", netns, "ipvsadm", "-R"], input=script + "\n", text=True, check=True)
    wanted = SERVICES + DESTINATIONS
    state = part.read()
    assert state.objects == {ref(spec): spec for spec in wanted}

    reconciler = Reconciler("ipvs", "test", FakeClock())
    reconciler.observe(state)
    plan = reconciler.plan(Request((Partition.of("web", wanted),)))
    assert plan.steps == () and plan.errors == ()
    assert {ref(spec) for _, spec in plan.adopt} == {ref(spec) for spec in wanted}
    outcome = reconciler.commit(plan, part.apply(plan.steps))
    assert outcome.writes == 0 and part.writes == 0


def test_a_refused_step_fails_alone_with_what_to_do(part, netns):
    v6 = tcp("2001:db8::80", 80)
    steps = [
        Step.add("p", WEB),
        Step.add("p", tcp("192.0.2.9", 80, "twos")),  # no ip_vs_twos module in this kernel
        Step.add("p", v6),
        Step.add("p", dest(v6, "10.0.0.1", 80, Forwarding.MASQ)),  # IPv4 backend, IPv6 NAT service
        Step.add("p", dest(v6, "10.0.0.1", 80, Forwarding.TUNNEL)),  # ... but a tunnel may mix families
        Step.add("p", dest(WEB, "10.0.0.1", 80, lower_threshold=10, upper_threshold=5)),
        Step.add("p", dest(tcp("192.0.2.99", 80), "10.0.0.1", 80)),  # its service is not there
        Step.add("p", WEB),  # twice
        Step.update("p", STICKY, STICKY),  # never added
        Step.delete("p", dest(WEB, "10.0.0.77", 80)),  # never added
        Step.add("p", tcp("192.0.2.10", 80, "x" * 16)),  # no scheduler name is that long: never sent
        Step.add("p", dest(WEB, "10.0.0.2", 80)),
    ]
    results = part.apply(steps)
    assert [r.errno for r in results] == [
        None,
        errno.ENOENT,
        None,
        errno.EINVAL,
        None,
        errno.ERANGE,
        errno.ESRCH,
        errno.EEXIST,
        errno.ESRCH,
        errno.ENOENT,
        errno.EINVAL,
        None,
    ]
    assert results[1].error == (
        "IPVS refused to add service TCP 192.0.2.9:80: scheduler 'twos' is not available "
        "(modprobe ip_vs_twos, and list it in /etc/modules-load.d/ to keep it)"
    )
    assert "an IPv4 destination cannot serve an IPv6 service with NAT forwarding" in results[3].error
    assert "lower threshold must not exceed the upper one" in results[5].error
    assert "its service TCP 192.0.2.99:80 is not in the kernel" in results[6].error
    assert "already exists" in results[7].error
    assert results[10].error.startswith("not sent to IPVS: service TCP 192.0.2.10:80 cannot be encoded")
    assert part.writes == len(steps) - 1
    assert table(netns) == {
        "TCP 192.0.2.1:80 wrr": ["-> 10.0.0.2:80 Route 1 0 0"],
        "TCP [2001:db8::80]:80 wrr": ["-> 10.0.0.1:80 Tunnel 1 0 0"],
    }


def test_thousands_of_steps_go_in_a_few_datagrams(part, netns):
    services = [tcp(f"10.{i // 250}.{i % 250}.1", 80) for i in range(2000)]
    dests = [dest(s, f"172.16.{n}.{i % 250 + 1}", 80) for i, s in enumerate(services) for n in range(2)]
    results = part.apply(add_all(services + dests))
    assert all(r.ok for r in results)
    assert part.writes == 6000 and part.batches <= 10
    assert len(part.read().objects) == 6000
    assert ipvsadm(netns, "-Ln").count("Route") == 4000


def test_counters_after_a_connection_through_a_nat_service(part, netns):
    """client ns -> VIP on the director (this netns) -> NAT -> backend ns; counters match ipvsadm --stats."""
    client, backend = f"{netns}-c", f"{netns}-b"
    setup = [
        f"ip netns add {client}",
        f"ip netns add {backend}",
        f"ip link add c0 netns {client} type veth peer name lbc netns {netns}",
        f"ip link add b0 netns {backend} type veth peer name lbb netns {netns}",
        f"ip -n {netns} addr add 10.1.0.1/24 dev lbc",
        f"ip -n {netns} addr add 10.1.0.100/32 dev lo",
        f"ip -n {netns} addr add 10.2.0.1/24 dev lbb",
        f"ip -n {netns} link set lbc up",
        f"ip -n {netns} link set lbb up",
        f"ip netns exec {netns} sysctl -qw net.ipv4.ip_forward=1",
        f"ip -n {client} addr add 10.1.0.2/24 dev c0",
        f"ip -n {client} link set c0 up",
        f"ip -n {client} link set lo up",
        f"ip -n {client} route add default via 10.1.0.1",
        f"ip -n {backend} addr add 10.2.0.2/24 dev b0",
        f"ip -n {backend} link set b0 up",
        f"ip -n {backend} link set lo up",
        f"ip -n {backend} route add default via 10.2.0.1",
    ]
    for command in setup:
        subprocess.run(command.split(), check=True)
    server = subprocess.Popen(
        ["ip", "netns", "exec", backend, "python3", "-c", SERVER],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "listening"
        vip = tcp("10.1.0.100", 80, "rr")
        backend_dest = dest(vip, "10.2.0.2", 8080, Forwarding.MASQ)
        assert all(r.ok for r in part.apply(add_all([vip, backend_dest])))
        reply = subprocess.run(
            ["ip", "netns", "exec", client, "python3", "-c", CLIENT], capture_output=True, text=True, timeout=30
        )
        assert reply.stdout.strip() == "hello from 10.2.0.2", reply.stderr
        # the kernel folds its per-CPU counters into what it reports every 2 s (the rate estimator)
        deadline = time.monotonic() + 10
        while (state := part.read()).stats[ref(vip)].connections == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        service_stats, dest_stats = state.stats[ref(vip)], state.stats[ref(backend_dest)]
        assert service_stats.connections == dest_stats.connections == 1
        assert service_stats.packets_in >= 3 and service_stats.packets_out >= 3
        assert dest_stats.active_connections + dest_stats.inactive_connections == 1
        assert service_stats.inactive_connections + service_stats.active_connections == 1
        words = table(netns, "--stats")
        [line] = words["TCP 10.1.0.100:80 1 {} {} {} {}".format(*_totals(service_stats))]
        assert line == "-> 10.2.0.2:8080 1 {} {} {} {}".format(*_totals(dest_stats))
    finally:
        server.kill()
        server.wait()
        for name in (client, backend):
            subprocess.run(["ip", "netns", "del", name], check=False)


def _totals(stats) -> tuple[int, int, int, int]:
    return stats.packets_in, stats.packets_out, stats.bytes_in, stats.bytes_out


SERVER = """
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080))
s.listen()
print("listening", flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b"hello from 10.2.0.2\\n")
    c.close()
"""

CLIENT = """
import socket
with socket.create_connection(("10.1.0.100", 80), timeout=10) as s:
    print(s.makefile().readline().strip())
"""


def test_a_closed_part_leaves_the_kernel_as_it_was(netns):
    ipvs = IPVSServices(netns=netns)
    ipvs.apply(add_all([WEB, DESTINATIONS[1]]))
    ipvs.close()
    time.sleep(0.1)
    assert table(netns) == {"TCP 192.0.2.1:80 wrr": ["-> 10.0.0.2:80 Route 1 0 0"]}
