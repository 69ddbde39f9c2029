"""The gratuitous ARP burst of a takeover, sent at once and again a few times shortly after.

A new master's clients move to it when its gratuitous ARP reaches them, so
the burst goes out the moment the LB interface is up: a device can send as
soon as it is up (its qdisc is attached then); waiting for the kernel to
report it "running" only waited for linkwatch, which a busy machine delays
by hundreds of milliseconds. What the first burst may lose to a switch port
or bridge that is not yet forwarding, the repeats at RETRY_DELAYS catch.

Repeats stop early, and never go out late:

* on a send error (the link went down again: ENETDOWN);
* when the host part has set any link up or down since (`generation`
  changed): a node that stepped down must not announce the VIPs after the
  new master did, or the clients would come back to it;
* after the last delay (the whole series lasts well under one advert
  interval of a failover, 0.15 s).

The socket is opened by the caller's thread (the part acts in its thread's
network namespace) and handed to a short-lived daemon thread that sends the
repeats and closes it.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence

from seesaw.ncc.kernel.host_garp import open_sender, send_error

log = logging.getLogger("seesaw.ncc.host")

RETRY_DELAYS = (0.02, 0.06, 0.15)  # seconds after the first burst


class Reannouncer:
    """Repeats of announcement bursts, cancelled by any later link change (`changed`)."""

    def __init__(
        self,
        delays: Sequence[float] = RETRY_DELAYS,
        sleep: Callable[[float], None] = time.sleep,
        opener: Callable[[str], socket.socket] = open_sender,
    ) -> None:
        self.delays = tuple(delays)
        self._sleep = sleep
        self._open = opener
        self._lock = threading.Lock()
        self._generation = 0
        self.threads: list[threading.Thread] = []  # the series still running (for tests and close)

    def changed(self) -> None:
        """A link was set up or down: repeats scheduled before now are cancelled."""
        with self._lock:
            self._generation += 1

    def announce(self, interface: str, frames: Sequence[bytes]) -> None:
        """Send `frames` on `interface` now, and again after each delay; DataplaneError if the first send fails."""
        sock = self._open(interface)
        try:
            for frame in frames:
                sock.send(frame)
        except OSError as err:
            sock.close()
            raise send_error(interface, err) from err
        if not self.delays:
            sock.close()
            return
        with self._lock:
            generation = self._generation
        self.threads = [t for t in self.threads if t.is_alive()]
        thread = threading.Thread(
            target=self._repeat, args=(sock, interface, tuple(frames), generation), name="garp", daemon=True
        )
        self.threads.append(thread)
        thread.start()

    def join(self, timeout: float = 1.0) -> None:
        """Wait for the running series to end (tests; close)."""
        for thread in self.threads:
            thread.join(timeout)
        self.threads = [t for t in self.threads if t.is_alive()]

    def _repeat(self, sock: socket.socket, interface: str, frames: tuple[bytes, ...], generation: int) -> None:
        with sock:
            waited = 0.0
            for delay in self.delays:
                self._sleep(max(0.0, delay - waited))
                waited = delay
                with self._lock:  # held while sending: a `changed` either comes first or after this burst
                    if self._generation != generation:
                        return
                    try:
                        for frame in frames:
                            sock.send(frame)
                    except OSError as err:
                        log.debug("%s: gratuitous ARP repeats end: %s", interface, err)
                        return
