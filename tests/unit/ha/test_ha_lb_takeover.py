"""HA raises the LB interface itself with NCC's kit and tells NCC the moment it leads (seesaw/ha/lb_takeover.py).

A real NCC service (grpc.aio over a Unix socket, the runner, a sim dataplane with the fast path, and with
kits where HA's side is tested: its link index and frames are stand-ins, so HA's two system calls are noted
instead of made) and the real client, connected before any takeover.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from test_ha_lb_release import held, lb, ncc

from seesaw.common import paths
from seesaw.common.rtnetlink import HEADER, IFF_RUNNING, IFF_UP, IFINFO, RTM_NEWLINK
from seesaw.ha import lb_takeover
from seesaw.ha.lb_takeover import LBTakeover
from seesaw.ncc.sim import SIM_LINK_INDEX, SimDataplane
from seesaw.pb import ncc_pb2


async def replied(takeover: LBTakeover, count: int) -> None:
    while len(takeover.replies) < count:
        await asyncio.sleep(0.01)


def test_ncc_raises_the_lb_interface_at_ha_word_and_the_engine_finds_it_done(tmp_path: Path) -> None:
    async def scenario() -> None:
        sim = SimDataplane()
        async with ncc(tmp_path, sim) as stub:
            takeover = LBTakeover(paths.socket_path(tmp_path, "ncc"))
            takeover.connect()
            try:
                takeover.takeover(1_000)  # before the engine set any LB interface up: nothing to raise
                await asyncio.wait_for(replied(takeover, 1), 5)
                assert not takeover.replies[-1].raised and "no LB interface" in takeover.replies[-1].reason

                down = lb(up=False)
                down.ha_since_unix_ms = 2_000  # BACKUP since 2000
                await stub.Apply(ncc_pb2.ApplyRequest(lb=down, has_lb=True))
                takeover.takeover(1_500)  # older than the engine's word: refused
                await asyncio.wait_for(replied(takeover, 2), 5)
                assert not takeover.replies[-1].raised and sim.expressed == []

                takeover.takeover(3_000)  # LEADER since 3000
                await asyncio.wait_for(replied(takeover, 3), 5)
                assert takeover.replies[-1].raised and [s.new.up for s in sim.expressed] == [True] and held(sim).up
                up = lb(up=True)
                up.ha_since_unix_ms = 3_000
                await stub.Apply(ncc_pb2.ApplyRequest(lb=up, has_lb=True))  # the engine's Apply follows
                assert held(sim).up
            finally:
                await takeover.close()

    asyncio.run(scenario())


def test_without_ncc_the_call_fails_quietly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        takeover = LBTakeover(paths.socket_path(tmp_path, "ncc"), call_timeout=0.2)
        takeover.connect()
        takeover.takeover(1_000)
        for _ in range(100):
            if "the engine's Apply raises the LB interface" in caplog.text:
                break
            await asyncio.sleep(0.02)
        assert takeover.replies == []
        await takeover.close()

    with caplog.at_level(logging.INFO, logger="seesaw.ha.lb_takeover"):
        asyncio.run(scenario())
    (said,) = [r.getMessage() for r in caplog.records if "did not take the takeover call" in r.getMessage()]
    assert "the engine's Apply raises the LB interface" in said


async def offered(takeover: LBTakeover) -> ncc_pb2.TakeoverKit:
    while takeover.kit is None:
        await asyncio.sleep(0.01)
    return takeover.kit


class Kernel:
    """HA's two system calls, noted (or refused with `refuse`)."""

    def __init__(self, refuse: OSError | None = None) -> None:
        self.refuse = refuse
        self.calls: list[tuple[str, object, object]] = []

    def set_link_up(self, interface: str, index: int) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.calls.append(("up", interface, index))

    def send_frames(self, interface: str, frames: Sequence[bytes]) -> None:
        self.calls.append(("send", interface, tuple(frames)))


def noted(run_dir: Path, kernel: Kernel) -> LBTakeover:
    """HA's takeover client, its system calls noted by `kernel` (no link watch: the sim has no links)."""
    return LBTakeover(
        paths.socket_path(run_dir, "ncc"),
        set_link_up=kernel.set_link_up,
        send_frames=kernel.send_frames,
        watch_links=lambda: None,
    )


def test_ha_raises_the_lb_interface_itself_with_nccs_kit_and_ncc_records_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kernel = Kernel()

    async def scenario() -> None:
        sim = SimDataplane(kits=True)
        async with ncc(tmp_path, sim) as stub:
            takeover = noted(tmp_path, kernel)
            takeover.connect()
            try:
                down = lb(up=False)
                down.ha_since_unix_ms = 2_000
                await stub.Apply(ncc_pb2.ApplyRequest(lb=down, has_lb=True))  # BACKUP: NCC offers a kit
                kit = await asyncio.wait_for(offered(takeover), 5)
                takeover.takeover(3_000)  # LEADER: the kit carried out at once, then NCC told
                assert kernel.calls == [("up", "eth1", SIM_LINK_INDEX), ("send", "eth1", (b"announce 192.0.2.100",))]
                assert takeover.kit is None  # used once
                await asyncio.wait_for(replied(takeover, 1), 5)
                assert takeover.replies[-1].raised and held(sim).up and kit.serial > 0
            finally:
                await takeover.close()

    with caplog.at_level(logging.INFO):
        asyncio.run(scenario())
    assert "after HA raised it (kit " in caplog.text and "eth1 up and announced by HA itself" in caplog.text


def test_a_kit_ha_cannot_carry_out_leaves_the_raising_to_ncc(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    kernel = Kernel(refuse=OSError(errno.ENODEV, "'eth1' is link 12 now, not 999999"))

    async def scenario() -> None:
        sim = SimDataplane(kits=True)
        async with ncc(tmp_path, sim) as stub:
            takeover = noted(tmp_path, kernel)
            takeover.connect()
            try:
                await stub.Apply(ncc_pb2.ApplyRequest(lb=lb(up=False), has_lb=True))
                await asyncio.wait_for(offered(takeover), 5)
                takeover.takeover(3_000)
                await asyncio.wait_for(replied(takeover, 1), 5)
                assert takeover.replies[-1].raised and held(sim).up  # NCC raised it, at HA's word
            finally:
                await takeover.close()

    with caplog.at_level(logging.INFO):
        asyncio.run(scenario())
    assert "eth1 not raised by HA itself ('eth1' is link 12 now, not 999999): NCC raises it" in caplog.text
    assert "raising the LB interface at HA's word" in caplog.text


def test_the_kit_goes_when_ncc_goes(tmp_path: Path) -> None:
    async def scenario() -> None:
        takeover = LBTakeover(paths.socket_path(tmp_path, "ncc"), watch_retry=(0.05, 0.1))
        takeover.connect()
        try:
            async with ncc(tmp_path, SimDataplane(kits=True)) as stub:
                await stub.Apply(ncc_pb2.ApplyRequest(lb=lb(up=False), has_lb=True))
                await asyncio.wait_for(offered(takeover), 5)
            for _ in range(200):  # NCC stopped: a kit nobody stands behind is not kept
                if takeover.kit is None:
                    break
                await asyncio.sleep(0.01)
            assert takeover.kit is None
        finally:
            await takeover.close()

    asyncio.run(scenario())


def newlink_running(index: int) -> bytes:
    """An RTM_NEWLINK notification: link `index` up and running."""
    body = IFINFO.pack(socket.AF_UNSPEC, 1, index, IFF_UP | IFF_RUNNING, 0xFFFFFFFF)
    return HEADER.pack(HEADER.size + len(body), RTM_NEWLINK, 0, 0, 0) + body


@pytest.mark.parametrize("runs", [True, False])
def test_ha_sleeps_until_its_raised_link_runs_then_announces_again_and_resolves_the_neighbours(runs: bool) -> None:
    """Realtime HA must sleep for the kernel's linkwatch (queued on its CPU) to make the link run: a link that runs
    within RUNNING_BLOCK gets the burst again (twice: at once and after LINKWATCH_REST) and its neighbours
    resolved before `takeover` returns; one that does not is left to the loop's watch."""
    kernel = Kernel()
    resolved: list[tuple[int, list[str]]] = []
    news, watch = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    watch.setblocking(False)
    if runs:
        threading.Timer(0.005, news.send, (newlink_running(4) + newlink_running(SIM_LINK_INDEX),)).start()

    async def scenario() -> float:
        takeover = LBTakeover(
            Path("/nonexistent/ncc.sock"),
            call_timeout=0.1,
            set_link_up=kernel.set_link_up,
            send_frames=kernel.send_frames,
            watch_links=lambda: watch,
            resolve_neighbours=lambda index, addresses: resolved.append((index, addresses)) or 0,
        )
        takeover.kit = ncc_pb2.TakeoverKit(
            interface="eth1", index=SIM_LINK_INDEX, frames=[b"garp"], serial=1, neighbours=["10.0.0.9"]
        )
        started = time.monotonic()
        takeover.takeover(1_000)
        took = time.monotonic() - started
        await takeover.close()
        return took

    took = asyncio.run(scenario())
    sent = [call for call in kernel.calls if call[0] == "send"]
    if runs:
        assert len(sent) == 3 and resolved == [(SIM_LINK_INDEX, ["10.0.0.9"])]
        assert 0.005 <= took < lb_takeover.RUNNING_BLOCK + 0.01
    else:
        assert len(sent) == 1 and resolved == []  # the loop's watch (closed with it here) would do the rest
        assert took >= lb_takeover.RUNNING_BLOCK
    news.close()
