"""Lab processes by pid and start time, and the state file that keeps them between commands."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from seesaw.lab import processes, state
from seesaw.lab.processes import Proc


def test_spawn_alive_stop(tmp_path):
    proc = processes.spawn(["sleep", "30"], tmp_path / "sleep.log")
    assert processes.alive(proc)
    assert os.getsid(proc.pid) == proc.pid  # a session of its own: it outlives the command that started it
    assert processes.stop(proc, timeout=5) is False  # SIGTERM was enough
    assert not processes.alive(proc)
    assert processes.signal_proc(proc, signal.SIGTERM) is False


def test_a_process_that_ignores_sigterm_is_killed(tmp_path):
    script = "trap '' TERM; echo ready; while true; do sleep 0.05; done"
    proc = processes.spawn(["sh", "-c", script], tmp_path / "stubborn.log")
    deadline = time.monotonic() + 5
    while "ready" not in (tmp_path / "stubborn.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert processes.stop(proc, timeout=0.3) is True
    assert not processes.alive(proc)


def test_a_recycled_pid_is_not_ours(tmp_path):
    other = subprocess.Popen(["sleep", "30"])
    try:
        impostor = Proc(other.pid, 1)  # the pid of a process started 10 ms after boot, now reused by `other`
        assert not processes.alive(impostor)  # same pid, another start time: never signalled
        assert processes.signal_proc(impostor, signal.SIGTERM) is False
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_output_goes_to_the_log(tmp_path):
    proc = processes.spawn(["sh", "-c", "echo out; echo err >&2"], tmp_path / "logs" / "x.log")
    while processes.alive(proc):
        time.sleep(0.01)
    assert (tmp_path / "logs" / "x.log").read_text().split() == ["out", "err"]


def test_state_round_trip(tmp_path):
    saved = state.LabState("pair", "sslab-", "auto", Proc(10, 20), True, {"lb1": Proc(11, 21), "be1": Proc(12, 22)})
    state.save(tmp_path, saved)
    assert state.load(tmp_path) == saved
    state.remove(tmp_path)
    assert state.load(tmp_path) is None


def test_default_dir(monkeypatch, tmp_path):
    monkeypatch.setenv(state.ENV_LAB_DIR, str(tmp_path))
    assert state.default_dir() == tmp_path
    monkeypatch.delenv(state.ENV_LAB_DIR)
    expected = "/run/seesaw-lab" if os.geteuid() == 0 else None
    if expected:
        assert str(state.default_dir()) == expected
