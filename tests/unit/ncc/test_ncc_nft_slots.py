"""Slot layouts of the nftables dataplane: IPVS schedulers as slots picked by numgen or a hash."""

import collections

import pytest

from seesaw.ncc.kernel import nft_slots


def test_rr_gives_each_active_destination_one_slot_whatever_its_weight():
    assert nft_slots.layout("rr", [("a", 5), ("b", 1), ("c", 0)]) == ["a", "b"]


def test_wrr_interleaves_slots_by_weight():
    assert nft_slots.layout("wrr", [("a", 3), ("b", 1)]) == ["a", "a", "b", "a"]
    assert nft_slots.layout("wrr", [("a", 2), ("b", 1), ("c", 1)]) == ["a", "b", "c", "a"]


def test_weights_are_reduced_by_their_gcd():
    assert nft_slots.layout("wlc", [("a", 60), ("b", 20)]) == ["a", "a", "b", "a"]


def test_no_active_destination_means_no_slot():
    assert nft_slots.layout("wrr", [("a", 0), ("b", 0)]) == []
    assert nft_slots.layout("mh", []) == []


def test_large_weights_are_scaled_into_the_slot_limit_keeping_everyone():
    counts = nft_slots.slot_counts([1000, 1, 999, 7])
    assert sum(counts) == nft_slots.MAX_SLOTS
    assert min(counts) >= 1
    assert counts[0] > counts[2] > counts[3] >= counts[1]


def test_too_many_destinations_do_not_fit():
    with pytest.raises(ValueError, match="do not fit"):
        nft_slots.slot_counts([1] * 3 + [2] * (nft_slots.MAX_SLOTS - 1))


def test_maglev_fills_its_table_in_proportion_to_weights():
    slots = nft_slots.layout("mh", [("a", 1), ("b", 1), ("c", 2)])
    counts = collections.Counter(slots)
    assert len(slots) == nft_slots.MH_SLOTS
    assert abs(counts["c"] - 2 * counts["a"]) <= 3 and abs(counts["a"] - counts["b"]) <= 2


def test_maglev_moves_few_slots_when_a_destination_goes():
    members = [(f"10.0.0.{n}", 1) for n in range(1, 6)]
    before = nft_slots.layout("mh", members)
    after = nft_slots.layout("mh", members[:-1])
    moved = sum(1 for old, new in zip(before, after, strict=True) if old != new and old != members[-1][0])
    assert moved <= nft_slots.MH_SLOTS // 10  # only the removed one's slots must move, and a few more


def test_layouts_are_deterministic():
    members = [(f"10.0.0.{n}", n % 3 + 1) for n in range(1, 9)]
    for scheduler in ("rr", "wrr", "sh", "mh"):
        assert nft_slots.layout(scheduler, members) == nft_slots.layout(scheduler, list(members))
