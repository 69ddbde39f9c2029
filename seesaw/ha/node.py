"""The thin asyncio shell around the election: packets and timers in, actions out.

`Node` owns one `Machine` for the life of the process (so its counters
survive a lost engine or a disabled spell), the socket its config asks for,
and a watch on the node interface's link (seesaw.ha.link_watch: carrier lost
=> the machine's FAULT, back => BACKUP). It is driven by the event loop:
reader callbacks for packets and link events, one `call_later` handle for the
machine's single timer, and plain method calls for what the engine (or test
mode) asks: `apply(config)`, `failover()`, `stop()`. Everything runs on the
loop's thread (which `realtime_priority` schedules SCHED_RR); nothing here
blocks, but for the last two milliseconds before the election's timer
(TIMER_LEAD), slept so that it fires on time.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import time
from collections.abc import Callable

from seesaw.common.clock import Clock, SystemClock
from seesaw.ha import machine as m
from seesaw.ha.link_watch import LinkWatch, health, interface_index
from seesaw.ha.net import BUDGET, AdvertSocket, LinkConfig, SetupError, interface_of
from seesaw.ha.packet import GROUP_V4, GROUP_V6
from seesaw.ha.realtime import set_realtime
from seesaw.pb import common_pb2, ha_pb2

log = logging.getLogger(__name__)

# The loop's timers fire up to a millisecond late (epoll waits whole milliseconds, rounded up), so the
# election's timer is set this much early and the rest is slept: a takeover or an advert ~0.1 ms late
# instead of ~1.5 ms (keepalived's timerfd: ~0.2 ms). A short block of HA's own thread, nothing else's.
TIMER_LEAD = 0.002


def election_config(config: ha_pb2.HAConfig) -> m.ElectionConfig:
    """The election's part of an HAConfig; ValueError says what to fix."""
    local = config.local_address.split("%", 1)[0]
    addresses: tuple[str, ...] = ()
    if config.format == ha_pb2.HAConfig.RFC5798:
        addresses = tuple(str(ipaddress.ip_address(a)) for a in config.addresses)
    return m.ElectionConfig(
        local_address=local,
        priority=config.priority,
        vrid=config.vrid,
        advert_interval_ms=config.advert_interval_ms or 500,
        preempt=config.preempt,
        addresses=addresses,
        takeover_skew=config.takeover_skew,
        handover_hold_ms=config.handover_hold_ms,
    )


def link_config(config: ha_pb2.HAConfig) -> LinkConfig:
    """Where adverts go: `remote_address` (the group by default) and any unicast peers."""
    local = config.local_address.split("%", 1)[0]
    peers = [str(ipaddress.ip_address(p)) for p in config.unicast_peers]
    if config.remote_address:
        remote = [str(ipaddress.ip_address(config.remote_address))]
    elif peers:
        remote = []
    else:
        remote = [GROUP_V4 if ipaddress.ip_address(local).version == 4 else GROUP_V6]
    destinations = tuple(dict.fromkeys(remote + peers))
    interface = config.interface or interface_of(local)
    return LinkConfig(interface=interface, local_address=local, destinations=destinations)


class Node:
    """One node in the election. Create inside a running event loop."""

    def __init__(self, clock: Clock | None = None, budget: int = BUDGET) -> None:
        self._clock = clock or SystemClock()
        self._loop = asyncio.get_running_loop()
        self._budget = budget
        self.on_report: Callable[[], None] = lambda: None
        self.on_leader: Callable[[int], None] = lambda since_unix_ms: None  # the moment it leads (lb_takeover)
        self._machine: m.Machine | None = None
        self._socket: AdvertSocket | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0  # the timer's deadline, on the clock's monotonic scale
        self._wanted: ha_pb2.HAConfig | None = None
        self._disabled = False
        self._error = ""
        self._links: LinkWatch | None = None
        self._watched: tuple[str, int | None] | None = None  # the node interface's name and index
        self._link_fault: str | None = None  # what the machine was last told: None up, else why down
        self._realtime: int | None = None  # the priority last asked for
        self._realtime_error = ""

    # -- what the engine (or test mode) asks -------------------------------

    def apply(self, config: ha_pb2.HAConfig) -> bool:
        """Make `config` the running one, in place. False if it could not be (the reason is logged and reported)."""
        self._wanted = ha_pb2.HAConfig()
        self._wanted.CopyFrom(config)
        if not config.enabled:
            if not self._disabled:
                log.info("HA is disabled for this node: not taking part in the election")
            self._leave()
            self._disabled = True
            self._error = ""
            self.on_report()
            return True
        self._disabled = False
        try:
            election, link = election_config(config), link_config(config)
        except (ValueError, SetupError) as err:
            return self._fail(f"HA config refused, the running one stays: {err}")
        if self._socket is None or self._socket.config != link:
            try:
                new_socket = AdvertSocket.open(link)
            except SetupError as err:
                return self._fail(str(err))
            self._swap_socket(new_socket)
        if self._error:
            self._error = ""
            self.on_report()
        self._schedule(config.realtime_priority)
        if self._machine is None:
            self._machine = m.Machine(election, self._clock)
        else:
            self._run(self._machine.handle(m.Reconfigure(election)))
        self._watch(link.interface)
        self._run(self._machine.handle(m.Start()))
        return True

    def retry(self) -> None:
        """Try the wanted config again after a failure (e.g. the interface appeared)."""
        if self._error and self._wanted is not None:
            self.apply(self._wanted)

    def failover(self) -> None:
        if self._machine is None or self._machine.state != m.State.LEADER:
            log.info("failover requested, but this node is not the leader: nothing to do")
            return
        hold = self._machine.config.handover_hold_ms
        if hold:
            log.info("failover requested: priority-0 advert; serving until the new master is heard (<= %d ms)", hold)
        else:
            log.info("failover requested: giving up mastership (priority-0 advert)")
        self._run(self._machine.handle(m.Failover()))

    def stop(self) -> None:
        """Leave the election (a leader says so with a priority-0 advert) and close the socket."""
        self._leave()

    # -- what the engine and GetStatus see ---------------------------------

    @property
    def state(self) -> int:
        """The state as a `seesaw.common.HaState`."""
        if self._disabled:
            return common_pb2.HA_DISABLED
        running = self._machine is not None and self._machine.state in (m.State.BACKUP, m.State.LEADER)
        if self._error and not running:
            return common_pb2.HA_ERROR
        if self._machine is None:
            return common_pb2.HA_UNKNOWN
        return int(self._machine.state)

    @property
    def error(self) -> str:
        return self._error

    def status(self) -> ha_pb2.HAStatus:
        reply = ha_pb2.HAStatus(state=self.state, last_update_unix_ms=int(self._clock.wall() * 1000))  # type: ignore[arg-type]
        if self._machine is not None:
            status = self._machine.status()
            reply.since_unix_ms = int(status.since * 1000)
            reply.transitions = status.transitions
            reply.adverts_sent = status.sent
            reply.adverts_received = status.received
            reply.master_address = status.master_address
            reply.handing_over = status.handing_over
            reply.link_fault = status.fault
            if status.last_takeover is not None:  # whole ms, rounded up: 0 would read as "none"
                reply.last_takeover_ms = max(1, math.ceil(status.last_takeover * 1000))
            for reason, count in status.dropped.items():
                reply.adverts_dropped[reason] = count
        return reply

    # -- the loop's side ---------------------------------------------------

    def _fail(self, message: str) -> bool:
        if message != self._error:
            log.error("%s", message)
        self._error = message
        self.on_report()
        return False

    def _leave(self) -> None:
        if self._machine is not None:
            self._run(self._machine.handle(m.Stop()))
        self._swap_socket(None)
        self._unwatch()

    def _schedule(self, priority: int) -> None:
        """Run the loop's thread at realtime `priority` (0: ordinary); a refusal is logged once."""
        if priority == self._realtime:
            return
        self._realtime = priority
        error = set_realtime(priority)
        if error and error != self._realtime_error:
            log.warning("%s", error)
        self._realtime_error = error

    # -- the node interface's link -------------------------------------------

    def _watch(self, interface: str) -> None:
        """Follow `interface`'s link state (the machine hears LinkDown / LinkUp)."""
        if self._watched is not None and self._watched[0] == interface and self._links is not None:
            return
        self._unwatch()
        try:
            self._links = LinkWatch()
        except OSError as err:
            log.warning(
                "cannot watch %s's link state (%s): HA will not notice a lost carrier; raise the open-files limit "
                "(LimitNOFILE in the systemd unit) if it is reached, and restart seesaw",
                interface,
                err,
            )
            return
        self._loop.add_reader(self._links.fileno(), self._on_link_events)
        self._watched = (interface, None)
        self._refresh_link()

    def _unwatch(self) -> None:
        if self._links is not None:
            self._loop.remove_reader(self._links.fileno())
            self._links.close()
        self._links = None
        self._watched = None

    def _refresh_link(self) -> None:
        """Ask for the watched interface's state again (at start, after lost events, after a rename)."""
        if self._links is None or self._watched is None:
            return
        name = self._watched[0]
        index = interface_index(name)
        self._watched = (name, index)
        if index is None:
            self._link_state(health(None, name))
            return
        try:
            self._links.request(index)
        except OSError as err:
            log.warning("cannot ask for %s's link state: %s", name, err)

    def _on_link_events(self) -> None:
        if self._links is None or self._watched is None:
            return
        try:
            events = self._links.read()
        except OSError as err:  # ENOBUFS: the kernel dropped events (a burst of link changes): ask again
            log.warning("reading link events failed (%s): asking for %s's link state again", err, self._watched[0])
            self._refresh_link()
            return
        name, index = self._watched
        for event in events:
            if event.index == index:
                self._link_state(health(None if event.deleted else event.flags, name))
        if self._links.overflowed:
            self._links.overflowed = False
            self._refresh_link()
        elif any(e.deleted and e.index == index for e in events) or index is None:
            self._refresh_link()  # gone, or not there yet: it may come back under a new index

    def _link_state(self, fault: str | None) -> None:
        if fault == self._link_fault:
            return
        self._link_fault = fault
        if self._machine is None:
            return
        if fault is None:
            log.info("the node interface carries adverts again: rejoining the election as BACKUP")
            self._run(self._machine.handle(m.LinkUp()))
        else:
            self._run(self._machine.handle(m.LinkDown(fault)))

    def _swap_socket(self, new: AdvertSocket | None) -> None:
        if self._socket is not None:
            self._loop.remove_reader(self._socket.fileno())
            self._socket.close()
        self._socket = new
        if new is not None:
            self._loop.add_reader(new.fileno(), self._on_readable)

    def _on_readable(self) -> None:
        if self._socket is None or self._machine is None:
            return
        for result in self._socket.receive(self._machine.config.vrid, self._budget):
            self._run(self._machine.handle(result))
            if self._socket is None:  # an action closed it
                return

    def _on_timer(self) -> None:
        self._timer = None
        early = self._deadline - self._clock.monotonic()
        if 0.0 < early <= TIMER_LEAD:
            time.sleep(early)  # nanosleep: tens of microseconds late, against the loop's whole milliseconds
        if self._machine is not None:
            self._run(self._machine.handle(m.TimerFired()))

    def _run(self, actions: list[m.Action]) -> None:
        leading = False  # the takeover (on_leader) comes after the actions: the first advert goes out first
        for action in actions:
            match action:
                case m.SendAdvert(advert=advert):
                    if self._socket is not None:
                        self._socket.send(advert)
                case m.SetTimer(deadline=deadline):
                    self._cancel_timer()
                    self._deadline = deadline
                    delay = max(0.0, deadline - self._clock.monotonic() - TIMER_LEAD)
                    self._timer = self._loop.call_later(delay, self._on_timer)
                case m.CancelTimer():
                    self._cancel_timer()
                case m.BecomeLeader():
                    leading = True
                case m.BecomeBackup():
                    log.info("BACKUP (master-down interval %.3f s)", self._master_down())
                case m.BecomeShutdown():
                    log.info("left the election")
                case m.BecomeFault(reason=reason):
                    log.warning("FAULT: %s; out of the election until it is back", reason)
                case m.ReportStatus():
                    self.on_report()
        if leading:
            if self._machine is not None:
                self.on_leader(int(self._machine.status().since * 1000))
            log.info("LEADER (%s)", self._takeover_note())

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _master_down(self) -> float:
        return self._machine.master_down_interval() if self._machine is not None else 0.0

    def _takeover_note(self) -> str:
        status = self._machine.status() if self._machine is not None else None
        if status is None or status.last_takeover is None:
            return "no master was heard"
        return f"last takeover {status.last_takeover * 1000:.0f} ms after the old master's last word"
