"""The IPVS services part: NCC's services and destinations in the kernel's IPVS, over generic netlink.

    IPVSServices()               the part (kinds SERVICE, DESTINATION) in this network namespace
    IPVSServices(netns="lb1")    ... in a named one (tests, the lab)

The constructor binds the generic netlink family "IPVS" (the kernel loads
ip_vs on demand) and raises DataplaneError, saying what to do, when it
cannot. The composite (composite.py) routes SERVICE and DESTINATION steps
here.

`apply` turns each step into one request (bytes: ipvs_codec.py) and sends
them in batches (ipvs_netlink.py): a cold apply of thousands of services
costs a handful of datagrams, one flipped backend costs one datagram and one
acknowledgement, and never a read of the kernel. A refused step fails alone
with a message from ipvs_errors.py; the rest still happen. Nothing here runs
an event loop, so `inline_safe` lets NCC apply a small plan on its loop's
thread (see dataplane.py).

`read` dumps every service and its destinations, NCC's or not, with their
counters (answers read by ipvs_answers.py). What it reads back equals what
NCC would ask for, so NCC adopts a correct kernel at start without one write.
A service's connection counts (active, inactive, persistent) are the sums
over its destinations, as IPVS keeps them per destination only. Services the
model cannot hold (SCTP, say) are left out of the read, so NCC never touches
them.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import struct
from collections.abc import Callable, Sequence
from typing import TypeVar

from seesaw.ncc.dataplane import DataplaneError, KernelState
from seesaw.ncc.kernel import ipvs_codec as codec
from seesaw.ncc.kernel.ipvs_answers import DestinationEntry, Reader, ServiceEntry, Unrepresentable
from seesaw.ncc.kernel.ipvs_errors import explain
from seesaw.ncc.kernel.ipvs_netlink import BatchLost, GenericNetlink, NetlinkError
from seesaw.ncc.model import Destination, Kind, Service, Spec, ref
from seesaw.ncc.steps import Op, Step, StepResult

log = logging.getLogger("seesaw.ncc.ipvs")

_Entry = TypeVar("_Entry", ServiceEntry, DestinationEntry)

_SERVICE_COMMAND = {Op.ADD: codec.Command.NEW_SERVICE, Op.UPDATE: codec.Command.SET_SERVICE}
_DEST_COMMAND = {Op.ADD: codec.Command.NEW_DEST, Op.UPDATE: codec.Command.SET_DEST}
_LOAD_IPVS = (
    "load the IPVS module (modprobe ip_vs, and list it in /etc/modules-load.d/seesaw.conf), "
    "or set [dataplane] backend = nftables in seesaw.cfg"
)


class IPVSServices:
    kinds = frozenset({Kind.SERVICE, Kind.DESTINATION})

    def __init__(self, *, netns: str | None = None) -> None:
        where = f" in network namespace {netns!r}" if netns else ""
        try:
            self._netlink = GenericNetlink(codec.IPVS_GENL_NAME, netns)
        except NetlinkError as err:
            if err.errno == errno.ENOENT:
                raise DataplaneError(f"the kernel has no IPVS{where}: {_LOAD_IPVS}", err.errno) from err
            raise DataplaneError(f"cannot reach IPVS{where}: {err}", err.errno) from err
        except FileNotFoundError as err:
            raise DataplaneError(
                f"no network namespace {netns!r} ({err.filename}); create it (ip netns add) or name another",
                err.errno,
            ) from err
        except OSError as err:
            raise DataplaneError(f"cannot open a generic netlink socket{where}: {err}", err.errno) from err
        self._family = self._netlink.family_id
        self._skipped: set[str] = set()
        self._reader = Reader()

    @property
    def writes(self) -> int:
        """Requests sent to the kernel so far (refused ones included)."""
        return self._netlink.requests

    @property
    def batches(self) -> int:
        """Datagrams of requests sent so far."""
        return self._netlink.batches

    # --- the Part protocol ---

    def read(self) -> KernelState:
        state = KernelState()
        try:
            answers = self._netlink.dump(codec.dump_services_request(self._family))
            for message in answers:
                entry = self._decode(self._reader.service, message)
                if entry is None:
                    continue
                service = entry.service
                active = inactive = persistent = 0
                for dest_message in self._netlink.dump(codec.dump_destinations_request(self._family, service.key)):
                    dest = self._decode(self._reader.destination, dest_message, service.key)
                    if dest is None:
                        continue
                    item = ref(dest.destination)
                    state.objects[item] = dest.destination
                    state.stats[item] = dest.stats
                    active += dest.stats.active_connections
                    inactive += dest.stats.inactive_connections
                    persistent += dest.stats.persistent_connections
                item = ref(service)
                state.objects[item] = service
                state.stats[item] = dataclasses.replace(
                    entry.stats,
                    active_connections=active,
                    inactive_connections=inactive,
                    persistent_connections=persistent,
                )
        except OSError as err:
            raise DataplaneError(f"reading IPVS failed: {err}", err.errno) from err
        except ValueError as err:  # an answer this reader cannot make sense of
            raise DataplaneError(f"reading IPVS failed: {err}") from err
        return state

    def apply(self, steps: Sequence[Step]) -> list[StepResult]:
        requests: list[bytes] = []
        sent: list[int] = []  # index in `steps` of each request
        results: list[StepResult | None] = [None] * len(steps)
        for index, step in enumerate(steps):
            try:
                requests.append(self._request(step))
            except (ValueError, struct.error) as err:  # nothing the kernel could take: not sent
                message = (
                    f"not sent to IPVS: {step.kind} {step.key} cannot be encoded ({err}); correct it in cluster.pb"
                )
                results[index] = StepResult(step, message, errno.EINVAL)
                continue
            sent.append(index)
        try:
            answers = self._netlink.batch(requests)
        except BatchLost as err:
            raise DataplaneError(f"IPVS answers were lost ({err}); the next audit reads the kernel again") from err
        except OSError as err:
            raise DataplaneError(f"writing to IPVS failed: {err}", err.errno) from err
        for index, answer in zip(sent, answers, strict=True):
            step = steps[index]
            if answer is None or answer.code == 0:
                results[index] = StepResult(step)
            else:
                results[index] = StepResult(step, explain(step, answer.code, answer.detail), answer.code)
        return [result for result in results if result is not None]

    def inline_safe(self, steps: Sequence[Step]) -> bool:
        """Always (see dataplane.py): one datagram on our own netlink socket, no pyroute2, no event loop."""
        return True

    def close(self) -> None:
        self._netlink.close()

    # --- helpers ---

    def _request(self, step: Step) -> bytes:
        spec: Spec = step.spec
        if isinstance(spec, Service):
            if step.op is Op.DELETE:
                return codec.service_key_request(self._family, codec.Command.DEL_SERVICE, spec.key)
            return codec.service_request(self._family, _SERVICE_COMMAND[step.op], spec)
        if isinstance(spec, Destination):
            if step.op is Op.DELETE:
                return codec.destination_key_request(self._family, codec.Command.DEL_DEST, spec.key)
            return codec.destination_request(self._family, _DEST_COMMAND[step.op], spec)
        raise ValueError(f"the IPVS part holds services and destinations, not {step.kind}")

    def _decode(self, decode: Callable[..., _Entry], message: codec.Message, *args: object) -> _Entry | None:
        try:
            return decode(message, *args)
        except Unrepresentable as err:
            text = str(err)
            if text not in self._skipped:  # say it once, not at every audit
                self._skipped.add(text)
                log.info("IPVS holds %s, which NCC does not manage; left alone", text)
            return None
