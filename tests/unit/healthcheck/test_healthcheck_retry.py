"""Seesaw's result -> state rule (TestCheckRetries) and the batching rule, both pure."""

import pytest

from seesaw.healthcheck.batch import Batcher
from seesaw.healthcheck.retry import Health, RetryState, Transition


def test_check_retries():
    """Seesaw's TestCheckRetries, step by step."""
    hc = RetryState(retries=5)
    notifications = []

    def run(ok):
        transition = hc.observe(ok)
        if transition is not None:
            notifications.append(transition.new)

    assert hc.state == Health.UNKNOWN
    run(False)  # unknown -> unhealthy at once
    assert hc.state == Health.UNHEALTHY
    run(True)  # unhealthy -> healthy at once
    assert hc.state == Health.HEALTHY
    run(False)  # a single failure is a retry
    assert hc.state == Health.HEALTHY
    run(True)
    for _ in range(hc.retries):
        run(False)
    assert hc.state == Health.HEALTHY, "retries consecutive failures keep HEALTHY"
    run(False)
    assert hc.state == Health.UNHEALTHY, "retries + 1 consecutive failures make UNHEALTHY"
    assert notifications == [Health.UNHEALTHY, Health.HEALTHY, Health.UNHEALTHY]


@pytest.mark.parametrize(
    ("retries", "results", "states"),
    [
        (0, "F", "U"),
        (0, "S", "H"),
        (3, "F", "U"),  # grace needs HEALTHY: from UNKNOWN the first failure applies
        (0, "SF", "HU"),
        (1, "SFF", "HHU"),
        (1, "SFSF", "HHHH"),  # a success resets the count
        (2, "SFFSFFF", "HHHHHHU"),
        (2, "FFFS", "UUUH"),
    ],
)
def test_retry_table(retries, results, states):
    hc = RetryState(retries=retries)
    seen = ""
    for r in results:
        hc.observe(r == "S")
        seen += hc.state.name[0]
    assert seen == states
    assert hc.successes == results.count("S")
    assert hc.failures == results.count("F")


def test_only_transitions_are_news():
    hc = RetryState()
    assert hc.observe(True) == Transition(Health.UNKNOWN, Health.HEALTHY)
    assert hc.observe(True) is None
    assert hc.observe(False) == Transition(Health.HEALTHY, Health.UNHEALTHY)
    assert hc.observe(False) is None
    assert hc.consecutive_failures == 2


def test_health_values_are_the_wire_values():
    from seesaw.pb import common_pb2

    assert [int(h) for h in Health] == [
        common_pb2.HEALTH_UNKNOWN,
        common_pb2.HEALTH_UNHEALTHY,
        common_pb2.HEALTH_HEALTHY,
    ]


def test_batcher_flushes_on_size():
    b = Batcher(max_items=3, max_delay=0.1)
    assert not b.add(1, "a", now=10.0)
    assert not b.add(2, "b", now=10.0)
    assert b.add(3, "c", now=10.0)
    assert b.ready(10.0)
    assert b.take() == ["a", "b", "c"]
    assert len(b) == 0 and b.deadline() is None and not b.ready(99.0)


def test_batcher_flushes_on_delay_after_first():
    b = Batcher(max_items=100, max_delay=0.1)
    b.add(1, "a", now=10.0)
    b.add(2, "b", now=10.05)
    assert b.deadline() == pytest.approx(10.1)
    assert not b.ready(10.09)
    assert b.ready(10.1)


def test_batcher_keeps_latest_per_key_in_first_place():
    b = Batcher(max_items=100, max_delay=0.1)
    b.add(1, "down", now=0.0)
    b.add(2, "x", now=0.0)
    b.add(1, "up", now=0.01)
    assert b.take() == ["up", "x"]
