"""cluster.pb written from a config server or the peer: atomically, with the
previous version archived.

`save` renders the Cluster message in text format (what an operator reads
and what a `disk` source reads back), headed by a comment naming where it
came from. It writes a temporary file in the same directory, fsyncs it and
renames it over cluster.pb, so a crash leaves the old file or the new one,
never half of one. The file it replaces is first copied to
`<config-dir>/archive/cluster.pb.<unix seconds>` (as Seesaw v2 does), and
the archive is pruned to the newest `keep` copies (Seesaw bounded it by age,
size and a count of 1500; a count alone is simpler to reason about).
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from pathlib import Path

from google.protobuf import text_format

from seesaw.common.atomic_file import write_atomically
from seesaw.pb import config_pb2

log = logging.getLogger(__name__)

ARCHIVE_DIR = "archive"
_ARCHIVED = re.compile(r"^(?P<name>.+?)\.(?P<stamp>\d+)(?:\.(?P<n>\d+))?$")


def render(cluster: config_pb2.Cluster, origin: str, now: float) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now))
    header = (
        f"# Written by seesaw-engine from {origin} at {stamp}.\n"
        "# The config source is not `disk`: this file is replaced whenever that source changes;\n"
        "# earlier versions are in the archive/ directory beside it.\n"
    )
    return header + text_format.MessageToString(cluster)


def save(path: Path, cluster: config_pb2.Cluster, origin: str, *, keep: int, now: float, archive: bool = True) -> bool:
    """Write `cluster` to `path`; False if the file already holds that config (nothing is written).

    Raises OSError if the file cannot be written; the old file is then untouched.
    """
    try:
        old = path.read_text()
    except FileNotFoundError:
        old = None
    except (OSError, UnicodeError):
        old = ""  # unreadable: archive it as it is, and replace it
    if old is not None and _same_config(old, cluster):
        return False
    if old is not None and archive and keep > 0:
        archive_copy(path, now)
    write_atomically(path, render(cluster, origin, now))
    if keep >= 0:
        prune(path.parent / ARCHIVE_DIR, path.name, keep)
    return True


def _same_config(text: str, cluster: config_pb2.Cluster) -> bool:
    current = config_pb2.Cluster()
    try:
        text_format.Parse(text, current)
    except (text_format.ParseError, ValueError, UnicodeError, RecursionError):
        return False
    return current == cluster


def archive_copy(path: Path, now: float) -> Path:
    """Copy `path` into the archive beside it, named for the time; returns the copy."""
    folder = path.parent / ARCHIVE_DIR
    folder.mkdir(mode=0o750, exist_ok=True)
    stamp = int(now)
    taken = [_sequence(p) for p in archived(folder, path.name) if _stamp(p) == stamp]
    # A later copy of the same second sorts after the earlier ones, even after pruning.
    target = folder / (f"{path.name}.{stamp}.{max(taken) + 1}" if taken else f"{path.name}.{stamp}")
    shutil.copy2(path, target)
    return target


def _stamp(copy: Path) -> int:
    match = _ARCHIVED.match(copy.name)
    return int(match.group("stamp")) if match else -1


def _sequence(copy: Path) -> int:
    match = _ARCHIVED.match(copy.name)
    return int(match.group("n") or 0) if match else 0


def archived(folder: Path, name: str) -> list[Path]:
    """The archived copies of `name`, oldest first."""
    found: list[tuple[int, int, Path]] = []
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return []
    for entry in entries:
        match = _ARCHIVED.match(entry.name)
        if match and match.group("name") == name:
            found.append((int(match.group("stamp")), int(match.group("n") or 0), entry))
    return [p for _, _, p in sorted(found)]


def prune(folder: Path, name: str, keep: int) -> list[Path]:
    """Remove all but the newest `keep` archived copies of `name`; returns what was removed."""
    copies = archived(folder, name)
    removed = copies[: max(len(copies) - keep, 0)]
    for old in removed:
        try:
            old.unlink()
        except OSError as err:
            log.warning("cannot prune the config archive: %s: %s", old, err.strerror)
    return removed
