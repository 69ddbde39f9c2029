"""An AF_PACKET socket bound to one interface, for sending whole Ethernet frames (gratuitous ARP, NA).

Opened in the calling thread's network namespace; OSError (with the errno) if the interface is not
there. NCC's host part (seesaw/ncc/kernel/host_garp.py, which says what a failure means) and HA's
takeover (seesaw/ha/lb_raise.py, which keeps one open) both send through it. Mind the close: it waits
for an RCU grace period in the kernel (packet_release: synchronize_net), 5 to 16 ms on a busy machine.
"""

from __future__ import annotations

import socket


def bound_packet_socket(interface: str) -> socket.socket:
    """A raw AF_PACKET socket bound to `interface` (protocol 0: it sends, and receives nothing)."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    try:
        sock.bind((interface, 0))
    except OSError:
        sock.close()
        raise
    return sock
