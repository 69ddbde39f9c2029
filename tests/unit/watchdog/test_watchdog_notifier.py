"""sd_notify never blocks the watchdog, even when nobody reads the socket."""

import socket
import time

from seesaw.watchdog.notifier import Notifier


def test_a_stuck_receiver_does_not_block_the_caller_and_order_is_kept(tmp_path, monkeypatch):
    path = tmp_path / "notify"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(path))
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    notifier = Notifier()
    started = time.monotonic()
    for i in range(100):  # far beyond net.unix.max_dgram_qlen: a direct send would block
        notifier(f"STATUS={i}")
    assert time.monotonic() - started < 0.5
    assert not notifier.flush(timeout=0.3)  # the sending thread is stuck, the caller is not
    receiver.settimeout(2)
    got = [receiver.recv(100).decode() for _ in range(100)]
    assert got == [f"STATUS={i}" for i in range(100)]
    assert notifier.flush(timeout=2)
    receiver.close()


def test_without_notify_socket_it_is_harmless(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    notifier("READY=1")
    assert notifier.flush(timeout=2)
