"""The LB interface up the moment HA becomes leader: HA raises it itself with NCC's kit, then `NCC.Takeover`.

The engine decides what the LB interface is, and its Apply raises it once HA's
report has gone up to it and its word down to NCC: two gRPC hops and two
event loops, 5 to 8 ms on a busy machine, against keepalived's in-process
1 to 2 ms. So:

* While this node is backup, NCC offers a takeover kit (`NCC.WatchTakeover`, a
  stream this keeps open): the LB interface's name and index, and the
  gratuitous ARP burst as whole frames, made by NCC against the kernel as it
  found it (the interface down, exactly as NCC set it up). The moment HA
  leads, it carries the kit out itself, in its realtime process (seesaw/ha/
  lb_raise.py: the link set up, the frames sent; well under a millisecond,
  no hop to another process first). Then HA sleeps until the link runs
  (RUNNING_BLOCK at most): the kernel work that makes it run is queued on
  HA's CPU at normal priority and waits while realtime HA computes; once it
  runs, the burst goes again and the DSR neighbours are resolved. A kit is
  used once.
* Then, or at once when there is no kit (NCC has none ready, or is not
  there), HA tells NCC (`NCC.Takeover`, one hop): NCC records the takeover,
  sends the burst's repeats, and raises the LB interface itself if HA did not,
  exactly as the engine last set it up (only `up` changes). The engine's
  Apply follows and finds it done.

Nothing here can leave the LB interface up against the engine's word: HA
raises only what NCC offered (an LB interface the engine set up, down since
this node is backup); NCC refuses a takeover older than the HA state the
engine last spoke for, and keeps an engine's "down" that is older than the
takeover from undoing it (LBInterface.ha_since_unix_ms); NCC's audit leaves
the interface alone for a few seconds after a takeover, until the engine's
Apply has come.

Best effort: one call, no retry (the engine's Apply is the path that always
happens), on a channel connected at start and kept connected (gRPC drops an
idle channel after 30 minutes, and takeovers come hours apart), so that the
call costs one round trip and no connection set-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import select
import socket
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import grpc

from seesaw.common import neighbours, rpc
from seesaw.ha import lb_raise
from seesaw.ha.lb_release import CHANNEL_OPTIONS
from seesaw.pb import common_pb2, ncc_pb2, ncc_pb2_grpc

log = logging.getLogger(__name__)

CALL_TIMEOUT = 1.0
WATCH_RETRY = (0.5, 5.0)  # seconds before watching NCC's kits again after the stream broke: first, at most
RUNNING_BLOCK = 0.02  # seconds HA sleeps right after raising the link, for it to run (see _runs_within) ...
RUNNING_WAIT = 0.15  # ... then the seconds it is watched for running from the loop, to send the burst again
LINKWATCH_REST = 0.001  # seconds HA sleeps once its link runs, before the burst's second copy (_when_running)
# Never idle: the channel stays connected between takeovers hours apart.
TAKEOVER_CHANNEL_OPTIONS = [*CHANNEL_OPTIONS, ("grpc.client_idle_timeout_ms", 2**31 - 1)]


class LBTakeover:
    """Raises the LB interface with NCC's kit and tells NCC this node leads now. Create inside a running loop."""

    def __init__(
        self,
        socket_path: Path,
        call_timeout: float = CALL_TIMEOUT,
        set_link_up: Callable[[str, int], None] = lb_raise.set_link_up,
        send_frames: Callable[[str, Sequence[bytes]], None] | None = None,
        watch_retry: tuple[float, float] = WATCH_RETRY,
        watch_links: Callable[[], socket.socket | None] = lb_raise.watch_links,
        resolve_neighbours: Callable[[int, Sequence[str]], int] = neighbours.resolve_neighbours,
    ) -> None:
        self._path = socket_path
        self._call_timeout = call_timeout
        self._set_link_up = set_link_up
        self._sender = lb_raise.FrameSender()  # its socket opened when a kit comes, kept open (FrameSender)
        self._send_frames = send_frames or self._sender.send
        self._watch_links = watch_links
        self._resolve_neighbours = resolve_neighbours
        self._watch_retry = watch_retry
        self._channel: grpc.aio.Channel | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.kit: ncc_pb2.TakeoverKit | None = None  # NCC's kit, ready to carry out (None: none offered)
        self.replies: list[ncc_pb2.TakeoverReply] = []  # NCC's last few answers (its reasons are logged too)

    def connect(self) -> None:
        """Open the channel, start connecting now (NCC may not be up yet: gRPC keeps trying) and watch NCC's kits."""
        channel = self._open()
        channel.get_state(try_to_connect=True)
        self._start(self._watch(), "lb-takeover-kits")

    def takeover(self, since_unix_ms: int) -> None:
        """The kit carried out now, if NCC offered one, then NCC told (the loop goes on at once)."""
        raised = self._carry_out()
        self._start(self._call(since_unix_ms, raised), "lb-takeover")

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
        self._sender.close()

    def _start(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _open(self) -> grpc.aio.Channel:
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(rpc.target(self._path), options=TAKEOVER_CHANNEL_OPTIONS)
        return self._channel

    def _carry_out(self) -> int:
        """The kit's link up and its frames sent; its serial, or 0 if there was none or it failed."""
        kit, self.kit = self.kit, None  # used once: NCC offers the next when this node is backup again
        if kit is None:
            return 0
        watch = self._watch_running()  # subscribed before the link goes up: its running is not missed
        try:
            self._set_link_up(kit.interface, kit.index)
            self._send_frames(kit.interface, kit.frames)
        except OSError as err:
            if watch is not None:
                watch.close()
            log.info("%s not raised by HA itself (%s): NCC raises it", kit.interface, err.strerror or err)
            return 0
        if watch is not None:
            if self._runs_within(kit, watch, RUNNING_BLOCK):
                watch.close()
                self._when_running(kit)
            else:
                self._again_when_running(kit, watch)
        log.info("%s up and announced by HA itself (kit %d, %d frames)", kit.interface, kit.serial, len(kit.frames))
        return kit.serial

    def _runs_within(self, kit: ncc_pb2.TakeoverKit, watch: socket.socket, timeout: float) -> bool:
        """Sleep until link `kit.index` runs, `timeout` at most; whether it did.

        HA runs at realtime priority, and the kernel's linkwatch work that makes a link just set up run
        (and, in a bridge, its far end forward) is queued on this CPU at normal priority: it runs only while
        HA sleeps. An event loop that went on at once would hold it up by its own work (the NCC call, the
        engine's report); sleeping here, the link runs within 0.1 ms (measured in the lab)."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([watch], [], [], remaining)
            if not ready:
                return False
            try:
                data = watch.recv(1 << 16)
            except BlockingIOError:
                continue
            except OSError:  # missed notifications (ENOBUFS): ask the link itself
                return _runs(kit.interface)
            if lb_raise.running_in(data, kit.index):
                return True
        return False

    def _when_running(self, kit: ncc_pb2.TakeoverKit) -> None:
        """The burst again (the far end forwards now), and once more after LINKWATCH_REST with the kit's
        neighbours resolved (an ARP sent before the far end forwards is lost, and the kernel asks again only
        a second later).

        The rest: the kernel's linkwatch run that made our link run goes on to the far end's when that is a
        veth's peer (a bridge port, as in the lab, or a container's link); HA, at realtime priority and woken
        by our link's news, preempts it on its CPU, and a burst sent then can meet a port not yet forwarding.
        Sleeping a moment lets that run finish; on a NIC it costs a millisecond, after a burst already sent."""
        with contextlib.suppress(OSError):  # the link went down again: nothing to announce
            self._send_frames(kit.interface, kit.frames)
        time.sleep(LINKWATCH_REST)
        with contextlib.suppress(OSError):
            self._send_frames(kit.interface, kit.frames)
        # the DSR destinations' neighbour entries went with the link: resolved now, not when the first client
        # packet for each arrives (and waits for the answer)
        with contextlib.suppress(OSError):
            self._resolve_neighbours(kit.index, list(kit.neighbours))

    def _watch_running(self) -> socket.socket | None:
        try:
            return self._watch_links()
        except OSError as err:
            log.debug("cannot watch links (%s): NCC's repeats send the burst again", err)
            return None

    def _again_when_running(self, kit: ncc_pb2.TakeoverKit, watch: socket.socket) -> None:
        """The burst once more the moment link `kit.index` runs (the far end forwards then), within RUNNING_WAIT,
        and the kit's neighbours resolved (an ARP sent before the far end forwards is lost, and the kernel
        asks again only a second later)."""
        loop = asyncio.get_running_loop()

        def stop() -> None:
            loop.remove_reader(watch.fileno())
            watch.close()
            timer.cancel()

        def news() -> None:
            try:
                ran = lb_raise.running_in(watch.recv(1 << 16), kit.index)
            except BlockingIOError:
                return
            except OSError:  # missed notifications (ENOBUFS): ask the link itself
                ran = _runs(kit.interface)
            if ran:
                stop()
                self._when_running(kit)

        timer = loop.call_later(RUNNING_WAIT, stop)
        loop.add_reader(watch.fileno(), news)

    async def _watch(self) -> None:
        """Keep NCC's latest kit, for as long as NCC is there to stand behind it; watch again if it goes."""
        delay = self._watch_retry[0]
        while True:
            try:
                kits = ncc_pb2_grpc.NCCStub(self._open()).WatchTakeover(common_pb2.Empty(), wait_for_ready=True)
                async for kit in kits:
                    self.kit = kit if kit.interface else None
                    if self.kit is not None:
                        self._prepare_sender(self.kit.interface)
                    delay = self._watch_retry[0]
            except grpc.aio.AioRpcError as err:
                log.debug("NCC's takeover kits: %s", err.code())
            self.kit = None  # NCC went: its kit goes with it
            await asyncio.sleep(delay)
            delay = min(2 * delay, self._watch_retry[1])

    def _prepare_sender(self, interface: str) -> None:
        try:
            self._sender.prepare(interface)
        except OSError as err:  # the send opens one then, or says why it cannot
            log.debug("no frame socket on %s yet (%s)", interface, err)

    async def _call(self, since_unix_ms: int, raised: int) -> None:
        request = ncc_pb2.TakeoverRequest(leader_since_unix_ms=since_unix_ms, raised_kit=raised)
        try:
            reply = await ncc_pb2_grpc.NCCStub(self._open()).Takeover(request, timeout=self._call_timeout)
        except grpc.aio.AioRpcError as err:
            # the engine's Apply raises the LB interface all the same, a few milliseconds later
            log.info("NCC did not take the takeover call (%s): the engine's Apply raises the LB interface", err.code())
            return
        self.replies = [*self.replies[-9:], reply]
        if not reply.raised:
            log.info("NCC did not raise the LB interface at once (%s): the engine's Apply does", reply.reason)


def _runs(interface: str) -> bool:
    try:
        return lb_raise.runs(interface)
    except OSError:
        return False
