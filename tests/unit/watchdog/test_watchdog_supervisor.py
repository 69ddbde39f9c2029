"""The supervisor across services: dependency gating, reverse stop order, reload."""

import signal
from pathlib import Path

import pytest

from seesaw.common.clock import FakeClock
from seesaw.watchdog.actions import ExitStatus, Kill, Spawn
from seesaw.watchdog.config import WatchdogConfig, from_ini
from seesaw.watchdog.ini import parse_ini
from seesaw.watchdog.service import State
from seesaw.watchdog.supervisor import Supervisor

SEESAW = """
[default]
restart_delay = 500ms
start_timeout = 10s
[ecu]
binary = seesaw-ecu
dependency = engine
[engine]
binary = seesaw-engine
dependency = ncc
term_timeout = 10s
[ha]
binary = seesaw-ha
dependency = engine
[healthcheck]
binary = seesaw-healthcheck
dependency = engine
[ncc]
binary = seesaw-ncc
"""
TERMINATED = ExitStatus(signal=signal.SIGTERM)


def cfg(text: str) -> WatchdogConfig:
    return from_ini(parse_ini(text, Path("watchdog.cfg")))


class Harness:
    """Drives a Supervisor the way runner.py does, with made-up pids and no processes."""

    def __init__(self, text: str = SEESAW) -> None:
        self.clock = FakeClock()
        self.sup = Supervisor(cfg(text), self.clock, Path("/run/seesaw"))
        self.next_pid = 100
        self.spawned: list[str] = []
        self.kills: list[tuple[str, signal.Signals, bool]] = []

    def do(self, actions) -> None:
        for action in actions:
            if isinstance(action, Spawn):
                self.next_pid += 1
                self.spawned.append(action.service.name)
                self.do(self.sup.spawned(action.service.name, self.next_pid))
            elif isinstance(action, Kill):
                assert self.sup.pids()[action.name] == action.pid
                self.kills.append((action.name, action.signal, action.group))

    def start(self) -> "Harness":
        self.do(self.sup.start())
        return self

    def serve(self, name: str) -> None:
        self.do(self.sup.health(name, True))

    def exit(self, name: str, status: ExitStatus = TERMINATED) -> None:
        self.do(self.sup.exited(name, status))

    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.do(self.sup.tick())

    def state(self, name: str) -> State:
        return self.sup.services[name].state

    def take_spawned(self) -> list[str]:
        out, self.spawned = self.spawned, []
        return out

    def take_kills(self) -> list[tuple[str, signal.Signals, bool]]:
        out, self.kills = self.kills, []
        return out

    def all_serving(self) -> None:
        self.start()
        self.serve("ncc")
        self.serve("engine")
        for name in ("ecu", "ha", "healthcheck"):
            self.serve(name)
        assert self.sup.ready
        self.take_spawned()


def test_a_dependent_starts_only_once_its_dependency_is_serving():
    h = Harness().start()
    assert h.take_spawned() == ["ncc"]
    assert h.state("engine") == State.WAITING and h.sup.services["engine"].waiting_for == "ncc"
    h.wait(5)  # ncc's process runs, but does not answer SERVING yet: Seesaw would have started engine
    assert h.take_spawned() == []
    h.do(h.sup.health("ncc", False))
    assert h.take_spawned() == []
    h.serve("ncc")
    assert h.take_spawned() == ["engine"]
    assert h.sup.summary() == "1/5 services serving; engine starting; ecu waits for engine; ha waits for engine; " + (
        "healthcheck waits for engine"
    )
    h.serve("engine")
    assert sorted(h.take_spawned()) == ["ecu", "ha", "healthcheck"]
    assert not h.sup.ready
    for name in ("ecu", "ha", "healthcheck"):
        h.serve(name)
    assert h.sup.ready
    assert h.sup.summary() == "5/5 services serving"


def test_a_restarting_dependency_holds_back_dependents_but_does_not_restart_them():
    h = Harness()
    h.all_serving()
    h.exit("engine", ExitStatus(code=1))
    assert h.state("engine") == State.BACKOFF
    assert h.take_kills() == []  # ha, healthcheck, ecu keep running (as in Seesaw)
    h.exit("ha", ExitStatus(code=1))
    h.wait(0.5)
    assert h.take_spawned() == ["engine"]  # ha's backoff is over too, but engine is not SERVING yet
    assert h.state("ha") == State.WAITING and h.sup.services["ha"].waiting_for == "engine"
    h.serve("engine")
    assert h.take_spawned() == ["ha"]


def test_shutdown_stops_dependents_first_then_their_dependency():
    h = Harness()
    h.all_serving()
    h.do(h.sup.shutdown())
    assert sorted(h.take_kills()) == [
        ("ecu", signal.SIGTERM, False),
        ("ha", signal.SIGTERM, False),
        ("healthcheck", signal.SIGTERM, False),
    ]
    h.exit("ha")
    h.exit("ecu")
    assert h.take_kills() == []  # healthcheck still runs: engine waits
    h.exit("healthcheck")
    assert h.take_kills() == [("engine", signal.SIGTERM, False)]
    h.exit("engine")
    assert h.take_kills() == [("ncc", signal.SIGTERM, False)]
    assert not h.sup.finished
    h.exit("ncc")
    assert h.sup.finished
    assert h.take_spawned() == []


def test_shutdown_sigkills_a_service_that_ignores_sigterm_after_its_term_timeout():
    h = Harness()
    h.all_serving()
    h.do(h.sup.shutdown())
    for name in ("ecu", "ha", "healthcheck"):
        h.exit(name)
    h.take_kills()
    assert h.sup.next_deadline() == pytest.approx(h.clock.monotonic() + 10.0)  # engine's term_timeout
    h.wait(9.9)
    assert h.take_kills() == []
    h.wait(0.1)
    assert h.take_kills() == [("engine", signal.SIGKILL, True)]
    h.exit("engine", ExitStatus(signal=signal.SIGKILL))
    assert h.take_kills() == [("ncc", signal.SIGTERM, False)]
    h.wait(5.0)  # ncc's term_timeout is the default 5 s
    assert h.take_kills() == [("ncc", signal.SIGKILL, True)]


def test_nothing_restarts_during_shutdown():
    h = Harness()
    h.all_serving()
    h.exit("ha", ExitStatus(code=1))
    assert h.state("ha") == State.BACKOFF
    h.do(h.sup.shutdown())
    assert h.state("ha") == State.STOPPED  # no process: stopped at once
    h.take_kills()
    h.exit("engine", ExitStatus(code=1))  # dies before its turn
    assert h.state("engine") == State.STOPPED
    assert h.take_kills() == [("ncc", signal.SIGTERM, False)]  # nothing of ncc's runs any more
    h.wait(1)
    assert h.take_spawned() == []
    assert h.sup.summary() == "Stopping: ncc, ecu, healthcheck"


def test_shutdown_before_anything_serves_stops_only_what_runs():
    h = Harness().start()
    h.do(h.sup.shutdown())
    assert h.take_kills() == [("ncc", signal.SIGTERM, False)]
    assert [h.state(n) for n in ("engine", "ecu")] == [State.STOPPED, State.STOPPED]
    h.exit("ncc")
    assert h.sup.finished


def test_a_crash_loop_backs_off_and_its_dependents_wait():
    h = Harness().start()
    delays = []
    for _ in range(5):
        assert h.take_spawned() == ["ncc"]
        h.exit("ncc", ExitStatus(code=2))
        delay = h.sup.next_deadline() - h.clock.monotonic()
        delays.append(delay)
        h.wait(delay)
    assert delays == pytest.approx([0.5, 1, 2, 4, 8])
    assert h.state("engine") == State.WAITING and h.sup.services["engine"].starts == 0


def test_reload_adds_removes_and_restarts_only_what_changed():
    h = Harness()
    h.all_serving()
    new_text = (
        SEESAW.replace("[ecu]\nbinary = seesaw-ecu\ndependency = engine\n", "").replace(
            "[ha]\nbinary = seesaw-ha\n", "[ha]\nbinary = seesaw-ha\nargs = -v\n"
        )
        + "[extra]\nbinary = seesaw-extra\ndependency = ha\n"
    )
    h.do(h.sup.reload(cfg(new_text)))
    assert sorted(h.take_kills()) == [("ecu", signal.SIGTERM, False), ("ha", signal.SIGTERM, False)]
    assert h.take_spawned() == []  # extra waits for ha, which is restarting
    h.exit("ecu")
    assert "ecu" not in h.sup.services
    h.exit("ha")
    assert h.take_spawned() == ["ha"]  # a requested restart: no backoff
    assert h.sup.services["ha"].config.args == ("-v",) and h.sup.services["ha"].failures == 0
    h.serve("ha")
    assert h.take_spawned() == ["extra"]
    h.serve("extra")
    assert h.sup.ready
    assert [h.sup.services[n].starts for n in ("ncc", "engine", "healthcheck")] == [1, 1, 1]


def test_reload_removing_a_chain_stops_the_dependent_first():
    h = Harness()
    h.all_serving()
    h.do(h.sup.reload(cfg("[ncc]\nbinary = seesaw-ncc\n")))
    assert sorted(h.take_kills()) == [
        ("ecu", signal.SIGTERM, False),
        ("ha", signal.SIGTERM, False),
        ("healthcheck", signal.SIGTERM, False),
    ]
    for name in ("ecu", "ha", "healthcheck"):
        h.exit(name)
    assert h.take_kills() == [("engine", signal.SIGTERM, False)]
    h.exit("engine")
    assert list(h.sup.services) == ["ncc"]
    assert h.sup.ready


def test_a_service_removed_and_put_back_before_it_stopped_keeps_running():
    h = Harness()
    h.all_serving()
    h.do(h.sup.reload(cfg("[ncc]\nbinary = seesaw-ncc\n")))
    h.take_kills()  # ecu, ha, healthcheck asked to stop; engine waits for them
    h.do(h.sup.reload(cfg(SEESAW)))
    assert h.state("engine") == State.RUNNING and h.sup.services["engine"].wanted
    for name in ("ecu", "ha", "healthcheck"):
        h.exit(name)
    assert h.take_kills() == []
    assert sorted(h.take_spawned()) == ["ecu", "ha", "healthcheck"]


def test_reload_during_shutdown_is_ignored():
    h = Harness()
    h.all_serving()
    h.do(h.sup.shutdown())
    h.take_kills()
    h.do(h.sup.reload(cfg("[ncc]\nbinary = seesaw-ncc\n[x]\nbinary = y\n")))
    assert "x" not in h.sup.services and h.take_spawned() == []
