"""The command tree of the `seesaw` CLI and the matcher that walks it.

Everything here is pure: a command line (a string) goes in, a `Match` comes
out. The rules are Seesaw v2's `FindCommand` (cli/core.go):

* the line is split on whitespace; each token is matched by *prefix* against
  the commands of the current level (`sh vs` is `show vservers`);
* a token that is exactly a command's name picks that command even when it is
  also the prefix of another (this is the one deliberate addition);
* no match => "Unknown command."; several matches, or a line that ends on a
  command that has subcommands => "Incomplete command.";
* the tokens after the first leaf command are its arguments.

Tab completion (`completions`) and `?` help (`help_at`) are answered from the
same walk, so what the shell offers is always what `find_command` accepts.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

UNKNOWN_COMMAND = "Unknown command."
INCOMPLETE_COMMAND = "Incomplete command."
INCORRECT_ARGUMENTS = "Incorrect arguments given."
JSON_FLAG = "--json"


class Action(enum.StrEnum):
    """What a leaf command does; the executor maps each one to engine calls."""

    CONFIG_CHECK = "config check"
    CONFIG_DIFF = "config diff"
    CONFIG_RELOAD = "config reload"
    CONFIG_SOURCE = "config source"
    CONFIG_STATUS = "config status"
    DOCTOR = "doctor"
    EXIT = "exit"
    FAILOVER = "failover"
    HELP = "help"
    OVERRIDE = "override"
    SHOW_BGP_NEIGHBORS = "show bgp neighbors"
    SHOW_BACKENDS = "show backends"
    SHOW_CHECKS = "show checks"
    SHOW_IPVS = "show ipvs"
    SHOW_DESTINATIONS = "show destinations"
    SHOW_HA = "show ha"
    SHOW_NODES = "show nodes"
    SHOW_VERSION = "show version"
    SHOW_VLANS = "show vlans"
    SHOW_VSERVERS = "show vservers"
    SHOW_WARNINGS = "show warnings"
    WHOAMI = "whoami"


class Command(NamedTuple):
    """One word of the tree: either a leaf with an action, or a level with subcommands."""

    name: str
    subcommands: tuple[Command, ...] = ()
    action: Action | None = None
    # For leaves: what the arguments look like, and how many there may be.
    usage: str = ""
    min_args: int = 0
    max_args: int = 0
    json: bool = False  # accepts --json
    # Fixed parameters a leaf passes to its action (e.g. override target and state).
    params: tuple[str, ...] = ()

    @property
    def is_leaf(self) -> bool:
        return self.action is not None


def _override_level(target: str, what: str) -> Command:
    usage = f"override {target} state <default|disabled|enabled> <{what}>"
    states = tuple(
        Command(state, action=Action.OVERRIDE, usage=usage, min_args=1, max_args=1, params=(target, state))
        for state in ("default", "disabled", "enabled")
    )
    return Command(target, (Command("state", states),))


def _show(name: str, action: Action, usage: str, max_args: int = 1) -> Command:
    return Command(name, action=action, usage=usage, max_args=max_args, json=True)


COMMANDS: tuple[Command, ...] = (
    Command(
        "config",
        (
            Command("check", action=Action.CONFIG_CHECK, usage="config check [<cluster.pb>]", max_args=1),
            Command("diff", action=Action.CONFIG_DIFF, usage="config diff", json=True),
            Command("reload", action=Action.CONFIG_RELOAD, usage="config reload [force]", max_args=1),
            Command("source", action=Action.CONFIG_SOURCE, usage="config source [disk|peer|server]", max_args=1),
            Command("status", action=Action.CONFIG_STATUS, usage="config status", json=True),
        ),
    ),
    Command("doctor", action=Action.DOCTOR, usage="doctor"),
    Command("exit", action=Action.EXIT, usage="exit"),
    Command("failover", action=Action.FAILOVER, usage="failover"),
    Command("help", action=Action.HELP, usage="help"),
    Command(
        "override",
        (
            _override_level("backend", "hostname"),
            _override_level("destination", "destination"),
            _override_level("vserver", "vserver"),
        ),
    ),
    Command("quit", action=Action.EXIT, usage="quit"),
    Command(
        "show",
        (
            Command("bgp", (_show("neighbors", Action.SHOW_BGP_NEIGHBORS, "show bgp neighbors [<ip>]"),)),
            _show("backends", Action.SHOW_BACKENDS, "show backends [<hostname-prefix>]"),
            _show("checks", Action.SHOW_CHECKS, "show checks [<destination-or-backend-prefix>]"),
            _show("destinations", Action.SHOW_DESTINATIONS, "show destinations [<name-prefix>]"),
            _show("ha", Action.SHOW_HA, "show ha", max_args=0),
            _show("ipvs", Action.SHOW_IPVS, "show ipvs", max_args=0),
            _show("nodes", Action.SHOW_NODES, "show nodes [<hostname>]"),
            _show("version", Action.SHOW_VERSION, "show version", max_args=0),
            _show("vlans", Action.SHOW_VLANS, "show vlans [<id>|<ip>]"),
            _show("vservers", Action.SHOW_VSERVERS, "show vservers [<name-or-prefix>]"),
            _show("warnings", Action.SHOW_WARNINGS, "show warnings", max_args=0),
        ),
    ),
    Command("whoami", action=Action.WHOAMI, usage="whoami", json=True),
)


class Match(NamedTuple):
    """The result of walking a command line through the tree.

    Exactly one of these holds:
    * `command` is set: a leaf was reached, `args` are the tokens after it;
    * `choices` is non-empty: the line is incomplete (ambiguous token, or it
      stopped on a level); `args` are the tokens from the ambiguous one on;
    * neither: a token matched nothing; `args` are the tokens from that one on.
    `chain` holds the commands matched so far, in order.
    """

    command: Command | None
    choices: tuple[Command, ...]
    chain: tuple[Command, ...]
    args: tuple[str, ...] = ()

    @property
    def error(self) -> str | None:
        """The error Seesaw prints for this line, or None if a leaf was found."""
        if self.command is not None:
            return None
        return INCOMPLETE_COMMAND if self.choices else UNKNOWN_COMMAND


def candidates(level: tuple[Command, ...], token: str) -> tuple[Command, ...]:
    """The commands of `level` that `token` selects: an exact name, else every prefix match."""
    for command in level:
        if command.name == token:
            return (command,)
    return tuple(command for command in level if command.name.startswith(token))


def find_command(line: str, tree: tuple[Command, ...] = COMMANDS) -> Match:
    """Seesaw's FindCommand: walk `line` through `tree`."""
    tokens = line.split()
    if not tokens:
        return Match(None, tree, ())
    level = tree
    chain: list[Command] = []
    for index, token in enumerate(tokens):
        found = candidates(level, token)
        if not found:
            return Match(None, (), tuple(chain), tuple(tokens[index:]))
        if len(found) > 1:
            return Match(None, found, tuple(chain), tuple(tokens[index:]))
        command = found[0]
        chain.append(command)
        if command.is_leaf:
            return Match(command, (), tuple(chain), tuple(tokens[index + 1 :]))
        level = command.subcommands
    return Match(None, level, tuple(chain))


def split_json_flag(args: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """Remove `--json` from a command's arguments; say whether it was there."""
    rest = tuple(arg for arg in args if arg != JSON_FLAG)
    return rest, len(rest) != len(args)


def canonical_line(match: Match) -> str:
    """The line Tab rewrites to: the full names matched so far, then the rest.

    As in Seesaw, a line that matched only commands gets a trailing space so
    that the next word can be typed straight away.
    """
    words = [command.name for command in match.chain] + list(match.args)
    line = " ".join(words)
    if match.chain and not match.args:
        line += " "
    return line


def completions(line: str, tree: tuple[Command, ...] = COMMANDS) -> list[str]:
    """Whole-line completions of `line` (the text before the cursor) for Tab.

    Each candidate is a complete line ending in a space. An empty list means
    there is nothing to complete (unknown word, or an argument position).
    """
    tokens = line.split()
    ends_word = not line or line[-1].isspace()
    done, partial = (tokens, "") if ends_word else (tokens[:-1], tokens[-1])
    level = tree
    chain: list[str] = []
    for index, token in enumerate(done):
        found = candidates(level, token)
        if len(found) != 1:
            return []
        chain.append(found[0].name)
        if found[0].is_leaf:
            # Argument position: offer the canonical spelling of what was typed.
            rest = [*done[index + 1 :], partial] if partial else done[index + 1 :]
            canonical = " ".join(chain + list(rest)) + ("" if partial else " ")
            return [canonical] if canonical != line else []
        level = found[0].subcommands
    return [" ".join([*chain, command.name]) + " " for command in candidates(level, partial)]


def help_at(line: str, tree: tuple[Command, ...] = COMMANDS) -> tuple[str, ...]:
    """Seesaw's `?`: the lines listing what can follow the text before the cursor.

    The subcommands (one per line, after a space), or the usage of the complete command, or "Unknown command.".
    """
    match = find_command(line, tree)
    if match.command is not None:
        return (f"  {match.command.usage}",)
    if match.choices:
        return tuple(f" {command.name}" for command in match.choices)
    return (UNKNOWN_COMMAND,)


def leaves(tree: tuple[Command, ...] = COMMANDS) -> list[Command]:
    """Every leaf command, depth first in tree order (for `help`)."""
    found: list[Command] = []
    for command in tree:
        if command.is_leaf:
            found.append(command)
        else:
            found.extend(leaves(command.subcommands))
    return found


def usage_lines(tree: tuple[Command, ...] = COMMANDS) -> list[str]:
    """One usage line per distinct leaf usage, in tree order."""
    seen: list[str] = []
    for command in leaves(tree):
        if command.usage not in seen:
            seen.append(command.usage)
    return seen
