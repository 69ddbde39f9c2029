"""The engine's NCC client: carries `Engine.pending_apply()` to NCC.

* Connect (GetStatus) with retries and exponential backoff; every new
  connection starts with a full resync (`replace_all`), so NCC holds exactly
  what the engine wants whatever happened while they were apart.
* On its first connection the engine reads NCC's state (GetState) before it
  applies anything, and adopts it (`adoption`): a restarted engine keeps
  the dataplane as it is until HA and the healthchecks report.
* Apply whatever is pending whenever the engine changes; one request at a
  time, so nothing is offered twice or lost.
* A failed Apply is reported (engine warnings, config status, log) and
  retried with backoff; an unreachable NCC means reconnect and resync. The
  engine never crashes on an NCC error and never flushes the dataplane
  (Seesaw v2 did both).
* While idle, probe NCC every few seconds: a restarted NCC (generation went
  backwards, or it holds no partitions while we believe it holds some) gets
  a resync.
* While this node leads, send gratuitous ARP every `garp_interval_sec`.
* Read the BGP speaker's neighbours through NCC when asked (`show bgp neighbors`).
* `settle()` waits until NCC holds what the engine wants (the last word of a
  stopping engine).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import grpc

from seesaw.common import rpc
from seesaw.engine.runtime import EngineRuntime
from seesaw.pb import common_pb2, ncc_pb2, ncc_pb2_grpc

log = logging.getLogger(__name__)

CALL_TIMEOUT = 20.0
PROBE_INTERVAL = 5.0
SLOW_APPLY = 0.1  # an Apply slower than this is logged with how long it took
BACKOFF = (0.5, 10.0)
ADOPT_ATTEMPTS = 5  # connections that may fail to read NCC's state before the engine applies without adopting

_DISCONNECTED = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)


class BGPUnavailable(Exception):
    """The BGP neighbours cannot be read now; the text says why and what to do."""


async def _sleep(stop: asyncio.Event, seconds: float, wake: asyncio.Event | None = None) -> None:
    """Sleep up to `seconds`, less if `stop` (or `wake`) is set."""
    waits = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waits.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


class NCCLink:
    def __init__(
        self,
        runtime: EngineRuntime,
        socket_path: Path,
        *,
        call_timeout: float = CALL_TIMEOUT,
        probe_interval: float = PROBE_INTERVAL,
        backoff: tuple[float, float] = BACKOFF,
    ) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.socket_path = socket_path
        self.call_timeout = call_timeout
        self.probe_interval = probe_interval
        self.backoff = backoff
        self.stub: ncc_pb2_grpc.NCCStub | None = None
        self.applies = 0
        self.last_request: ncc_pb2.ApplyRequest | None = None  # the last one NCC took
        self.idle = asyncio.Event()  # set while NCC holds everything the engine wants
        self._adopt_failures = 0
        runtime.read_dataplane = self.dataplane_state
        runtime.read_bgp_neighbors = self.bgp_neighbors

    async def dataplane_state(self, timeout: float = 1.0) -> ncc_pb2.DataplaneState | None:
        """NCC's GetState (counters for the views), or None while NCC is unreachable."""
        if self.stub is None:
            return None
        try:
            return await self.stub.GetState(common_pb2.Empty(), timeout=timeout)
        except grpc.aio.AioRpcError as err:
            log.debug("no dataplane counters: %s", rpc.describe_rpc_error(err, "NCC", self.socket_path))
            return None

    async def bgp_neighbors(self) -> ncc_pb2.BGPNeighborList:
        """NCC's live list of the BGP speaker's neighbours; BGPUnavailable says why there is none."""
        if self.stub is None:
            raise BGPUnavailable(self.engine.ncc.error or f"not connected to NCC at {self.socket_path} yet")
        try:
            return await self.stub.ListBGPNeighbors(common_pb2.Empty(), timeout=self.call_timeout)
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.FAILED_PRECONDITION:  # NCC runs, bgpd does not answer
                raise BGPUnavailable(err.details() or "NCC cannot read the BGP speaker") from err
            raise BGPUnavailable(rpc.describe_rpc_error(err, "NCC", self.socket_path)) from err

    async def run(self, stop: asyncio.Event) -> None:
        wake = self.runtime.subscribe()
        garp = asyncio.create_task(self._garp_loop(stop))
        delay = self.backoff[0]
        try:
            while not stop.is_set():
                async with rpc.aio_channel(self.socket_path) as channel:
                    self.stub = ncc_pb2_grpc.NCCStub(channel)
                    try:
                        status = await self.stub.GetStatus(common_pb2.Empty(), timeout=self.call_timeout)
                    except grpc.aio.AioRpcError as err:
                        self._disconnected(err)
                        await _sleep(stop, delay)
                        delay = min(delay * 2, self.backoff[1])
                        continue
                    delay = self.backoff[0]
                    log.info(
                        "connected to NCC at %s (%s dataplane): sending the full state",
                        self.socket_path,
                        status.dataplane or "unknown",
                    )
                    self.engine.ncc_connected(status.dataplane)
                    if self.engine.needs_adoption and not await self._adopt():
                        self.stub = None
                        await _sleep(stop, delay)
                        delay = min(delay * 2, self.backoff[1])
                        continue
                    await self._session(wake, stop, status.generation)
                    self.stub = None
        finally:
            self.runtime.unsubscribe(wake)
            garp.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await garp

    async def settle(self, timeout: float) -> bool:
        """Wait until NCC holds what the engine wants now; False if that took longer than `timeout` (or NCC is away)."""
        if not self.engine.ncc.connected:
            return False
        self.idle.clear()
        self.runtime.changed()
        try:
            await asyncio.wait_for(self.idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def _adopt(self) -> bool:
        """Hand NCC's state to the engine before anything is applied; False: reconnect and try again."""
        assert self.stub is not None
        try:
            state: ncc_pb2.DataplaneState | None = await self.stub.GetState(
                common_pb2.Empty(), timeout=self.call_timeout
            )
        except grpc.aio.AioRpcError as err:
            self._adopt_failures += 1
            message = rpc.describe_rpc_error(err, "NCC", self.socket_path)
            if err.code() in _DISCONNECTED and self._adopt_failures < ADOPT_ATTEMPTS:
                log.warning("cannot read NCC's state yet (%s); nothing is applied before it is read", message)
                return False
            log.warning("cannot read NCC's state (%s): applying the engine's own view without adopting it", message)
            state = None
        self.engine.adopt(state)
        self.runtime.changed()
        return True

    def _disconnected(self, err: grpc.aio.AioRpcError) -> None:
        message = rpc.describe_rpc_error(err, "NCC", self.socket_path)
        if message != self.engine.ncc.error:
            log.warning("%s; retrying", message)
        self.engine.ncc_disconnected(message)
        self.runtime.changed()

    async def _session(self, wake: asyncio.Event, stop: asyncio.Event, generation: int) -> None:
        """Apply changes until NCC goes away (or `stop`)."""
        assert self.stub is not None
        delay = self.backoff[0]
        loop = asyncio.get_running_loop()
        next_probe = loop.time() + self.probe_interval
        while not stop.is_set():
            wake.clear()
            req = self.engine.pending_apply()
            if req is None:
                self.idle.set()
                if loop.time() >= next_probe:
                    next_probe = loop.time() + self.probe_interval
                    if not await self._probe(generation):
                        return
                await _sleep(stop, self.probe_interval, wake)
                continue
            self.idle.clear()
            sent = loop.time()
            try:
                resp = await self.stub.Apply(req, timeout=self.call_timeout)
            except grpc.aio.AioRpcError as err:
                message = rpc.describe_rpc_error(err, "NCC", self.socket_path)
                self.engine.apply_failed(req, message)
                if err.code() in _DISCONNECTED:
                    self._disconnected(err)
                    return
                log.error(
                    "NCC refused an apply (%d partitions): %s; retrying in %.1f s", len(req.partitions), message, delay
                )
                self.runtime.changed()
                await _sleep(stop, delay)
                delay = min(delay * 2, self.backoff[1])
                continue
            took = loop.time() - sent
            if took >= SLOW_APPLY:
                log.info(
                    "NCC took %.0f ms to apply %d partitions%s (its log says what it waited for)",
                    took * 1000,
                    len(req.partitions),
                    " and the LB interface" if req.has_lb else "",
                )
            restarted = resp.generation < generation
            generation = resp.generation
            self.engine.apply_done(req, resp)
            self.applies += 1
            self.last_request = req
            if restarted and not req.replace_all:
                log.warning("NCC restarted (generation went back): sending the full state")
                self.engine.ncc_connected()
            log.debug(
                "applied %d partitions%s, %d writes",
                len(req.partitions),
                " and the LB interface" if req.has_lb else "",
                resp.writes,
            )
            if resp.errors:
                for err in resp.errors:
                    log.error("NCC could not apply %s %s (%s): %s", err.kind, err.key, err.partition, err.message)
                self.runtime.changed()
                await _sleep(stop, delay)
                delay = min(delay * 2, self.backoff[1])
            else:
                delay = self.backoff[0]
                self.runtime.changed()

    async def _probe(self, generation: int) -> bool:
        """Is NCC still the one we fed? False: reconnect (and resync)."""
        assert self.stub is not None
        try:
            status = await self.stub.GetStatus(common_pb2.Empty(), timeout=self.call_timeout)
        except grpc.aio.AioRpcError as err:
            self._disconnected(err)
            return False
        if status.generation < generation or (self.engine.applied_partitions() and not status.partitions):
            log.warning("NCC lost its state (restarted?): sending the full state")
            self.engine.ncc_connected(status.dataplane)
        return True

    async def _garp_loop(self, stop: asyncio.Event) -> None:
        announced = False
        while not stop.is_set():
            await _sleep(stop, max(self.engine.settings.garp_interval_sec, 1))
            targets = self.engine.arp_map()
            if not targets:
                if announced:
                    log.info("stopping gratuitous ARPs")
                announced = False
                continue
            if self.stub is None:
                continue
            if not announced:
                log.info("sending gratuitous ARPs for %s every %d s", targets, self.engine.settings.garp_interval_sec)
                announced = True
            request = ncc_pb2.ARPRequest()
            for iface, addresses in targets.items():
                request.interfaces[iface].addresses.extend(addresses)
            try:
                await self.stub.SendGratuitousARP(request, timeout=self.call_timeout)
            except grpc.aio.AioRpcError as err:
                log.warning("gratuitous ARP failed: %s", rpc.describe_rpc_error(err, "NCC", self.socket_path))
