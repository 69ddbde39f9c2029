"""The timetable on its own: times in, checks out (no loop, no sockets)."""

import itertools
import random
from dataclasses import dataclass, field

import pytest

from seesaw.healthcheck.timetable import Timetable, next_due

_ids = itertools.count(1)


@dataclass(eq=False)
class Item:
    interval: float
    due: float = 0.0
    generation: int = 0
    started: float = 0.0
    id: int = field(default_factory=lambda: next(_ids))


class Registry(dict):
    """Checks by id, as the scheduler keeps them; the timetable looks them up."""

    def __call__(self, *items):
        for item in items:
            self[item.id] = item
        return items[0] if len(items) == 1 else items


def table_of(rng=None):
    registry = Registry()
    return Timetable(registry.get, rng), registry


def drain(table, now):
    out = []
    while (job := table.pop_due(now)) is not None:
        out.append(job)
    return out


def test_first_runs_spread_evenly_over_the_first_interval():
    table, known = table_of(random.Random(7))
    items = known(*[Item(10.0) for _ in range(10_000)])
    for item in items:
        table.add(item, 100.0)
    dues = sorted(item.due for item in items)
    assert dues[0] >= 100.0 and dues[-1] < 110.0
    per_second = [sum(1 for d in dues if 100 + s <= d < 101 + s) for s in range(10)]
    assert all(900 < n < 1100 for n in per_second), per_second  # even: no start-up ramp, no burst


def test_pop_due_hands_out_in_due_order_and_requeues_one_interval_on():
    table, known = table_of()
    a, b = known(Item(1.0), Item(2.0))
    table.place(a, 0.3)
    table.place(b, 0.1)
    assert table.pop_due(0.05) is None
    assert table.next_due() == 0.1
    assert drain(table, 0.5) == [(b, 0.1), (a, 0.3)]
    assert (a.due, b.due) == (1.3, 2.1)
    assert drain(table, 1.3) == [(a, 1.3)]
    assert a.due == pytest.approx(2.3)


def test_missed_intervals_are_skipped_keeping_the_phase():
    """A stalled loop does not run a check back to back to catch up."""
    table, known = table_of()
    item = known(Item(1.0))
    table.place(item, 5.25)
    assert drain(table, 8.9) == [(item, 5.25)], "one run, not four"
    assert item.due == pytest.approx(9.25), "the next due keeps the .25 phase"
    assert next_due(5.0, 1.0, 5.5) == 6.0
    assert next_due(5.0, 1.0, 6.0) == 7.0, "a due time equal to now has passed"


def test_retime_runs_one_new_interval_after_the_last_start():
    table, known = table_of()
    item = known(Item(1.0))
    table.place(item, 1.0)
    drain(table, 1.0)
    item.started = 1.0
    item.interval = 5.0
    table.retime(item, 1.5)
    assert item.due == 6.0
    assert drain(table, 5.9) == []
    assert drain(table, 6.0) == [(item, 6.0)]
    # A start longer ago than the new interval: run now.
    item.started, item.interval = 6.0, 0.5
    table.retime(item, 10.0)
    assert item.due == 10.0


def test_retime_of_a_check_that_never_started_spreads_it_again():
    table, known = table_of(random.Random(1))
    item = known(Item(1.0))
    table.add(item, 0.0)
    item.interval = 60.0
    table.retime(item, 0.0)
    assert 0.0 <= item.due < 60.0
    assert len(table) == 1
    assert len(drain(table, 60.0)) == 1, "one live entry: the old one went stale"


def test_dropped_checks_are_never_handed_out_and_stale_entries_are_compacted():
    table, known = table_of()
    items = known(*[Item(1.0) for _ in range(5000)])
    for i, item in enumerate(items):
        table.place(item, i / 5000)
    for item in items[:4000]:
        del known[item.id]  # the scheduler forgets a removed check, then drops it
        table.drop(item)
    assert len(table) == 1000
    assert len(table._heap) <= 2 * 1000 + 1024, "stale entries do not pile up"
    handed = drain(table, 1.0)
    assert {id(item) for item, _ in handed} == {id(item) for item in items[4000:]}
    table.drop(items[0])  # dropping twice is harmless
    assert len(table) == 1000


def test_a_check_gone_from_the_lookup_is_never_handed_out():
    """The scheduler's dict is the truth: an entry whose id it no longer knows is stale."""
    table, known = table_of()
    gone, kept = known(Item(1.0), Item(1.0))
    table.place(gone, 0.1)
    table.place(kept, 0.2)
    del known[gone.id]
    assert drain(table, 1.0) == [(kept, 0.2)]


def test_entries_are_numbers_only():
    """So the garbage collector never tracks them: no per-run object ages into its old generation."""
    import gc

    table, known = table_of()
    item = known(Item(1.0))
    table.place(item, 0.5)
    table.pop_due(0.5)
    gc.collect()
    assert not any(gc.is_tracked(entry) for entry in table._heap)
