"""The pure sync machines against Seesaw's engine/sync_test.go, in spirit
(TestBasicSync, TestSyncHeartbeats, TestSyncDesync), with a fake clock."""

from __future__ import annotations

from seesaw.common.clock import FakeClock
from seesaw.engine.sync_state import (
    ConfigUpdate,
    Desync,
    Heartbeat,
    OverrideChange,
    SyncSessions,
    SyncWatcher,
    WatchState,
    override_changes,
)
from seesaw.pb import common_pb2, engine_pb2

VSERVER = engine_pb2.OverrideRequest.VSERVER
BACKEND = engine_pb2.OverrideRequest.BACKEND
DISABLED, ENABLED, DEFAULT = common_pb2.OVERRIDE_DISABLED, common_pb2.OVERRIDE_ENABLED, common_pb2.OVERRIDE_DEFAULT


def test_basic_sync_starts_with_desync_then_every_note_type_arrives() -> None:
    sessions = SyncSessions(FakeClock())
    sid = sessions.open("10.0.0.3")
    assert sessions.take(sid) == [Desync()]
    assert sessions.take(sid) == []
    for note in (Heartbeat(), Desync(), ConfigUpdate(2, 1700), OverrideChange(VSERVER, "web", DISABLED)):
        sessions.notify(note)
        assert sessions.take(sid) == [note]


def test_heartbeats_every_interval_and_none_for_a_closed_session() -> None:
    clock = FakeClock()
    sessions = SyncSessions(clock, heartbeat_interval=0.5)
    first = sessions.open("peer")
    assert sessions.take(first) == [Desync()]
    sessions.close(first)  # a short enablement: no heartbeat reaches a later session through it
    second = sessions.open("peer")
    clock.advance(0.49)
    assert not sessions.tick()
    clock.advance(0.01)
    assert sessions.tick()
    clock.advance(0.5)
    assert sessions.tick()
    sessions.close(second)
    clock.advance(0.5)
    sessions.tick()
    assert sessions.take(second) == []
    assert sessions.take(first) == []
    third = sessions.open("peer")
    assert sessions.take(third) == [Desync()]


def test_heartbeats_wait_for_the_desync_to_be_taken() -> None:
    clock = FakeClock()
    sessions = SyncSessions(clock, heartbeat_interval=0.5)
    sid = sessions.open("peer")
    clock.advance(0.5)
    sessions.tick()
    clock.advance(0.5)
    sessions.tick()
    # The Desync supersedes what was queued before it was taken.
    assert sessions.take(sid) == [Desync()]
    clock.advance(0.5)
    sessions.tick()
    assert sessions.take(sid) == [Heartbeat()]


def test_overflow_desynchronises_the_session_and_drops_what_it_held() -> None:
    sessions = SyncSessions(FakeClock(), queue_size=100)
    slow, fast = sessions.open("slow"), sessions.open("fast")
    sessions.take(slow)
    sessions.take(fast)
    sessions.notify(Heartbeat())
    assert sessions.take(fast) == [Heartbeat()]
    desynced = []
    for i in range(110):
        desynced += sessions.notify(OverrideChange(VSERVER, f"vs{i}", DISABLED))
        if i % 50 == 0:
            sessions.take(fast)  # this one keeps up
    assert desynced == [slow]
    assert sessions.desyncs_total == 1
    assert sessions.is_desynced(slow)
    assert sessions.take(slow) == [Desync()]
    sessions.notify(Heartbeat())
    assert sessions.take(slow) == [Heartbeat()]
    taken = sessions.take(fast, limit=1000)
    assert taken == [*(OverrideChange(VSERVER, f"vs{i}", DISABLED) for i in range(101, 110)), Heartbeat()]


def test_take_hands_out_at_most_the_limit_in_order() -> None:
    sessions = SyncSessions(FakeClock())
    sid = sessions.open("peer")
    sessions.take(sid)
    notes = [OverrideChange(BACKEND, f"be{i}", ENABLED) for i in range(30)]
    for note in notes:
        sessions.notify(note)
    assert sessions.take(sid, limit=20) == notes[:20]
    assert sessions.take(sid, limit=20) == notes[20:]


def test_override_changes_cover_sets_changes_and_removals() -> None:
    before = {(VSERVER, "a"): DISABLED, (VSERVER, "b"): ENABLED, (BACKEND, "x"): DISABLED}
    after = {(VSERVER, "b"): DISABLED, (BACKEND, "x"): DISABLED, (BACKEND, "y"): ENABLED}
    assert override_changes(before, after) == [
        OverrideChange(VSERVER, "a", DEFAULT),
        OverrideChange(VSERVER, "b", DISABLED),
        OverrideChange(BACKEND, "y", ENABLED),
    ]
    assert override_changes(after, after) == []


def test_watcher_connects_at_once_retries_after_the_interval_and_drops_a_silent_stream() -> None:
    clock = FakeClock()
    watcher = SyncWatcher(clock, retry_interval=5.0, silence_timeout=15.0)
    assert not watcher.due() and watcher.next_deadline() is None
    assert watcher.set_enabled(True)
    assert not watcher.set_enabled(True)
    assert watcher.due()
    watcher.connecting()
    watcher.ended("unreachable (connection refused)")
    assert watcher.state is WatchState.WAITING and not watcher.due()
    assert watcher.last_error == "unreachable (connection refused)"
    clock.advance(4.9)
    assert not watcher.due()
    clock.advance(0.1)
    assert watcher.due()
    watcher.connecting()
    watcher.received(Desync())
    assert watcher.in_sync and watcher.last_error == "" and watcher.state is WatchState.STREAMING
    clock.advance(14.0)
    watcher.received(Heartbeat())
    clock.advance(14.9)
    assert not watcher.silent()
    clock.advance(0.1)
    assert watcher.silent()
    watcher.ended("silent")
    assert not watcher.in_sync
    assert watcher.set_enabled(False)
    assert watcher.state is WatchState.DISABLED and not watcher.due() and not watcher.silent()
    watcher.received(Heartbeat())  # a late note after disabling changes nothing
    assert watcher.state is WatchState.DISABLED


def test_watcher_keeps_the_time_of_the_first_failure_in_a_row() -> None:
    clock = FakeClock()
    watcher = SyncWatcher(clock, retry_interval=1.0)
    watcher.set_enabled(True)
    watcher.connecting()
    watcher.ended("down")
    since = watcher.error_since
    clock.advance(1.0)
    watcher.connecting()
    watcher.ended("still down")
    assert watcher.error_since == since and watcher.last_error == "still down"
