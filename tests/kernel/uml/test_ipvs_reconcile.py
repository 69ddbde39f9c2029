"""NCC's runtime (Runner: reconciler + audit) on the IPVS part against the real `ip_vs` module (UML guest).

Drift made with ipvsadm behind NCC's back is found and repaired by the audit and counted; services NCC does not
own are never touched; restarting NCC adopts the kernel as it is, with no write, and an established connection
through a NAT service keeps flowing across the restart.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator

import pytest

from seesaw.common.clock import FakeClock
from seesaw.ncc import convert
from seesaw.ncc.kernel.composite import KernelDataplane
from seesaw.ncc.kernel.ipvs import IPVSServices
from seesaw.ncc.runner import Runner
from seesaw.pb import common_pb2, ncc_pb2


def ipvsadm(netns: str, *args: str) -> str:
    done = subprocess.run(["ip", "netns", "exec", netns, "ipvsadm", *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def table(netns: str) -> dict[str, list[str]]:
    services: dict[str, list[str]] = {}
    current: list[str] = []
    for line in ipvsadm(netns, "-Ln").splitlines()[3:]:
        words = " ".join(line.split())
        if words.startswith("->"):
            current.append(words)
        else:
            current = services.setdefault(words, [])
    return services


def vserver(name: str, vip: str, backends: list[str], weight: int = 1, forwarding: int = common_pb2.FWD_ROUTE):
    return ncc_pb2.Partition(
        name=name,
        services=[
            ncc_pb2.Service(
                family=common_pb2.AF_INET,
                protocol=common_pb2.IPPROTO_TCP,
                address=vip,
                port=80,
                scheduler="wrr",
                destinations=[
                    ncc_pb2.Destination(
                        address=b,
                        port=80 if forwarding == common_pb2.FWD_ROUTE else 8080,
                        weight=weight,
                        forwarding=forwarding,
                    )
                    for b in backends
                ],
            )
        ],
    )


def runner_in(netns: str) -> Runner:
    return Runner(KernelDataplane("ipvs", [IPVSServices(netns=netns)]), "test", FakeClock(), audit_interval=0)


async def apply(runner: Runner, *partitions: ncc_pb2.Partition, replace_all: bool = True):
    request, errors = convert.request_from_pb(ncc_pb2.ApplyRequest(partitions=partitions, replace_all=replace_all))
    outcome = await runner.apply(request, errors)
    assert outcome.errors == (), outcome.errors
    return outcome


WEB = vserver("web", "192.0.2.1", ["10.0.0.1", "10.0.0.2", "10.0.0.3"])
API = vserver("api", "192.0.2.2", ["10.0.0.4"])


def test_the_audit_repairs_drift_made_with_ipvsadm_and_counts_it(netns):
    async def scenario() -> None:
        runner = runner_in(netns)
        await runner.start()
        assert (await apply(runner, WEB, API)).writes == 6
        wanted = table(netns)
        ipvsadm(netns, "-A", "-t", "198.51.100.1:22", "-s", "rr")  # someone else's service: never touched

        assert await runner.audit() == 0, "nothing drifted yet"

        ipvsadm(netns, "-D", "-t", "192.0.2.1:80")  # a whole service with its 3 destinations
        ipvsadm(netns, "-e", "-t", "192.0.2.2:80", "-r", "10.0.0.4:80", "-g", "-w", "9")  # a weight
        assert await runner.audit() == 5
        assert runner.status().drift_repairs_total == 5
        assert table(netns) == {**wanted, "TCP 198.51.100.1:22 rr": []}

        assert await runner.audit() == 0
        assert runner.status().drift_repairs_total == 5
        runner.dataplane.close()

    asyncio.run(scenario())


def test_a_restarted_ncc_adopts_the_kernel_without_a_write(netns):
    async def scenario() -> None:
        first = runner_in(netns)
        await first.start()
        await apply(first, WEB, API)
        first.dataplane.close()
        before = table(netns)

        second = runner_in(netns)
        await second.start()
        outcome = await apply(second, WEB, API)
        assert outcome.writes == 0 and outcome.steps == ()
        assert table(netns) == before
        # and it owns what it adopted: the engine dropping a vserver removes it
        assert (await apply(second, WEB)).writes == 2
        assert "TCP 192.0.2.2:80 wrr" not in table(netns)
        second.dataplane.close()

    asyncio.run(scenario())


@pytest.fixture
def nat_lab(netns: str) -> Iterator[tuple[str, str]]:
    """client ns <-> director (`netns`, VIP 10.1.0.100 on lo) <-> backend ns 10.2.0.2 running an echo server."""
    client, backend = f"{netns}-c", f"{netns}-b"
    commands = [
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
        f"ip -n {client} route add default via 10.1.0.1",
        f"ip -n {backend} addr add 10.2.0.2/24 dev b0",
        f"ip -n {backend} link set b0 up",
        f"ip -n {backend} link set lo up",
        f"ip -n {backend} route add default via 10.2.0.1",
    ]
    for command in commands:
        subprocess.run(command.split(), check=True)
    server = subprocess.Popen(
        ["ip", "netns", "exec", backend, "python3", "-c", ECHO_SERVER], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "listening"
        yield client, backend
    finally:
        server.kill()
        server.wait()
        for name in (client, backend):
            subprocess.run(["ip", "netns", "del", name], check=False)


ECHO_SERVER = """
import socket, threading
def serve(c):
    with c:
        for line in c.makefile():
            c.sendall(("echo " + line).encode())
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080))
s.listen()
print("listening", flush=True)
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
"""

# one long-lived connection: each line on stdin goes to the VIP, each echo comes back on stdout
CLIENT = """
import socket, sys
s = socket.create_connection(("10.1.0.100", 80), timeout=10)
replies = s.makefile()
for line in sys.stdin:
    s.sendall(line.encode())
    print(replies.readline().strip(), flush=True)
"""


def test_an_established_flow_survives_an_ncc_restart(netns, nat_lab):
    client, _ = nat_lab
    lab = vserver("lab", "10.1.0.100", ["10.2.0.2"], forwarding=common_pb2.FWD_MASQ)

    async def start_and_apply() -> tuple[Runner, int]:
        runner = runner_in(netns)
        await runner.start()
        return runner, (await apply(runner, lab)).writes

    first, writes = asyncio.run(start_and_apply())
    assert writes == 2
    flow = subprocess.Popen(
        ["ip", "netns", "exec", client, "python3", "-c", CLIENT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert flow.stdin is not None and flow.stdout is not None

        def exchange(text: str) -> str:
            flow.stdin.write(text + "\n")
            flow.stdin.flush()
            return flow.stdout.readline().strip()

        assert exchange("one") == "echo one"
        first.dataplane.close()  # NCC stops...
        second, writes = asyncio.run(start_and_apply())  # ...and a new one takes over
        assert writes == 0
        assert exchange("two") == "echo two", "the connection established before the restart still flows"
        connections = [line.split() for line in ipvsadm(netns, "-Lnc").splitlines()[2:]]
        # pro expire state source virtual destination
        assert [c[2:3] + c[4:] for c in connections] == [["ESTABLISHED", "10.1.0.100:80", "10.2.0.2:8080"]]
        second.dataplane.close()
    finally:
        flow.kill()
        flow.wait()


def test_objects_the_kernel_refuses_are_reported_and_the_rest_applied(netns):
    twos = ncc_pb2.Partition(
        name="twos",
        services=[
            ncc_pb2.Service(
                family=common_pb2.AF_INET,
                protocol=common_pb2.IPPROTO_TCP,
                address="192.0.2.9",
                port=80,
                scheduler="twos",  # a scheduler this kernel has no module for
                destinations=[ncc_pb2.Destination(address="10.0.0.9", port=80, weight=1)],
            )
        ],
    )

    async def scenario() -> None:
        runner = runner_in(netns)
        await runner.start()
        request, errors = convert.request_from_pb(ncc_pb2.ApplyRequest(partitions=[WEB, twos, API]))
        outcome = await runner.apply(request, errors)
        assert [(e.kind, e.key, e.partition) for e in outcome.errors] == [
            ("service", "TCP 192.0.2.9:80", "twos"),
            ("destination", "TCP 192.0.2.9:80 -> 10.0.0.9:80", "twos"),
        ]
        assert "scheduler 'twos' is not available (modprobe ip_vs_twos" in outcome.errors[0].message
        assert "its service TCP 192.0.2.9:80 is not in the kernel" in outcome.errors[1].message
        assert outcome.writes == 6
        assert set(table(netns)) == {"TCP 192.0.2.1:80 wrr", "TCP 192.0.2.2:80 wrr"}
        assert await runner.audit() == 0, "the audit retries the refused objects, and the kernel refuses them again"
        runner.dataplane.close()

    asyncio.run(scenario())
