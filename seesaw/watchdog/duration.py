"""Go's `time.ParseDuration` syntax, which Seesaw's watchdog.cfg uses for `term_timeout`.

A duration is an optional sign and a sequence of decimal numbers, each with an
optional fraction and a unit suffix: "10s", "1m30s", "500ms", "1.5h", "-2s".
Units: ns, us (or µs / μs), ms, s, m, h. A bare "0" is allowed; any other
number needs a unit.
"""

from __future__ import annotations

import re

_UNITS: dict[str, float] = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # U+00B5 micro sign
    "μs": 1e-6,  # U+03BC Greek small letter mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_TERM = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
HINT = 'write a Go duration such as "5s", "1m30s" or "500ms"'


class DurationError(ValueError):
    """The text is not a Go duration."""


def parse_duration(text: str) -> float:
    """Seconds in `text` (Go duration syntax); DurationError says what is wrong."""
    s = text.strip()
    if not s:
        raise DurationError(f"empty duration: {HINT}")
    sign = 1.0
    if s[0] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise DurationError(f"invalid duration {text!r}: {HINT}")
    total = 0.0
    pos = 0
    while pos < len(s):
        match = _TERM.match(s, pos)
        if match is None:
            rest = s[pos:]
            if re.fullmatch(r"[\d.]+", rest):
                raise DurationError(f"missing unit in duration {text!r}: {HINT}")
            raise DurationError(f"invalid duration {text!r} (at {rest!r}): {HINT}")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return sign * total


def format_duration(seconds: float) -> str:
    """A short human form: "500ms", "2s", "1m30s"."""
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    minutes, secs = divmod(seconds, 60)
    if minutes < 1:
        return f"{secs:g}s"
    hours, minutes = divmod(int(minutes), 60)
    out = f"{hours}h" if hours else ""
    if minutes:
        out += f"{minutes}m"
    if secs:
        out += f"{secs:g}s"
    return out
