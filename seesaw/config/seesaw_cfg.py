"""Reading seesaw.cfg (INI) into `settings.Settings`.

Seesaw v2's sections and keys keep their meaning and defaults (reference
seesaw.md section 2.1), except `anycast_enabled`, which defaults to false.
The keys this project adds:

    [dataplane] backend = auto | ipvs | nftables | sim
    [ha]        advert_interval_ms, preempt, format = seesaw | rfc5798, unicast_peer(s),
                takeover_skew, make_before_break, realtime_priority (0..99),
                priorities = seesaw | adjacent
    [interface] dummy, routing_table (1..250, as NCC requires)
    [engine]    max_vserver_changes, max_delete_share, sync_port, sync_cert, sync_key, sync_ca,
                config_source, config_check_interval_sec, config_archive_keep
    [config_server] port, ca_cert, timeout_sec (beside Seesaw's primary, secondary, tertiary)
    [ecu]       control_port, monitor_port, audit_log_max_mb, audit_log_keep

Values are read as Seesaw's goconf read them: booleans accept
true/false/yes/no/on/off/1/0/t/f/y/n, integers are decimal, an empty value
means "not set" (the default applies). Every problem is reported at once,
located at the key's line; configparser does not say where a key is, so
`_KeyPositions` finds out by scanning the text. Keys this version does not
know are kept in `Settings.unknown_keys` and reported as warnings: nothing
an operator set is silently dropped.
"""

from __future__ import annotations

import configparser
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seesaw.config import model
from seesaw.config.errors import ConfigError, Problem, Severity, quote
from seesaw.config.files import read_text
from seesaw.config.settings import DEFAULT_CONFIG_SERVERS, Settings

_SECTION_LINE = re.compile(r"^\s*\[(?P<name>[^\]]*)\]")
_KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<key>[^=:\s#;\[][^=:]*?)\s*[=:]")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_FLOAT = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)$")
_IFNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,15}$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9_.:-]+$")
_TRUE = {"1", "t", "true", "y", "yes", "on"}
_FALSE = {"0", "f", "false", "n", "no", "off"}
_CONFIG_SERVER_KEYS = ("primary", "secondary", "tertiary")
_NO_DEFAULT_SECTION = "\x00no default section\x00"  # seesaw.cfg has no [DEFAULT] semantics


class _BadValue(ValueError):
    """A value that does not convert; the message says what would."""


Converter = Callable[[str], Any]


def _string(value: str) -> str:
    return value


def _bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _BadValue(f"{quote(value)} is not a boolean: use true or false")


def _integer(low: int, high: int, unit: str = "") -> Converter:
    def convert(value: str) -> int:
        if not _INTEGER.match(value):
            raise _BadValue(f"{quote(value)} is not a whole number: use one between {low} and {high}{unit}")
        number = int(value)
        if not low <= number <= high:
            raise _BadValue(f"{number} is out of range: use a number between {low} and {high}{unit}")
        return number

    return convert


def _fraction(value: str) -> float:
    if not _FLOAT.match(value) or not 0.0 <= float(value) <= 1.0:
        raise _BadValue(f"{quote(value)} is not a fraction: use a number between 0 and 1, e.g. 0.5")
    return float(value)


def _choice(*choices: str) -> Converter:
    def convert(value: str) -> str:
        if value.lower() not in choices:
            raise _BadValue(f"{quote(value)} is not one of {', '.join(choices)}")
        return value.lower()

    return convert


def _ip(version: int) -> Converter:
    example = "192.168.10.2" if version == 4 else "2015:cafe::2"

    def convert(value: str) -> model.IPAddress:
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            hint = ": write the address without a prefix length" if "/" in value else ""
            raise _BadValue(f"{quote(value)} is not an IPv{version} address (e.g. {example}){hint}") from None
        if ip.version != version:
            raise _BadValue(f"{quote(value)} is an IPv{ip.version} address; this key takes IPv{version}")
        return ip

    return convert


def _ifname(value: str) -> str:
    if not _IFNAME.match(value) or value in (".", ".."):
        raise _BadValue(f"{quote(value)} is not a network interface name (1 to 15 letters, digits, '.', '-', '_')")
    return value


def _hostname(value: str) -> str:
    if not _HOSTNAME.match(value):
        raise _BadValue(f"{quote(value)} is not a host name")
    return value


def _path(value: str) -> str:
    if "\x00" in value:
        raise _BadValue(f"{quote(value)} is not a file path")
    return value


def _ip_list(value: str) -> tuple[str, ...]:
    peers = []
    for item in re.split(r"[\s,]+", value.strip()):
        try:
            peers.append(str(ipaddress.ip_address(item)))
        except ValueError:
            raise _BadValue(f"{quote(item)} is not an IP address: list peer addresses separated by commas") from None
    return tuple(peers)


_PORT = _integer(1, 65535)

# (section, key) -> (Settings field, converter)
_KEYS: dict[tuple[str, str], tuple[str, Converter]] = {
    ("cluster", "name"): ("cluster_name", _string),
    ("cluster", "anycast_enabled"): ("anycast_enabled", _bool),
    ("cluster", "vip_ipv4"): ("vip_ipv4", _ip(4)),
    ("cluster", "vip_ipv6"): ("vip_ipv6", _ip(6)),
    ("cluster", "node_ipv4"): ("node_ipv4", _ip(4)),
    ("cluster", "node_ipv6"): ("node_ipv6", _ip(6)),
    ("cluster", "peer_ipv4"): ("peer_ipv4", _ip(4)),
    ("cluster", "peer_ipv6"): ("peer_ipv6", _ip(6)),
    ("cluster", "use_vmac"): ("use_vmac", _bool),
    ("cluster", "garp_interval_sec"): ("garp_interval_sec", _integer(1, 3600, " seconds")),
    ("cluster", "vrid"): ("vrid", _integer(1, 255)),
    ("interface", "node"): ("node_interface", _ifname),
    ("interface", "lb"): ("lb_interface", _ifname),
    ("interface", "dummy"): ("dummy_interface", _ifname),
    ("interface", "routing_table"): ("routing_table", _integer(1, 250)),
    ("dataplane", "backend"): ("dataplane", _choice("auto", "ipvs", "nftables", "sim")),
    ("ha", "advert_interval_ms"): ("advert_interval_ms", _integer(10, 40950, " ms")),
    ("ha", "preempt"): ("preempt", _bool),
    ("ha", "format"): ("advert_format", _choice("seesaw", "rfc5798")),
    ("ha", "unicast_peer"): ("unicast_peers", _ip_list),
    ("ha", "unicast_peers"): ("unicast_peers", _ip_list),
    ("ha", "takeover_skew"): ("takeover_skew", _bool),
    ("ha", "make_before_break"): ("make_before_break", _bool),
    ("ha", "realtime_priority"): ("realtime_priority", _integer(0, 99)),
    ("ha", "priorities"): ("priorities", _choice("seesaw", "adjacent")),
    ("engine", "max_vserver_changes"): ("max_vserver_changes", _integer(0, 1_000_000)),
    ("engine", "max_delete_share"): ("max_delete_share", _fraction),
    ("engine", "sync_port"): ("sync_port", _PORT),
    ("engine", "sync_cert"): ("sync_cert", _path),
    ("engine", "sync_key"): ("sync_key", _path),
    ("engine", "sync_ca"): ("sync_ca", _path),
    ("engine", "config_source"): ("config_source", _choice("disk", "peer", "server")),
    ("engine", "config_check_interval_sec"): ("config_check_interval", _integer(1, 86400, " seconds")),
    ("engine", "config_archive_keep"): ("config_archive_keep", _integer(0, 100_000)),
    ("config_server", "port"): ("config_server_port", _PORT),
    ("config_server", "ca_cert"): ("config_server_ca", _path),
    ("config_server", "timeout_sec"): ("config_server_timeout", _integer(1, 600, " seconds")),
    ("ecu", "control_port"): ("ecu_control_port", _PORT),
    ("ecu", "monitor_port"): ("ecu_monitor_port", _PORT),
    ("ecu", "audit_log_max_mb"): ("audit_log_max_mb", _integer(1, 100_000, " MiB")),
    ("ecu", "audit_log_keep"): ("audit_log_keep", _integer(0, 1000)),
}
_KNOWN_SECTIONS = {section for section, _ in _KEYS} | {"config_server", "extra_service_anycast"}


@dataclass(frozen=True)
class ParsedSettings:
    settings: Settings
    path: str
    warnings: tuple[Problem, ...] = ()
    # "section.key" (and "section") -> (line, col), for checks that span both files.
    positions: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False)

    def problem(self, key: str, reason: str, severity: Severity = Severity.ERROR) -> Problem:
        """A problem about `section.key` of this file, at the key's line (or its section's)."""
        line, col = _position(self.positions, key)
        return Problem(self.path, line, col, key, reason, severity)


def _position(positions: dict[str, tuple[int, int]], key: str) -> tuple[int, int]:
    return positions.get(key) or positions.get(key.split(".")[0]) or (1, 1)


def load_settings(path: str | Path) -> Settings:
    return read_settings_file(path).settings


def read_settings_file(path: str | Path) -> ParsedSettings:
    return parse_settings_text(read_text(path), str(path))


def parse_settings_text(text: str, path: str) -> ParsedSettings:
    """seesaw.cfg text -> settings; raises ConfigError with every error found."""
    positions = _key_positions(text)
    parser = configparser.ConfigParser(
        interpolation=None,
        default_section=_NO_DEFAULT_SECTION,
        inline_comment_prefixes=("#", ";"),
        strict=True,
    )
    try:
        parser.read_string(text, source=path)
    except configparser.Error as err:
        raise ConfigError(_parser_problems(err, path, text.splitlines())) from None
    return _Reader(parser, path, positions).read()


def _key_positions(text: str) -> dict[str, tuple[int, int]]:
    positions: dict[str, tuple[int, int]] = {}
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip()
        if not stripped or stripped[0] in "#;":
            continue
        if match := _SECTION_LINE.match(line):
            section = match.group("name").strip().lower()
            positions.setdefault(section, (number, match.start("name")))
        elif section and (match := _KEY_LINE.match(line)):
            key = f"{section}.{match.group('key').strip().lower()}"
            positions.setdefault(key, (number, match.start("key") + 1))
    return positions


def _parser_problems(err: configparser.Error, path: str, lines: list[str]) -> list[Problem]:
    if isinstance(err, configparser.MissingSectionHeaderError):  # a ParsingError: test it first
        return [Problem(path, err.lineno, 1, "", "settings must follow a [section] header such as [cluster]")]
    if isinstance(err, configparser.ParsingError):
        return [
            Problem(path, lineno, 1, "", f"cannot parse {quote(_line(lines, lineno))}: write `key = value`")
            for lineno, _ in err.errors
        ]
    if isinstance(err, configparser.DuplicateSectionError):
        return [Problem(path, err.lineno or 0, 1, err.section, "section appears twice: merge the two into one")]
    if isinstance(err, configparser.DuplicateOptionError):
        return [
            Problem(path, err.lineno or 0, 1, f"{err.section}.{err.option}", "is set twice in its section: keep one")
        ]
    return [Problem(path, 0, 0, "", f"cannot parse: {err.message}")]


def _line(lines: list[str], lineno: int) -> str:
    return lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""


class _Reader:
    def __init__(self, parser: configparser.ConfigParser, path: str, positions: dict[str, tuple[int, int]]) -> None:
        self.parser = parser
        self.path = path
        self.positions = positions
        self.problems: list[Problem] = []
        self.values: dict[str, Any] = {}
        self.unknown: list[str] = []
        self.set_keys: set[str] = set()  # section.key given a non-empty value

    def problem(self, key: str, reason: str, severity: Severity = Severity.ERROR) -> None:
        line, col = _position(self.positions, key)
        self.problems.append(Problem(self.path, line, col, key, reason, severity))

    def read(self) -> ParsedSettings:
        sections = {name.strip().lower(): name for name in self.parser.sections()}
        for section, raw_name in sections.items():
            items = self.parser.items(raw_name)
            if section not in _KNOWN_SECTIONS:
                self.unknown_section(section, [k for k, _ in items])
                continue
            for key, value in items:
                self.key(section, key, value.strip())
        self.cross_checks()
        if any(p.is_error for p in self.problems):
            raise ConfigError(self.problems)
        settings = Settings(**self.values, unknown_keys=tuple(self.unknown))
        return ParsedSettings(settings, self.path, tuple(self.problems), self.positions)

    def unknown_section(self, section: str, keys: list[str]) -> None:
        known = ", ".join(sorted(_KNOWN_SECTIONS))
        if not keys:
            self.unknown.append(f"[{section}]")
        for key in keys:
            self.unknown.append(f"{section}.{key}")
        self.problem(
            section,
            f"unknown section [{section}]: its keys are kept but not used; known sections are {known}",
            Severity.WARNING,
        )

    def key(self, section: str, key: str, value: str) -> None:
        name = f"{section}.{key}"
        if section == "config_server" and (section, key) not in _KEYS:
            self.config_server(name, key, value)
            return
        if section == "extra_service_anycast":
            self.extra_anycast(name, value)
            return
        spec = _KEYS.get((section, key))
        if spec is None:
            known = ", ".join(k for s, k in _KEYS if s == section)
            self.unknown.append(name)
            self.problem(name, f"unknown key: it is kept but not used; [{section}] knows {known}", Severity.WARNING)
            return
        target, convert = spec
        if not value:
            return  # as in Seesaw: an empty value means the default
        self.set_keys.add(name)
        if target in self.values:
            self.problem(name, f"sets {target} a second time (unicast_peer and unicast_peers are one key): keep one")
            return
        try:
            self.values[target] = convert(value)
        except _BadValue as err:
            self.problem(name, str(err))

    def config_server(self, name: str, key: str, value: str) -> None:
        if key not in _CONFIG_SERVER_KEYS:
            self.unknown.append(name)
            self.problem(
                name,
                "unknown key: [config_server] knows primary, secondary, tertiary, port, ca_cert, timeout_sec",
                Severity.WARNING,
            )
            return
        if not value:
            return
        try:
            _hostname(value)
        except _BadValue as err:
            self.problem(name, str(err))
            return
        servers = dict(self.values.get("_config_servers", {}))
        servers[key] = value
        self.values["_config_servers"] = servers

    def extra_anycast(self, name: str, value: str) -> None:
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            self.problem(name, f"{quote(value)} is not an IP address")
            return
        if not any(ip in net for net in model.ANYCAST_RANGES):
            ranges = ", ".join(str(net) for net in model.ANYCAST_RANGES)
            self.problem(name, f"{ip} is not an anycast address: extra service anycast VIPs must lie in {ranges}")
            return
        self.values["extra_service_anycast"] = (*self.values.get("extra_service_anycast", ()), ip)

    def cross_checks(self) -> None:
        servers = self.values.pop("_config_servers", None)
        if servers:
            self.values["config_servers"] = tuple(servers[k] for k in _CONFIG_SERVER_KEYS if k in servers)
        else:
            self.values["config_servers"] = DEFAULT_CONFIG_SERVERS
        if not self.values.get("cluster_name"):
            self.problem(
                "cluster.name",
                "is not set: set `name = <site>` in [cluster] (the cluster's name, e.g. au-syd); "
                "it names the cluster to config servers",
            )
            self.values["cluster_name"] = ""
        if "cluster.node_ipv4" not in self.set_keys and "cluster.node_ipv6" not in self.set_keys:
            self.problem(
                "cluster.node_ipv4",
                "is not set: set node_ipv4 in [cluster] to this node's address, as listed under `node` in cluster.pb",
            )
        v = self.values
        for family in ("ipv4", "ipv6"):
            node, peer, vip = v.get(f"node_{family}"), v.get(f"peer_{family}"), v.get(f"vip_{family}")
            if node is not None and node == peer:
                self.problem(
                    f"cluster.peer_{family}",
                    f"{peer} is this node's own address (node_{family}): set it to the other node's address",
                )
            if vip is not None and vip in (node, peer):
                self.problem(
                    f"cluster.vip_{family}",
                    f"{vip} is a node's own address: the cluster VIP must be an address of its own that moves "
                    "to the leader",
                )
        if v.get("extra_service_anycast") and not v.get("anycast_enabled", False):
            self.problem(
                "extra_service_anycast",
                "anycast_enabled is false, so these addresses are never advertised: "
                "set anycast_enabled = true in [cluster] or remove the section",
                Severity.WARNING,
            )
        tls = [k for k in ("sync_cert", "sync_key", "sync_ca") if v.get(k)]
        if tls and len(tls) < 3:
            missing = [k for k in ("sync_cert", "sync_key", "sync_ca") if k not in tls]
            self.problem(
                f"engine.{tls[0]}",
                f"sync TLS needs sync_cert, sync_key and sync_ca together: also set {', '.join(missing)} "
                "in [engine], or remove the others to sync without TLS",
            )
        ports = {
            "ecu.control_port": v.get("ecu_control_port", Settings.ecu_control_port),
            "ecu.monitor_port": v.get("ecu_monitor_port", Settings.ecu_monitor_port),
            "engine.sync_port": v.get("sync_port", Settings.sync_port),
        }
        keys = list(ports)
        for i, key in enumerate(keys):
            for other in keys[i + 1 :]:
                if ports[key] != ports[other]:
                    continue
                # Report it at a key the operator wrote (a default has no line).
                here, there = (key, other) if key in self.set_keys else (other, key)
                self.problem(here, f"port {ports[key]} is also {there}: each service needs its own port")
