"""Operator overrides on disk: <run-dir>/engine/overrides.json.

Written atomically (temporary file, fsync, rename) after every change, read
once at start, so an override survives an engine restart. A missing file is
no overrides; an unreadable one is reported and left in place for the
operator to inspect (it is replaced at the next override).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from seesaw.common.atomic_file import write_atomically
from seesaw.engine.overrides import Overrides

log = logging.getLogger(__name__)

FILENAME = "overrides.json"


class OverrideStoreError(Exception):
    """The overrides file exists but cannot be used; the text says why and what to do."""


def load(path: Path) -> Overrides:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return Overrides()
    except OSError as err:
        raise OverrideStoreError(f"cannot read {path}: {err.strerror}; starting without overrides") from None
    try:
        return Overrides.from_json(json.loads(text))
    except ValueError as err:
        raise OverrideStoreError(
            f"{path} is not a valid overrides file ({err}); starting without overrides. "
            "Fix or remove it, then set the overrides again"
        ) from None


def save(path: Path, overrides: Overrides) -> None:
    write_atomically(path, json.dumps(overrides.to_json(), indent=2, sort_keys=True) + "\n")
