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
            # Never block: a stuck receiver must not freeze the caller's event loop.
            sock.send(state.encode(), socket.MSG_DONTWAIT)
    except OSError:
        return False
    return True
