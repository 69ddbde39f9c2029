"""systemd's sd_notify protocol, without libsystemd. Harmless without systemd."""

from __future__ import annotations

import os
import socket


def notify(state: str) -> bool:
    """Send `state` (e.g. "READY=1") to $NOTIFY_SOCKET; False if there is none."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            # This blocks while the receiver's queue is full (net.unix.max_dgram_qlen):
            # call it from a thread of its own (see seesaw.watchdog.notifier), never
            # from an event loop. Only the watchdog talks to systemd.
            sock.sendall(state.encode())
    except OSError:
        return False
    return True
