"""Reading cluster.pb: text or binary -> validated `model.Cluster`.

The pipeline is parse (protobuf `text_format`, or the binary wire form a
config server sends), check required fields, run `seesaw.config.validate`,
and only then map with `seesaw.config.convert`. Every problem found on the
way is collected; if any is an error, `ConfigError` is raised with all of
them, placed at `file:line:col` by `seesaw.config.locate`. Nothing else is
raised, whatever the input.

`parse_cluster_text`, `load_cluster_file` and `cluster_from_bytes` return
the model; the `read_*` forms return a `ParsedCluster` that also carries the
message (for saving a server's config to disk) and the warnings.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from google.protobuf import descriptor_pool, message, text_format

from seesaw.config import model
from seesaw.config.convert import cluster_from_proto, healthcheck_from_proto
from seesaw.config.errors import ConfigError, Problem, Severity
from seesaw.config.files import read_text
from seesaw.config.locate import PositionIndex, parent_path
from seesaw.config.validate import Finding, validate_cluster, validate_healthcheck
from seesaw.pb import config_pb2

M = TypeVar("M", bound=message.Message)

_POSITION_PREFIX = re.compile(r"^\d+:\d+ : ")
_NO_ENUM_VALUE = re.compile(r'Enum type "([\w.]+)" has no value (?:named|with number) (\S+?)\.?$')
_NO_FIELD = re.compile(r'Message type "([\w.]+)" has no field named "(\w+)"\.?$')
_REQUIRED_HINTS = {
    "fqdn": 'add `fqdn: "host.example.com."`',
    "seesaw_vip": 'add `seesaw_vip { fqdn: "..." ipv4: "a.b.c.d/len" status: PRODUCTION }`',
    "name": 'add `name: "..."`',
    "rp": 'add `rp: "team@example.com"` (the responsible party)',
    "entry_address": 'add `entry_address { fqdn: "..." ipv4: "a.b.c.d/len" status: PRODUCTION }` (the VIP)',
    "protocol": "add `protocol: TCP` or `protocol: UDP`",
    "port": "add `port: <1..65535>`",
    "type": "add `type: TCP` (or ICMP_PING, UDP, HTTP, HTTPS, DNS, TCP_TLS, RADIUS, GRPC)",
    "host": 'add `host { fqdn: "..." ipv4: "a.b.c.d/len" }`',
    "vlan_id": "add `vlan_id: <1..4094>`",
    "grantee": 'add `grantee: "<user or group>"`',
    "role": "add `role: ADMIN` or `role: OPS`",
    "last_updated": "add `last_updated: <unix seconds>`",
    "value": 'add `value: "..."`',
}


@dataclass(frozen=True)
class ParsedCluster:
    cluster: model.Cluster
    proto: config_pb2.Cluster
    warnings: tuple[Problem, ...] = ()
    path: str = ""
    index: PositionIndex | None = field(default=None, compare=False, repr=False)

    def problem(self, field_path: str, reason: str, severity: Severity = Severity.ERROR) -> Problem:
        """A problem about a field of this cluster.pb, at the field's line (or its message's)."""
        return _Locator(self.path, self.index).problem(Finding(field_path, reason, severity))


def parse_cluster_text(text: str, path: str, site: str) -> model.Cluster:
    return read_cluster_text(text, path, site).cluster


def load_cluster_file(path: str | Path, site: str) -> model.Cluster:
    return read_cluster_file(path, site).cluster


def cluster_from_bytes(data: bytes, site: str, source: str) -> model.Cluster:
    return read_cluster_bytes(data, site, source).cluster


def read_cluster_text(text: str, path: str, site: str) -> ParsedCluster:
    pb, locator = _parse_text(text, path, config_pb2.Cluster)
    return _finish(pb, site, locator)


def read_cluster_file(path: str | Path, site: str) -> ParsedCluster:
    return read_cluster_text(read_text(path), str(path), site)


def read_cluster_bytes(data: bytes, site: str, source: str) -> ParsedCluster:
    pb = config_pb2.Cluster()
    try:
        pb.MergeFromString(data)
    except (message.DecodeError, ValueError, RecursionError) as err:
        raise ConfigError(
            [Problem(source, 0, 0, "", f"is not a binary Cluster message ({err}): check what the config server sent")]
        ) from None
    not_text = _non_utf8_strings(pb, "")
    if not_text:
        raise ConfigError(
            Problem(source, 0, 0, f, "is not UTF-8 text: check what the config server sent") for f in not_text
        )
    return _finish(pb, site, _Locator(source, None))


def _non_utf8_strings(pb: message.Message, prefix: str) -> list[str]:
    """Paths of string fields holding bytes: proto2 does not check UTF-8 on the
    wire, and Python then hands the raw bytes over instead of a str."""
    found: list[str] = []
    for fd, value in pb.ListFields():
        values = list(value) if fd.is_repeated else [value]
        for i, item in enumerate(values):
            path = f"{prefix}{fd.name}[{i}]" if fd.is_repeated else f"{prefix}{fd.name}"
            if fd.type == fd.TYPE_MESSAGE:
                found += _non_utf8_strings(item, f"{path}.")
            elif fd.type == fd.TYPE_STRING and not isinstance(item, str):
                found.append(path)
    return found


def read_healthcheck_text(text: str, path: str) -> model.Healthcheck:
    """A bare `Healthcheck` message (Seesaw's testdata healthcheck0-2.pb), unnamed."""
    pb, locator = _parse_text(text, path, config_pb2.Healthcheck)
    problems = locator.required(pb)
    problems += [locator.problem(f) for f in validate_healthcheck(pb, "", None)]
    if any(p.is_error for p in problems):
        raise ConfigError(problems)
    return healthcheck_from_proto(pb)


class _Locator:
    """Turns field paths into Problems for one source (text with positions, or binary without)."""

    def __init__(self, path: str, index: PositionIndex | None) -> None:
        self.path = path
        self.index = index

    def position(self, field: str) -> tuple[int, int]:
        return self.index.find(field) if self.index is not None else (0, 0)

    def problem(self, finding: Finding) -> Problem:
        reason = finding.reason
        if finding.first:
            line, _ = self.position(finding.first)
            reason += f" (first at line {line})" if line else f" (first at {finding.first})"
        line, col = self.position(finding.field)
        return Problem(self.path, line, col, finding.field, reason, finding.severity)

    def required(self, pb: message.Message) -> list[Problem]:
        problems = []
        for missing in pb.FindInitializationErrors():
            name = missing.rsplit(".", 1)[-1]
            hint = _REQUIRED_HINTS.get(name, "add it")
            where = parent_path(missing)
            what = f"in {where}" if where else "at the top level"
            problems.append(self.problem(Finding(missing, f"is required but missing {what}: {hint}", Severity.ERROR)))
        return problems


def _parse_text(text: str, path: str, cls: type[M]) -> tuple[M, _Locator]:
    pb = cls()
    index = PositionIndex(text, cls.DESCRIPTOR)
    locator = _Locator(path, index)
    try:
        text_format.Parse(text, pb)
    except text_format.ParseError as err:
        line, col = err.GetLine() or 0, err.GetColumn() or 0
        field = index.field_at(line, col) if line else ""
        raise ConfigError([Problem(path, line, col, field, _explain(str(err), text, line))]) from None
    except (ValueError, RecursionError, UnicodeError) as err:
        raise ConfigError([Problem(path, 0, 0, "", f"cannot be parsed as protobuf text: {err}")]) from None
    return pb, locator


def _finish(pb: config_pb2.Cluster, site: str, locator: _Locator) -> ParsedCluster:
    problems = locator.required(pb)
    problems += [locator.problem(f) for f in validate_cluster(pb)]
    if any(p.is_error for p in problems):
        raise ConfigError(problems)
    warnings = tuple(sorted(problems, key=lambda p: (p.line, p.col, p.field)))
    return ParsedCluster(cluster_from_proto(pb, site), pb, warnings, locator.path, locator.index)


def _explain(raw: str, text: str, line: int) -> str:
    """protobuf's parse error, without its position prefix and line echo, plus a hint."""
    reason = _POSITION_PREFIX.sub("", raw)
    lines = text.splitlines()
    if 0 < line <= len(lines) and reason.startswith(f"'{lines[line - 1]}': "):
        reason = reason[len(lines[line - 1]) + 4 :]
    if match := _NO_ENUM_VALUE.search(reason):
        values = _enum_values(match.group(1))
        if values:
            reason = f"{reason.rstrip('.')}; use one of {', '.join(values)}"
    elif match := _NO_FIELD.search(reason):
        fields = _field_names(match.group(1))
        close = difflib.get_close_matches(match.group(2), fields, n=1)
        hint = f"did you mean {close[0]}?" if close else f"known fields are {', '.join(fields)}"
        reason = f"{reason.rstrip('.')}; {hint}"
    return reason


def _enum_values(full_name: str) -> list[str]:
    try:
        enum = descriptor_pool.Default().FindEnumTypeByName(full_name)
    except KeyError:
        return []
    return [v.name for v in enum.values]


def _field_names(full_name: str) -> list[str]:
    try:
        msg = descriptor_pool.Default().FindMessageTypeByName(full_name)
    except KeyError:
        return []
    return [f.name for f in msg.fields]
