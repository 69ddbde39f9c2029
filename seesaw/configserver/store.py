"""The cluster configs a config server serves: one file per cluster in a directory.

`<dir>/<cluster>.pb` holds the config of cluster `<cluster>` (the [cluster]
name of the nodes' seesaw.cfg) in protobuf text format, exactly like a
node's cluster.pb. A config is checked with the engine's own rules before
it is served, so the server never hands out a config a node would refuse
for its form; a file that does not check is not served (the nodes keep
what they run) and the problems are logged. A config without
`metadata.last_updated` is served with the file's modification time there,
so that the nodes' "never go backwards" rule has something to compare.
Files are re-read when they change (modification time or size).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from seesaw.config.cluster import read_cluster_text
from seesaw.config.errors import ConfigError

_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SUFFIX = ".pb"


class NotFound(Exception):
    """No config for that cluster; the text says where it was looked for."""


class BadConfig(Exception):
    """The cluster's file does not check; `problems` lists why, one line each."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path} is not served: " + "; ".join(problems))
        self.path = path
        self.problems = problems


@dataclass(frozen=True)
class _Entry:
    stamp: tuple[int, int]  # (mtime_ns, size)
    body: bytes


class ConfigStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def path(self, cluster: str) -> Path:
        if not _CLUSTER_NAME.match(cluster) or ".." in cluster:
            raise NotFound(f"{cluster!r} is not a cluster name")
        return self.directory / f"{cluster}{SUFFIX}"

    def clusters(self) -> list[str]:
        return sorted(p.name.removesuffix(SUFFIX) for p in self.directory.glob(f"*{SUFFIX}") if p.is_file())

    def get(self, cluster: str) -> bytes:
        """The binary Cluster message for `cluster`; NotFound or BadConfig if there is none to serve."""
        path = self.path(cluster)
        try:
            info = path.stat()
        except FileNotFoundError:
            raise NotFound(f"no config for cluster {cluster!r}: there is no {path}") from None
        stamp = (info.st_mtime_ns, info.st_size)
        with self._lock:
            entry = self._cache.get(cluster)
            if entry is not None and entry.stamp == stamp:
                return entry.body
        body = self._load(path, cluster, info.st_mtime)
        with self._lock:
            self._cache[cluster] = _Entry(stamp, body)
        return body

    def _load(self, path: Path, cluster: str, mtime: float) -> bytes:
        try:
            text = path.read_text()
        except (OSError, UnicodeError) as err:
            raise BadConfig(path, [f"cannot read it: {err}"]) from None
        try:
            parsed = read_cluster_text(text, str(path), cluster)
        except ConfigError as err:
            raise BadConfig(path, [str(p) for p in err.errors]) from None
        message = parsed.proto
        if not message.HasField("metadata"):
            message.metadata.last_updated = int(mtime)
        return message.SerializeToString()
