"""A restarted engine adopts the dataplane NCC holds until its own inputs are known (a warm restart).

The kernel keeps forwarding while the engine is away: the engine is only the
brain. An engine that starts knows no check result and no HA state, and
judged on that alone it would take every destination out and the LB
interface down, then put them back a second later. Instead:

* Before its first Apply, the engine reads what NCC holds (GetState) and
  takes it as a `DataplaneSnapshot`.
* A destination found in the snapshot counts its UNKNOWN checks as passing
  (it is *provisional*); any real result, a failure included, counts at once.
  A service found there is judged by its low watermark, as a healthy one.
* That hold on health ends `margin` seconds plus the longest check
  interval + timeout after the adoption: checks still UNKNOWN then count as
  failing, as on a fresh start. With check IDs that survive a restart
  (`healthchecks`), the healthcheck daemon's first resync usually replaces
  every provisional state with a real one long before that.
* The LB interface stays as NCC reports it until HA's first report, the end
  of HA's session (HA is gone: issue 5's rule), or `lb_hold` seconds.
* Nothing else is taken from the dataplane: VIPs, filters and marks follow
  the config, so on an unchanged system the first Apply writes nothing.

`Adoption` keeps the snapshot and the deadlines; the engine (`core`) asks it
and feeds it events. Nothing here does I/O; time comes from the injected clock.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

from seesaw.common.clock import Clock
from seesaw.pb import ncc_pb2

log = logging.getLogger(__name__)

LB_HOLD = 3.0  # seconds the LB interface is held for HA's first report (HA retries every 0.5 s)
HEALTH_MARGIN = 5.0  # seconds beyond the longest check interval + timeout: the healthcheck daemon (re)connects

ServiceRef = tuple[int, int, int, str, int]  # (family, fwmark, protocol, address, port)


def service_ref(service: ncc_pb2.Service) -> ServiceRef:
    """A dataplane service's identity: (family, fwmark) if it has a mark, else (family, protocol, address, port)."""
    if service.fwmark:
        return (int(service.family), service.fwmark, 0, "", 0)
    return (int(service.family), 0, int(service.protocol), _address(service.address), service.port)


def _address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


@dataclass(frozen=True)
class DataplaneSnapshot:
    """What NCC held when the engine (re)started: its services, their destinations and the LB interface."""

    services: frozenset[ServiceRef] = frozenset()
    destinations: frozenset[tuple[ServiceRef, str]] = frozenset()
    lb_name: str = ""
    lb_up: bool = False

    @classmethod
    def from_state(cls, state: ncc_pb2.DataplaneState) -> DataplaneSnapshot:
        services = set()
        destinations = set()
        for entry in state.services:
            ref = service_ref(entry.service)
            services.add(ref)
            for dest in entry.destinations:
                destinations.add((ref, _address(dest.destination.address)))
        return cls(frozenset(services), frozenset(destinations), state.lb.name, state.lb.up)

    def has_service(self, ref: ServiceRef) -> bool:
        return ref in self.services

    def has_destination(self, ref: ServiceRef, address: str) -> bool:
        return (ref, _address(address)) in self.destinations


class Adoption:
    """The holds of one warm restart: on the LB interface's state, and on the health of adopted destinations."""

    def __init__(
        self,
        snapshot: DataplaneSnapshot,
        clock: Clock,
        *,
        lb_interface: str,
        hold_lb: bool,
        lb_hold: float = LB_HOLD,
        margin: float = HEALTH_MARGIN,
    ) -> None:
        self.snapshot = snapshot
        self._clock = clock
        self.started = clock.monotonic()
        self._margin = margin
        self.health_held = bool(snapshot.destinations)
        # Only an LB interface NCC reports under the name this node uses is held.
        self._lb_until: float | None = None
        if hold_lb and snapshot.lb_name and snapshot.lb_name == lb_interface:
            self._lb_until = self.started + lb_hold

    # ------------------------------------------------------------------ LB

    @property
    def lb_up(self) -> bool | None:
        """The LB interface's state while it is held (as NCC reported it), or None once HA decides."""
        return self.snapshot.lb_up if self._lb_until is not None else None

    def release_lb(self, why: str) -> bool:
        """HA spoke (or went away): the LB interface follows HA from now on. True if it was held."""
        if self._lb_until is None:
            return False
        self._lb_until = None
        log.info("adoption: %s; the LB interface follows HA from now on", why)
        return True

    # -------------------------------------------------------------- health

    def health_deadline(self, longest_check: float) -> float | None:
        """When provisional health ends, given the longest check interval + timeout in force."""
        if not self.health_held:
            return None
        return self.started + longest_check + self._margin

    def release_health(self) -> bool:
        """Provisional health ends for good. True if it was held."""
        if not self.health_held:
            return False
        self.health_held = False
        return True

    # ---------------------------------------------------------------- time

    def tick(self, longest_check: float) -> tuple[bool, bool]:
        """(LB hold expired now, health hold expired now)."""
        now = self._clock.monotonic()
        lb = False
        if self._lb_until is not None and now >= self._lb_until:
            lb = self.release_lb("no report from HA within the LB hold")
        deadline = self.health_deadline(longest_check)
        health = deadline is not None and now >= deadline and self.release_health()
        return lb, health

    @property
    def done(self) -> bool:
        return self._lb_until is None and not self.health_held
