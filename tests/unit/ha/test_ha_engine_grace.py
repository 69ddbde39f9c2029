"""HA's patience with a restarting engine (seesaw/ha/engine_grace.py), on a fake clock."""

from __future__ import annotations

from seesaw.common.clock import FakeClock
from seesaw.ha.engine_grace import EngineGrace, Presence


def connected(grace: float = 10.0) -> tuple[FakeClock, EngineGrace]:
    clock = FakeClock()
    g = EngineGrace(clock, grace)
    g.connected()
    return clock, g


def test_a_vanished_engine_gets_the_grace_period() -> None:
    clock, g = connected()
    assert g.lost() is False  # keep the role
    assert g.presence == Presence.WAITING and g.deadline == clock.monotonic() + 10.0
    clock.advance(9.99)
    assert g.expired() is False
    assert g.lost() is False  # failed reconnects do not restart the clock
    assert g.deadline == clock.monotonic() - 9.99 + 10.0
    clock.advance(0.01)
    assert g.expired() is True  # leave the election now
    assert g.presence == Presence.GONE and g.deadline is None
    assert g.expired() is False  # once


def test_an_engine_back_in_time_changes_nothing() -> None:
    clock, g = connected()
    g.lost()
    clock.advance(3.0)
    g.connected()
    assert g.deadline is None
    clock.advance(60.0)
    assert g.expired() is False
    assert g.lost() is False  # a second restart gets a fresh grace period
    assert g.deadline == clock.monotonic() + 10.0


def test_a_stopping_engine_is_left_at_once() -> None:
    _, g = connected()
    assert g.stopped() is True
    assert g.presence == Presence.GONE and g.deadline is None
    _, waiting = connected()
    waiting.lost()
    assert waiting.stopped() is True and waiting.deadline is None


def test_no_grace_means_leaving_at_once() -> None:
    _, g = connected(grace=0.0)
    assert g.lost() is True


def test_nothing_to_keep_before_the_first_session_or_after_leaving() -> None:
    g = EngineGrace(FakeClock(), 10.0)
    assert g.lost() is True and g.deadline is None  # never connected: HA is not in the election anyway
    clock, g = connected()
    g.lost()
    clock.advance(10.0)
    assert g.expired() is True
    assert g.lost() is True  # gone: a failed reconnect keeps nothing


def test_only_a_vanished_engine_leaves_the_lb_interface_to_ha() -> None:
    clock, g = connected()
    g.lost()
    assert not g.abandoned  # still waiting: the engine may come back
    clock.advance(10.0)
    assert g.expired() is True and g.abandoned
    assert g.lost() is True and g.abandoned  # failed reconnects after leaving keep it so
    g.connected()
    assert not g.abandoned  # the engine speaks for the LB interface again
    _, none = connected(grace=0.0)
    assert none.lost() is True and none.abandoned
    _, stopping = connected()
    assert stopping.stopped() is True and not stopping.abandoned  # a stopping engine takes it down itself
    never = EngineGrace(FakeClock(), 10.0)
    assert never.lost() is True and not never.abandoned  # no engine ever: nothing was up
