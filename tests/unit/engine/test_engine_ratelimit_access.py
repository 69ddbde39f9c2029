"""Seesaw's notifier_test.go TestRateLimit and access_test.go TestVserverAccess."""

from __future__ import annotations

import pytest
from engine_fixtures import load

from seesaw.engine.access import VserverAccess
from seesaw.engine.ratelimit import pending_changes, rate_limit


def names(start: int, count: int) -> list[str]:
    return [f"vs-{i:02d}" for i in range(start, start + count)]


@pytest.mark.parametrize(
    ("desc", "old", "new", "want_len"),
    [
        ("no rate limit", names(1, 10), names(1, 19), 19),
        ("create is skipped", names(1, 5), names(1, 2) + names(6, 8), 2),
        ("deletion is rate limited", names(1, 11), [], 1),
        ("creation is rate limited", names(1, 3), names(1, 14), 13),
        ("old is nil", [], names(1, 14), 10),
    ],
)
def test_rate_limit(desc: str, old: list[str], new: list[str], want_len: int) -> None:
    limited = rate_limit({n: f"new-{n}" for n in new}, {n: f"old-{n}" for n in old})
    assert len(limited) == want_len, desc


def test_rate_limit_keeps_running_configs_while_deleting_and_converges() -> None:
    old = {n: "old" for n in names(1, 5)}
    new = {n: "new" for n in names(1, 2) + names(6, 8)}
    step = rate_limit(new, old)
    assert step == {"vs-01": "old", "vs-02": "old"}  # deletions first, nothing else changes meanwhile
    steps = 1
    while step != new:
        step = rate_limit(new, step)
        steps += 1
    assert steps == 2
    assert pending_changes(new, step) == (0, 0)
    assert pending_changes(new, old) == (8, 3)


def test_rate_limit_zero_means_unlimited() -> None:
    new = {n: 1 for n in names(1, 30)}
    assert rate_limit(new, {}, limit=0) == new
    assert len(rate_limit(new, {}, limit=3)) == 3


def test_vserver_access() -> None:
    vserver = "dns.resolver.anycast@au-syd"
    users = ["user1", "user2", "user3", "user4"]
    empty = VserverAccess()
    for user in users:
        assert empty.has_access(vserver, user)[0] is False  # fails closed
    access = VserverAccess.from_cluster(load("vserver_access_1.pb", "tst"))
    for user in users:
        allowed, _ = access.has_access(vserver, user)
        assert allowed, user
    assert access.has_access(vserver, "user1")[1] == "user:user1"
    assert access.has_access(vserver, "user2")[1] == "group:sre-group1"
    assert access.has_access(vserver, "user5")[0] is False
    assert access.warnings == []
