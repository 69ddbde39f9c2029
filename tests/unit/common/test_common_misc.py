import socket

import pytest

from seesaw.common import clock, daemon, sdnotify


def test_fake_clock_moves_only_forward():
    c = clock.FakeClock(start=10.0, wall_start=1000.0)
    assert c.monotonic() == 10.0
    assert c.wall() == 1000.0
    c.advance(2.5)
    assert c.monotonic() == 12.5
    assert c.wall() == 1002.5
    with pytest.raises(ValueError):
        c.advance(-1)


def test_sdnotify_without_systemd(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.notify("READY=1") is False


def test_sdnotify_sends_datagram(monkeypatch, tmp_path):
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        assert sdnotify.notify("READY=1")
        assert server.recv(100) == b"READY=1"


def test_daemon_parser_accepts_seesaw_v2_flags():
    args = daemon.parser("engine").parse_args(["-log_dir=/var/log/seesaw", "--run-dir", "/tmp/x"])
    assert str(args.run_dir) == "/tmp/x"
    assert args.go_log_dir == "/var/log/seesaw"


def test_daemon_dirs_from_environment(monkeypatch):
    monkeypatch.setenv("SEESAW_RUN_DIR", "/tmp/run-a")
    monkeypatch.setenv("SEESAW_CONFIG_DIR", "/tmp/cfg-a")
    args = daemon.parser("engine").parse_args([])
    assert str(args.run_dir) == "/tmp/run-a"
    assert str(args.config_dir) == "/tmp/cfg-a"
