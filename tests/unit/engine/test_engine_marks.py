"""Firewall marks: the allocator's held marks (a restart's, each for its own vserver) and marks.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seesaw.common.clock import FakeClock
from seesaw.engine import mark_store
from seesaw.engine.config_source import DiskConfigSource
from seesaw.engine.core import Engine
from seesaw.engine.marks import MarkAllocator
from seesaw.engine.runtime import EngineRuntime


def test_held_marks_go_only_to_who_asks_for_them_and_the_rest_go_free():
    alloc = MarkAllocator(256, 10)
    alloc.hold({257, 259, 9999})  # 9999: outside the range, ignored
    assert alloc.get() == 256  # lowest free, skipping the held ones
    assert alloc.get() == 258
    assert alloc.get(prefer=259) == 259
    assert alloc.get(prefer=300) == 260  # not held: lowest free
    alloc.release_held()  # 257 was never claimed
    assert alloc.get() == 257
    alloc.hold({256})  # in use: not held
    alloc.put(256)
    assert alloc.get(prefer=256) == 256  # free, but not held: the lowest free is 256 anyway
    assert alloc.in_use() == 5


def test_reserving_a_held_mark_takes_it_out_of_the_held_ones():
    alloc = MarkAllocator(256, 4)
    alloc.hold({256})
    alloc.reserve({256})
    alloc.release_held()
    assert [alloc.get(), alloc.get(), alloc.get()] == [257, 258, 259]


def test_the_store_round_trips_and_a_missing_file_is_a_first_start(tmp_path: Path):
    path = tmp_path / "engine" / mark_store.FILENAME
    assert mark_store.load(path) == {}
    mark_store.save(path, {"web@x": {4: 256, 6: 257}, "dns@x": {4: 300}})
    assert mark_store.load(path) == {"web@x": {4: 256, 6: 257}, "dns@x": {4: 300}}
    assert json.loads(path.read_text())["vservers"]["web@x"] == {"ipv4": 256, "ipv6": 257}


@pytest.mark.parametrize(
    "text",
    ["not json", "[]", '{"vservers": []}', '{"vservers": {"a": {"ipv5": 1}}}', '{"vservers": {"a": {"ipv4": "x"}}}'],
)
def test_a_bad_file_is_reported_with_what_happens(tmp_path: Path, text: str):
    path = tmp_path / mark_store.FILENAME
    path.write_text(text)
    with pytest.raises(mark_store.MarkStoreError) as raised:
        mark_store.load(path)
    assert str(path) in str(raised.value) and "get marks afresh" in str(raised.value)


def test_the_restored_marks_stay_on_disk_until_the_first_config_claims_them(tmp_path: Path):
    """A change the runtime persists before the first config (no vserver yet) must not wipe marks.json: an
    engine that died then would start afresh next time."""
    path = tmp_path / mark_store.FILENAME
    mark_store.save(path, {"web@x": {4: 300}})
    engine = Engine(None, FakeClock())
    runtime = EngineRuntime(engine, DiskConfigSource(tmp_path / "etc"), marks_path=path)
    runtime.restore_marks()
    assert engine.keeps_marks
    runtime.changed()
    assert mark_store.load(path) == {"web@x": {4: 300}}
