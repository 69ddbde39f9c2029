"""An AF_PACKET socket bound to one interface, for sending whole Ethernet frames (gratuitous ARP, NA).

Opened in the calling thread's network namespace; OSError (with the errno) if the interface is not
there. NCC's host part (seesaw/ncc/kernel/host_garp.py, which says what a failure means) and HA's
takeover (seesaw/ha/lb_raise.py, which keeps one open) both send through it. Mind the close: it waits
for an RCU grace period in the kernel (packet_release: synchronize_net), 5 to 16 ms on a busy machine;
`close_later` hands a socket to a thread that closes it, so that no sender waits for that.
"""

from __future__ import annotations

import queue
import socket
import threading

_closing: queue.SimpleQueue[socket.socket] | None = None
_closing_made = threading.Lock()


def bound_packet_socket(interface: str) -> socket.socket:
    """A raw AF_PACKET socket bound to `interface` (protocol 0: it sends, and receives nothing)."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    try:
        sock.bind((interface, 0))
    except OSError:
        sock.close()
        raise
    return sock


def close_later(sock: socket.socket) -> None:
    """Close `sock` in the background (one daemon thread closes them all, in turn): an AF_PACKET socket's
    close blocks its caller for an RCU grace period. NCC sends one gratuitous ARP per VIP under its dataplane
    lock; closed there, 100 VIPs held the lock for a second at every refresh."""
    global _closing
    with _closing_made:
        if _closing is None:
            _closing = queue.SimpleQueue()
            threading.Thread(target=_close_each, args=(_closing,), name="packet-socket-close", daemon=True).start()
        closing = _closing
    closing.put(sock)


def _close_each(closing: queue.SimpleQueue[socket.socket]) -> None:
    while True:
        closing.get().close()
