"""The host-network part: LB interface, VLANs and VIPs, through rtnetlink and /proc/sys.

A Part (part.py) of kinds LB, VLAN and VIP, and the Announcer of the kernel
dataplanes. The thin I/O shell around pure pieces:

    host_snapshot  dump links, addresses, rules, routes        (through host_rtnl)
    host_observe   snapshot -> LB / VLAN / VIP objects          (pure)
    host_plan      step + snapshot -> operations                (pure)
    host_messages  operation -> rtnetlink message               (pure bytes; host_wire's layouts)
    host_sysctl    the sysctls, written only when they differ   (I/O: /proc/sys)
    host_garp      gratuitous ARP / unsolicited NA frames       (pure bytes + one AF_PACKET send)
    host_reannounce  a takeover's burst at once, repeated shortly; the DSR neighbours resolved after the
                     link runs (seesaw.common.neighbours)  (a short-lived thread)
    host_rtnl      the plain rtnetlink socket every read and write goes through (I/O: rtnetlink)

It acts in the network namespace of the thread that calls it (NCC runs
inside the LB node's namespace), opens one rtnetlink socket per call, and
never parses `ip` output. Construct it with no arguments: `HostNetwork()`.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from seesaw.common.neighbours import resolve_neighbours
from seesaw.ncc.dataplane import DataplaneError, KernelState, TakeoverKit
from seesaw.ncc.kernel import host_messages as messages
from seesaw.ncc.kernel.host_garp import announcement, send_frames
from seesaw.ncc.kernel.host_observe import LOOPBACK, lb_links, observe
from seesaw.ncc.kernel.host_plan import (
    AddAddress,
    AddRule,
    Announce,
    CreateLink,
    DeleteAddress,
    DeleteLink,
    DeleteRoute,
    DeleteRule,
    EnsureDummy,
    Fail,
    HostOp,
    PlanError,
    ReplaceRoute,
    SetLink,
    SetSysctls,
    plan_step,
    takeover_ops,
)
from seesaw.ncc.kernel.host_reannounce import Reannouncer
from seesaw.ncc.kernel.host_rtnl import Rtnl, RtnlError
from seesaw.ncc.kernel.host_snapshot import Link, Rule, Snapshot, read_snapshot
from seesaw.ncc.kernel.host_sysctl import PROC_SYS, SysctlWriter
from seesaw.ncc.model import LB_PARTITION, IPAddress, Kind, LBInterface
from seesaw.ncc.steps import Op, Step, StepResult

log = logging.getLogger("seesaw.ncc.host")

# What a delete gets when its target is already gone: done, not an error.
_GONE = frozenset({errno.ENOENT, errno.ENODEV, errno.EADDRNOTAVAIL, errno.ESRCH})
_DUMMY_HINT = "modprobe dummy (and list it in /etc/modules-load.d/seesaw.conf) to use a dummy interface"
_VLAN_HINT = (
    "this kernel cannot make 802.1Q VLAN interfaces: run `modprobe 8021q` and list it in "
    "/etc/modules-load.d/seesaw.conf, or remove the VLAN from cluster.pb"
)


class OpFailed(Exception):
    def __init__(self, message: str, code: int | None) -> None:
        super().__init__(message)
        self.errno = code


class HostNetwork:
    """The LB interface, its VLANs and the VIPs, on this network namespace's kernel."""

    kinds = frozenset({Kind.LB, Kind.VLAN, Kind.VIP})

    def __init__(
        self,
        sysctl_root: Path = PROC_SYS,
        reannouncer: Reannouncer | None = None,
        open_rtnl: Callable[[], Rtnl] = Rtnl,
    ) -> None:
        self._sysctls = SysctlWriter(sysctl_root)
        self._open_rtnl = open_rtnl
        self._reannouncer = reannouncer or Reannouncer()
        self._announced: frozenset[str] = frozenset()  # links the current apply's fast path announced
        self._expressed: frozenset[str] = frozenset()  # ... and those `express` announced ahead of it
        self._home_said: str | None = None
        self._handlers: dict[type, Callable[[Any, Any, Snapshot], Snapshot | None]] = {
            SetSysctls: self._set_sysctls,
            Fail: self._fail,
            Announce: self._announce,
            EnsureDummy: self._ensure_dummy,
            SetLink: self._set_link,
            CreateLink: self._create_link,
            DeleteLink: self._delete_link,
            AddAddress: self._add_address,
            DeleteAddress: self._delete_address,
            AddRule: self._add_rule,
            DeleteRule: self._delete_rule,
            ReplaceRoute: self._replace_route,
            DeleteRoute: self._delete_route,
        }

    # The Part protocol.

    def read(self) -> KernelState:
        with self._rtnl() as rtnl:
            return KernelState(observe(self._snapshot(rtnl)))

    def express(self, steps: Sequence[Step], raised: bool = False, neighbours: Sequence[str] = ()) -> bool:
        """The takeover fast path alone, ahead of the apply that carries `steps` (which finds it done);
        True if it raised an LB interface (or, `raised`: HA set it up itself, announced it).

        `neighbours` (the DSR destinations' addresses): resolved on an LB interface this raises once it
        runs (with the burst's next repeat, host_reannounce), as HA does with its kit (seesaw.common.
        neighbours), so the first client packets through the new master wait for no ARP.

        Called on the runner's express lane, beside a read in another thread: it shares nothing with
        `read` (its own plain rtnetlink socket, the reannouncer).
        """
        up, announced = self._takeover_first(steps, raised, neighbours)
        self._expressed |= announced
        return bool(up or (raised and announced))

    def takeover_kit(self, lb: LBInterface) -> TakeoverKit | None:
        """The fast path's moves for LB interface `lb` (as applied: down), ready for HA to carry out itself
        the moment it leads: the link's index and the burst's frames. None when the fast path would not
        take it (the link is not as NCC set it up) or it cannot be read now."""
        step = Step(Op.UPDATE, LB_PARTITION, dataclasses.replace(lb, up=True), lb)
        try:
            with self._open_rtnl() as rtnl:
                snapshot = rtnl.link_snapshot(lb.name)
        except OSError as err:
            log.debug("no takeover kit for %s (%s)", lb.name, err)
            return None
        link = snapshot.link(lb.name)
        ops = takeover_ops(step, snapshot)
        if link is None or not ops:
            return None
        frames = [
            frame
            for op in ops
            if isinstance(op, Announce)
            for address in op.addresses
            for frame in announcement(link.mac, address, op.burst)
        ]
        return TakeoverKit(link.name, link.index, tuple(frames))

    def apply(self, steps: Sequence[Step]) -> list[StepResult]:
        results: list[StepResult] = []
        self._announced = self._takeover_first(steps)[1] | self._expressed
        self._expressed = frozenset()
        with self._rtnl() as rtnl:
            snapshot = self._snapshot(rtnl)
            for i, step in enumerate(steps):
                try:
                    ops = plan_step(step, snapshot)
                    for op in ops:
                        snapshot = self._perform(rtnl, op, snapshot)
                except (PlanError, OpFailed) as err:
                    results.append(StepResult(step, str(err), err.errno))
                else:
                    results.append(StepResult(step))
                if step.kind is not Kind.VIP and i + 1 < len(steps):  # read again for the steps that follow
                    snapshot = self._snapshot(rtnl)
        return results

    def _takeover_first(
        self, steps: Sequence[Step], by_ha: bool = False, neighbours: Sequence[str] = ()
    ) -> tuple[frozenset[str], frozenset[str]]:
        """Bring up and announce the LB interfaces the steps raise, ahead of the full read; the links raised
        and those announced.

        The link and its addresses read, the link set up, the burst sent, before the full dump. Best effort:
        whatever fails here, the step itself does (or reports) it again. `by_ha`: HA set the links up itself a
        moment ago (a takeover kit); the burst is left.
        """
        raising = [step for step in steps if step.kind is Kind.LB and step.op is Op.UPDATE]
        if not raising:
            return frozenset(), frozenset()
        raised: set[str] = set()
        announced: set[str] = set()
        try:
            with self._open_rtnl() as rtnl:
                for step in raising:
                    snapshot = rtnl.link_snapshot(step.spec.key)
                    for op in takeover_ops(step, snapshot, by_ha) or ():
                        match op:
                            case SetLink(name=name, up=True):
                                link = _link(snapshot, name)
                                self._reannouncer.changed()
                                rtnl.set_up(link.index)
                                raised.add(name)
                                log.info("%s: link up (takeover)", name)
                                snapshot.links[link.index] = dataclasses.replace(link, up=True)
                            case Announce():
                                announcing = snapshot.link(op.link)
                                when_running = None
                                if neighbours and op.link in raised and announcing is not None:
                                    when_running = functools.partial(
                                        _resolve, op.link, announcing.index, tuple(neighbours)
                                    )
                                self._announce(None, op, snapshot, when_running)
                                announced.add(op.link)
                            case _:
                                raise OpFailed(f"the fast path does not do {op}", None)
        except (OSError, OpFailed, DataplaneError) as err:
            log.info("fast takeover path not taken (%s): the step does it", err)
        return frozenset(raised), frozenset(announced)

    def send_gratuitous_arp(self, interface: str, address: IPAddress) -> None:
        with self._rtnl() as rtnl:
            try:
                link = rtnl.link(interface)
            except RtnlError as err:
                raise DataplaneError(f"reading interface {interface!r} failed: {err}", err.errno) from err
        if link is None:
            raise DataplaneError(f"no such network interface {interface!r}", errno.ENODEV)
        if not link.up:
            raise DataplaneError(f"interface {interface!r} is down", errno.ENETDOWN)
        send_frames(interface, announcement(link.mac, address))

    def close(self) -> None:
        """Every call opens and closes its own rtnetlink socket; only GARP repeats may still be running."""
        self._reannouncer.changed()
        self._reannouncer.join()

    # The shell.

    def _rtnl(self) -> Rtnl:
        try:
            return self._open_rtnl()
        except OSError as err:
            raise DataplaneError(f"cannot open an rtnetlink socket: {err}", err.errno) from err

    def _snapshot(self, rtnl: Rtnl) -> Snapshot:
        try:
            return read_snapshot(rtnl, _lb_tables)
        except OSError as err:
            raise DataplaneError(f"reading the host network failed: {err}", err.errno) from err

    def _perform(self, rtnl: Rtnl, op: HostOp, snapshot: Snapshot) -> Snapshot:
        """Carry out one operation; returns the snapshot as it now stands (links kept current)."""
        after = self._handlers[type(op)](rtnl, op, snapshot)
        return snapshot if after is None else after

    def _set_sysctls(self, rtnl: Rtnl, op: SetSysctls, snapshot: Snapshot) -> None:
        try:
            self._sysctls.apply(op.sysctls)
        except DataplaneError as err:
            raise OpFailed(str(err), err.errno) from err

    def _fail(self, rtnl: Rtnl, op: Fail, snapshot: Snapshot) -> None:
        raise OpFailed(op.message, op.errno)

    def _set_link(self, rtnl: Rtnl, op: SetLink, snapshot: Snapshot) -> None:
        link = _link(snapshot, op.name)
        if op.up is not None or op.mac is not None:
            self._reannouncer.changed()  # announcements made before no longer speak for this node
        _send(rtnl, messages.link_set(link.index, up=op.up, mac=op.mac, alias=op.alias), f"set {op.name}")
        if op.up is not None:
            log.info("%s: link %s", op.name, "up" if op.up else "down")
        snapshot.links[link.index] = dataclasses.replace(
            link,
            up=link.up if op.up is None else op.up,
            running=link.running and op.up is not False,
            mac=link.mac if op.mac is None else op.mac.lower(),
            alias=link.alias if op.alias is None else op.alias,
        )

    def _create_link(self, rtnl: Rtnl, op: CreateLink, snapshot: Snapshot) -> Snapshot:
        parent = _link(snapshot, op.parent).index if op.parent else 0
        message = messages.link_add(op.name, op.kind, parent=parent, vlan_id=op.vlan_id)
        try:
            _send(rtnl, message, f"create {op.kind} interface {op.name}")
        except OpFailed as err:
            if op.kind == "vlan" and err.errno == errno.EOPNOTSUPP:
                raise OpFailed(f"cannot create {op.name}: {_VLAN_HINT}", err.errno) from err
            raise
        log.info("created %s interface %s", op.kind, op.name)
        return self._snapshot(rtnl)

    def _delete_link(self, rtnl: Rtnl, op: DeleteLink, snapshot: Snapshot) -> Snapshot | None:
        link = snapshot.link(op.name)
        if link is None:
            return None
        self._reannouncer.changed()
        _send(rtnl, messages.link_delete(link.index), f"delete {op.name}", ok=_GONE)
        log.info("deleted interface %s", op.name)
        return self._snapshot(rtnl)

    def _add_address(self, rtnl: Rtnl, op: AddAddress, snapshot: Snapshot) -> None:
        link = _link(snapshot, op.link)
        _send(rtnl, messages.address(link.index, op.interface), f"add {op.interface} to {op.link}")
        if op.link == LOOPBACK:
            self._say_home(LOOPBACK)

    def _delete_address(self, rtnl: Rtnl, op: DeleteAddress, snapshot: Snapshot) -> None:
        link = snapshot.link(op.link)
        if link is not None:
            message = messages.address(link.index, op.interface, delete=True)
            _send(rtnl, message, f"remove {op.interface} from {op.link}", ok=_GONE)

    def _add_rule(self, rtnl: Rtnl, op: AddRule, snapshot: Snapshot) -> None:
        _send(rtnl, messages.rule(op.rule), _rule_text(op.rule, "add"), ok=frozenset({errno.EEXIST}))

    def _delete_rule(self, rtnl: Rtnl, op: DeleteRule, snapshot: Snapshot) -> None:
        _send(rtnl, messages.rule(op.rule, delete=True), _rule_text(op.rule, "delete"), ok=_GONE)

    def _replace_route(self, rtnl: Rtnl, op: ReplaceRoute, snapshot: Snapshot) -> None:
        _send(rtnl, messages.route(op.route), f"add route {op.route.dst} to table {op.route.table}")

    def _delete_route(self, rtnl: Rtnl, op: DeleteRoute, snapshot: Snapshot) -> None:
        _send(rtnl, messages.route(op.route, delete=True), f"delete route {op.route.dst}", ok=_GONE)

    def _ensure_dummy(self, rtnl: Rtnl, op: EnsureDummy, snapshot: Snapshot) -> Snapshot:
        name = op.name
        if snapshot.link(name) is None:
            try:
                _send(rtnl, messages.link_add(name, "dummy"), f"create dummy interface {name}")
            except OpFailed as err:
                if err.errno != errno.EOPNOTSUPP:
                    raise
                self._say_home(LOOPBACK, f"the kernel has no dummy link kind; {_DUMMY_HINT}")
                return snapshot
            snapshot = self._snapshot(rtnl)
        link = _link(snapshot, name)
        if not link.up:
            _send(rtnl, messages.link_set(link.index, up=True), f"bring {name} up")
            snapshot = self._snapshot(rtnl)
        self._say_home(name, "it exists")
        return snapshot

    def _say_home(self, home: str, why: str = "") -> None:
        """Log, once per change, where anycast and dedicated VIPs go and why."""
        if self._home_said == home:
            return
        self._home_said = home
        if home == LOOPBACK:
            log.warning("anycast and dedicated VIPs go on lo: %s", why or f"there is no dummy interface; {_DUMMY_HINT}")
        else:
            log.info("anycast and dedicated VIPs go on %s (%s)", home, why)

    def _announce(
        self, rtnl: Rtnl | None, op: Announce, snapshot: Snapshot, when_running: Callable[[], None] | None = None
    ) -> None:
        """Announce at once: a link just set up can send (no waiting for linkwatch to call it running);
        a burst's `when_running` goes to the reannouncer."""
        link = snapshot.link(op.link)
        if link is None:
            return
        if op.burst and op.link in self._announced:
            return  # announced by the takeover's fast path moments ago, with its repeats under way
        frames = [frame for address in op.addresses for frame in announcement(link.mac, address, op.burst)]
        try:
            if op.burst:  # a takeover: repeated shortly, in case the first burst met a port not yet forwarding
                self._reannouncer.announce(op.link, frames, when_running)
            else:
                send_frames(op.link, frames)
        except DataplaneError as err:
            # no carrier yet: arp_notify=1 makes the kernel announce once the link comes up
            log.info("%s: gratuitous ARP not sent now (%s); the kernel announces on carrier", op.link, err)
        else:
            log.debug("%s: announced %s", op.link, ", ".join(str(a) for a in op.addresses))


def _resolve(name: str, index: int, addresses: tuple[str, ...]) -> None:
    """The DSR neighbours resolved on a raised LB interface that runs now (in the reannouncer's thread)."""
    refused = resolve_neighbours(index, addresses)
    log.info("%s: the kernel resolves %d DSR destinations' neighbours now", name, len(addresses) - refused)
    if refused:
        log.warning(
            "%s: the kernel refused to resolve %d of the DSR destinations on it (their first packets wait for "
            "ARP instead, nothing is lost); `ip neigh show dev %s` shows which entries are missing",
            name,
            refused,
            name,
        )


def _lb_tables(links: Snapshot) -> frozenset[int]:
    """The routing tables of the LB interfaces among `links` (their routes are read beside the main table's)."""
    return frozenset(record.lb.routing_table for _, record in lb_links(links))


def _link(snapshot: Snapshot, name: str) -> Link:
    link = snapshot.link(name)
    if link is None:
        raise OpFailed(f"no such network interface {name!r}", errno.ENODEV)
    return link


def _rule_text(rule: Rule, verb: str) -> str:
    match = f"from {rule.src}" if rule.src is not None else f"to {rule.dst}"
    return f"{verb} rule `{match} lookup {rule.table}`"


def _send(rtnl: Rtnl, message: bytes, what: str, ok: frozenset[int] = frozenset()) -> None:
    try:
        rtnl.call(message)
    except OSError as err:
        if err.errno in ok:
            return
        raise OpFailed(f"{what}: {os.strerror(err.errno or 0)} (errno {err.errno})", err.errno) from err
