"""Peer sync as pure state: the master's sessions and the backup's watcher.

Everything that decides what a note is, when it is sent, and when a backup
reconnects lives here; the gRPC shells (`sync_server`, `sync_client`) only
carry notes. Time comes from the injected clock; nothing here does I/O.

The rules kept (Seesaw v2's engine/sync.go, in a stream design):

Master (`SyncSessions`):

* A session starts desynchronised: its first note is `Desync`, which the
  shell fills with the master's whole state (every override, the config
  version). A reconnect is therefore always a full resync.
* A note goes to every session. A session that already holds `queue_size`
  notes (a backup that does not keep up) is desynchronised instead: what it
  holds is dropped and its next note is `Desync`, which supersedes it.
* Every `heartbeat_interval` every session gets a `Heartbeat`.
* `take` hands out the queued notes in order, at most `limit` at once.

Backup (`SyncWatcher`):

* It watches only while enabled (this node is the backup and has a peer).
* A failed connection or an ended stream is retried after `retry_interval`.
* A stream silent for `silence_timeout` (three heartbeats) is dead: the
  shell drops it and reconnects (a peer that vanished sends no RST).
* It is in sync from the first `Desync` of a stream until the stream ends.

`override_changes` turns two override sets into the notes that lead from
one to the other: the master publishes with it, and a backup applies a
`Desync` snapshot with it (removals included).
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from seesaw.common.clock import Clock
from seesaw.pb import common_pb2

QUEUE_SIZE = 100  # Seesaw's sessionNotesQueueSize
HEARTBEAT_INTERVAL = 5.0  # Seesaw's syncHeartbeatInterval
TAKE_LIMIT = 100  # Seesaw's syncPollMsgLimit
RETRY_INTERVAL = 5.0  # Seesaw's client retry delay
SILENCE_HEARTBEATS = 3

OverrideKey = tuple[int, str]  # (engine_pb2.OverrideRequest.Target, name)


@dataclass(frozen=True)
class Heartbeat:
    pass


@dataclass(frozen=True)
class Desync:
    """Drop what you hold; the whole state follows (filled in by the shell)."""


@dataclass(frozen=True)
class OverrideChange:
    target: int
    name: str
    state: int  # common_pb2.OverrideState; OVERRIDE_DEFAULT removes the override


@dataclass(frozen=True)
class ConfigUpdate:
    generation: int
    last_updated: int


Note = Heartbeat | Desync | OverrideChange | ConfigUpdate


def override_changes(before: Mapping[OverrideKey, int], after: Mapping[OverrideKey, int]) -> list[OverrideChange]:
    """The changes that turn the override set `before` into `after`, in a stable order."""
    changes = []
    for key in sorted(before.keys() | after.keys()):
        old = before.get(key, common_pb2.OVERRIDE_DEFAULT)
        new = after.get(key, common_pb2.OVERRIDE_DEFAULT)
        if old != new:
            changes.append(OverrideChange(key[0], key[1], new))
    return changes


# --------------------------------------------------------------------------------------------------- master side


@dataclass
class _Session:
    peer: str
    desync: bool = True
    notes: deque[Note] = field(default_factory=deque)


class SyncSessions:
    def __init__(
        self, clock: Clock, *, queue_size: int = QUEUE_SIZE, heartbeat_interval: float = HEARTBEAT_INTERVAL
    ) -> None:
        self.clock = clock
        self.queue_size = queue_size
        self.heartbeat_interval = heartbeat_interval
        self._sessions: dict[int, _Session] = {}
        self._next_id = 1
        self._next_heartbeat = clock.monotonic() + heartbeat_interval
        self.desyncs_total = 0  # sessions desynchronised by overflow

    def open(self, peer: str) -> int:
        """A backup started watching; returns its session id."""
        session_id = self._next_id
        self._next_id += 1
        self._sessions[session_id] = _Session(peer)
        return session_id

    def close(self, session_id: int) -> None:
        self._sessions.pop(session_id, None)

    def peers(self) -> dict[int, str]:
        return {sid: s.peer for sid, s in self._sessions.items()}

    def is_desynced(self, session_id: int) -> bool:
        session = self._sessions.get(session_id)
        return session is not None and session.desync

    def notify(self, note: Note) -> list[int]:
        """Queue `note` on every session; returns the sessions this desynchronised."""
        desynced = []
        for session_id, session in self._sessions.items():
            if session.desync:
                continue  # its Desync will carry this too
            if len(session.notes) >= self.queue_size:
                session.notes.clear()
                session.desync = True
                self.desyncs_total += 1
                desynced.append(session_id)
                continue
            session.notes.append(note)
        return desynced

    def tick(self) -> bool:
        """Queue heartbeats if one is due; True if it was."""
        now = self.clock.monotonic()
        if now < self._next_heartbeat:
            return False
        self._next_heartbeat = now + self.heartbeat_interval
        self.notify(Heartbeat())
        return True

    def next_heartbeat(self) -> float:
        """Monotonic time of the next heartbeat."""
        return self._next_heartbeat

    def take(self, session_id: int, limit: int = TAKE_LIMIT) -> list[Note]:
        """The notes to send to this session now (empty if none, or no such session)."""
        session = self._sessions.get(session_id)
        if session is None:
            return []
        if session.desync:
            session.desync = False
            session.notes.clear()
            return [Desync()]
        out: list[Note] = []
        while session.notes and len(out) < limit:
            out.append(session.notes.popleft())
        return out


# --------------------------------------------------------------------------------------------------- backup side


class WatchState(enum.Enum):
    DISABLED = "disabled"  # not the backup, or no peer configured
    WAITING = "waiting"  # until the next attempt
    CONNECTING = "connecting"  # the shell is opening a stream
    STREAMING = "streaming"  # notes are arriving


class SyncWatcher:
    def __init__(
        self,
        clock: Clock,
        *,
        retry_interval: float = RETRY_INTERVAL,
        silence_timeout: float = SILENCE_HEARTBEATS * HEARTBEAT_INTERVAL,
    ) -> None:
        self.clock = clock
        self.retry_interval = retry_interval
        self.silence_timeout = silence_timeout
        self.state = WatchState.DISABLED
        self.in_sync = False
        self.last_error = ""
        self.error_since = 0.0  # wall time of the first failure in a row
        self.connects_total = 0
        self.notes_total = 0
        self._retry_at = 0.0
        self._last_note = 0.0

    def set_enabled(self, enabled: bool) -> bool:
        """Watch the peer (or stop); True if that changed. A newly enabled watcher connects at once."""
        if enabled == (self.state is not WatchState.DISABLED):
            return False
        if enabled:
            self.state = WatchState.WAITING
            self._retry_at = self.clock.monotonic()
        else:
            self.state = WatchState.DISABLED
            self.in_sync = False
            self.last_error = ""
            self.error_since = 0.0
        return True

    def due(self) -> bool:
        """True if the shell should open a stream now (it then calls `connecting`)."""
        return self.state is WatchState.WAITING and self.clock.monotonic() >= self._retry_at

    def connecting(self) -> None:
        self.state = WatchState.CONNECTING
        self._last_note = self.clock.monotonic()

    def received(self, note: Note) -> None:
        """A note arrived on the stream."""
        if self.state is WatchState.DISABLED:
            return
        self.state = WatchState.STREAMING
        self._last_note = self.clock.monotonic()
        self.notes_total += 1
        if isinstance(note, Desync):
            self.connects_total += 1
            self.in_sync = True
            self.last_error = ""
            self.error_since = 0.0

    def ended(self, error: str) -> None:
        """The stream ended or could not be opened; retry after `retry_interval`."""
        self.in_sync = False
        if self.state is WatchState.DISABLED:
            return
        self.state = WatchState.WAITING
        self._retry_at = self.clock.monotonic() + self.retry_interval
        if error and not self.last_error:
            self.error_since = self.clock.wall()
        self.last_error = error

    def silent(self) -> bool:
        """True if the open stream has been quiet for too long and must be dropped."""
        if self.state not in (WatchState.CONNECTING, WatchState.STREAMING):
            return False
        return self.clock.monotonic() - self._last_note >= self.silence_timeout

    def next_deadline(self) -> float | None:
        """Monotonic time at which `due` or `silent` may turn true."""
        if self.state is WatchState.WAITING:
            return self._retry_at
        if self.state in (WatchState.CONNECTING, WatchState.STREAMING):
            return self._last_note + self.silence_timeout
        return None
