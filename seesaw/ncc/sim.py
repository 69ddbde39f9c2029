"""The `sim` dataplane: an in-memory model of the kernel NCC programs.

It refuses what a kernel refuses, with the kernel's errno, so NCC's error
paths run in unit tests and in `--dataplane sim`:

* adding a service, destination, VIP, filter, VLAN or LB interface that
  exists: EEXIST; updating or deleting one that does not: ENOENT (ENODEV for
  links, EADDRNOTAVAIL for addresses);
* a scheduler whose module is not loaded (`schedulers`): ENOENT;
* a destination whose family differs from its service's, or whose service is
  missing: EINVAL / ENOENT;
* a unicast VIP outside every subnet of the LB interface and its VLANs, or
  equal to the cluster VIP: EADDRNOTAVAIL / EEXIST;
* a second LB interface: EBUSY; an interface missing from `links` (when
  given): ENODEV; a gratuitous ARP on a down interface: ENETDOWN.

Deleting a service drops its destinations, as IPVS does; deleting the LB
interface drops its VLANs. Every successful step is one write (`writes`,
`history`). Tests change the model behind NCC's back with `tamper_put` and
`tamper_delete` (not counted as writes), set counters with `set_stats`, and
make the whole dataplane fail (a dead netlink socket, say) by setting
`failure`.
"""

from __future__ import annotations

import errno
import ipaddress
from collections.abc import Callable, Iterable, Sequence

from seesaw.ncc.dataplane import DataplaneError, KernelState, TakeoverKit
from seesaw.ncc.model import (
    SCHEDULERS,
    VIP,
    VLAN,
    Destination,
    Family,
    IPAddress,
    Kind,
    LBInterface,
    Ref,
    Service,
    ServiceKey,
    Spec,
    Stats,
    VIPFilter,
    VIPType,
    VLANKey,
    ref,
)
from seesaw.ncc.steps import Op, Step, StepResult

_VERB = {Op.ADD: "add", Op.UPDATE: "update", Op.DELETE: "delete"}
SIM_LINK_INDEX = 999_999  # a takeover kit's stand-in link index


class SimDataplane:
    name = "sim"

    def __init__(
        self, *, schedulers: Iterable[str] = SCHEDULERS, links: Iterable[str] | None = None, kits: bool = False
    ) -> None:
        self.schedulers = set(schedulers)
        self.kits = kits  # offer takeover kits (tests of HA's side only: their index and frames are stand-ins)
        self.links = None if links is None else set(links)
        self.writes = 0
        self.rejected = 0
        self.batches = 0
        self.history: list[Step] = []
        self.garps: list[tuple[str, IPAddress]] = []
        self.expressed: list[Step] = []  # takeovers' fast paths taken (`express`)
        self.resolving: tuple[str, ...] = ()  # the neighbours the last `express` was given
        self.closed = False
        self.failure: DataplaneError | None = None
        self._objects: dict[Ref, Spec] = {}
        self._stats: dict[Ref, Stats] = {}
        self._destinations: dict[ServiceKey, set[Ref]] = {}
        self._handlers: dict[Kind, Callable[[Op, Spec], None]] = {
            Kind.LB: self._lb,
            Kind.VLAN: self._vlan,
            Kind.VIP: self._vip,
            Kind.SERVICE: self._service,
            Kind.DESTINATION: self._destination,
            Kind.FILTER: self._filter,
        }

    # The Dataplane protocol.

    def read(self) -> KernelState:
        if self.failure is not None:
            raise self.failure
        return KernelState(dict(self._objects), {r: s for r, s in self._stats.items() if r in self._objects})

    def inline_safe(self, steps: Sequence[Step]) -> bool:
        """Always (see dataplane.py): an in-memory model, no I/O."""
        return True

    def apply(self, steps: Sequence[Step]) -> list[StepResult]:
        if self.failure is not None:
            raise self.failure
        self.batches += 1
        results = []
        for step in steps:
            try:
                self._handlers[step.kind](step.op, step.spec)
            except DataplaneError as err:
                self.rejected += 1
                results.append(StepResult(step, f"{_VERB[step.op]} refused by the kernel model: {err}", err.errno))
                continue
            self.writes += 1
            self.history.append(step)
            results.append(StepResult(step))
        return results

    def send_gratuitous_arp(self, interface: str, address: IPAddress) -> None:
        if address.version != 4:
            raise DataplaneError(f"{address}: gratuitous ARP is IPv4 only", errno.EAFNOSUPPORT)
        lb_name, dot, vlan_id = interface.partition(".")
        lb = self._lb_named(lb_name)
        if dot and not (vlan_id.isdigit() and (Kind.VLAN, VLANKey(lb_name, int(vlan_id))) in self._objects):
            lb = None  # a VLAN of the LB interface that does not exist
        if lb is None and (self.links is None or interface not in self.links):
            raise DataplaneError(f"no such network interface {interface!r}", errno.ENODEV)
        if lb is not None and not lb.up:
            raise DataplaneError(f"interface {interface!r} is down", errno.ENETDOWN)
        self.garps.append((interface, address))

    def takeover_kit(self, lb: LBInterface) -> TakeoverKit | None:
        """With `kits`: a kit for `lb` when it is held down exactly so, the index and the frames stand-ins
        (the sim has no kernel link: a real HA must never be given one, hence off by default)."""
        if not self.kits or self._objects.get((Kind.LB, lb.name)) != lb or lb.up:
            return None
        vips = [spec for spec in self._objects.values() if isinstance(spec, VIP) and spec.type is VIPType.UNICAST]
        addresses = [address for address in (lb.cluster_vip_ipv4, lb.cluster_vip_ipv6) if address is not None]
        frames = [f"announce {address}".encode() for address in (*addresses, *(v.address for v in vips))]
        return TakeoverKit(lb.name, SIM_LINK_INDEX, tuple(frames))

    def express(self, steps: Sequence[Step], raised: bool = False, neighbours: Sequence[str] = ()) -> bool:
        """A takeover's fast path, as the host part's: an LB interface held down exactly as a step's old
        spec goes up at once (nothing else); True if one did. (`raised`, HA's kit carried out, changes
        nothing: the sim's link is not one HA could have set up; it has no neighbours to resolve, and
        keeps the last ones it was given, `resolving`.)"""
        self.resolving = tuple(neighbours)
        done = False
        for step in steps:
            held = self._objects.get(step.ref)
            if isinstance(held, LBInterface) and isinstance(step.new, LBInterface) and held == step.old and not held.up:
                self._objects[step.ref] = step.new
                self.expressed.append(step)
                done = True
        return done

    def close(self) -> None:
        self.closed = True

    # Changes made behind NCC's back, as another tool (or an operator) would.

    def tamper_put(self, spec: Spec) -> None:
        self._store(spec)

    def tamper_delete(self, item: Ref) -> None:
        spec = self._objects.get(item)
        if spec is not None:
            self._remove(spec)

    def set_stats(self, item: Ref, stats: Stats) -> None:
        self._stats[item] = stats

    # The model.

    def _store(self, spec: Spec) -> None:
        self._objects[ref(spec)] = spec
        if isinstance(spec, Destination):
            self._destinations.setdefault(spec.key.service, set()).add(ref(spec))

    def _remove(self, spec: Spec) -> None:
        item = ref(spec)
        self._objects.pop(item, None)
        self._stats.pop(item, None)
        if isinstance(spec, Service):
            for dest in self._destinations.pop(spec.key, set()):
                self._objects.pop(dest, None)
                self._stats.pop(dest, None)
        elif isinstance(spec, Destination):
            self._destinations.get(spec.key.service, set()).discard(item)
        elif isinstance(spec, LBInterface):
            for other in [s for s in self._objects.values() if isinstance(s, VLAN) and s.key.lb == spec.name]:
                self._objects.pop(ref(other), None)

    def _change(self, op: Op, spec: Spec, missing: int, what: str) -> None:
        """The common add/update/delete rule: EEXIST on a second add, `missing` on a stray update/delete."""
        present = ref(spec) in self._objects
        if op is Op.ADD and present:
            raise DataplaneError(f"{what} already exists", errno.EEXIST)
        if op is not Op.ADD and not present:
            raise DataplaneError(f"no such {what}", missing)
        if op is Op.DELETE:
            self._remove(self._objects[ref(spec)])
        else:
            self._store(spec)

    def _lb_named(self, name: str) -> LBInterface | None:
        spec = self._objects.get((Kind.LB, name))
        return spec if isinstance(spec, LBInterface) else None

    def _lbs(self) -> list[LBInterface]:
        return [s for s in self._objects.values() if isinstance(s, LBInterface)]

    def _lb(self, op: Op, spec: Spec) -> None:
        assert isinstance(spec, LBInterface)
        if op is not Op.DELETE:
            for name in (spec.name, spec.node_interface):
                if self.links is not None and name and name not in self.links:
                    raise DataplaneError(f"no such network interface {name!r}", errno.ENODEV)
            if spec.cluster_vip_ipv4 and spec.node_ipv4 and spec.cluster_vip_ipv4 not in spec.node_ipv4.network:
                raise DataplaneError(
                    f"node network {spec.node_ipv4.network} does not contain cluster VIP {spec.cluster_vip_ipv4}",
                    errno.EINVAL,
                )
        if op is Op.ADD:
            others = [lb.name for lb in self._lbs() if lb.name != spec.name]
            if others:
                raise DataplaneError(f"{others[0]!r} is already the LB interface", errno.EBUSY)
        self._change(op, spec, errno.ENODEV, f"LB interface {spec.name!r}")

    def _vlan(self, op: Op, spec: Spec) -> None:
        assert isinstance(spec, VLAN)
        if op is Op.ADD and self._lb_named(spec.key.lb) is None:
            message = f"no such network interface {spec.key.lb!r} to put VLAN {spec.key.id} on"
            raise DataplaneError(message, errno.ENODEV)
        self._change(op, spec, errno.ENODEV, f"interface {spec.key}")

    def _vip(self, op: Op, spec: Spec) -> None:
        assert isinstance(spec, VIP)
        if op is not Op.DELETE and spec.type is VIPType.UNICAST:
            for lb in self._lbs():
                if spec.address in (lb.cluster_vip_ipv4, lb.cluster_vip_ipv6):
                    raise DataplaneError(f"address already assigned: it is the cluster VIP of {lb.name}", errno.EEXIST)
            if not any(spec.address in net for net in self._subnets()):
                raise DataplaneError(
                    "no LB interface or VLAN has a subnet holding this unicast VIP", errno.EADDRNOTAVAIL
                )
        self._change(op, spec, errno.EADDRNOTAVAIL, "address")

    def _subnets(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The networks of this node's addresses on the LB interface and its VLANs."""
        nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for spec in self._objects.values():
            if isinstance(spec, LBInterface):
                nets.extend(i.network for i in (spec.node_ipv4, spec.node_ipv6) if i is not None)
            elif isinstance(spec, VLAN):
                nets.extend(i.network for i in (spec.ipv4, spec.ipv6) if i is not None)
        return nets

    def _service(self, op: Op, spec: Spec) -> None:
        assert isinstance(spec, Service)
        if op is not Op.DELETE and spec.scheduler not in self.schedulers:
            raise DataplaneError(
                f"scheduler {spec.scheduler!r} not found (its module ip_vs_{spec.scheduler} is not loaded)",
                errno.ENOENT,
            )
        self._change(op, spec, errno.ENOENT, "service")

    def _destination(self, op: Op, spec: Spec) -> None:
        assert isinstance(spec, Destination)
        service = spec.key.service
        if op is not Op.DELETE:
            if (Kind.SERVICE, service) not in self._objects:
                raise DataplaneError(f"no such service {service}", errno.ENOENT)
            if Family.of(spec.key.address) is not service.family:
                raise DataplaneError(
                    f"an IPv{spec.key.address.version} destination cannot serve an {service.family.label} service",
                    errno.EINVAL,
                )
        self._change(op, spec, errno.ENOENT, "destination")

    def _filter(self, op: Op, spec: Spec) -> None:
        assert isinstance(spec, VIPFilter)
        self._change(op, spec, errno.ENOENT, "filter")
