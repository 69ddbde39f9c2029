"""The LB interface up the moment HA becomes leader: `NCC.Takeover`, ahead of the engine's Apply.

The engine decides what the LB interface is, and its Apply raises it once HA's
report has gone up to it and its word down to NCC: two gRPC hops and two
event loops, 5 to 8 ms on a busy machine, against keepalived's in-process
1 to 2 ms. So HA also tells NCC directly, in one hop: NCC raises the LB
interface exactly as the engine last set it up (only `up` changes) and
sends the gratuitous ARP burst; the engine's Apply follows and finds it done.

Nothing here can leave the LB interface up against the engine's word: NCC
refuses a takeover older than the HA state the engine last spoke for, and
keeps an engine's "down" that is older than the takeover from undoing it
(LBInterface.ha_since_unix_ms); NCC's audit leaves the interface alone for
a few seconds after a takeover, until the engine's Apply has come.

Best effort: one call, no retry (the engine's Apply is the path that always
happens), on a channel connected at start and kept connected (gRPC drops an
idle channel after 30 minutes, and takeovers come hours apart), so that the
call costs one round trip and no connection set-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import grpc

from seesaw.common import rpc
from seesaw.ha.lb_release import CHANNEL_OPTIONS
from seesaw.pb import ncc_pb2, ncc_pb2_grpc

log = logging.getLogger(__name__)

CALL_TIMEOUT = 1.0
# Never idle: the channel stays connected between takeovers hours apart.
TAKEOVER_CHANNEL_OPTIONS = [*CHANNEL_OPTIONS, ("grpc.client_idle_timeout_ms", 2**31 - 1)]


class LBTakeover:
    """Tells NCC this node leads now. Create inside a running loop."""

    def __init__(self, socket_path: Path, call_timeout: float = CALL_TIMEOUT) -> None:
        self._path = socket_path
        self._call_timeout = call_timeout
        self._channel: grpc.aio.Channel | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.replies: list[ncc_pb2.TakeoverReply] = []  # NCC's last few answers (its reasons are logged too)

    def connect(self) -> None:
        """Open the channel and start connecting now (NCC may not be up yet: gRPC keeps trying)."""
        channel = self._open()
        channel.get_state(try_to_connect=True)

    def takeover(self, since_unix_ms: int) -> None:
        """Start the call (the loop goes on at once: the adverts come first)."""
        task = asyncio.get_running_loop().create_task(self._call(since_unix_ms), name="lb-takeover")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    def _open(self) -> grpc.aio.Channel:
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(rpc.target(self._path), options=TAKEOVER_CHANNEL_OPTIONS)
        return self._channel

    async def _call(self, since_unix_ms: int) -> None:
        try:
            reply = await ncc_pb2_grpc.NCCStub(self._open()).Takeover(
                ncc_pb2.TakeoverRequest(leader_since_unix_ms=since_unix_ms), timeout=self._call_timeout
            )
        except grpc.aio.AioRpcError as err:
            # the engine's Apply raises the LB interface all the same, a few milliseconds later
            log.info("NCC did not take the takeover call (%s): the engine's Apply raises the LB interface", err.code())
            return
        self.replies = [*self.replies[-9:], reply]
        if not reply.raised:
            log.info("NCC did not raise the LB interface at once (%s): the engine's Apply does", reply.reason)
