"""LinkFaults: which check runs overlapped a fault of this node's own link."""

from __future__ import annotations

from seesaw.engine.link_faults import LinkFaults


def test_no_fault_no_overlap() -> None:
    faults = LinkFaults()
    assert not faults.ongoing and not faults.overlaps(0, 100)


def test_a_run_overlapping_an_ongoing_fault() -> None:
    faults = LinkFaults()
    assert not faults.update("no carrier", 10)
    assert faults.ongoing
    assert faults.overlaps(9, 10) and faults.overlaps(11, 12)
    assert not faults.overlaps(5, 9.9)  # finished before it began


def test_a_fault_that_ended() -> None:
    faults = LinkFaults()
    faults.update("no carrier", 10)
    assert not faults.update("still no carrier", 11)  # the same fault: its start stays
    assert faults.update("", 12)  # ended
    assert not faults.ongoing and not faults.update("", 13)
    assert faults.overlaps(11.5, 13)  # began during it
    assert faults.overlaps(9, 13)  # spans it
    assert faults.overlaps(9, 10)  # ended as it began
    assert not faults.overlaps(12.1, 13) and not faults.overlaps(1, 9)


def test_only_recent_faults_are_kept() -> None:
    faults = LinkFaults(keep=2)
    for start in (10, 20, 30):
        faults.update("down", start)
        faults.update("", start + 1)
    assert not faults.overlaps(10, 10.5)
    assert faults.overlaps(20, 20.5) and faults.overlaps(30, 30.5)


def test_an_end_reported_before_its_start_is_an_empty_span() -> None:
    faults = LinkFaults()
    faults.update("down", 10)
    faults.update("", 9)  # clocks: the span never runs backwards
    assert faults.overlaps(10, 10) and not faults.overlaps(10.1, 11)


def test_the_span_a_run_overlapped_is_named_by_its_start() -> None:
    faults = LinkFaults()
    faults.update("down", 10)
    faults.update("", 12)
    faults.update("down", 20)
    assert faults.span(11, 13) == 10 and faults.span(19, 21) == 20 and faults.span(13, 14) is None
