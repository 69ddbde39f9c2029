"""One service's state machine with a FakeClock: backoff growth, cap, decay, timeouts, stop."""

import signal

import pytest

from seesaw.common.clock import FakeClock
from seesaw.watchdog.actions import ExitStatus, Kill, Spawn
from seesaw.watchdog.config import ServiceConfig
from seesaw.watchdog.service import Policy, Service, State

POLICY = Policy(restart_delay=0.5, max_backoff=30.0, healthy_after=30.0, start_timeout=10.0, unhealthy_timeout=20.0)
CRASH = ExitStatus(code=1)
CLEAN = ExitStatus(code=0)
KILLED = ExitStatus(signal=signal.SIGKILL)


def make(clock, **kw) -> Service:
    return Service(ServiceConfig(name="ha", binary="seesaw-ha", **kw), POLICY, clock)


def kills(actions):
    return [(a.signal, a.group) for a in actions if isinstance(a, Kill)]


def run_to_serving(svc: Service, clock: FakeClock, pid: int = 100) -> None:
    assert svc.state == State.WAITING
    actions = svc.start()
    assert [a for a in actions if isinstance(a, Spawn)] == [Spawn(svc.config)]
    svc.spawned(pid)
    assert svc.state == State.STARTING and not svc.ready
    clock.advance(0.2)
    svc.health(True)
    assert svc.state == State.RUNNING and svc.ready


def crash_and_wait(svc: Service, clock: FakeClock, status: ExitStatus = CRASH) -> float:
    """Let the process die; return how long the service stays in BACKOFF."""
    svc.exited(status)
    assert svc.state == State.BACKOFF
    delay = svc.deadline - clock.monotonic()
    clock.advance(delay - 0.001)
    svc.tick()
    assert svc.state == State.BACKOFF  # not a moment early
    clock.advance(0.001)
    svc.tick()
    assert svc.state == State.WAITING
    return delay


def test_backoff_doubles_from_restart_delay_up_to_the_cap():
    clock = FakeClock()
    svc = make(clock)
    delays = []
    for _ in range(9):
        run_to_serving(svc, clock)
        clock.advance(1)  # a short run: no forgiveness
        delays.append(crash_and_wait(svc, clock))
    assert delays == pytest.approx([0.5, 1, 2, 4, 8, 16, 30, 30, 30])
    assert svc.failures == 9 and svc.total_failures == 9
    assert svc.starts == 9


def test_death_by_signal_is_a_failure():
    clock = FakeClock()
    svc = make(clock)
    run_to_serving(svc, clock)
    crash_and_wait(svc, clock, KILLED)
    assert svc.failures == 1
    assert svc.status()["last_exit"] == "killed by SIGKILL"


def test_clean_exit_is_restarted_but_is_not_a_failure():
    clock = FakeClock()
    svc = make(clock)
    run_to_serving(svc, clock)
    crash_and_wait(svc, clock)
    run_to_serving(svc, clock)
    crash_and_wait(svc, clock)
    assert svc.failures == 2
    run_to_serving(svc, clock)
    assert crash_and_wait(svc, clock, CLEAN) == pytest.approx(0.5)
    assert svc.failures == 2 and svc.total_failures == 2  # neither counted nor forgiven
    run_to_serving(svc, clock)
    assert crash_and_wait(svc, clock) == pytest.approx(2.0)  # third failure in a row: 0.5, 1, 2


def test_a_healthy_run_forgives_earlier_failures():
    clock = FakeClock()
    svc = make(clock)
    for _ in range(5):
        run_to_serving(svc, clock)
        crash_and_wait(svc, clock)
    assert svc.failures == 5
    run_to_serving(svc, clock)
    assert svc.next_deadline() == pytest.approx(clock.monotonic() + 30.0)
    clock.advance(29.9)
    svc.tick()
    assert svc.failures == 5
    clock.advance(0.1)
    svc.tick()
    assert svc.failures == 0 and svc.total_failures == 5
    assert svc.next_deadline() is None
    clock.advance(3600)
    assert crash_and_wait(svc, clock) == pytest.approx(0.5)  # back to the shortest delay


def test_forgiveness_applies_at_exit_even_without_a_tick():
    clock = FakeClock()
    svc = make(clock)
    for _ in range(3):
        run_to_serving(svc, clock)
        crash_and_wait(svc, clock)
    run_to_serving(svc, clock)
    clock.advance(31)
    assert crash_and_wait(svc, clock) == pytest.approx(0.5)


def test_time_not_serving_does_not_count_as_healthy():
    clock = FakeClock()
    svc = make(clock)
    for _ in range(3):
        run_to_serving(svc, clock)
        crash_and_wait(svc, clock)
    run_to_serving(svc, clock)
    clock.advance(15)
    svc.health(False)
    clock.advance(15)
    svc.health(True)
    clock.advance(15)  # 45 s alive, but never 30 s SERVING in one stretch
    svc.tick()
    assert svc.failures == 3
    assert crash_and_wait(svc, clock) == pytest.approx(4.0)


def test_alive_but_never_serving_is_restarted_after_start_timeout():
    clock = FakeClock()
    svc = make(clock, term_timeout=5.0)
    svc.start()
    svc.spawned(42)
    clock.advance(9.9)
    assert svc.tick() == []
    clock.advance(0.1)
    actions = svc.tick()
    assert kills(actions) == [(signal.SIGTERM, False)]
    assert any("did not answer grpc.health.v1 SERVING" in getattr(a, "text", "") for a in actions)
    assert svc.state == State.STOPPING
    clock.advance(5)
    assert kills(svc.tick()) == [(signal.SIGKILL, True)]  # it ignored SIGTERM
    svc.exited(KILLED)
    assert svc.state == State.BACKOFF and svc.failures == 1
    clock.advance(0.5)
    svc.tick()
    assert svc.state == State.WAITING


def test_a_late_serving_answer_after_the_timeout_does_not_revive_it():
    clock = FakeClock()
    svc = make(clock)
    svc.start()
    svc.spawned(42)
    clock.advance(10)
    svc.tick()
    svc.health(True)
    assert svc.state == State.STOPPING


def test_serving_then_silent_for_unhealthy_timeout_is_restarted():
    clock = FakeClock()
    svc = make(clock)
    run_to_serving(svc, clock)
    svc.health(False)
    assert svc.state == State.RUNNING and not svc.ready
    clock.advance(10)
    svc.health(True)  # recovered: the clock starts again
    svc.health(False)
    clock.advance(19.9)
    assert kills(svc.tick()) == []
    clock.advance(0.1)
    assert kills(svc.tick()) == [(signal.SIGTERM, False)]
    svc.exited(ExitStatus(signal=signal.SIGTERM))
    assert svc.state == State.BACKOFF and svc.failures == 1


def test_stop_is_sigterm_then_sigkill_to_the_group_after_term_timeout():
    clock = FakeClock()
    svc = make(clock, term_timeout=10.0)
    run_to_serving(svc, clock, pid=4242)
    actions = svc.stop()
    assert [a for a in actions if isinstance(a, Kill)] == [Kill("ha", 4242, signal.SIGTERM, group=False)]
    clock.advance(9.99)
    assert kills(svc.tick()) == []
    clock.advance(0.01)
    assert [a for a in svc.tick() if isinstance(a, Kill)] == [Kill("ha", 4242, signal.SIGKILL, group=True)]
    clock.advance(100)
    assert kills(svc.tick()) == []  # SIGKILL is sent once
    svc.exited(KILLED)
    assert svc.state == State.STOPPED
    clock.advance(100)
    svc.tick()
    assert svc.state == State.STOPPED and svc.start() == []


def test_stop_without_a_process_needs_no_signal():
    clock = FakeClock()
    svc = make(clock)
    run_to_serving(svc, clock)
    svc.exited(CRASH)
    assert svc.state == State.BACKOFF
    assert svc.stop() == []
    assert svc.state == State.STOPPED


def test_an_unwanted_service_that_dies_is_not_restarted():
    clock = FakeClock()
    svc = make(clock)
    run_to_serving(svc, clock)
    svc.wanted = False  # shutdown has begun; its turn has not come yet
    svc.exited(CRASH)
    assert svc.state == State.STOPPED


def test_failed_exec_is_a_failure():
    clock = FakeClock()
    svc = make(clock)
    svc.start()
    svc.spawn_failed("seesaw-ha: not found in PATH")
    assert svc.state == State.BACKOFF and svc.failures == 1
    assert svc.status()["last_exit"] == "failed to start: seesaw-ha: not found in PATH"


def test_without_health_check_started_means_ready():
    clock = FakeClock()
    svc = make(clock, health_check=False)
    svc.start()
    svc.spawned(7)
    assert svc.state == State.RUNNING and svc.ready
    clock.advance(3600)
    assert svc.tick() == []  # no start timeout


def test_requested_restart_with_new_config_has_no_delay():
    clock = FakeClock()
    svc = make(clock)
    run_to_serving(svc, clock)
    new = ServiceConfig(name="ha", binary="seesaw-ha", args=("-v",))
    assert kills(svc.restart("config changed", failure=False, config=new)) == [(signal.SIGTERM, False)]
    assert svc.config.args == ()  # still the old one until the process is gone
    svc.exited(ExitStatus(signal=signal.SIGTERM))
    assert svc.state == State.WAITING and svc.failures == 0
    assert svc.start()[-1] == Spawn(new)


def test_status_reports_what_an_operator_needs():
    clock = FakeClock(wall_start=1_700_000_000.0)
    svc = make(clock)
    run_to_serving(svc, clock, pid=99)
    clock.advance(1)
    svc.exited(CRASH)
    status = svc.status()
    assert status["state"] == "backoff" and status["pid"] is None
    assert status["last_exit"] == "exit status 1"
    assert status["last_exit_time"] == pytest.approx(1_700_000_001.2)
    assert status["restart_at"] == pytest.approx(1_700_000_001.7)
    assert status["starts"] == 1 and status["restarts"] == 0 and status["failures"] == 1
    assert svc.status() == status  # stable while nothing happens
