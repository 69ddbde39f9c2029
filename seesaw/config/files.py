"""Reading a config file as text: any failure becomes a located ConfigError."""

from __future__ import annotations

from pathlib import Path

from seesaw.config.errors import ConfigError, Problem


def read_text(path: str | Path) -> str:
    """A config file as text; unreadable or non-UTF-8 files raise ConfigError."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        reason = err.strerror or str(err)
        raise ConfigError([Problem(str(path), 0, 0, "", f"cannot read the file: {reason}")]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        col = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise ConfigError(
            [Problem(str(path), line, col, "", f"byte 0x{data[err.start]:02x} is not UTF-8: the file must be text")]
        ) from None
