"""A takeover's gratuitous ARP burst: sent at once, again when the link runs, repeated shortly, cancelled by any
later link change.

The sender is a real datagram socket pair standing in for the AF_PACKET socket (which needs root and an
interface): every frame sent arrives, in order, at the other end.
"""

import socket
import time

import pytest

from seesaw.ncc.dataplane import DataplaneError
from seesaw.ncc.kernel.host_reannounce import RETRY_DELAYS, Reannouncer


class Wire:
    """The receiving end of the sender's socket."""

    def __init__(self) -> None:
        self.sender, self.receiver = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.receiver.setblocking(False)
        self.opened: list[str] = []

    def open(self, interface: str) -> socket.socket:
        self.opened.append(interface)
        return self.sender

    def frames(self) -> list[bytes]:
        out = []
        while True:
            try:
                out.append(self.receiver.recv(2048))
            except BlockingIOError:
                return out


def by_the_clock() -> None:
    """No link watch: the repeats go by the clock alone."""
    return None


class Link:
    """A link watch that says the link runs after `after` seconds (None: never, within the wait)."""

    def __init__(self, after: float | None) -> None:
        self.after = after
        self.asked: list[tuple[str, float]] = []
        self.closed = False

    def wait_running(self, name: str, timeout: float) -> bool:
        self.asked.append((name, timeout))
        if self.after is None or self.after > timeout:
            time.sleep(timeout)
            return False
        time.sleep(self.after)
        return True

    def close(self) -> None:
        self.closed = True


def test_the_series_lasts_less_than_one_failover_interval():
    assert tuple(sorted(RETRY_DELAYS)) == RETRY_DELAYS and RETRY_DELAYS[-1] < 0.2


def test_a_burst_goes_out_at_once_and_again_after_each_delay():
    wire = Wire()
    repeats = Reannouncer(delays=(0.01, 0.03), opener=wire.open, watcher=by_the_clock)
    repeats.announce("eth1", [b"a", b"b"])
    assert wire.frames() == [b"a", b"b"]  # at once, before announce returned
    repeats.join()
    assert wire.frames() == [b"a", b"b", b"a", b"b"] and wire.opened == ["eth1"]
    assert wire.sender.fileno() == -1  # the series closed its socket


def test_a_link_change_cancels_the_repeats_not_yet_sent():
    wire = Wire()
    repeats = Reannouncer(delays=(0.05, 0.1), opener=wire.open, watcher=by_the_clock)
    repeats.announce("eth1", [b"a"])
    repeats.changed()  # e.g. the node stepped down: the LB interface goes down
    repeats.join()
    assert wire.frames() == [b"a"]


def test_a_send_error_ends_the_series_quietly():
    wire = Wire()
    repeats = Reannouncer(delays=(0.02, 0.04), opener=wire.open, watcher=by_the_clock)
    repeats.announce("eth1", [b"a"])
    wire.receiver.close()  # the far end is gone: the next send fails
    started = time.monotonic()
    repeats.join()
    assert time.monotonic() - started < 1.0 and not repeats.threads


def test_a_first_send_that_fails_raises_what_it_means():
    wire = Wire()
    wire.receiver.close()
    with pytest.raises(DataplaneError, match="cannot send on 'eth1'"):
        Reannouncer(opener=wire.open, watcher=by_the_clock).announce("eth1", [b"a"])
    assert closed_soon(wire.sender)


def test_no_delays_means_one_burst():
    wire = Wire()
    Reannouncer(delays=(), opener=wire.open, watcher=by_the_clock).announce("eth1", [b"a"])
    assert wire.frames() == [b"a"] and closed_soon(wire.sender)


def closed_soon(sock: socket.socket, timeout: float = 2.0) -> bool:
    """Whether `sock` is closed within `timeout` (packet_socket.close_later closes in the background)."""
    deadline = time.monotonic() + timeout
    while sock.fileno() != -1 and time.monotonic() < deadline:
        time.sleep(0.005)
    return sock.fileno() == -1


def test_a_burst_goes_out_again_the_moment_the_link_runs_then_the_repeats_not_yet_due():
    wire, link = Wire(), Link(after=0.05)
    repeats = Reannouncer(delays=(0.02, 0.1, 0.15), opener=wire.open, watcher=lambda: link)
    started = time.monotonic()
    repeats.announce("eth1", [b"a"])
    assert wire.frames() == [b"a"]
    time.sleep(0.08)
    assert wire.frames() == [b"a"]  # when it ran (at 0.05 s); the repeat due at 0.02 s passed meanwhile
    repeats.join()
    assert wire.frames() == [b"a", b"a"]  # at 0.1 s and 0.15 s
    assert link.asked == [("eth1", 0.15)] and link.closed and time.monotonic() - started >= 0.15


def test_a_link_that_does_not_run_in_time_gets_the_repeats_due_after_the_wait():
    wire, link = Wire(), Link(after=None)
    repeats = Reannouncer(delays=(0.02, 0.06), opener=wire.open, watcher=lambda: link)
    repeats.announce("eth1", [b"a"])
    repeats.join()
    assert wire.frames() == [b"a", b"a"] and link.closed  # the last one only: the wait took the others' time


def test_a_link_change_while_waiting_for_the_link_cancels_its_burst():
    wire, link = Wire(), Link(after=0.05)
    repeats = Reannouncer(delays=(0.1,), opener=wire.open, watcher=lambda: link)
    repeats.announce("eth1", [b"a"])
    repeats.changed()
    repeats.join()
    assert wire.frames() == [b"a"]


def test_what_waits_for_the_link_to_run_is_done_once_with_the_repeat_after_it_ran():
    wire, link = Wire(), Link(after=0.03)
    seen: list[list[bytes]] = []
    repeats = Reannouncer(delays=(0.02, 0.1, 0.15), opener=wire.open, watcher=lambda: link)
    repeats.announce("eth1", [b"a"], when_running=lambda: seen.append(wire.frames()))
    repeats.join()
    assert seen == [[b"a", b"a", b"a"]]  # once: the first burst, the running link's, the repeat at 0.1 s
    assert wire.frames() == [b"a"]  # the repeat due at 0.15 s


def test_what_waits_for_the_link_to_run_is_done_at_the_end_if_no_repeat_follows():
    wire, link = Wire(), Link(after=0.05)  # runs as the last repeat falls due: that repeat is its burst
    called: list[bool] = []
    repeats = Reannouncer(delays=(0.05,), opener=wire.open, watcher=lambda: link)
    repeats.announce("eth1", [b"a"], when_running=lambda: called.append(True))
    repeats.join()
    assert called == [True] and wire.frames() == [b"a", b"a"]


def test_what_waits_for_the_link_to_run_is_not_done_if_it_does_not_run_and_its_error_ends_nothing():
    wire, link = Wire(), Link(after=None)
    called: list[bool] = []
    repeats = Reannouncer(delays=(0.02,), opener=wire.open, watcher=lambda: link)
    repeats.announce("eth1", [b"a"], when_running=lambda: called.append(True))
    repeats.join()
    assert called == [] and wire.frames() == [b"a", b"a"]

    def refused() -> None:
        raise OSError(19, "No such device")

    wire, running = Wire(), Link(after=0.01)
    repeats = Reannouncer(delays=(0.02, 0.05), opener=wire.open, watcher=lambda: running)
    repeats.announce("eth1", [b"b"], when_running=refused)
    repeats.join()
    assert wire.frames() == [b"b"] * 4  # at once, when it ran, at 0.02 s and 0.05 s: the error ended nothing
