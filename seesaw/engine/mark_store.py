"""The fwmark vservers' marks on disk: <run-dir>/engine/marks.json.

A vserver with `use_fwm` gets a firewall mark from the allocator (lowest free
first, marks.py), and the dataplane's services and VIP filters are keyed by
it. Allocated afresh after a restart, the marks would follow the config's
order, not the past: once a vserver had been removed, the next restart would
renumber those after it, and NCC would replace their services (their
connections with them). So the marks are written here whenever they change
and read once at start (engine.keep_vserver_marks), and each vserver gets
its mark back. A missing file is a first start; an unreadable one is
reported, and the marks are allocated afresh.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from seesaw.common.atomic_file import write_atomically

FILENAME = "marks.json"

Marks = dict[str, dict[int, int]]  # vserver name -> address family (4 or 6) -> mark


class MarkStoreError(Exception):
    """The marks file exists but cannot be used; the text says why and what happens."""


def load(path: Path) -> Marks:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise MarkStoreError(f"cannot read {path}: {err.strerror}; fwmark vservers get marks afresh") from None
    try:
        return _parse(json.loads(text))
    except ValueError as err:
        raise MarkStoreError(
            f"{path} is not a valid marks file ({err}); fwmark vservers get marks afresh (and it is rewritten)"
        ) from None


def save(path: Path, marks: Mapping[str, Mapping[int, int]]) -> None:
    document = {"vservers": {name: {f"ipv{af}": mark for af, mark in sorted(by.items())} for name, by in marks.items()}}
    write_atomically(path, json.dumps(document, indent=2, sort_keys=True) + "\n")


def _parse(document: object) -> Marks:
    if not isinstance(document, dict) or not isinstance(document.get("vservers"), dict):
        raise ValueError('expected {"vservers": {name: {"ipv4": mark, "ipv6": mark}}}')
    marks: Marks = {}
    for name, by_family in document["vservers"].items():
        if not isinstance(by_family, dict):
            raise ValueError(f"vserver {name!r}: expected its marks by family")
        for key, mark in by_family.items():
            if key not in ("ipv4", "ipv6") or not isinstance(mark, int) or isinstance(mark, bool) or mark <= 0:
                raise ValueError(f"vserver {name!r}: {key!r}: {mark!r} is not a family and a mark")
            marks.setdefault(str(name), {})[int(key[3:])] = mark
    return marks
