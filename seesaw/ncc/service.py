"""The NCC gRPC service (seesaw.ncc.NCC): protobuf in, the runner (dataplane) and the
speaker (BGP) do the work, protobuf out."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Iterable

import grpc

from seesaw.ncc import bgp, convert
from seesaw.ncc.bgp import convert as bgp_convert
from seesaw.ncc.dataplane import DataplaneError
from seesaw.ncc.model import LB_PARTITION, VLAN, LBInterface, Spec
from seesaw.ncc.reconciler import Outcome
from seesaw.ncc.runner import Runner
from seesaw.pb import common_pb2, ncc_pb2, ncc_pb2_grpc

log = logging.getLogger("seesaw.ncc")

SERVICE_NAME = ncc_pb2.DESCRIPTOR.services_by_name["NCC"].full_name


class NCCService(ncc_pb2_grpc.NCCServicer):
    def __init__(self, runner: Runner, speaker: bgp.Speaker | None = None) -> None:
        self._runner = runner
        self._speaker = speaker

    async def Apply(self, request: ncc_pb2.ApplyRequest, context: grpc.aio.ServicerContext) -> ncc_pb2.ApplyResponse:
        await self._require_ready(context)
        response = _response(await self._runner.apply_pb(request))
        if request.has_bgp:  # after the partitions: an anycast VIP is on its interface before it is advertised
            _add_bgp(response, await self._apply_bgp(request.bgp, request.dry_run))
        return response

    async def _apply_bgp(self, config: ncc_pb2.BGPConfig, dry_run: bool) -> bgp.Outcome:
        desired, problems = bgp_convert.desired_from_pb(config)
        if self._speaker is None:
            problems.append(bgp.Problem("bgpd", "this NCC drives no BGP speaker"))
        if desired is None or self._speaker is None:
            return bgp.Outcome(problems=problems)
        return await self._speaker.apply(desired, problems, dry_run=dry_run)

    async def ListBGPNeighbors(
        self, request: common_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> ncc_pb2.BGPNeighborList:
        if self._speaker is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "this NCC drives no BGP speaker")
        try:
            neighbors = await self._speaker.neighbors()
        except bgp.VTYUnavailable as err:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(err))
        return ncc_pb2.BGPNeighborList(neighbors=[bgp_convert.neighbor_to_pb(n) for n in neighbors])

    async def GetState(self, request: common_pb2.Empty, context: grpc.aio.ServicerContext) -> ncc_pb2.DataplaneState:
        await self._require_ready(context)
        name = self._runner.dataplane.name
        try:
            state = await self._runner.read()
        except DataplaneError as err:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"reading the {name} dataplane failed: {err}")
        return convert.state_to_pb(name, state)

    async def GetStatus(self, request: common_pb2.Empty, context: grpc.aio.ServicerContext) -> ncc_pb2.StatusResponse:
        status = self._runner.status()
        return ncc_pb2.StatusResponse(
            dataplane=status.dataplane,
            dataplane_reason=status.dataplane_reason,
            generation=status.generation,
            writes_total=status.writes_total,
            drift_repairs_total=status.drift_repairs_total,
            apply_errors_total=status.apply_errors_total,
            partitions=status.partitions,
        )

    async def SendGratuitousARP(
        self, request: ncc_pb2.ARPRequest, context: grpc.aio.ServicerContext
    ) -> common_pb2.Empty:
        # As in Seesaw v2: announce what can be announced, log and skip the rest.
        await self._require_ready(context)
        targets, errors = convert.arp_targets(request)
        errors.extend(await self._runner.announce(targets))
        for error in errors:
            log.warning("gratuitous ARP not sent: %s", error)
        return common_pb2.Empty()

    async def Reset(self, request: common_pb2.Empty, context: grpc.aio.ServicerContext) -> ncc_pb2.ApplyResponse:
        await self._require_ready(context)
        response = _response(await self._runner.reset())
        if self._speaker is not None:
            _add_bgp(response, await self._speaker.reset())
        return response

    async def TakeLBDown(
        self, request: ncc_pb2.LBDownRequest, context: grpc.aio.ServicerContext
    ) -> ncc_pb2.ApplyResponse:
        """The LB interface down as NCC holds it, nothing else: seesaw-ha left the election without an engine.

        HA asks, not a lease NCC would keep on the engine: HA alone knows when this node stopped being
        master (its grace for a vanished engine, seesaw.ha.lb_release), so one clock decides both. A second
        clock in NCC would either take the LB interface down while HA still leads (a slow engine, a long
        apply) or leave it up after the peer took over.
        """
        await self._require_ready(context)
        down = _lb_down_request(self._runner.reconciler.desired.objects(LB_PARTITION).values())
        if down is None:
            log.info("HA asks for the LB interface down (%s): it is not up", request.reason or "no reason given")
            return ncc_pb2.ApplyResponse(generation=self._runner.status().generation)
        log.warning("HA asks for the LB interface down: %s", request.reason or "no reason given")
        return _response(await self._runner.apply_pb(down))

    async def Takeover(
        self, request: ncc_pb2.TakeoverRequest, context: grpc.aio.ServicerContext
    ) -> ncc_pb2.TakeoverReply:
        """seesaw-ha leads now: the LB interface up and announced at once, ahead of the engine's Apply
        (seesaw.ha.lb_takeover; the rules that keep the engine's word last are in runner.takeover)."""
        await self._require_ready(context)
        why = await self._runner.takeover(request.leader_since_unix_ms, request.raised_kit)
        return ncc_pb2.TakeoverReply(raised=not why, reason=why)

    async def WatchTakeover(
        self, request: common_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ncc_pb2.TakeoverKit]:
        """The takeover kit now and on every change (runner.kits), for seesaw-ha to carry out itself."""
        async for serial, kit in self._runner.kits():
            if kit is None:
                yield ncc_pb2.TakeoverKit(serial=serial)
            else:
                yield ncc_pb2.TakeoverKit(
                    interface=kit.interface,
                    index=kit.index,
                    frames=kit.frames,
                    serial=serial,
                    neighbours=kit.neighbours,
                )

    async def _require_ready(self, context: grpc.aio.ServicerContext) -> None:
        if not self._runner.ready:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "NCC is still reading the dataplane; retry in a moment")


def _response(outcome: Outcome) -> ncc_pb2.ApplyResponse:
    return ncc_pb2.ApplyResponse(
        plan=[convert.step_to_pb(step) for step in outcome.steps],
        errors=[convert.error_to_pb(error) for error in outcome.errors],
        writes=outcome.writes,
        generation=outcome.generation,
    )


def _add_bgp(response: ncc_pb2.ApplyResponse, outcome: bgp.Outcome) -> None:
    response.plan.extend(bgp_convert.change_to_pb(change) for change in outcome.changes)
    response.errors.extend(bgp_convert.problem_to_pb(problem) for problem in outcome.problems)
    response.writes += outcome.writes


def _lb_down_request(specs: Iterable[Spec]) -> ncc_pb2.ApplyRequest | None:
    """The request that sets the held LB interface down (its VLANs as they are); None if none is up."""
    held = list(specs)
    lbs = [s for s in held if isinstance(s, LBInterface) and s.up]
    if not lbs:
        return None
    vlans = [s for s in held if isinstance(s, VLAN)]
    return ncc_pb2.ApplyRequest(has_lb=True, lb=convert.lb_to_pb(dataclasses.replace(lbs[0], up=False), vlans))
