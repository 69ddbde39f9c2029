"""Seesaw's Go flags for seesaw_healthcheck, as the watchdog.cfg of an existing install may pass them.

Go's flag syntax is taken as Go writes it: `-name=value` or `-name value`
(one or two dashes), durations as Go durations ("100ms", "15s", "1m30s"),
booleans as `-name` or `-name=true|false`. A bad value is an error, as in Go.

Mapped onto this daemon's own flags:

    -batch_delay      --batch-delay       (Go duration -> seconds)
    -batch_size       --batch-size
    -engine           --engine-socket
    -notify_interval  --resync-interval   (Seesaw re-sends every check's state this often)
    -retry_delay      --retry-delay       (Seesaw's delay between notification retries)
    -dry_run          --dry-run

Accepted and ignored (logged at debug level, with why):

    -channel_size     results wait in a map keyed by check, not a bounded channel
    -max_failures     Seesaw exits after that many failed notifications; here the
                      engine link reconnects for ever and resyncs every check
    -fetch_interval   checks stream from the engine (WatchChecks); nothing is fetched
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

IGNORED_WHY = {
    "channel_size": "results wait in a map keyed by check, not a bounded channel",
    "max_failures": "the engine link reconnects for ever (and resyncs) instead of exiting",
    "fetch_interval": "checks stream from the engine; nothing is fetched",
}

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_TERM = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_BOOLS = {"1": True, "t": True, "T": True, "true": True, "TRUE": True, "True": True}
_BOOLS |= {"0": False, "f": False, "F": False, "false": False, "FALSE": False, "False": False}


def go_duration(text: str) -> float:
    """Seconds in a Go duration ("100ms", "1m30s", "0"), as Go's time.ParseDuration reads it."""
    s = text.strip()
    sign = -1.0 if s.startswith("-") else 1.0
    s = s[1:] if s[:1] in "+-" else s
    if s == "0":
        return 0.0
    total, pos = 0.0, 0
    while pos < len(s) or not s:
        term = _TERM.match(s, pos)
        if term is None:
            raise argparse.ArgumentTypeError(f"{text!r} is not a Go duration; write e.g. 100ms, 15s or 1m30s")
        total += float(term.group(1)) * _UNITS[term.group(2)]
        pos = term.end()
    return sign * total


def go_bool(text: str) -> bool:
    """A boolean as Go's strconv.ParseBool reads it."""
    value = _BOOLS.get(text.strip())
    if value is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a boolean; write true or false")
    return value


class _Ignored(argparse.Action):
    """Record `(flag, value)` in `go_ignored`; the daemon logs them."""

    def __call__(
        self, parser: argparse.ArgumentParser, ns: argparse.Namespace, values: Any, option: str | None = None
    ) -> None:
        ns.go_ignored = [*getattr(ns, "go_ignored", []), (self.metavar, values)]


def add_to(p: argparse.ArgumentParser) -> None:
    """Add Seesaw's Go flags to `p`; its own flags (--batch-delay, ...) must exist already."""
    hidden = argparse.SUPPRESS
    p.add_argument("-batch_delay", "--batch_delay", dest="batch_delay", type=go_duration, default=hidden, help=hidden)
    p.add_argument("-batch_size", "--batch_size", dest="batch_size", type=int, default=hidden, help=hidden)
    p.add_argument("-engine", "--engine", dest="engine_socket", type=Path, default=hidden, help=hidden)
    p.add_argument(
        "-notify_interval", "--notify_interval", dest="resync_interval", type=go_duration, default=hidden, help=hidden
    )
    p.add_argument("-retry_delay", "--retry_delay", dest="retry_delay", type=go_duration, default=hidden, help=hidden)
    p.add_argument(
        "-dry_run", "--dry_run", dest="dry_run", type=go_bool, nargs="?", const=True, default=hidden, help=hidden
    )
    kinds: dict[str, Callable[[str], object]] = {
        "channel_size": int,
        "max_failures": int,
        "fetch_interval": go_duration,
    }
    for name, parse in kinds.items():
        kind = partial(_as_given, parse)
        p.add_argument(
            f"-{name}",
            f"--{name}",
            dest="go_ignored",
            metavar=name,
            type=kind,
            action=_Ignored,
            default=hidden,
            help=hidden,
        )


def _as_given(parse: Callable[[str], object], text: str) -> str:
    """`text` once `parse` accepts it: an ignored flag is still checked, and logged as written."""
    try:
        parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    return text


def ignored(args: argparse.Namespace) -> Sequence[str]:
    """One line per Go flag given that this daemon ignores, saying why."""
    return [f"-{name}={value}: ignored, {IGNORED_WHY[name]}" for name, value in getattr(args, "go_ignored", [])]
