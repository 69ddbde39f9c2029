"""The gratuitous ARP burst of a takeover, sent at once, again the moment the link runs, and a few times after.

A new master's clients move to it when its gratuitous ARP reaches them, so
the burst goes out the moment the LB interface is up: a device can send as
soon as it is up (its qdisc is attached then), without waiting for the
kernel's linkwatch to call it running, which a busy machine delays. But the
far end may not forward yet: a bridge port (or a switch port) starts
forwarding when its carrier comes back, and in a bridge that is decided in
the very linkwatch run that makes our link "running". So the series also
watches the link (`watch`, rtnetlink notifications) and sends the burst
again the moment it runs: the earliest the path surely forwards, whether
linkwatch took 1 ms or 60. The timed repeats at RETRY_DELAYS (after the
first burst) catch whatever is left.

Repeats stop early, and never go out late:

* on a send error (the link went down again: ENETDOWN);
* when the host part has set any link up or down since (`generation`
  changed): a node that stepped down must not announce the VIPs after the
  new master did, or the clients would come back to it;
* after the last delay (the whole series lasts well under one advert
  interval of a failover, 0.15 s; the wait for the link to run, too).

The sockets (the AF_PACKET sender, the rtnetlink watch) are opened by the
caller's thread (the part acts in its thread's network namespace) and handed
to a short-lived daemon thread that sends the repeats and closes them.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from seesaw.common.packet_socket import close_later
from seesaw.common.rtnetlink import RTMGRP_LINK
from seesaw.ncc.kernel.host_garp import open_sender, send_error
from seesaw.ncc.kernel.host_rtnl import Rtnl

log = logging.getLogger("seesaw.ncc.host")

RETRY_DELAYS = (0.02, 0.06, 0.15)  # seconds after the first burst


class Watch(Protocol):
    """Whether a link runs now or soon (host_rtnl.Rtnl.wait_running, on a socket already subscribed)."""

    def wait_running(self, name: str, timeout: float) -> bool: ...

    def close(self) -> None: ...


def watch_links() -> Watch | None:
    """A subscription to link changes in this thread's network namespace; None if rtnetlink refuses one."""
    try:
        return Rtnl(groups=RTMGRP_LINK)
    except OSError as err:
        log.debug("cannot watch links (%s): the takeover's repeats go by the clock alone", err)
        return None


class Reannouncer:
    """Repeats of announcement bursts, cancelled by any later link change (`changed`)."""

    def __init__(
        self,
        delays: Sequence[float] = RETRY_DELAYS,
        sleep: Callable[[float], None] = time.sleep,
        opener: Callable[[str], socket.socket] = open_sender,
        watcher: Callable[[], Watch | None] = watch_links,
    ) -> None:
        self.delays = tuple(delays)
        self._sleep = sleep
        self._open = opener
        self._watcher = watcher
        self._lock = threading.Lock()
        self._generation = 0
        self.threads: list[threading.Thread] = []  # the series still running (for tests and close)

    def changed(self) -> None:
        """A link was set up or down: repeats scheduled before now are cancelled."""
        with self._lock:
            self._generation += 1

    def announce(self, interface: str, frames: Sequence[bytes], when_running: Callable[[], None] | None = None) -> None:
        """Send `frames` on `interface` now, when it runs, and after each delay; DataplaneError if the first fails.

        `when_running`: called once (in the series' thread) if the link runs within the series, with the
        first repeat after that (the DSR neighbours are resolved then, see host.py: not at once, because
        the same kernel run that makes our link run goes on to the far end of a veth, and an ARP lost to a
        port not yet forwarding is asked again only a second later, while the first packets wait)."""
        sock = self._open(interface)
        watch = self._watcher() if self.delays else None  # subscribed before the burst: no change is missed
        try:
            for frame in frames:
                sock.send(frame)
        except OSError as err:
            close_later(sock)
            if watch is not None:
                watch.close()
            raise send_error(interface, err) from err
        if not self.delays:
            close_later(sock)
            return
        with self._lock:
            generation = self._generation
        self.threads = [t for t in self.threads if t.is_alive()]
        thread = threading.Thread(
            target=self._repeat,
            args=(sock, watch, interface, tuple(frames), generation, when_running),
            name="garp",
            daemon=True,
        )
        self.threads.append(thread)
        thread.start()

    def join(self, timeout: float = 1.0) -> None:
        """Wait for the running series to end (tests; close)."""
        for thread in self.threads:
            thread.join(timeout)
        self.threads = [t for t in self.threads if t.is_alive()]

    def _repeat(
        self,
        sock: socket.socket,
        watch: Watch | None,
        interface: str,
        frames: tuple[bytes, ...],
        generation: int,
        when_running: Callable[[], None] | None = None,
    ) -> None:
        started = time.monotonic()
        sent = started  # the last burst: repeats due before it are not sent again
        pending: Callable[[], None] | None = None  # when_running, once the link ran, with the next repeat
        with sock:
            if watch is not None:
                try:
                    running = watch.wait_running(interface, self.delays[-1])
                except OSError as err:
                    log.debug("%s: watching the link failed (%s): repeats by the clock alone", interface, err)
                    running = False
                finally:
                    watch.close()
                if running:
                    if not self._send(sock, interface, frames, generation):
                        return
                    sent = time.monotonic()
                    pending = when_running
            for delay in self.delays:
                due = started + delay
                if due <= sent:
                    continue
                self._sleep(max(0.0, due - time.monotonic()))
                if not self._send(sock, interface, frames, generation):
                    return
                sent = max(due, time.monotonic())
                if pending is not None:
                    _after_running(pending, interface)
                    pending = None
            if pending is not None:  # the link ran after the last repeat was due
                _after_running(pending, interface)

    def _send(self, sock: socket.socket, interface: str, frames: tuple[bytes, ...], generation: int) -> bool:
        """One burst, unless a link changed since the series began; whether the series goes on."""
        with self._lock:  # held while sending: a `changed` either comes first or after this burst
            if self._generation != generation:
                return False
            try:
                for frame in frames:
                    sock.send(frame)
            except OSError as err:
                log.debug("%s: gratuitous ARP repeats end: %s", interface, err)
                return False
        return True


def _after_running(action: Callable[[], None], interface: str) -> None:
    """`action()` (the series' `when_running`), its error logged, never raised."""
    try:
        action()
    except OSError as err:
        log.debug("%s: after the link ran: %s", interface, err)
