"""Type a plan's changes into bgpd's configuration mode, one VTY command at a time.

Each change names the config modes it lives in (`router bgp 64512`, then
`address-family ipv4 unicast`); only the difference from the mode the last
change left is typed, so a plan costs about one command per statement. A
change whose command bgpd refuses becomes a problem and the others go ahead;
if bgpd refuses to enter a mode, every change inside that mode fails with the
same reason and the session goes back to the top before the next one, so no
statement is ever typed into the wrong mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from seesaw.ncc.bgp.model import Change, Problem
from seesaw.ncc.bgp.vty import Reply


class Session(Protocol):
    async def command(self, line: str) -> Reply: ...


def common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def exits(levels: Sequence[str]) -> list[str]:
    """The commands that leave these modes, innermost first."""
    return ["exit-address-family" if level.startswith("address-family") else "exit" for level in reversed(levels)]


@dataclass
class Result:
    done: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


async def execute(session: Session, changes: Sequence[Change]) -> Result:
    result = Result()
    if not changes:
        return result
    reply = await session.command("configure terminal")
    if not reply.ok:
        message = f"bgpd refused `configure terminal`: {reply.describe()}"
        result.problems.extend(Problem(change.key, message) for change in changes)
        return result
    mode: tuple[str, ...] = ()
    refused: list[tuple[tuple[str, ...], str]] = []  # modes bgpd would not enter, and why
    for change in changes:
        reason = next((why for prefix, why in refused if change.context[: len(prefix)] == prefix), None)
        if reason is not None:
            result.problems.append(Problem(change.key, reason))
            continue
        common = common_prefix(mode, change.context)
        for line in exits(mode[len(common) :]):
            await session.command(line)
        mode = common
        for level in change.context[len(common) :]:
            reply = await session.command(level)
            if not reply.ok:
                reason = f"bgpd refused `{level}`: {reply.describe()}"
                refused.append(((*mode, level), reason))
                await session.command("end")
                await session.command("configure terminal")
                mode = ()
                break
            mode = (*mode, level)
        if reason is not None:
            result.problems.append(Problem(change.key, reason))
            continue
        for line in change.lines:
            reply = await session.command(line)
            if not reply.ok:
                result.problems.append(Problem(change.key, f"bgpd refused `{line}`: {reply.describe()}"))
                break
        else:
            result.done.append(change)
    await session.command("end")
    return result
