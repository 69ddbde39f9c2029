"""The thin asyncio shell around the election: packets and timers in, actions out.

`Node` owns one `Machine` for the life of the process (so its counters
survive a lost engine or a disabled spell) and the socket its config asks
for. It is driven by the event loop: a reader callback for packets, one
`call_later` handle for the machine's single timer, and plain method calls
for what the engine (or test mode) asks: `apply(config)`, `failover()`,
`stop()`. Everything runs on the loop's thread; nothing here blocks.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable

from seesaw.common.clock import Clock, SystemClock
from seesaw.ha import machine as m
from seesaw.ha.net import BUDGET, AdvertSocket, LinkConfig, SetupError, interface_of
from seesaw.ha.packet import GROUP_V4, GROUP_V6
from seesaw.pb import common_pb2, ha_pb2

log = logging.getLogger(__name__)


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
        self._machine: m.Machine | None = None
        self._socket: AdvertSocket | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._wanted: ha_pb2.HAConfig | None = None
        self._disabled = False
        self._error = ""

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
        if self._machine is None:
            self._machine = m.Machine(election, self._clock)
        else:
            self._run(self._machine.handle(m.Reconfigure(election)))
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
            if status.last_takeover is not None:
                reply.last_takeover_ms = round(status.last_takeover * 1000)
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
        if self._machine is not None:
            self._run(self._machine.handle(m.TimerFired()))

    def _run(self, actions: list[m.Action]) -> None:
        for action in actions:
            match action:
                case m.SendAdvert(advert=advert):
                    if self._socket is not None:
                        self._socket.send(advert)
                case m.SetTimer(deadline=deadline):
                    self._cancel_timer()
                    delay = max(0.0, deadline - self._clock.monotonic())
                    self._timer = self._loop.call_later(delay, self._on_timer)
                case m.CancelTimer():
                    self._cancel_timer()
                case m.BecomeLeader():
                    log.info("LEADER (%s)", self._takeover_note())
                case m.BecomeBackup():
                    log.info("BACKUP (master-down interval %.3f s)", self._master_down())
                case m.BecomeShutdown():
                    log.info("left the election")
                case m.ReportStatus():
                    self.on_report()

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
