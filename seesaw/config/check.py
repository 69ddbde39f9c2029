"""`seesaw config check [FILE]`: read the config as the engine would, and say
what is wrong with it, without touching anything that runs.

With no FILE, the config directory's seesaw.cfg and cluster.pb are checked,
each alone and against each other. FILE may be a directory holding both, or
one file; which kind of file it is is told by its name (`*.cfg`, `*.pb`,
`cluster.pb*`) or else by its content (INI files open with a `[section]`).
A cluster.pb that is not text but a binary `Cluster` (what config servers
send) is read as such.

Output: one problem per line (`file:line:col: field: reason`; warnings say
`warning:`), then one verdict line. Exit status 0 when the config would be
accepted (warnings allowed), 1 when it would be refused.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from seesaw.config.cluster import ParsedCluster, read_cluster_bytes, read_cluster_file
from seesaw.config.errors import ConfigError, Problem, sort_key
from seesaw.config.node_check import check_node
from seesaw.config.seesaw_cfg import ParsedSettings, read_settings_file

SEESAW_CFG = "seesaw.cfg"
CLUSTER_PB = "cluster.pb"


@dataclass(frozen=True)
class CheckReport:
    checked: tuple[Path, ...]
    problems: tuple[Problem, ...]
    settings: ParsedSettings | None = None
    cluster: ParsedCluster | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors

    def verdict(self) -> str:
        files = ", ".join(str(p) for p in self.checked) or "nothing"
        counts = _plural(len(self.warnings), "warning")
        if not self.ok:
            return f"config refused: {_plural(len(self.errors), 'error')}, {counts} in {files}"
        summary = ""
        if self.cluster is not None:
            c = self.cluster.cluster
            summary = (
                f"; cluster.pb: {_plural(len(c.nodes), 'node')}, {_plural(len(c.vservers), 'vserver')}, "
                f"{_plural(len(c.vlans), 'VLAN')}"
            )
        return f"config OK: {files} ({counts}){summary}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def check_config(seesaw_cfg: Path | None, cluster_pb: Path | None) -> CheckReport:
    """Check either file or both; with both, also whether they fit together."""
    problems: list[Problem] = []
    settings: ParsedSettings | None = None
    cluster: ParsedCluster | None = None
    checked: list[Path] = []
    if seesaw_cfg is not None:
        checked.append(seesaw_cfg)
        try:
            settings = read_settings_file(seesaw_cfg)
            problems += settings.warnings
        except ConfigError as err:
            problems += err.problems
    if cluster_pb is not None:
        checked.append(cluster_pb)
        site = settings.settings.cluster_name if settings is not None else ""
        try:
            cluster = _read_cluster_any(cluster_pb, site)
            problems += cluster.warnings
        except ConfigError as err:
            problems += err.problems
    if settings is not None and cluster is not None:
        problems += check_node(settings, cluster)
    return CheckReport(tuple(checked), tuple(sorted(problems, key=sort_key)), settings, cluster)


def _read_cluster_any(path: Path, site: str) -> ParsedCluster:
    try:
        return read_cluster_file(path, site)
    except ConfigError as err:
        if not _looks_binary(path):
            raise
        try:
            return read_cluster_bytes(path.read_bytes(), site, str(path))
        except (ConfigError, OSError):
            raise err from None


def _looks_binary(path: Path) -> bool:
    """Not UTF-8, or holding control bytes that text never has."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return any(byte < 0x09 or 0x0E <= byte < 0x20 for byte in data)


def _kind(path: Path) -> str:
    """`seesaw.cfg` or `cluster.pb`, by name, else by content."""
    name = path.name.lower()
    if name.endswith(".cfg") or name.startswith("seesaw.cfg"):
        return SEESAW_CFG
    if name.endswith(".pb") or name.startswith("cluster.pb"):
        return CLUSTER_PB
    try:
        head = path.read_bytes()[:4096].decode("utf-8", errors="replace")
    except OSError:
        return CLUSTER_PB
    for line in head.splitlines():
        stripped = line.strip()
        if stripped and stripped[0] not in "#;":
            return SEESAW_CFG if stripped.startswith("[") else CLUSTER_PB
    return CLUSTER_PB


def targets(argv_file: str | None, config_dir: Path) -> tuple[Path | None, Path | None]:
    """(seesaw.cfg, cluster.pb) to check for `config check [FILE]`."""
    if argv_file is None:
        return config_dir / SEESAW_CFG, config_dir / CLUSTER_PB
    path = Path(argv_file)
    if path.is_dir():
        return path / SEESAW_CFG, path / CLUSTER_PB
    if _kind(path) == SEESAW_CFG:
        return path, None
    return None, path


def run_config_check(argv_file: str | None, config_dir: Path, out: TextIO | None = None) -> int:
    """The CLI's `config check`: print problems and a verdict; 0 if acceptable, else 1."""
    stream = out if out is not None else sys.stdout
    seesaw_cfg, cluster_pb = targets(argv_file, config_dir)
    if seesaw_cfg is not None and seesaw_cfg.name == "watchdog.cfg":
        print(
            f"{seesaw_cfg}: this is the watchdog's file; `config check` reads seesaw.cfg and cluster.pb",
            file=stream,
        )
        return 1
    report = check_config(seesaw_cfg, cluster_pb)
    for problem in report.problems:
        print(problem, file=stream)
    print(report.verdict(), file=stream)
    return 0 if report.ok else 1
