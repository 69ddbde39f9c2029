"""A line-tracking reader for goconf-style INI files (what Seesaw's watchdog.cfg is).

The rules are goconf's, which Seesaw v2 used:

* `[section]` starts a section; options before any section belong to `default`.
* `key = value` or `key: value`; section and key names are case-insensitive,
  values are not. A later value for the same key wins.
* Lines starting with `#` or `;` are comments; so is the rest of a line after
  whitespace followed by `#` or `;`.
* An indented line continues the previous value.
* `%(name)s` in a value is replaced by option `name` of the same section, or
  else of `default`.

Every option remembers the line it came from, so errors can say file:line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SECTION = "default"
_INLINE_COMMENT = re.compile(r"\s[#;]")
_INTERPOLATION = re.compile(r"%\(([^)]+)\)s")


class IniError(ValueError):
    """A syntax error; `line` is 1-based."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


@dataclass(frozen=True)
class Option:
    key: str
    value: str
    line: int


@dataclass
class Section:
    name: str
    line: int  # where the section header first appears (0 for an implicit default)
    options: dict[str, Option] = field(default_factory=dict)

    def get(self, key: str) -> Option | None:
        return self.options.get(key)


@dataclass
class IniFile:
    path: Path
    sections: dict[str, Section]  # in order of first appearance

    def section(self, name: str) -> Section | None:
        return self.sections.get(name)


def read_ini(path: Path) -> IniFile:
    """Parse the file at `path`; OSError if it cannot be read, IniError if it is malformed."""
    return parse_ini(path.read_text(encoding="utf-8"), path)


def parse_ini(text: str, path: Path) -> IniFile:
    sections: dict[str, Section] = {}
    current = _section(sections, DEFAULT_SECTION, 0)
    last: Option | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if raw[0] in " \t" and last is not None:
            more = _strip_comment(stripped)
            if more:
                last = Option(last.key, f"{last.value} {more}".strip(), last.line)
                current.options[last.key] = last
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]") or len(stripped) < 3:
                raise IniError(path, number, f"malformed section header {stripped!r}: write it as [name]")
            current = _section(sections, stripped[1:-1].strip().lower(), number)
            last = None
            continue
        split = _split_at(stripped)
        if split is None:
            raise IniError(path, number, f"expected 'key = value' or [section], found {stripped!r}")
        key, value = stripped[:split].strip().lower(), _strip_comment(stripped[split + 1 :].strip())
        if not key:
            raise IniError(path, number, f"missing key name before {stripped[split]!r}")
        last = Option(key, value, number)
        current.options[key] = last
    ini = IniFile(path, sections)
    _interpolate(ini)
    return ini


def _section(sections: dict[str, Section], name: str, line: int) -> Section:
    if name not in sections:
        sections[name] = Section(name, line)
    return sections[name]


def _split_at(line: str) -> int | None:
    positions = [i for i in (line.find("="), line.find(":")) if i >= 0]
    return min(positions) if positions else None


def _strip_comment(value: str) -> str:
    match = _INLINE_COMMENT.search(value)
    return value[: match.start()].rstrip() if match else value


def _interpolate(ini: IniFile) -> None:
    default = ini.sections[DEFAULT_SECTION]
    for section in ini.sections.values():
        for key, option in list(section.options.items()):
            if "%(" not in option.value:
                continue
            section.options[key] = Option(key, _expand(ini, section, default, option), option.line)


def _expand(ini: IniFile, section: Section, default: Section, option: Option) -> str:
    value = option.value
    for _ in range(10):  # nested references, bounded so a reference loop cannot hang us
        expanded = _INTERPOLATION.sub(lambda m: _lookup(ini, section, default, m, option), value)
        if expanded == value:
            break
        value = expanded
    return value


def _lookup(ini: IniFile, section: Section, default: Section, match: re.Match[str], option: Option) -> str:
    name = match.group(1).lower()
    found = section.get(name) or default.get(name)
    if found is None:
        raise IniError(
            ini.path, option.line, f"{option.key}: %({name})s names no option in [{section.name}] or [default]"
        )
    return found.value
