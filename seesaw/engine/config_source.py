"""Where the engine's config comes from: for now, the config directory.

`DiskConfigSource.read()` reads `seesaw.cfg` and `cluster.pb` from
--config-dir and checks them together; it returns both or raises
`ConfigError` with every problem of both files (file:line:col: field:
reason), so an operator fixes everything in one go. Fetching from a config
server or the peer (Seesaw's `server` and `peer` sources) is not available
yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seesaw.config.cluster import ParsedCluster, read_cluster_file
from seesaw.config.errors import ConfigError, Problem
from seesaw.config.model import Cluster
from seesaw.config.node_check import check_node
from seesaw.config.seesaw_cfg import ParsedSettings, read_settings_file
from seesaw.config.settings import Settings

SOURCES = ("disk", "peer", "server")
AVAILABLE = ("disk",)


@dataclass(frozen=True)
class LoadedConfig:
    settings: Settings
    cluster: Cluster
    warnings: tuple[str, ...] = ()


class DiskConfigSource:
    name = "disk"

    def __init__(self, config_dir: Path) -> None:
        self.config_dir = config_dir
        self.settings_path = config_dir / "seesaw.cfg"
        self.cluster_path = config_dir / "cluster.pb"

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
        warnings: list[Problem] = []
        if parsed_settings is not None and parsed_cluster is not None:
            cross = check_node(parsed_settings, parsed_cluster)
            problems.extend(p for p in cross if p.is_error)
            warnings.extend(p for p in cross if not p.is_error)
            warnings.extend(parsed_settings.warnings)
            warnings.extend(parsed_cluster.warnings)
        if problems or parsed_settings is None or parsed_cluster is None:
            raise ConfigError(problems + warnings)
        return LoadedConfig(parsed_settings.settings, parsed_cluster.cluster, tuple(str(w) for w in warnings))
