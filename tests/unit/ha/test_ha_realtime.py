"""HA's realtime scheduling: SCHED_RR on the calling thread, back to SCHED_OTHER, refusals explained."""

import os
import threading

import pytest

from seesaw.ha.realtime import set_realtime


def in_thread(*priorities: int) -> list[tuple[str, int, int]]:
    """Apply each priority in turn on a thread of its own; (error, policy, priority) after each."""
    seen: list[tuple[str, int, int]] = []

    def body() -> None:
        for priority in priorities:
            error = set_realtime(priority)
            seen.append((error, os.sched_getscheduler(0), os.sched_getparam(0).sched_priority))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    return seen


def test_out_of_range_is_refused_with_the_range():
    assert "use 1..99, or 0 for none" in set_realtime(100)
    assert "out of range" in set_realtime(-1)


def test_realtime_and_back_on_the_calling_thread_only():
    before = os.sched_getscheduler(0)
    seen = in_thread(20, 20, 0)
    if seen[0][0]:
        assert "not permitted" in seen[0][0] or "cannot run HA" in seen[0][0]
        pytest.skip(f"realtime scheduling is not permitted here: {seen[0][0]}")
    assert seen == [("", os.SCHED_RR, 20), ("", os.SCHED_RR, 20), ("", os.SCHED_OTHER, 0)]
    assert os.sched_getscheduler(0) == before  # the test's own thread is untouched
