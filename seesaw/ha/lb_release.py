"""The LB interface down without the engine, once HA left the election for lack of one.

The engine alone tells NCC what the LB interface does, and a vanished engine
says nothing: after HA's grace (engine_grace) the peer takes over, and this
node's LB interface would stay up, answering for the VIPs beside the new
master, until the engine came back. So when HA leaves the election because
the engine is gone, it asks NCC itself (`NCC.TakeLBDown` on
<run-dir>/ncc/ncc.sock): the LB interface goes down as NCC holds it, nothing
else changes, and the VIPs on it are no longer answered or announced.

Why HA asks, rather than NCC holding a lease the engine must renew: HA is
the one that knows this node stopped being master, and when; its grace is
the one clock that decides both the priority-0 advert and the LB interface.
A lease in NCC would be a second clock: shorter than HA's grace, it takes
the LB interface down while HA still leads (a slow engine, a long config
load) and the VIPs go dark with nobody else serving; longer, it leaves two
masters for the difference. It would also make an idle engine talk to NCC
all the time. The cost of asking is one RPC, sent right after the advert.

Rules:

* `release(reason)` starts the request, retried every `retry_delay` while
  NCC cannot be reached (it may be restarting too); a newer `release`
  replaces an older one.
* `cancel()` stops it: the engine is back and speaks for the LB interface
  again. A call NCC has not started is dropped with it (its handler is
  cancelled while it waits for NCC's dataplane lock); one that started ends
  before anything the engine applies next, so the engine's word comes last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import grpc

from seesaw.common import rpc
from seesaw.pb import ncc_pb2, ncc_pb2_grpc

log = logging.getLogger(__name__)

RETRY_DELAY = 0.5
CALL_TIMEOUT = 5.0
# gRPC keeps reconnect backoff (1 s, growing) in a subchannel pool shared by all channels to one target: a fresh
# channel per attempt would inherit it. A private pool and a short backoff make a retry really connect again.
# HA's engine link dials with these too.
CHANNEL_OPTIONS = [
    *rpc.CHANNEL_OPTIONS,
    ("grpc.use_local_subchannel_pool", 1),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
]


class LBRelease:
    """Asks NCC to take the LB interface down; at most one request in flight. Create inside a running loop."""

    def __init__(self, socket_path: Path, retry_delay: float = RETRY_DELAY, call_timeout: float = CALL_TIMEOUT) -> None:
        self._path = socket_path
        self._retry_delay = retry_delay
        self._call_timeout = call_timeout
        self._task: asyncio.Task[None] | None = None
        self.done = asyncio.Event()  # set once NCC took the last request (tests)

    @property
    def pending(self) -> bool:
        return self._task is not None and not self._task.done()

    def release(self, reason: str) -> None:
        """Have NCC take the LB interface down (`reason` goes to its log); retried until it did or `cancel`."""
        self.cancel()
        self.done.clear()
        self._task = asyncio.get_running_loop().create_task(self._run(reason), name="lb-release")

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    async def close(self) -> None:
        """Cancel and wait for the request to end."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, reason: str) -> None:
        complained = ""
        while True:
            try:
                async with grpc.aio.insecure_channel(rpc.target(self._path), options=CHANNEL_OPTIONS) as channel:
                    reply = await ncc_pb2_grpc.NCCStub(channel).TakeLBDown(
                        ncc_pb2.LBDownRequest(reason=reason), timeout=self._call_timeout
                    )
            except grpc.aio.AioRpcError as err:
                message = rpc.describe_rpc_error(err, "NCC", self._path)
                if message != complained:
                    log.warning(
                        "cannot have NCC take the LB interface down (%s); retrying every %.1f s. Until it does, "
                        "the LB interface answers for the VIPs beside the peer: check seesaw-ncc (seesaw_ncc.log), "
                        "or set the LB interface down by hand (ip link)",
                        message,
                        self._retry_delay,
                    )
                    complained = message
                await asyncio.sleep(self._retry_delay)
                continue
            for error in reply.errors:
                log.error(
                    "NCC could not take the LB interface down: %s %s: %s; see seesaw_ncc.log, and if the LB "
                    "interface is still up (ip link), set it down by hand: the peer is master now",
                    error.kind,
                    error.key,
                    error.message,
                )
            if not reply.errors:
                log.warning(
                    "NCC took the LB interface down (%d writes): this node no longer answers for the VIPs", reply.writes
                )
            self.done.set()
            return
