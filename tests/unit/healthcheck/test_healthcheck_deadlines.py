"""The deadline heap on its own: runs in flight, their deadlines, which ones expired."""

import gc
import itertools
from dataclasses import dataclass, field

from seesaw.healthcheck.deadlines import Deadlines

_ids = itertools.count(1)


@dataclass(eq=False)
class Run:
    running: bool = False
    started: float = 0.0
    id: int = field(default_factory=lambda: next(_ids))


def deadlines_of(*runs):
    known = {run.id: run for run in runs}
    return Deadlines(known.get), known


def start(deadlines, run, now, timeout):
    run.running, run.started = True, now
    deadlines.add(run, now + timeout)


def test_expired_returns_only_runs_still_going_past_their_deadline():
    slow, quick, later = Run(), Run(), Run()
    d, _ = deadlines_of(slow, quick, later)
    start(d, slow, 0.0, 1.0)
    start(d, quick, 0.1, 1.0)
    start(d, later, 0.2, 5.0)
    quick.running = False  # finished in time
    assert d.next() == 1.0
    assert d.expired(0.99) == []
    assert d.expired(1.1) == [slow]
    assert d.next() == 5.2, "the finished run's deadline is skipped"
    assert d.expired(6.0) == [later]
    assert d.next() is None and len(d) == 0


def test_a_check_that_started_again_is_not_expired_by_its_previous_run():
    run = Run()
    d, _ = deadlines_of(run)
    start(d, run, 0.0, 1.0)
    run.running = False
    start(d, run, 0.5, 1.0)  # the next run of the same check
    assert d.expired(1.2) == [], "the first run's deadline belongs to a run that is over"
    assert d.expired(1.5) == [run]


def test_stale_entries_behind_a_long_run_are_compacted():
    hung = Run()
    d, known = deadlines_of(hung)
    start(d, hung, 0.0, 1000.0)
    for i in range(10_000):
        run = Run()
        known[run.id] = run
        start(d, run, i / 1000, 5000.0)
        run.running = False  # each one finishes at once
    assert d.next() == 1000.0
    assert len(d) <= 2049, f"{len(d)} entries kept for one run in flight"
    assert d.expired(2000.0) == [hung]


def test_a_removed_check_has_no_deadline_and_entries_are_numbers_only():
    run = Run()
    d, known = deadlines_of(run)
    start(d, run, 0.0, 1.0)
    gc.collect()
    assert not any(gc.is_tracked(entry) for entry in d._heap), "out of the garbage collector's sight"
    del known[run.id]
    assert d.next() is None and d.expired(2.0) == []
