"""Where the engine's config comes from: the config directory, a config
server, or the peer (Seesaw's `disk`, `server` and `peer` sources).

seesaw.cfg (this node's own settings) is always read from --config-dir. The
cluster config comes from the source:

* `disk`: cluster.pb in --config-dir (`DiskConfigSource.read`);
* `server`: a binary `Cluster` from a config server (`seesaw.engine.fetcher`);
* `peer`: the binary `Cluster` the master runs, over the sync channel
  (`seesaw.engine.sync_client`).

Either way the two files are checked together, and every problem of both is
raised at once as `ConfigError` (file:line:col: field: reason), so an
operator fixes everything in one go. `BinaryConfigParser` is what the
remote sources hand their bodies to: it also refuses a config older than
the running one (`last_updated` never goes backwards, for the server
source as in Seesaw v2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seesaw.config.cluster import ParsedCluster, read_cluster_bytes, read_cluster_file
from seesaw.config.errors import ConfigError, Problem
from seesaw.config.model import Cluster
from seesaw.config.node_check import check_node
from seesaw.config.seesaw_cfg import ParsedSettings, read_settings_file
from seesaw.config.settings import Settings
from seesaw.engine.fetcher import Rejected
from seesaw.pb import config_pb2

SOURCES = ("disk", "peer", "server")


@dataclass(frozen=True)
class LoadedConfig:
    settings: Settings
    cluster: Cluster
    warnings: tuple[str, ...] = ()
    proto: config_pb2.Cluster | None = None  # the message, for the peer and for saving to cluster.pb
    origin: str = ""  # the file, URL or peer it came from


def combine(parsed_settings: ParsedSettings, parsed_cluster: ParsedCluster, origin: str) -> LoadedConfig:
    """Both files checked together; ConfigError with every error (and warning) if they do not fit."""
    cross = check_node(parsed_settings, parsed_cluster)
    problems = [p for p in cross if p.is_error]
    warnings = [p for p in cross if not p.is_error]
    warnings.extend(parsed_settings.warnings)
    warnings.extend(parsed_cluster.warnings)
    if problems:
        raise ConfigError(problems + warnings)
    return LoadedConfig(
        parsed_settings.settings,
        parsed_cluster.cluster,
        tuple(str(w) for w in warnings),
        parsed_cluster.proto,
        origin,
    )


class DiskConfigSource:
    name = "disk"

    def __init__(self, config_dir: Path) -> None:
        self.config_dir = config_dir
        self.settings_path = config_dir / "seesaw.cfg"
        self.cluster_path = config_dir / "cluster.pb"

    def read_settings(self) -> ParsedSettings:
        """seesaw.cfg alone (the remote sources need it to know whom to ask); ConfigError if bad."""
        return read_settings_file(self.settings_path)

    def read(self) -> LoadedConfig:
        problems: list[Problem] = []
        parsed_settings: ParsedSettings | None = None
        parsed_cluster: ParsedCluster | None = None
        try:
            parsed_settings = read_settings_file(self.settings_path)
        except ConfigError as err:
            problems.extend(err.problems)
        site = parsed_settings.settings.cluster_name if parsed_settings is not None else ""
        try:
            parsed_cluster = read_cluster_file(self.cluster_path, site)
        except ConfigError as err:
            problems.extend(err.problems)
        if problems or parsed_settings is None or parsed_cluster is None:
            raise ConfigError(problems)
        return combine(parsed_settings, parsed_cluster, str(self.cluster_path))


class BinaryConfigParser:
    """Turns a remote source's body into a `LoadedConfig`, or raises `Rejected` saying why not.

    With `not_older_than`, a config whose metadata.last_updated is older than
    that is refused: a server that went back in time must not roll a cluster back.
    """

    def __init__(self, settings: ParsedSettings, not_older_than: int | None = None) -> None:
        self.settings = settings
        self.not_older_than = not_older_than

    def __call__(self, body: bytes, origin: str) -> LoadedConfig:
        site = self.settings.settings.cluster_name
        try:
            loaded = combine(self.settings, read_cluster_bytes(body, site, origin), origin)
        except ConfigError as err:
            errors = err.errors or err.problems
            more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
            raise Rejected(f"{errors[0]}{more}") from None
        last_updated = loaded.cluster.metadata.last_updated
        if self.not_older_than is not None and last_updated < self.not_older_than:
            raise Rejected(
                f"it is older than the running config (metadata.last_updated {last_updated} < "
                f"{self.not_older_than}); a config never goes backwards: publish a newer one"
            )
        return loaded
