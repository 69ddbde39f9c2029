"""watchdog.cfg: which services the watchdog runs, and how.

One section per service (the section name is the service name); section
`default` is not a service but holds the watchdog's own knobs. Seesaw v2's
keys per service:

    binary        required; an absolute path, or a name looked up in PATH
    args          arguments, split on whitespace (shell-style quotes allowed)
    dependency    one service name: start after it answers SERVING, stop before it
    priority      nice value, -20..19 (default 0)
    term_timeout  Go duration between SIGTERM and SIGKILL (default 5s)
    user          run as this user (default root)

Our additions: per service `health_check = no` (treat "process started" as
ready, for binaries that serve no grpc.health.v1), and in `default`:
restart_delay, max_backoff, healthy_after, start_timeout, unhealthy_timeout
(Go durations) and log_dir. See etc/seesaw/watchdog.cfg.
"""

from __future__ import annotations

import pwd
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path

from seesaw.common import paths
from seesaw.watchdog.duration import DurationError, parse_duration
from seesaw.watchdog.ini import DEFAULT_SECTION, IniError, IniFile, Option, Section, read_ini

SERVICE_KEYS = frozenset({"binary", "args", "dependency", "priority", "term_timeout", "user", "health_check"})
DEFAULT_TERM_TIMEOUT = 5.0


class ConfigError(ValueError):
    """watchdog.cfg cannot be used; the message names file:line, the key and what to do."""


@dataclass(frozen=True)
class Settings:
    """The watchdog's own knobs, from the `default` section."""

    restart_delay: float = 0.5  # first delay after a failure, and the delay after a clean exit
    max_backoff: float = 30.0  # the delay doubles per consecutive failure up to this
    healthy_after: float = 30.0  # SERVING this long forgives earlier failures
    start_timeout: float = 30.0  # alive but never SERVING this long => restarted
    unhealthy_timeout: float = 60.0  # was SERVING, then not SERVING this long => restarted (0: never)
    log_dir: Path | None = None  # None: --log-dir or $SEESAW_LOG_DIR or /var/log/seesaw


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    binary: str
    args: tuple[str, ...] = ()
    dependency: str | None = None
    priority: int = 0
    term_timeout: float = DEFAULT_TERM_TIMEOUT
    user: str | None = None
    uid: int = 0
    gid: int = 0
    health_check: bool = True
    line: int = field(default=0, compare=False)  # the section header's line, for messages

    @property
    def argv0(self) -> str:
        return f"seesaw_{self.name}"


@dataclass(frozen=True)
class WatchdogConfig:
    path: Path
    settings: Settings
    services: dict[str, ServiceConfig]  # in start order: every dependency before its dependents
    warnings: tuple[str, ...] = ()

    def dependents(self, name: str) -> list[str]:
        return [s.name for s in self.services.values() if s.dependency == name]


def resolve_log_dir(flag: Path | None, settings: Settings) -> Path:
    """Where services' logs go: --log-dir, else log_dir in [default], else $SEESAW_LOG_DIR, else /var/log/seesaw."""
    return (flag or settings.log_dir or paths.default_log_dir()).absolute()


def load(path: Path) -> WatchdogConfig:
    """Read and validate watchdog.cfg; ConfigError if it cannot be used."""
    path = path.absolute()
    try:
        ini = read_ini(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file: create it (see etc/seesaw/watchdog.cfg) or pass --config") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8") from None
    except IniError as exc:
        raise ConfigError(str(exc)) from None
    return from_ini(ini)


def from_ini(ini: IniFile) -> WatchdogConfig:
    warnings: list[str] = []
    settings = _settings(ini, ini.sections[DEFAULT_SECTION], warnings)
    services: dict[str, ServiceConfig] = {}
    for name, section in ini.sections.items():
        if name == DEFAULT_SECTION:
            continue
        services[name] = _service(ini, section, warnings)
    if not services:
        raise ConfigError(f"{ini.path}: no services: add a [name] section with a binary = line for each service")
    for svc in services.values():
        if svc.dependency is not None and svc.dependency not in services:
            option = ini.sections[svc.name].options["dependency"]
            known = ", ".join(sorted(services))
            raise ConfigError(
                _where(ini, option)
                + f"[{svc.name}] dependency: no service named {svc.dependency!r}; "
                + f"name one of the sections in this file ({known}) or remove the line"
            )
    return WatchdogConfig(ini.path, settings, _start_order(ini, services), tuple(warnings))


def _where(ini: IniFile, option: Option | Section) -> str:
    return f"{ini.path}:{option.line}: "


def _settings(ini: IniFile, section: Section, warnings: list[str]) -> Settings:
    defaults = Settings()
    known = ("restart_delay", "max_backoff", "healthy_after", "start_timeout", "unhealthy_timeout", "log_dir")
    for key, unknown in section.options.items():
        if key not in known:
            warnings.append(_where(ini, unknown) + f"[default] {key}: unknown key, ignored")

    def seconds(key: str, default: float) -> float:
        option = section.get(key)
        return default if option is None else _duration(ini, DEFAULT_SECTION, option)

    log_dir = defaults.log_dir
    if (option := section.get("log_dir")) is not None:
        if not option.value:
            raise ConfigError(_where(ini, option) + "[default] log_dir: empty; give a directory or remove the line")
        log_dir = Path(option.value)
    settings = Settings(
        restart_delay=seconds("restart_delay", defaults.restart_delay),
        max_backoff=seconds("max_backoff", defaults.max_backoff),
        healthy_after=seconds("healthy_after", defaults.healthy_after),
        start_timeout=seconds("start_timeout", defaults.start_timeout),
        unhealthy_timeout=seconds("unhealthy_timeout", defaults.unhealthy_timeout),
        log_dir=log_dir,
    )
    if settings.restart_delay <= 0:
        raise ConfigError(_where(ini, section.options["restart_delay"]) + "[default] restart_delay: must be above 0")
    if settings.max_backoff < settings.restart_delay:
        where = _where(ini, section.options.get("max_backoff") or section.options["restart_delay"])
        raise ConfigError(where + "[default] max_backoff: must be at least restart_delay")
    return settings


def _service(ini: IniFile, section: Section, warnings: list[str]) -> ServiceConfig:
    name = section.name
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
        raise ConfigError(
            _where(ini, section) + f"[{name}]: a service name is a plain word (letters, digits, _ . -) such as ncc"
        )
    binary = section.get("binary")
    if binary is None or not binary.value:
        raise ConfigError(
            _where(ini, section) + f"[{name}] binary: missing; add a line such as 'binary = seesaw-{name}' to it"
        )
    for key, unknown in section.options.items():
        if key not in SERVICE_KEYS:
            warnings.append(_where(ini, unknown) + f"[{name}] {key}: unknown key, ignored")
    svc = ServiceConfig(name=name, binary=binary.value, line=section.line)
    if (option := section.get("args")) is not None:
        try:
            svc = replace(svc, args=tuple(shlex.split(option.value)))
        except ValueError as exc:
            raise ConfigError(_where(ini, option) + f"[{name}] args: {exc}; close the quote") from None
    if (option := section.get("dependency")) is not None and option.value:
        if option.value.lower() == name:
            raise ConfigError(_where(ini, option) + f"[{name}] dependency: a service cannot depend on itself")
        svc = replace(svc, dependency=option.value.lower())
    if (option := section.get("priority")) is not None and option.value:
        svc = replace(svc, priority=_priority(ini, name, option))
    if (option := section.get("term_timeout")) is not None and option.value:
        svc = replace(svc, term_timeout=_duration(ini, name, option))
    if (option := section.get("user")) is not None and option.value:
        user, uid, gid = _user(ini, name, option)
        svc = replace(svc, user=user, uid=uid, gid=gid)
    if (option := section.get("health_check")) is not None:
        svc = replace(svc, health_check=_boolean(ini, name, option))
    return svc


def _duration(ini: IniFile, section: str, option: Option) -> float:
    try:
        seconds = parse_duration(option.value)
    except DurationError as exc:
        raise ConfigError(_where(ini, option) + f"[{section}] {option.key}: {exc}") from None
    if seconds < 0:
        raise ConfigError(_where(ini, option) + f"[{section}] {option.key}: {option.value!r} is negative")
    return seconds


def _priority(ini: IniFile, name: str, option: Option) -> int:
    try:
        priority = int(option.value)
    except ValueError:
        priority = None
    if priority is None or not -20 <= priority <= 19:
        raise ConfigError(
            _where(ini, option) + f"[{name}] priority: {option.value!r} is not a nice value; use an integer -20..19"
        )
    return priority


def _user(ini: IniFile, name: str, option: Option) -> tuple[str, int, int]:
    try:
        entry = pwd.getpwuid(int(option.value)) if option.value.isdigit() else pwd.getpwnam(option.value)
    except KeyError:
        raise ConfigError(
            _where(ini, option) + f"[{name}] user: no user {option.value!r} on this machine; "
            "create it (useradd --system) or name an existing user"
        ) from None
    return entry.pw_name, entry.pw_uid, entry.pw_gid


def _boolean(ini: IniFile, name: str, option: Option) -> bool:
    value = option.value.lower()
    if value in ("1", "yes", "true", "on"):
        return True
    if value in ("0", "no", "false", "off"):
        return False
    raise ConfigError(_where(ini, option) + f"[{name}] {option.key}: {option.value!r} is not yes or no")


def _start_order(ini: IniFile, services: dict[str, ServiceConfig]) -> dict[str, ServiceConfig]:
    """Services with every dependency before its dependents (file order otherwise); cycles are errors."""
    ordered: dict[str, ServiceConfig] = {}
    for name in services:
        chain: list[str] = []
        current: str | None = name
        while current is not None and current not in ordered:
            if current in chain:
                cycle = " -> ".join([*chain[chain.index(current) :], current])
                option = ini.sections[current].options["dependency"]
                raise ConfigError(
                    _where(ini, option) + f"[{current}] dependency: dependency cycle {cycle}; "
                    "remove one of these dependency lines"
                )
            chain.append(current)
            current = services[current].dependency
        for link in reversed(chain):
            ordered[link] = services[link]
    return ordered
