"""packet_socket.close_later: the sockets it is given are closed, in turn, by a thread that is not the caller's."""

from __future__ import annotations

import socket
import threading
import time

from seesaw.common.packet_socket import close_later


class SlowClose:
    """A socket whose close takes a while (as an AF_PACKET socket's waits for an RCU grace period)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.closed_by: str | None = None

    def close(self) -> None:
        time.sleep(self.seconds)
        self.closed_by = threading.current_thread().name


def test_the_caller_does_not_wait_and_each_socket_is_closed():
    slow = [SlowClose(0.05) for _ in range(4)]
    started = time.monotonic()
    for sock in slow:
        close_later(sock)  # type: ignore[arg-type]
    assert time.monotonic() - started < 0.05  # four closes of 50 ms each: none of them on this thread
    deadline = time.monotonic() + 5.0
    while any(s.closed_by is None for s in slow) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert {s.closed_by for s in slow} == {"packet-socket-close"}
    left, right = socket.socketpair()
    close_later(left)
    deadline = time.monotonic() + 5.0
    while left.fileno() != -1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert left.fileno() == -1
    right.close()
