"""The engine's last accepted state, kept across NCC restarts in <run-dir>/ncc/desired.pb.

The kernel keeps what NCC programmed when NCC restarts, so NCC must remember
what it was asked for, too: without it, a restarted NCC would not know which
of the kernel's objects are its own, and a vserver removed while NCC was down
would never be cleaned up. On start NCC takes this back as its desired state
(owning what the kernel holds of it), keeps it until the engine says
otherwise, and never flushes anything.

The file is an ApplyRequest (replace_all, with the LB interface), written
atomically: a temporary file then rename. The run dir is a tmpfs, so the
journal is forgotten on reboot, exactly like the kernel state it describes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from google.protobuf.message import DecodeError

from seesaw.common.atomic_file import write_atomically
from seesaw.ncc import convert
from seesaw.ncc.model import ObjectError, Partition, Spec
from seesaw.pb import ncc_pb2

log = logging.getLogger("seesaw.ncc")

FILENAME = "desired.pb"


def save(path: Path, partitions: Mapping[str, Iterable[Spec]]) -> None:
    data = convert.request_to_pb(partitions).SerializeToString(deterministic=True)
    write_atomically(path, data)


def load(path: Path) -> tuple[tuple[Partition, ...], list[ObjectError]]:
    """The partitions saved in `path` (none if there is no file or it is unreadable, which is logged)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return (), []
    except OSError as err:
        log.warning("cannot read %s (%s); starting with no desired state", path, err)
        return (), []
    message = ncc_pb2.ApplyRequest()
    try:
        message.ParseFromString(data)
    except DecodeError as err:
        log.warning("%s is corrupt (%s); starting with no desired state", path, err)
        return (), []
    request, errors = convert.request_from_pb(message)
    return request.partitions, errors
