"""The nftables services part: SERVICE and DESTINATION objects in our own nftables tables.

A Part (see part.py) for the composite kernel dataplane; construct it with no
arguments: `NftServices()`. It acts in the caller's network namespace.

What it programs is described in nft_render.py (tables, maps, rule shapes)
and nft_slots.py (schedulers as slot layouts); what it decides is in
nft_ledger.py. This file is the I/O around them:

* `read()` lists our tables (`table ip seesaw`, `table ip6 seesaw`, every
  `table netdev seesaw_dsr_*`, the DSR flow maps excepted) and reports the
  services and destinations they fully hold, with their counters
  (nft_stats.py). Nothing is written, so a restarted NCC adopts what is
  there and established flows carry on.
* `apply(steps)` writes all steps as one nft transaction (atomic: all or
  nothing); an apply of more than PART_SIZE elements (a cold start) goes as
  a few transactions, each holding whole services, so that checking and
  rendering the next one overlaps the kernel taking the last (the first one
  small, so the kernel starts early, each next twice the one before, up to
  PART_SIZE; without DSR steps, each service's steps are checked as its
  part is made, nft_ledger.stage_parts). If the kernel refuses one,
  the tables are read again and the steps are retried one transaction
  each, so the step at fault fails alone with nft's message and the others
  still happen.
* DSR backends are looked up in the routing table (pyroute2): the device
  they are directly reachable on carries the DSR table.
* DSR healthcheck marks (fwmark services with one DSR destination) are
  registered in our tables like any service, and routed by policy routing
  (nft_probe_plan.py, nft_probe_routes.py): after every apply that changes
  which marks go where, and whenever a read found one missing. A mark that
  cannot be routed fails its destination's step; a read reports a mark's
  destination only while its route is in place, so the audit repairs it.

NAT return path: destinations see the client's address, as with IPVS NAT, and
must route replies back through the LB (their gateway is the LB's address on
their network, as in Seesaw's NAT topology). We do not SNAT to the cluster VIP
as Seesaw's full-NAT did: conntrack is not shared between LB nodes, so that
did not keep flows across a failover anyway, and it hid every client address.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait

from seesaw.ncc.dataplane import DataplaneError, KernelState, StaleRead
from seesaw.ncc.kernel import nft_render, nft_stats
from seesaw.ncc.kernel.host_record import decode_lb
from seesaw.ncc.kernel.nft_command import NftCommand, nft_program
from seesaw.ncc.kernel.nft_exec import Nft, NftError, Runner
from seesaw.ncc.kernel.nft_ledger import Ledger, Route, Staged
from seesaw.ncc.kernel.nft_parse import Listing, parse_text, table_names
from seesaw.ncc.kernel.nft_probe_plan import Probe, wanted
from seesaw.ncc.kernel.nft_probe_routes import ProbeError, ProbeRouting
from seesaw.ncc.model import Destination, Forwarding, IPAddress, Kind, Service, Spec
from seesaw.ncc.steps import Step, StepResult

log = logging.getLogger("seesaw.ncc.nftables")

_FLOW_MAPS = frozenset(nft_render.FLOW_MAP.values())
PART_SIZE = 20_000  # elements in one transaction of a large apply (see _send)
FIRST_PART = 2_500  # ... in its first one (each next twice as many): the kernel starts while the rest is made


class RouteLookup:
    """The device each address is directly reachable on (pyroute2 `route get`), cached per apply.

    A backend on the node network is reachable through the node interface and the LB interface
    alike, and the kernel's route picks the node interface; but VIP traffic arrives on the LB
    interface (it holds the VIPs; arp_ignore keeps the node interface from answering for them),
    so that is where the DSR table must be. NCC's LB interface (found by the record in its alias,
    host_record.py) is preferred whenever its node network holds the backend, whether it is up
    (master) or down (backup), so the table stays put across failovers.
    """

    def __init__(self) -> None:
        self._ipr: object | None = None
        self._cache: dict[IPAddress, str | None] = {}

    def __call__(self, address: IPAddress) -> str | None:
        if address not in self._cache:
            self._cache[address] = self._lookup(address)
        return self._cache[address]

    def forget(self) -> None:
        self._cache.clear()

    def _lookup(self, address: IPAddress) -> str | None:
        from pyroute2 import IPRoute
        from pyroute2.netlink.exceptions import NetlinkError

        if self._ipr is None:
            self._ipr = IPRoute()
        ipr = self._ipr
        assert isinstance(ipr, IPRoute)
        try:
            routes = ipr.route("get", dst=str(address))
        except NetlinkError:
            return None
        for route in routes:
            if route["type"] != 1 or route.get_attr("RTA_GATEWAY") or route.get_attr("RTA_VIA"):
                return None  # local, unreachable, or behind a router: not directly connected
            index = route.get_attr("RTA_OIF")
            links = ipr.link("get", index=index) if index else []
            for link in links:
                name = link.get_attr("IFLA_IFNAME")
                return self._lb_interface(ipr, address) or (str(name) if name else None)
        return None

    @staticmethod
    def _lb_interface(ipr: object, address: IPAddress) -> str | None:
        """NCC's LB interface, if its node network holds `address`."""
        for link in ipr.get_links():  # type: ignore[attr-defined]
            name, alias = link.get_attr("IFLA_IFNAME"), link.get_attr("IFLA_IFALIAS")
            record = decode_lb(str(name), str(alias)) if name and alias else None
            if record is None:
                continue
            for node in (record.lb.node_ipv4, record.lb.node_ipv6):
                if node is not None and address.version == node.version and address in node.network:
                    return str(name)
        return None

    def close(self) -> None:
        if self._ipr is not None:
            self._ipr.close()  # type: ignore[attr-defined]
            self._ipr = None


class NftServices:
    kinds = frozenset({Kind.SERVICE, Kind.DESTINATION})

    def __init__(
        self, nft: Runner | None = None, route: Route | None = None, probes: ProbeRouting | None = None
    ) -> None:
        self._nft: Runner = nft if nft is not None else Nft()
        self._lookup = RouteLookup() if route is None else None
        self._route: Route = route if route is not None else self._lookup  # type: ignore[assignment]
        self._ledger = Ledger()
        self._loaded = False
        self._sender: ThreadPoolExecutor | None = None
        self._probes = probes if probes is not None else ProbeRouting()
        self._probes_stale = True  # the marks' routing may differ from what our tables hold: sync at the next apply
        self._reader: tuple[Runner, ProbeRouting] | None = None  # for reads off the lock (prepare_read, peek)
        self._reader_lock = threading.Lock()  # an audit's read and a view's may come at once; one at a time
        self._program_failed = False  # the nft program's listing failed once: no more reads off the lock
        self._applying = False
        self._applies = 0

    def read(self) -> KernelState:
        state, take_in = self._read(self._listing(), self._probes)
        take_in()
        return state

    def peek(self) -> KernelState | None:
        """What our tables hold now, for a view (`show` and its counters): read as the audit reads them (the
        `nft` program, off the dataplane's lock, beside Applies) and taken in nowhere. None without the
        `nft` program (the runner then reads under the lock)."""
        reader = self._off_lock_reader()
        if reader is None:
            return None
        with self._reader_lock:
            read = self._read_by_program(reader)
        return None if read is None else read[0]

    def prepare_read(self) -> Callable[[], KernelState] | None:
        """The audit's read, all but its last step, for the runner to make off the dataplane's lock (beside
        Applies): our tables listed by the `nft` program in a process of its own (libnftables would hold
        NCC's one library lock, and every transaction behind it, for seconds at 10,000 services), parsed
        into a fresh ledger, the counters and the marks' routing read. Returns the last step, to run under
        the lock: the fresh ledger taken in, the objects returned; it raises StaleRead if an apply came
        meanwhile (what was read may be older than our tables). None without a working `nft` program: the
        runner reads under the lock (`read`).
        """
        reader = self._off_lock_reader()
        if reader is None:
            return None
        if self._applying:
            raise StaleRead("an apply is under way")
        applies = self._applies
        with self._reader_lock:
            read = self._read_by_program(reader)
        if read is None:
            return None
        state, take = read

        def take_in() -> KernelState:
            if self._applying or self._applies != applies:
                raise StaleRead("nftables changed while it was read")
            take()
            return state

        return take_in

    def _off_lock_reader(self) -> tuple[Runner, ProbeRouting] | None:
        """The `nft` program and a routing reader of their own, for reads off the dataplane's lock; None
        without the program, or once it failed (reads then go through libnftables, under the lock)."""
        if self._reader is None and not self._program_failed:
            program = nft_program()
            if program is None:
                return None
            self._reader = (NftCommand(program), ProbeRouting())
        return None if self._program_failed else self._reader

    def _read_by_program(self, reader: tuple[Runner, ProbeRouting]) -> tuple[KernelState, Callable[[], None]] | None:
        """`_read` with the tables listed by the `nft` program; None if the program failed (it is not used
        again: reads go through libnftables, under the lock)."""
        program, probes = reader
        try:
            listing = _list(program)
        except NftError as err:
            self._program_failed = True
            log.warning(
                "listing our tables through the nft program failed (%s): audits and views read them through "
                "libnftables under NCC's lock from now on, and a backend flip waits for such a read; check that "
                "`nft list tables` works and matches libnftables (apt-get install nftables), then restart NCC",
                err,
            )
            return None
        return self._read(listing, probes)

    def _read(self, listing: Listing, probes: ProbeRouting) -> tuple[KernelState, Callable[[], None]]:
        """Our tables (`listing`) made into a fresh ledger, and the marks' routing read through `probes`, off
        this part's state: what the kernel holds, and the call that takes it in (this part's ledger
        replaced: O(1))."""
        ledger = Ledger()
        state = ledger.load(listing)
        state.stats = nft_stats.collect(
            ledger.services,
            ledger.elements,
            lambda device, address: ledger.ids.get((device, address)),
            listing.counters,
        )
        marks = wanted(ledger.services.values())
        try:
            routed = probes.routed()
        except ProbeError as err:
            raise DataplaneError(f"reading how DSR healthcheck marks are routed failed: {err}", err.errno) from err
        missing = {probe for probe, backend in marks.items() if routed.get(probe) != backend}
        stale = routed.keys() != marks.keys() or bool(missing)
        if missing:  # registered in our tables but not routed: not there (the audit adds them again)
            for ref in [ref for ref, spec in state.objects.items() if _probe_of(spec) in missing]:
                del state.objects[ref]

        def take_in() -> None:
            self._ledger, self._loaded, self._probes_stale = ledger, True, stale

        return state, take_in

    def apply(self, steps: Sequence[Step]) -> list[StepResult]:
        self._applying = True  # an audit's read made meanwhile is not taken in (prepare_read)
        try:
            return self._apply(steps)
        finally:
            self._applies += 1
            self._applying = False

    def _apply(self, steps: Sequence[Step]) -> list[StepResult]:
        if not self._loaded:
            self.read()
        if self._lookup is not None:
            self._lookup.forget()
        results, parts = self._ledger.stage_parts(steps, self._route, PART_SIZE, FIRST_PART)
        try:
            self._send(parts, large=2 * len(steps) > FIRST_PART)  # about two elements a step
        except NftError as err:
            log.warning("nftables refused a transaction of %d steps (%s); retrying step by step", len(steps), err)
            self._reload()  # our tables only: the marks' routing is not what failed (and needs pyroute2)
            results = [self._one(step) for step in steps]
        return self._route_probes(results)

    def inline_safe(self, steps: Sequence[Step]) -> bool:
        """Whether `apply(steps)` needs no pyroute2 (see dataplane.py): NAT steps, with the marks' routing in sync.

        DSR destinations are looked up in the routing table, and fwmark services may route DSR
        healthcheck marks, both through pyroute2; so may the first apply (a read) and one after a
        read found the marks' routing out of sync.
        """
        if not self._loaded or self._probes_stale:
            return False
        for step in steps:
            spec = step.new if step.new is not None else step.old
            if _of_fwmark(spec) or (isinstance(spec, Destination) and spec.forwarding is Forwarding.ROUTE):
                return False
        return True

    def close(self) -> None:
        if self._lookup is not None:
            self._lookup.close()
        self._probes.close()
        if self._reader is not None:
            self._reader[1].close()
        if self._sender is not None:
            self._sender.shutdown()
            self._sender = None

    def _reload(self) -> None:
        """Take our tables as they are now, after a refused transaction (what the retry step by step starts from)."""
        self._ledger.load(self._listing())
        self._loaded = True

    def _listing(self) -> Listing:
        """Our tables, listed through libnftables (under NCC's lock, as every call into it)."""
        try:
            return _list(self._nft)
        except NftError as err:
            raise DataplaneError(f"reading our nftables tables failed: {err}", err.errno) from err

    def _route_probes(self, results: list[StepResult]) -> list[StepResult]:
        """Route the DSR healthcheck marks our tables now hold; fail the steps of those that cannot be."""
        if not self._probes_stale and not any(_of_fwmark(r.step.spec) for r in results):
            return results
        try:
            errors = self._probes.sync(wanted(self._ledger.services.values()))
        except ProbeError as err:
            log.error("routing DSR healthcheck marks failed: %s", err)
            self._probes_stale = True
            return [_probe_failed(r, f"routing DSR healthcheck marks failed: {err}", err.errno) for r in results]
        self._probes_stale = bool(errors)
        if not errors:
            return results
        out = []
        for result in results:
            probe = _probe_of(result.step.new)
            error = errors.get(probe) if probe is not None else None
            out.append(result if error is None else _probe_failed(result, str(error), error.errno))
        return out

    def _send(self, parts: Iterator[Staged], large: bool) -> None:
        """Each part to the kernel, committed once taken; a large apply's next part is made meanwhile.

        libnftables lets go of the GIL while the kernel works, so rendering part n+1 here while a
        worker thread sends part n hides most of the rendering: the first part goes out before the
        second is made, and part n is recorded in the ledger after part n+1 went out. A part refused
        stops the rest. A small apply (`large` false: one part) goes without the thread.
        """
        if not large:
            for staged in parts:
                if staged.writes:
                    self._nft.run("\n".join(staged.script))
                    self._ledger.commit(staged)
            return
        if self._sender is None:
            self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nft")
        pending: tuple[Future[None], Staged] | None = None
        try:
            for staged in parts:  # the next part is made here, while the kernel takes the one before
                if not staged.writes:
                    continue
                if pending is not None:
                    pending[0].result()
                sent = (self._sender.submit(self._nft.run, "\n".join(staged.script)), staged)
                if pending is not None:
                    self._ledger.commit(pending[1])
                pending = sent
            if pending is not None:
                pending[0].result()
                self._ledger.commit(pending[1])
        finally:
            if pending is not None:
                wait([pending[0]])  # never leave a transaction running behind a failure

    def _one(self, step: Step) -> StepResult:
        staged = self._ledger.stage([step], self._route)
        result = staged.results[0]
        if not result.ok or not staged.writes:
            return result
        try:
            self._nft.run("\n".join(staged.script))
        except NftError as err:
            return StepResult(step, f"nftables refused it: {err}", err.errno or errno.EINVAL)
        self._ledger.commit(staged)
        return result


def _list(nft: Runner) -> Listing:
    """Our tables, as `nft` lists them."""
    listing = Listing()
    # Text, not JSON: nft prints a large table faster as text, and parse_text reads it faster.
    for family, name in table_names(nft.list("tables")):
        ref = f"{family} {name}"
        if family in ("ip", "ip6") and name == nft_render.NAT_TABLE:
            listing.merge(parse_text(ref, nft.text(f"table {ref}")))
        elif family == "netdev" and name.startswith(nft_render.DSR_PREFIX):
            # Terse first: the flow maps may hold a million connections we do not need.
            table = parse_text(ref, nft.text(f"table {ref}", terse=True))
            listing.merge(table)
            for name in sorted(table.sets.get(ref, set()) - _FLOW_MAPS):
                kind = "set" if name in nft_render.DSR_SETS else "map"
                listing.merge(parse_text(ref, nft.text(f"{kind} {ref} {name}")))
    return listing


def _probe_of(spec: Spec | None) -> Probe | None:
    """The mark a DSR destination of a fwmark service is routed by (None for anything else)."""
    if not isinstance(spec, Destination) or spec.forwarding is not Forwarding.ROUTE:
        return None
    service = spec.key.service
    return (service.family, service.fwmark) if service.fwmark else None


def _probe_failed(result: StepResult, message: str, code: int | None) -> StepResult:
    if not result.ok or _probe_of(result.step.new) is None:
        return result
    return StepResult(result.step, f"{result.step.op.name.lower()} refused: {message}", code or errno.EIO)


def _of_fwmark(spec: Spec) -> bool:
    """Whether `spec` is a fwmark service or one of its destinations."""
    if isinstance(spec, Service):
        return bool(spec.key.fwmark)
    return isinstance(spec, Destination) and bool(spec.key.service.fwmark)
